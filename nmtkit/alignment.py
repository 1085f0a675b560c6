"""Hard alignments from attention, in Pharaoh format (``i-j``: source position i, target
position j, both from 0), between pieces or between words (pieces merged back into the
words of the text, split at spaces).

Each target piece is linked to the source piece it attends to most; the end-of-sentence row
links to nothing. Word links are the piece links mapped to the words the pieces belong to.
"""

from __future__ import annotations

import torch

UNITS = ("word", "piece")


def piece_links(attention: torch.Tensor) -> list[tuple[int, int]]:
    """(source, target) links from a map (target pieces + 1, source pieces)."""
    rows = attention[:-1]
    if rows.numel() == 0:
        return []
    return sorted((i, j) for j, i in enumerate(rows.argmax(-1).tolist()))


def word_links(links: list[tuple[int, int]], src_words: list[int],
               tgt_words: list[int]) -> list[tuple[int, int]]:
    """Piece links mapped to words: ``src_words[i]`` is the word of source piece i."""
    return sorted({(src_words[i], tgt_words[j]) for i, j in links})


def pharaoh(links: list[tuple[int, int]]) -> str:
    return " ".join(f"{i}-{j}" for i, j in links)


def parse_pharaoh(line: str) -> list[tuple[int, int]]:
    """The links of a Pharaoh line (the inverse of :func:`pharaoh`)."""
    return [(int(i), int(j)) for i, j in (link.split("-") for link in line.split())]
