"""nmtkit preprocess: raw parallel text -> a data folder of encoded corpora."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.common import field_option
from nmtkit.cli.paths import Reads, Writes, command
from nmtkit.data.preprocess import LangPair, PreprocessOptions
from nmtkit.data.text import FilterOptions
from nmtkit.errors import ConfigError

PATHS = {"src": Reads("file", "--src"), "tgt": Reads("file", "--tgt"),
         "valid_src": Reads("file", "--valid-src"),
         "valid_tgt": Reads("file", "--valid-tgt"),
         "from_model": Reads("model", "--from-model"),
         "out": Writes("data", "--out")}


def register(app: typer.Typer) -> None:
    command(app, "preprocess", func=preprocess, paths=PATHS,
            help="Normalise, filter and encode parallel text into a data folder.")


def preprocess(
    src: list[Path] = typer.Option(
        ..., "--src", help="Training source text, one sentence a line; repeat --src, --tgt, "
        "--src-lang and --tgt-lang (and --valid-src, --valid-tgt), matched in order, for a "
        "model of several language pairs: with several target languages, each source line "
        "starts with its target's tag (<2de>; translate --target-lang)."),
    tgt: list[Path] = typer.Option(..., "--tgt",
                                   help="Training target text, line-aligned with --src."),
    out: Path = typer.Option(..., "--out", "-o", help="Data folder to create."),
    valid_src: list[Path] | None = typer.Option(None, "--valid-src",
                                                help="Validation source text."),
    valid_tgt: list[Path] | None = typer.Option(None, "--valid-tgt",
                                                help="Validation target text."),
    units: str = field_option(PreprocessOptions, "units", "--units",
                              help="Translation units: spm (sentencepiece), char or word."),
    spm_vocab_size: int = field_option(PreprocessOptions, "spm_vocab_size", "--spm-vocab-size",
                                       help="Sentencepiece vocabulary size."),
    spm_model_type: str = field_option(PreprocessOptions, "spm_model_type", "--spm-model-type",
                                       help="Sentencepiece model: unigram or bpe."),
    joint: bool = typer.Option(True, "--joint/--separate",
                               help="One sentencepiece model for both sides, or one each."),
    max_len: int = field_option(FilterOptions, "max_len", "--max-len",
                                help="Drop pairs with more units than this on a side."),
    min_len: int = field_option(FilterOptions, "min_len", "--min-len",
                                help="Drop pairs with fewer units than this on a side."),
    max_ratio: float = field_option(FilterOptions, "max_ratio", "--max-ratio",
                                    help="Drop pairs whose length ratio exceeds this (0: off)."),
    seed: int = field_option(PreprocessOptions, "seed", "--seed",
                             help="Seed for sentencepiece training."),
    overwrite: bool = typer.Option(False, help="Replace an existing data folder."),
    from_model: Path | None = typer.Option(
        None, "--from-model", metavar="MODEL_DIR",
        help="Encode with this model folder's units and sentencepiece models (to fine-tune "
             "it with train --init-from); --units and --spm-* are then not used."),
    src_lang: list[str] | None = typer.Option(
        None, "--src-lang", metavar="CODE", help="Language code of --src (en, pt-BR), kept "
        "in the data folder and by train in the model folder (nmtkit serve names it so)."),
    tgt_lang: list[str] | None = typer.Option(None, "--tgt-lang", metavar="CODE",
                                              help="Language code of --tgt, likewise."),
):
    from nmtkit.api import preprocess as run
    from nmtkit.cli.common import setup_logging
    from nmtkit.cli.progress import progress

    setup_logging()
    pairs = lang_pairs(src, tgt, valid_src or [], valid_tgt or [], src_lang or [],
                       tgt_lang or [])
    first = pairs[0]
    opts = PreprocessOptions(
        src=first.src, tgt=first.tgt, out=out, valid_src=first.valid_src,
        valid_tgt=first.valid_tgt, units=units,
        spm_vocab_size=spm_vocab_size, spm_model_type=spm_model_type, joint=joint,
        filter=FilterOptions(max_len=max_len, min_len=min_len, max_ratio=max_ratio),
        seed=seed, overwrite=overwrite, from_model=from_model, src_lang=first.src_lang,
        tgt_lang=first.tgt_lang, more=pairs[1:])
    with progress("encode") as bar:
        report = run(opts, on_progress=bar)
    for s in report.splits:
        dropped = ", ".join(f"{k} {v}" for k, v in s.dropped.items() if v) or "none"
        typer.echo(f"{s.name}: {s.lines} pairs read, {s.kept} kept, dropped: {dropped}; "
                   f"{s.src_tokens} source and {s.tgt_tokens} target {report.units} units")
    typer.echo(f"wrote {report.out} ({report.pieces['src']} source and {report.pieces['tgt']} "
               f"target piece types) in {report.seconds:.1f}s")


def lang_pairs(src: list[Path], tgt: list[Path], valid_src: list[Path], valid_tgt: list[Path],
               src_lang: list[str], tgt_lang: list[str]) -> list[LangPair]:
    """The repeated options, matched in order, as language pairs; counts that do not
    match are a ConfigError naming the options."""
    n = len(src)
    counts = {"--tgt": len(tgt), "--valid-src": len(valid_src), "--valid-tgt": len(valid_tgt),
              "--src-lang": len(src_lang), "--tgt-lang": len(tgt_lang)}
    for flag, count in counts.items():
        allowed = (n,) if flag == "--tgt" else (0, n)
        if count not in allowed:
            raise ConfigError(f"{flag}: given {count} times for {n} --src; give it "
                              f"{' or '.join(str(a) for a in allowed)} times, one per --src "
                              "in the same order")

    def at(values: list, i: int):
        return values[i] if values else None

    return [LangPair(src[i], tgt[i], at(src_lang, i), at(tgt_lang, i), at(valid_src, i),
                     at(valid_tgt, i)) for i in range(n)]
