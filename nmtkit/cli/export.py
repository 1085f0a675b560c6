"""nmtkit export: a model folder in another engine's format (CTranslate2)."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.paths import Reads, Writes, command

PATHS = {"model_dir": Reads("model", "MODEL_DIR"), "out": Writes("ctranslate2", "OUT")}


def register(app: typer.Typer) -> None:
    command(app, "export", func=export, paths=PATHS,
            help="Write a Transformer model folder as a CTranslate2 model (needs the ctranslate2 "
            "extra).")


def export(
    model_dir: Path = typer.Argument(..., help="Model folder from nmtkit train."),
    out: Path = typer.Argument(..., help="Folder to write the exported model into."),
    fmt: str = typer.Option("ctranslate2", "--format", help="Target format: ctranslate2."),
    quantization: str | None = typer.Option(
        None, help="CTranslate2 weight type: int8, int8_float32, float16, bfloat16, ... "
                   "(default: float32; CTranslate2 can also convert at load)."),
    overwrite: bool = typer.Option(False, help="Replace an existing folder at OUT."),
):
    from nmtkit.model_folder.export import export as run

    report = run(model_dir, out, fmt, quantization, overwrite)
    typer.echo(f"exported {model_dir} ({report.layers[0]}+{report.layers[1]} layers, "
               f"{report.quantization or 'float32'}) to {report.out} for CTranslate2")
