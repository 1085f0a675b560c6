"""nmtkit shortlist: the lexical table behind translate --shortlist, written into the model
folder."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.common import number
from nmtkit.cli.paths import Reads, command

PATHS = {"model_dir": Reads("model", "MODEL_DIR"),
         "data": Reads("data", "--data")}


def register(app: typer.Typer) -> None:
    command(app, "shortlist", func=shortlist, paths=PATHS,
            help="Count which target pieces each source piece co-occurs with in training data, "
            "for translate --shortlist.")


def shortlist(
    model_dir: Path = typer.Argument(..., help="Model folder to write shortlist.pt into."),
    data: Path = typer.Option(..., "--data", "-d",
                              help="Data folder encoded with the model's own tokenizer and "
                                   "vocabularies (its training pairs are counted)."),
    per_piece: int = number(20, "--per-piece", lo=1, hi=1 << 16,
                            help="Target pieces listed per source piece."),
    frequent: int = number(300, "--frequent", lo=0, hi=1 << 24,
                           help="Most frequent target pieces always allowed."),
):
    from nmtkit.model_folder.shortlist import make_shortlist

    report = make_shortlist(model_dir, data, per_piece, frequent)
    typer.echo(f"wrote {report.path}: up to {report.per_piece} target pieces per source "
               f"piece ({report.mean_entries:.1f} on average) and the {report.frequent} most "
               f"frequent, from {report.sentences:,} training pairs")
