"""nmtkit translate: stdin (or --input) to stdout (or --output), one line out per line in."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("translate", help="Translate text with a trained model, line by line.")(translate)


def translate(
    model_dir: Path = typer.Option(..., "--model-dir", "-m",
                                   help="Model folder from nmtkit train."),
    input: Path | None = typer.Option(None, "--input", "-i", help="Input text (default: stdin)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Output file, written atomically (default: stdout)."),
    beam: int = typer.Option(5, help="Beam size; 1 is greedy search."),
    length_penalty: float = typer.Option(1.0, help="GNMT length penalty alpha (0: none)."),
    length_norm: str = typer.Option(
        "gnmt", help="Finished-hypothesis scores: gnmt (alpha above), average (per piece), none."),
    max_len_ratio: float = typer.Option(2.0, help="At most ratio * source length + 10 pieces."),
    max_len: int = typer.Option(256, help="At most this many target pieces."),
    min_len: int = typer.Option(0, help="At least this many target pieces."),
    min_len_ratio: float = typer.Option(0.0, help="At least ratio * source length pieces."),
    no_repeat_ngram: int = typer.Option(0, help="Never repeat an n-gram of this size (0: off)."),
    n_best: int = typer.Option(1, help="Output the n best as 'LINE ||| TEXT ||| SCORE' lines."),
    sample: bool = typer.Option(False, help="Sample each token instead of searching."),
    temperature: float = typer.Option(1.0, help="Sampling temperature."),
    top_k: int = typer.Option(0, help="Sample from the k most likely tokens (0: all)."),
    top_p: float = typer.Option(1.0, help="Sample from the smallest set with this mass."),
    seed: int = typer.Option(0, help="Sampling seed."),
    batch_size: int = typer.Option(64, help="Sentences per batch."),
    chunk_size: int = typer.Option(1000, help="Lines read, translated and written at a time."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:N."),
    precision: str = typer.Option(
        "fp32", help="fp32 (output independent of batching), bf16 (2-2.5x faster; output "
                     "may change with the batch size) or auto (bf16 where native)."),
    compile: str = typer.Option(
        "auto", help="torch.compile the decoding loop: on, off, or auto (only where it was "
                     "measured faster; see README)."),
    threads: int = typer.Option(0, min=0, help="Torch intra-op threads (0: torch's default)."),
):
    import signal
    import sys

    from nmtkit.cli.common import check_output_file, info, warn
    from nmtkit.fileio import atomic_path, open_input
    from nmtkit.search.common import SearchOptions
    from nmtkit.translator import TranslateOptions

    # Behave like a Unix filter: `nmtkit translate < in | head -3` ends quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Every option is checked before the model is loaded.
    opts = TranslateOptions(
        SearchOptions(beam=beam, length_penalty=length_penalty, length_norm=length_norm,
                      max_len_ratio=max_len_ratio, max_len=max_len, min_len=min_len,
                      min_len_ratio=min_len_ratio, no_repeat_ngram=no_repeat_ngram,
                      n_best=n_best, sampling=sample,
                      temperature=temperature, top_k=top_k, top_p=top_p, seed=seed),
        batch_size=batch_size, chunk_size=chunk_size, device=device, precision=precision,
        compile=compile)
    source = open_input(input, "input") if input else sys.stdin.buffer
    if output is not None:
        check_output_file(output, "--output")

    import torch

    from nmtkit.api import load_translator
    from nmtkit.output import translate_stream

    if threads:
        torch.set_num_threads(threads)
    translator = load_translator(model_dir, opts, on_warning=warn)
    name = str(input) if input else "<stdin>"
    try:  # a failed write fails again when the file closes: name the output either way
        if output is None:
            translate_stream(translator, source, name, sys.stdout, warn)
        else:
            with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8") as out:
                translate_stream(translator, source, name, out, warn)
    except OSError as e:
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror, str(output or "<stdout>")) from None
    stats = translator.compile_stats
    if stats.graphs:
        info(f"compiled decoding loop: {stats.graphs} graphs compiled in {stats.seconds:.1f}s")
