"""nmtkit check-int8: compare int8 with float32 translation on validation text and record
the result in the model folder, where translate --precision auto reads it."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.common import number
from nmtkit.cli.paths import Reads, command

PATHS = {"model_dir": Reads("model", "MODEL_DIR"), "data": Reads("data", "--data"),
         "src": Reads("file", "--src"), "ref": Reads("file", "--ref")}


def register(app: typer.Typer) -> None:
    command(app, "check-int8", func=check_int8, paths=PATHS,
            help="Translate validation text in fp32 and int8 and record in the model folder "
            "whether int8 keeps BLEU (within 0.3): translate --precision auto then uses int8.")


def check_int8(
    model_dir: Path = typer.Argument(..., help="Model folder to check and record into."),
    data: Path | None = typer.Option(
        None, "--data", "-d", help="Data folder whose validation set is translated."),
    src: Path | None = typer.Option(None, "--src", help="Source text (instead of --data)."),
    ref: Path | None = typer.Option(None, "--ref", help="Its reference translations."),
    workers: int = number(0, "--workers", lo=0, hi=256,
                          help="CPU processes translating side by side; 0: auto."),
):
    from nmtkit.errors import NmtkitError

    if (data is None) == (src is None and ref is None):
        raise NmtkitError("check-int8: give --data DATA_DIR, or --src and --ref")
    if data is None and (src is None or ref is None):
        raise NmtkitError("check-int8: --src and --ref go together")
    from nmtkit.api import check_int8 as run
    from nmtkit.model_folder.int8_check import CHECK_FILE, TOLERANCE

    check = run(model_dir, data, src, ref, workers)
    verdict = "int8" if check.passed else f"fp32 (int8 lost more than {TOLERANCE} BLEU)"
    typer.echo(f"{check.summary()}; translate --precision auto now uses {verdict}; "
               f"recorded in {model_dir / CHECK_FILE}")
