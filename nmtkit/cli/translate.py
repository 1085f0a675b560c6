"""nmtkit translate: stdin (or --input) to stdout (or --output), one line out per line in.

The search and translation options come from their one definition
(:class:`nmtkit.search.options.SearchOptions`, :class:`nmtkit.translate_options.TranslateOptions`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.checks import cli_name
from nmtkit.cli.common import dataclass_options, with_options
from nmtkit.search.options import SearchOptions, option_name
from nmtkit.translate_options import TranslateOptions


def register(app: typer.Typer) -> None:
    command = with_options(translate, dataclass_options(SearchOptions, option_name)
                           + dataclass_options(TranslateOptions, cli_name, skip=("search",)))
    app.command("translate", help="Translate text with a trained model, line by line.")(command)


def translate(
    model_dir: Path = typer.Option(..., "--model-dir", "-m",
                                   help="Model folder from nmtkit train."),
    input: Path | None = typer.Option(None, "--input", "-i", help="Input text (default: stdin)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Output file, written atomically (default: stdout)."),
    threads: int = typer.Option(
        0, min=0, help="Torch intra-op threads in all, split between --workers (0: torch's "
                       "default)."),
    **options,
):
    import signal
    import sys

    from nmtkit.cli.common import check_output_file, info, warn
    from nmtkit.fileio import open_input

    # Behave like a Unix filter: `nmtkit translate < in | head -3` ends quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Every option is checked before the model is loaded.
    search = {name: options.pop(name) for name in SearchOptions.__dataclass_fields__}
    opts = TranslateOptions(SearchOptions(**search), **options)
    source = open_input(input, "input") if input else sys.stdin.buffer
    if output is not None:
        check_output_file(output, "--output")

    import torch

    from nmtkit.api import load_translator

    if threads:
        torch.set_num_threads(threads)
    with load_translator(model_dir, opts, on_warning=warn) as translator:
        _run(translator, input, output, source)
    stats = translator.compile_stats
    if stats.graphs or stats.loaded:
        loaded = (f", {stats.loaded} loaded from the cache in {stats.load_seconds:.1f}s"
                  if stats.loaded else "")
        info(f"compiled decoding loop: {stats.graphs} graphs compiled in {stats.seconds:.1f}s"
             f"{loaded}")


def _run(translator, input, output, source) -> None:
    import sys

    from nmtkit.cli.common import warn
    from nmtkit.cli.progress import progress
    from nmtkit.fileio import atomic_path, count_lines
    from nmtkit.output import translate_stream

    name = str(input) if input else "<stdin>"
    # A progress bar on a terminal, for a file translated into a file.
    total = count_lines(input) if input is not None and output is not None else None
    try:  # a failed write fails again when the file closes: name the output either way
        with progress("translate", show=total is not None) as bar:
            if output is None:
                translate_stream(translator, source, name, sys.stdout, warn)
            else:
                with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8") as out:
                    translate_stream(translator, source, name, out, warn,
                                     lambda done: bar(done, total))
    except OSError as e:
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror, str(output or "<stdout>")) from None
