"""Vocabularies with counts, and the fixed special tokens.

Special tokens always take the first four ids, in this order:

====  =========  ==========================================
id    token      meaning
====  =========  ==========================================
0     ``<pad>``  padding; never predicted, masked in attention and loss
1     ``<unk>``  a piece outside the vocabulary
2     ``<s>``    start of the target sequence (decoder's first input)
3     ``</s>``   end of sequence
====  =========  ==========================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nmtkit.errors import DataError

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")


class Vocab:
    def __init__(self, tokens: list[str], counts: list[int]):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError("a vocabulary starts with the special tokens")
        self.tokens = list(tokens)
        self.counts = list(counts)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, counts: dict[str, int], min_freq: int = 1, max_size: int = 0) -> Vocab:
        """Most frequent pieces first (ties by piece, so the result is deterministic)."""
        items = sorted(
            ((p, c) for p, c in counts.items() if c >= min_freq and p not in SPECIALS),
            key=lambda pc: (-pc[1], pc[0]),
        )
        if max_size > 0:
            items = items[: max(0, max_size - len(SPECIALS))]
        return cls([*SPECIALS, *(p for p, _ in items)],
                   [0] * len(SPECIALS) + [c for _, c in items])

    def encode(self, pieces: list[str]) -> list[int]:
        get = self.index.get
        return [get(p, UNK) for p in pieces]

    def decode(self, ids) -> list[str]:
        """Pieces for ids, stopping at the first EOS; padding and BOS are skipped."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            out.append(self.tokens[i])
        return out

    def lookup_array(self, pieces: list[str]) -> np.ndarray:
        """Map piece-table ids to vocabulary ids (UNK for pieces outside the vocabulary)."""
        return np.asarray([self.index.get(p, UNK) for p in pieces], dtype=np.int64)

    def save(self, path: Path) -> None:
        from nmtkit.fileio import atomic_write_text

        atomic_write_text(
            Path(path), "".join(f"{t}\t{c}\n" for t, c in zip(self.tokens, self.counts))
        )

    @classmethod
    def load(cls, path: Path) -> Vocab:
        from nmtkit.fileio import iter_lines

        tokens, counts, seen = [], [], set()
        for lineno, line in enumerate(iter_lines(path), 1):
            tok, sep, count = line.rpartition("\t")
            if not sep or not count.isdigit():
                raise DataError(f"{path}:{lineno}: damaged vocabulary: expected "
                                "TOKEN<TAB>COUNT")
            if tok in seen:
                raise DataError(f"{path}:{lineno}: damaged vocabulary: {tok!r} listed twice")
            seen.add(tok)
            tokens.append(tok)
            counts.append(int(count))
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise DataError(f"{path}:1: damaged vocabulary: it must start with "
                            f"{', '.join(SPECIALS)}")
        return cls(tokens, counts)
