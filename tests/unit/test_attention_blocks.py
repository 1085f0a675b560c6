"""A line's attention kept as its segments' blocks: the same links as the dense matrix, and
downsampled block by block to what downsampling the dense matrix gives."""

import pytest
import torch

from nmtkit.translate.alignment import piece_links
from nmtkit.translate.attention_blocks import BlockMap


def segment_maps(shapes: list[tuple[int, int]], seed: int = 0) -> list[torch.Tensor]:
    """Attention maps (target pieces + 1, source pieces) of segments: rows sum to 1."""
    g = torch.Generator().manual_seed(seed)
    return [torch.softmax(3 * torch.randn(rows, cols, generator=g), -1) for rows, cols in shapes]


SHAPES = [
    [(4, 3)],  # a line translated whole
    [(3, 2), (2, 3)],
    [(5, 12), (1, 12), (7, 12), (4, 5)],  # a segment with an empty translation (</s> only)
    [(9, 4), (2, 1), (6, 7)],
]


@pytest.mark.parametrize("shapes", SHAPES)
def test_links_of_the_blocks_are_those_of_the_dense_map(shapes):
    blocks = BlockMap.join(segment_maps(shapes))
    dense = blocks.dense()
    assert (blocks.rows, blocks.cols) == dense.shape
    assert piece_links(blocks) == piece_links(dense)
    assert len(piece_links(blocks)) == blocks.rows - 1  # one link per target piece


def test_ties_link_the_first_source_piece_of_the_block_as_the_dense_map_does():
    uniform = [torch.full((3, 4), 0.25), torch.full((2, 2), 0.5)]
    blocks = BlockMap.join(uniform)
    assert piece_links(blocks) == piece_links(blocks.dense()) == [(0, 0), (0, 1), (4, 2)]


def pooled_reference(dense: torch.Tensor, row_step: int, col_step: int) -> torch.Tensor:
    """Each cell: its source pieces' weights summed, averaged over its target pieces."""
    rows, cols = dense.shape
    n_rows, n_cols = -(-rows // row_step), -(-cols // col_step)
    padded = torch.nn.functional.pad(dense, (0, n_cols * col_step - cols,
                                             0, n_rows * row_step - rows))
    sums = padded.view(n_rows, row_step, n_cols, col_step).sum((1, 3))
    counts = torch.tensor([min(row_step, rows - i * row_step) for i in range(n_rows)])
    return sums / counts[:, None]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("steps", [(1, 1), (2, 2), (2, 3), (3, 5), (4, 1), (100, 100)])
def test_downsampling_the_blocks_is_downsampling_the_dense_map(shapes, steps):
    blocks = BlockMap.join(segment_maps(shapes, seed=len(shapes)))
    pooled = blocks.pooled(*steps)
    assert torch.allclose(pooled, pooled_reference(blocks.dense(), *steps), atol=1e-6)
    # a row of squares is a share of the attention: its rows' sums averaged, as a map's row
    assert torch.allclose(pooled.sum(-1), torch.ones(pooled.size(0)), atol=1e-5)


def test_a_dense_map_is_one_block():
    dense = segment_maps([(3, 5)])[0]
    whole = BlockMap.whole(dense)
    assert torch.equal(whole.dense(), dense) and whole.cells == 15
    assert torch.allclose(whole.pooled(3, 5), torch.ones(1, 1))
