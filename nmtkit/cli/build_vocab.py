"""nmtkit build-vocab: vocabularies with counts from a preprocessed data folder."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.common import field_option
from nmtkit.cli.paths import Reads, command
from nmtkit.data.build_vocab import VocabOptions

PATHS = {"data_dir": Reads("data", "DATA_DIR"),
         "from_model": Reads("model", "--from-model")}


def register(app: typer.Typer) -> None:
    command(app, "build-vocab", func=build_vocab, paths=PATHS,
            help="Build source and target vocabularies in a data folder.")


def build_vocab(
    data_dir: Path = typer.Argument(..., help="Data folder written by nmtkit preprocess."),
    min_freq: int = field_option(VocabOptions, "min_freq", "--min-freq",
                                 help="Leave out pieces seen fewer times in training."),
    max_size: int = field_option(VocabOptions, "max_size", "--max-size",
                                 help="At most this many entries, specials included (0: all)."),
    shared: bool = typer.Option(
        False, "--shared/--separate",
        help="One vocabulary for both sides (for shared embeddings), or one each."),
    from_model: Path | None = typer.Option(
        None, "--from-model", metavar="MODEL_DIR",
        help="Use this model folder's vocabularies (to fine-tune it with train --init-from)."),
):
    from nmtkit.api import build_vocab as run

    report = run(VocabOptions(data_dir, min_freq, max_size, shared, from_model))
    kind = "shared" if report.shared else "separate"
    typer.echo(
        f"{kind} vocabularies: source {report.sizes['src']} entries "
        f"({report.coverage['src']:.2%} of training tokens), target {report.sizes['tgt']} "
        f"({report.coverage['tgt']:.2%}); specials <pad>=0 <unk>=1 <s>=2 </s>=3")
