"""Attention heatmaps: one PNG per translated line (``translate --attention-plots DIR``),
source pieces along the bottom, target pieces (and ``</s>``) down the side, weights from 0
(white) to 1 (dark). Each piece gets a fixed square, so a long sentence makes a larger
image with labels as legible as a short one's, up to :data:`MAX_SIDE` pieces a side; a
longer line is drawn downsampled (with a warning naming it), each square standing for a
span of pieces and labelled with their positions. Drawn with matplotlib, an optional extra.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from nmtkit.fileio import atomic_path
from nmtkit.plots.curves import matplotlib_pyplot
from nmtkit.plots.fonts import LabelFonts, label_fonts
from nmtkit.translate.translator import Translation

CELL = 0.3  # inches per piece, at 100 dots per inch: 30 pixels, for 9-point labels
DPI = 100
MIN_SIDE = 2.0  # inches: the longer side of a short sentence's map
MARGIN = 1.5  # inches around the map, for labels (the image is cropped to them)
# Squares a side at most: the memory drawing takes grows with the image's area (some bytes
# a pixel), so a line longer than this is drawn downsampled. Chosen to keep a run's peak
# memory with heatmaps a small multiple of plain translation's (bench/line_memory.py).
MAX_SIDE = 100


def plot_attention(path: Path, source: list[str], target: list[str], weights: torch.Tensor,
                   title: str, fonts: LabelFonts | None = None,
                   axes: tuple[str, str] = ("source", "translation")) -> None:
    """A heatmap of ``weights`` (len(target), len(source)), labelled ``source`` along the
    bottom and ``target`` down the side, into the PNG file ``path``, written atomically;
    ``axes``: the names of the bottom and side axes."""
    import numpy as np

    plt = matplotlib_pyplot()
    fonts = fonts or label_fonts([*source, *target, title])
    rows, cols = weights.shape
    cell = max(CELL, MIN_SIDE / max(rows, cols, 1))  # short sentences: larger squares
    width, height = cell * cols, cell * rows
    with plt.rc_context({"font.family": list(fonts.families), "font.size": 9}):
        # Axes placed in inches, a square per piece; the saved image is cropped to what
        # is drawn, labels of any length included.
        fig = plt.figure(figsize=(width + 2 * MARGIN + 0.6, height + 2 * MARGIN))
        try:
            ax = fig.add_axes(_inches(fig, MARGIN, MARGIN, width, height))
            # A mesh of squares, not imshow, which resamples to the image's size in floats
            # (several times the memory a pixel)
            image = ax.pcolormesh(np.arange(cols + 1) - 0.5, np.arange(rows + 1) - 0.5,
                                  weights.numpy(), cmap="Blues", vmin=0.0, vmax=1.0,
                                  antialiased=False)
            ax.invert_yaxis()  # the first target piece on top
            ax.set_xticks(range(cols), [fonts.clean(p) for p in source], rotation=90)
            ax.set_yticks(range(rows), [fonts.clean(p) for p in target])
            ax.set_xlabel(axes[0])
            ax.set_ylabel(axes[1])
            ax.set_title(fonts.clean(title), loc="left")
            bar = fig.add_axes(_inches(fig, MARGIN + width + 0.15, MARGIN, 0.15,
                                       max(height, 1.0)))
            fig.colorbar(image, cax=bar)
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
        finally:
            plt.close(fig)


def _inches(fig, left: float, bottom: float, width: float, height: float) -> list[float]:
    """A rectangle given in inches, as the fractions of the figure add_axes takes."""
    w, h = fig.get_size_inches()
    return [left / w, bottom / h, width / w, height / h]


def file_label(label: str) -> str:
    """A view's label as part of a file name: "layer 2, head 3" -> "layer2-head3"."""
    return label.replace(", ", "-").replace(" ", "")


def spans(pieces: list[str], step: int) -> list[str]:
    """The labels of a downsampled axis: each square's pieces' positions (from 0, as in the
    alignments), ``step`` a square; the pieces themselves when ``step`` is 1."""
    if step == 1:
        return pieces
    n = len(pieces)
    return [f"{i}" if min(i + step, n) - 1 == i else f"{i}-{min(i + step, n) - 1}"
            for i in range(0, n, step)]


class AttentionPlots:
    """A sink for :func:`nmtkit.translate.output.translate_stream`: each line's heatmap as
    ``DIR/line-000001.png`` (1-based input line; none for an empty line), and one file per
    head or layer asked for (``line-000001-layer3-head2.png``). Warns once per character no
    installed font has, and once per line drawn downsampled."""

    def __init__(self, folder: Path, on_warning: Callable[[str], None] | None = None):
        self.folder = Path(folder)
        self.on_warning = on_warning or (lambda msg: None)
        self.warned: set[str] = set()
        self.written = 0

    def __call__(self, index: int, t: Translation) -> None:
        a = t.attention
        if a is None:
            return
        self.folder.mkdir(exist_ok=True)
        name = f"line-{index + 1:06d}"
        rows, cols = a.mean.rows, a.mean.cols
        row_step, col_step = -(-rows // MAX_SIDE), -(-cols // MAX_SIDE)
        if row_step > 1 or col_step > 1:
            self.on_warning(f"line {index + 1}: attention of {rows:,} x {cols:,} pieces is "
                            f"over the {MAX_SIDE}-piece side of --attention-plots; drawn "
                            f"downsampled, a square for {row_step} x {col_step} pieces")
        source, target = spans(a.source, col_step), spans(a.target, row_step)
        axes = tuple(axis if step == 1 else f"{axis} (piece positions, {step} a square)"
                     for axis, step in (("source", col_step), ("translation", row_step)))
        fonts = label_fonts([*source, *target])
        new = "".join(c for c in fonts.missing if c not in self.warned)
        if new:
            self.warned.update(new)
            self.on_warning(f"--attention-plots: no installed font has {new} (line "
                            f"{index + 1}); they are drawn as placeholders. Install a font "
                            "with them (for example from the Noto family) for readable "
                            "labels")
        for suffix, label, weights in [("", "", a.mean),
                                       *((f"-{file_label(v)}", f", {v}", w) for v, w in a.views)]:
            plot_attention(self.folder / f"{name}{suffix}.png", source, target,
                           weights.pooled(row_step, col_step), f"line {index + 1}{label}",
                           fonts, axes)
        self.written += 1 + len(a.views)
