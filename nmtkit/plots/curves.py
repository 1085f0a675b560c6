"""Training curves from a model folder's ``metrics.jsonl``: the training loss and the
validation loss, the validation BLEU and chrF, and the learning rate, against the step, as
one PNG. Drawn with matplotlib, an optional extra (``pip install 'nmtkit[plots]'``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.fileio import atomic_path
from nmtkit.model_folder import metrics_log

INSTALL = "pip install 'nmtkit[plots]'"


@dataclass
class Curves:
    """Each series as (steps, values)."""

    loss: tuple[list[int], list[float]] = field(default_factory=lambda: ([], []))
    lr: tuple[list[int], list[float]] = field(default_factory=lambda: ([], []))
    valid_loss: tuple[list[int], list[float]] = field(default_factory=lambda: ([], []))
    valid_bleu: tuple[list[int], list[float]] = field(default_factory=lambda: ([], []))
    valid_chrf: tuple[list[int], list[float]] = field(default_factory=lambda: ([], []))


def read_curves(model_dir: Path, on_warning: Callable[[str], None] | None = None) -> Curves:
    """The series of the model folder's training log; a one-line error where it has none
    or a line of it is damaged (a last line cut short is skipped, and ``on_warning`` told)."""
    path = Path(model_dir) / metrics_log.NAME
    if not path.is_file():
        raise NmtkitError(f"{path}: no training log (models trained before nmtkit wrote "
                          "metrics.jsonl have none)")
    curves = Curves()
    for record in metrics_log.read_checked(model_dir, on_warning):
        step = record.get("step")
        for key, series in vars(curves).items():
            value = record.get(key)
            if isinstance(step, int) and isinstance(value, (int, float)):
                series[0].append(step)
                series[1].append(float(value))
    if not curves.loss[0] and not curves.valid_loss[0]:
        raise NmtkitError(f"{path}: no training or validation records yet")
    return curves


def matplotlib_pyplot():
    """matplotlib's pyplot on the file-only Agg backend, or a one-line error saying what to
    install."""
    try:
        import matplotlib
    except ImportError:
        raise NmtkitError(f"plotting needs matplotlib: {INSTALL}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(curves: Curves, out: Path, title: str = "", label_smoothing: float = 0.0
                ) -> None:
    """Draw ``curves`` into the PNG file ``out`` (written whole, then renamed). The
    training loss includes the label smoothing it was trained with; validation's does
    not."""
    plt = matplotlib_pyplot()
    fig, (loss_ax, score_ax, lr_ax) = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    smoothed = f" (label smoothing {label_smoothing:g})" if label_smoothing else ""
    loss_ax.plot(*curves.loss, label=f"training loss{smoothed}")
    loss_ax.plot(*curves.valid_loss, marker="o", label="validation loss")
    loss_ax.set_ylabel("loss (nats per piece)")
    score_ax.plot(*curves.valid_bleu, marker="o", label="validation BLEU")
    score_ax.plot(*curves.valid_chrf, marker="o", label="validation chrF")
    score_ax.set_ylabel("score")
    lr_ax.plot(*curves.lr, label="learning rate")
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_xlabel("step")
    for ax in (loss_ax, score_ax, lr_ax):
        if any(len(line.get_xdata()) for line in ax.lines):
            ax.legend(loc="best")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
