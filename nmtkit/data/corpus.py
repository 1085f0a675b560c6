"""Encoded corpora as memory-mapped token arrays with an offsets index.

One side of one split is two files:

- ``NAME.ids``: every sentence's piece ids, concatenated, int32 little-endian;
- ``NAME.idx``: int64 offsets, ``n + 1`` of them; sentence ``i`` is ``ids[idx[i]:idx[i+1]]``.

Piece ids index a piece table (``PieceTable``) built while encoding, so a corpus is
encoded once and any vocabulary (min frequency, size, shared or not) can be laid over it
by a lookup array, without re-encoding. Reading maps the files, so memory stays flat
however large the corpus is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nmtkit.errors import DataError


class PieceTable:
    """Pieces seen while encoding, in first-seen order, with their training counts."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.counts: list[int] = []
        self.index: dict[str, int] = {}

    def ids(self, pieces: list[str], count: bool) -> list[int]:
        out = []
        for p in pieces:
            i = self.index.get(p)
            if i is None:
                i = self.index[p] = len(self.pieces)
                self.pieces.append(p)
                self.counts.append(0)
            if count:
                self.counts[i] += 1
            out.append(i)
        return out

    def save(self, path: Path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            for p, c in zip(self.pieces, self.counts):
                f.write(f"{p}\t{c}\n")

    @classmethod
    def load(cls, path: Path) -> PieceTable:
        table = cls()
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                piece, sep, count = line.rstrip("\n").rpartition("\t")
                if not sep or not count.isdigit():
                    raise DataError(f"{path}:{lineno}: expected PIECE<TAB>COUNT")
                table.index[piece] = len(table.pieces)
                table.pieces.append(piece)
                table.counts.append(int(count))
        return table


class CorpusWriter:
    """Appends sentences of piece ids to ``NAME.ids`` / ``NAME.idx``."""

    def __init__(self, stem: Path):
        self.stem = Path(stem)
        self._ids = open(f"{self.stem}.ids", "wb")
        self._offsets = [0]

    def add(self, ids: list[int]) -> None:
        self._ids.write(np.asarray(ids, dtype="<i4").tobytes())
        self._offsets.append(self._offsets[-1] + len(ids))

    def close(self) -> int:
        self._ids.close()
        np.asarray(self._offsets, dtype="<i8").tofile(f"{self.stem}.idx")
        return len(self._offsets) - 1


class Corpus:
    """Read-only view of an encoded corpus, backed by memory maps."""

    def __init__(self, stem: Path):
        stem = Path(stem)
        ids_path, idx_path = Path(f"{stem}.ids"), Path(f"{stem}.idx")
        for p in (ids_path, idx_path):
            if not p.exists():
                raise DataError(f"{p}: missing; run nmtkit preprocess first")
        self.offsets = np.memmap(idx_path, dtype="<i8", mode="r")
        n_tokens = int(self.offsets[-1]) if len(self.offsets) else 0
        if n_tokens:
            self.ids = np.memmap(ids_path, dtype="<i4", mode="r")
        else:  # numpy cannot map an empty file
            self.ids = np.zeros(0, dtype="<i4")
        if len(self.ids) != n_tokens:
            raise DataError(f"{ids_path}: {len(self.ids)} tokens but {idx_path} says {n_tokens}")
        self.lengths = np.diff(self.offsets).astype(np.int64)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]
