"""A line's attention map kept as blocks: a line longer than the model takes is translated in
segments, each attending only to its own source pieces, so the line's map is
block-diagonal. Kept as its segments' blocks and their offsets, it costs what the segments'
maps cost, which grows with the line's length; the dense (target + 1) x source matrix would
grow with its square. :meth:`BlockMap.pooled` gives it at a bounded size (a heatmap's),
:meth:`BlockMap.dense` in full (for a map known to be small).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Block:
    """weights (rows, columns): rows ``row``.. and columns ``col``.. of the map; the rest of
    those rows and columns is 0."""

    row: int
    col: int
    weights: torch.Tensor


@dataclass(frozen=True)
class BlockMap:
    """A map of ``rows`` x ``cols`` that is 0 outside its blocks."""

    blocks: list[Block]
    rows: int
    cols: int

    @classmethod
    def whole(cls, weights: torch.Tensor) -> BlockMap:
        """A dense map (rows, columns) as one block."""
        return cls([Block(0, 0, weights)], *weights.shape)

    @classmethod
    def join(cls, maps: list[torch.Tensor]) -> BlockMap:
        """The map of a line from its segments' maps (rows, columns), each translated on its
        own: block-diagonal, each segment's end-of-sentence row dropped but the last's."""
        blocks, r, c = [], 0, 0
        for k, m in enumerate(maps):
            keep = m if k == len(maps) - 1 else m[:-1]
            blocks.append(Block(r, c, keep))
            r, c = r + keep.size(0), c + m.size(1)
        return cls(blocks, r, c)

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    def dense(self) -> torch.Tensor:
        """The full (rows, cols) matrix: for a map whose :attr:`cells` are few enough."""
        return self.pooled(1, 1)

    def pooled(self, row_step: int, col_step: int) -> torch.Tensor:
        """The map with a cell for each ``row_step`` target pieces by ``col_step`` source
        pieces (the last cells of a row or column may stand for fewer): the weights of the
        cell's source pieces summed and its target pieces' sums averaged, so each row still
        sums to what a map's row does (1: a share of the attention). Built block by block,
        as (ceil(rows / row_step), ceil(cols / col_step)), never at full size."""
        n_rows, n_cols = -(-self.rows // row_step), -(-self.cols // col_step)
        dtype = self.blocks[0].weights.dtype if self.blocks else torch.float32
        out = torch.zeros(n_rows * n_cols, dtype=dtype)
        for b in self.blocks:
            h, w = b.weights.shape
            r = torch.arange(b.row, b.row + h) // row_step
            c = torch.arange(b.col, b.col + w) // col_step
            out.index_add_(0, (r[:, None] * n_cols + c).flatten(), b.weights.flatten())
        sizes = torch.full((n_rows, 1), row_step, dtype=dtype)
        sizes[-1] = self.rows - (n_rows - 1) * row_step
        return out.view(n_rows, n_cols) / sizes
