"""nmtkit average: a model folder whose weights average a model's step checkpoints."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.common import number
from nmtkit.cli.paths import Reads, Writes, command

PATHS = {"model_dir": Reads("model", "MODEL_DIR"), "out": Writes("model", "-o")}


def register(app: typer.Typer) -> None:
    command(app, "average", func=average, paths=PATHS,
            help="Average the last or best step checkpoints of a model folder into a new model "
            "folder.")


def average(
    model_dir: Path = typer.Argument(..., help="Model folder trained with train.keep_last "
                                               "or train.keep_best."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    last: int | None = number(None, "--last", lo=1, hi=10000,
                              help="Average the last N step checkpoints."),
    best: int | None = number(None, "--best", lo=1, hi=10000,
                              help="Average the N best by the validation metric."),
    overwrite: bool = typer.Option(False, help="Replace an existing model folder at --out."),
):
    from nmtkit.model_folder.average import average as run

    report = run(model_dir, out, last, best, overwrite)
    how = "last" if report.chosen_by == "last" else f"best by valid {report.chosen_by}"
    typer.echo(f"averaged {len(report.steps)} checkpoints ({how}: steps "
               f"{', '.join(map(str, report.steps))}) into {report.out}")
