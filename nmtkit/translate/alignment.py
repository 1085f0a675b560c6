"""Hard alignments from attention, in Pharaoh format (``i-j``: source position i, target
position j, both from 0), between pieces or between words (pieces merged back into the
words of the text, split at spaces).

Each target piece is linked to the source piece it attends to most; the end-of-sentence row
links to nothing. Word links are the piece links mapped to the words the pieces belong to.
"""

from __future__ import annotations

import torch

from nmtkit.translate.attention_blocks import BlockMap

UNITS = ("word", "piece")


def piece_links(attention: torch.Tensor | BlockMap) -> list[tuple[int, int]]:
    """(source, target) links from a map (target pieces + 1, source pieces), dense or a
    line's blocks. A row is 0 outside its block and its weights in the block sum to 1, so
    the largest is in the block: the links of the blocks are those of the dense map."""
    if isinstance(attention, torch.Tensor):
        attention = BlockMap.whole(attention)
    end = attention.rows - 1
    links = []
    for b in attention.blocks:
        if b.weights.numel():
            links += [(b.col + i, b.row + j)
                      for j, i in enumerate(b.weights.argmax(-1).tolist()) if b.row + j < end]
    return sorted(links)


def word_links(links: list[tuple[int, int]], src_words: list[int],
               tgt_words: list[int]) -> list[tuple[int, int]]:
    """Piece links mapped to words: ``src_words[i]`` is the word of source piece i."""
    return sorted({(src_words[i], tgt_words[j]) for i, j in links})


def pharaoh(links: list[tuple[int, int]]) -> str:
    return " ".join(f"{i}-{j}" for i, j in links)


def parse_pharaoh(line: str) -> list[tuple[int, int]]:
    """The links of a Pharaoh line (the inverse of :func:`pharaoh`)."""
    return [(int(i), int(j)) for i, j in (link.split("-") for link in line.split())]
