"""nmtkit plot: a model folder's training curves as a PNG."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("plot", help="Draw a model folder's training curves (training and "
                "validation loss, validation BLEU and chrF, learning rate) into a PNG; "
                "needs matplotlib (pip install 'nmtkit[plots]').")(plot)


def plot(
    model_dir: Path = typer.Argument(..., help="Model folder from nmtkit train."),
    output: Path = typer.Option(..., "--output", "-o", help="The PNG file to write."),
):
    from nmtkit.cli.common import check_output_file, info
    from nmtkit.plotting import matplotlib_pyplot, plot_curves, read_curves

    check_output_file(output, "--output")
    matplotlib_pyplot()  # the missing extra is said before any work
    curves = read_curves(model_dir)
    plot_curves(curves, output, title=str(model_dir),
                label_smoothing=_label_smoothing(model_dir))
    info(f"wrote {output}: {len(curves.loss[0])} training and {len(curves.valid_loss[0])} "
         "validation records")


def _label_smoothing(model_dir: Path) -> float:
    """The label smoothing the folder's model was trained with (0 where unknown)."""
    from nmtkit.errors import NmtkitError
    from nmtkit.model_folder import ModelFolder

    try:
        value = ModelFolder(model_dir).config_dict().get("train", {}).get("label_smoothing")
    except (NmtkitError, OSError):
        return 0.0
    return float(value) if isinstance(value, (int, float)) else 0.0
