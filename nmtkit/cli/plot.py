"""nmtkit plot: a model folder's training curves as a PNG."""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.cli.paths import Reads, Writes, command

PATHS = {"model_dir": Reads("model", "MODEL_DIR"), "output": Writes("file", "--output")}


def register(app: typer.Typer) -> None:
    command(app, "plot", func=plot, paths=PATHS,
            help="Draw a model folder's training curves (training and validation loss, "
            "validation BLEU and chrF, learning rate) into a PNG; needs matplotlib (pip "
            "install 'nmtkit[plots]').")


def plot(
    model_dir: Path = typer.Argument(..., help="Model folder from nmtkit train."),
    output: Path = typer.Option(..., "--output", "-o", help="The PNG file to write."),
):
    from nmtkit.cli.common import info, warn
    from nmtkit.plots.curves import matplotlib_pyplot, plot_curves, read_curves

    matplotlib_pyplot()  # the missing extra is said before any work
    curves = read_curves(model_dir, on_warning=warn)
    plot_curves(curves, output, title=str(model_dir),
                label_smoothing=_label_smoothing(model_dir))
    info(f"wrote {output}: {len(curves.loss[0])} training and {len(curves.valid_loss[0])} "
         "validation records")


def _label_smoothing(model_dir: Path) -> float:
    """The label smoothing the folder's model was trained with (0 where unknown)."""
    from nmtkit.errors import NmtkitError
    from nmtkit.model_folder import ModelFolder

    try:
        value = ModelFolder.open(model_dir).config_dict().get("train", {}).get("label_smoothing")
    except (NmtkitError, OSError):
        return 0.0
    return float(value) if isinstance(value, (int, float)) else 0.0
