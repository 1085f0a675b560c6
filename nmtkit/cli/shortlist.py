"""nmtkit shortlist: the lexical table behind translate --shortlist, written into the model
folder."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("shortlist", help="Count which target pieces each source piece co-occurs "
                                  "with in training data, for translate --shortlist.")(shortlist)


def shortlist(
    model_dir: Path = typer.Argument(..., help="Model folder to write shortlist.pt into."),
    data: Path = typer.Option(..., "--data", "-d",
                              help="Data folder encoded with the model's own tokenizer and "
                                   "vocabularies (its training pairs are counted)."),
    per_piece: int = typer.Option(20, min=1, help="Target pieces listed per source piece."),
    frequent: int = typer.Option(300, min=0, help="Most frequent target pieces always "
                                                  "allowed."),
):
    from nmtkit.shortlisting import make_shortlist

    report = make_shortlist(model_dir, data, per_piece, frequent)
    typer.echo(f"wrote {report.path}: up to {report.per_piece} target pieces per source "
               f"piece ({report.mean_entries:.1f} on average) and the {report.frequent} most "
               f"frequent, from {report.sentences:,} training pairs")
