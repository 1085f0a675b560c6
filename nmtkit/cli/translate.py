"""nmtkit translate: stdin (or --input) to stdout (or --output), one line out per line in.

The search and translation options come from their one definition
(:class:`nmtkit.search.options.SearchOptions`, :class:`nmtkit.translate.options.TranslateOptions`).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from nmtkit.checks import cli_name
from nmtkit.cli.common import dataclass_options, number, with_options
from nmtkit.cli.paths import Reads, Writes, command
from nmtkit.errors import NmtkitError
from nmtkit.search.options import SearchOptions, option_name
from nmtkit.translate.options import TranslateOptions

PATHS = {"model_dir": Reads("model", "--model-dir"), "input": Reads("file", "--input"),
         "output": Writes("file", "--output"),
         "alignments": Writes("file", "--alignments"),
         "attention_plots": Writes("plots", "--attention-plots")}


def register(app: typer.Typer) -> None:
    func = with_options(translate, dataclass_options(SearchOptions, option_name)
                        + dataclass_options(TranslateOptions, cli_name,
                                            skip=("search", "attention")))
    command(app, "translate", func=func, paths=PATHS,
            help="Translate text with a trained model, line by line.")


def translate(
    model_dir: list[Path] = typer.Option(
        ..., "--model-dir", "-m", help="Model folder from nmtkit train; repeat it to decode "
        "with an ensemble (the models' log-probabilities averaged at each step; they must "
        "share their tokenizer and vocabularies)."),
    input: Path | None = typer.Option(None, "--input", "-i", help="Input text (default: stdin)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Output file, written atomically (default: stdout)."),
    threads: int = number(
        0, "--threads", lo=0, hi=4096, help="Torch intra-op threads in all, split between "
        "--workers (0: torch's default)."),
    attention_plots: Path | None = typer.Option(
        None, "--attention-plots", help="Write each line's attention heatmap into this new "
        "(or empty) folder: line-000001.png, ... (needs pip install 'nmtkit[plots]')."),
    attention_view: str = typer.Option(
        "mean", "--attention-view", help="With --attention-plots: mean (one layer's attention "
        "averaged over heads; the last layer, or --attention-layer), or also one plot per "
        "head of that layer (heads), per layer (layers) or per head of each layer (all)."),
    alignments: Path | None = typer.Option(
        None, "--alignments", help="Write hard alignments from the attention into this "
        "file, in Pharaoh format (0-0 1-2 ...), one line per input line."),
    alignment_units: str = typer.Option(
        "word", "--alignment-units", help="Positions in --alignments: of words (the line "
        "and its translation split at spaces) or of pieces (as in --output-format jsonl)."),
    **options,
):
    import signal
    import sys

    from nmtkit.cli.common import info, warn
    from nmtkit.fileio import open_input

    # Behave like a Unix filter: `nmtkit translate < in | head -3` ends quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Every option is checked before the model is loaded.
    search = {name: options.pop(name) for name in SearchOptions.__dataclass_fields__}
    options["attention"] = _attention(attention_plots, attention_view, alignments,
                                      alignment_units)
    opts = TranslateOptions(SearchOptions(**search), **options)
    source = open_input(input, "input") if input else sys.stdin.buffer

    import torch

    from nmtkit.api import load_translator

    if threads:
        torch.set_num_threads(threads)
    with load_translator(model_dir, opts, on_warning=warn) as translator:
        _run(translator, input, output, source, attention_plots, alignments, alignment_units)
    # After the work, beside the compile summary, so that a failed run's stderr is its
    # one error line.
    if translator.precision_note:
        info(f"precision: {translator.precision_note}")
    stats = translator.compile_stats
    if stats.graphs or stats.loaded:
        loaded = (f", {stats.loaded} loaded from the cache in {stats.load_seconds:.1f}s"
                  if stats.loaded else "")
        info(f"compiled decoding loop: {stats.graphs} graphs compiled in {stats.seconds:.1f}s"
             f"{loaded}")


def _attention(plots: Path | None, view: str, alignments: Path | None, units: str) -> str:
    """The attention translations keep (TranslateOptions.attention), from the options that
    need it, checked (and the plots folder and matplotlib) before any work."""
    from nmtkit.translate.alignment import UNITS
    from nmtkit.translate.options import ATTENTION_VIEWS

    if view not in ATTENTION_VIEWS:
        raise NmtkitError(f"--attention-view: expected one of {', '.join(ATTENTION_VIEWS)}, "
                          f"got '{view}'")
    if units not in UNITS:
        raise NmtkitError(f"--alignment-units: expected word or piece, got '{units}'")
    if units != "word" and alignments is None:
        raise NmtkitError("--alignment-units: for --alignments")
    if plots is None:
        if view != "mean":
            raise NmtkitError("--attention-view: for --attention-plots")
        return "mean" if alignments is not None else "off"
    from nmtkit.plots.curves import matplotlib_pyplot

    if not plots.parent.is_dir():
        raise NmtkitError(f"--attention-plots {plots}: the folder {plots.parent} does not "
                          "exist")
    matplotlib_pyplot()  # the missing extra is said before any work
    return view


def _run(translator, input, output, source, plots: Path | None, alignments: Path | None,
         units: str) -> None:
    import sys
    from contextlib import ExitStack

    from nmtkit.cli.common import info, warn
    from nmtkit.cli.progress import progress
    from nmtkit.fileio import atomic_path, count_lines
    from nmtkit.translate.output import alignment_line, translate_stream

    name = str(input) if input else "<stdin>"
    # A progress bar on a terminal, for a file translated into a file.
    total = count_lines(input) if input is not None and output is not None else None
    sinks = []
    heatmaps = None
    with progress("translate", show=total is not None) as bar, ExitStack() as files:
        if alignments is not None:
            files.enter_context(_naming(alignments))
            links = files.enter_context(open(files.enter_context(atomic_path(alignments)), "w",
                                             encoding="utf-8"))

            def write_links(index, t):
                with _naming(alignments):
                    links.write(alignment_line(t, units))
                    # a full disk shows now, before the translations are in place
                    links.flush()

            sinks.append(write_links)
        if plots is not None:
            from nmtkit.plots.attention import AttentionPlots

            heatmaps = AttentionPlots(plots, warn)
            sinks.append(heatmaps)
        with _naming(output or "<stdout>"):
            if output is None:
                translate_stream(translator, source, name, sys.stdout, warn, sinks=sinks)
            else:
                with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8") as out:
                    translate_stream(translator, source, name, out, warn,
                                     lambda done: bar(done, total), sinks)
    if heatmaps is not None:
        n = heatmaps.written
        info(f"wrote {n} attention plot{'s' if n != 1 else ''} into {plots}")


@contextmanager
def _naming(path):
    """An OSError without a file name (a failed write, which fails again when the file
    closes) names ``path``."""
    try:
        yield
    except OSError as e:
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror, str(path)) from None
