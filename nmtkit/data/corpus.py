"""Encoded corpora as memory-mapped token arrays with an offsets index.

One side of one split is two files:

- ``NAME.ids``: every sentence's piece ids, concatenated, int32 little-endian;
- ``NAME.idx``: int64 offsets, ``n + 1`` of them; sentence ``i`` is ``ids[idx[i]:idx[i+1]]``.

Piece ids index a piece table (``PieceTable``) built while encoding, so a corpus is
encoded once and any vocabulary (min frequency, size, shared or not) can be laid over it
by a lookup array, without re-encoding. Reading maps the files and never loads the ids:
what a reader holds grows by 4 bytes a sentence and side (the lengths), however large
the corpus is.
"""

from __future__ import annotations

import os
from array import array
from pathlib import Path

import numpy as np

from nmtkit.errors import DataError
from nmtkit.fileio import iter_lines

FIX = "run nmtkit preprocess again"


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
        for lineno, line in enumerate(iter_lines(path), 1):
            piece, sep, count = line.rpartition("\t")
            if not sep or not count.isdigit():
                raise DataError(f"{path}:{lineno}: expected PIECE<TAB>COUNT; {FIX}")
            if piece in table.index:
                raise DataError(f"{path}:{lineno}: piece {piece!r} listed twice; {FIX}")
            table.index[piece] = len(table.pieces)
            table.pieces.append(piece)
            table.counts.append(int(count))
        return table


class CorpusWriter:
    """Appends sentences of piece ids to ``NAME.ids`` / ``NAME.idx``."""

    def __init__(self, stem: Path):
        self.stem = Path(stem)
        self._ids = open(f"{self.stem}.ids", "wb")
        self._offsets = array("q", [0])  # 8 bytes a sentence (a list of ints takes ~40)

    def add(self, ids: list[int]) -> None:
        self._ids.write(np.asarray(ids, dtype="<i4").tobytes())
        self._offsets.append(self._offsets[-1] + len(ids))

    def close(self) -> int:
        self._ids.close()
        np.frombuffer(self._offsets, dtype=np.int64).astype("<i8").tofile(f"{self.stem}.idx")
        return len(self._offsets) - 1


def _map(path: Path, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    try:
        n_bytes = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"{path}: missing; {FIX}") from None
    if n_bytes % size:
        raise DataError(f"{path}: damaged ({n_bytes} bytes is not a whole number of "
                        f"{size}-byte entries); {FIX}")
    if n_bytes == 0:  # numpy cannot map an empty file
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def _id_range(path: Path, chunk: int = 1 << 22) -> tuple[int, int]:
    """The smallest and largest id in ``path``, read in chunks with plain reads: through
    the memory map every page of the corpus would stay resident in this process."""
    lo, hi = None, None
    with open(path, "rb") as f:
        while True:
            part = np.fromfile(f, dtype="<i4", count=chunk)
            if not len(part):
                break
            a, b = int(part.min()), int(part.max())
            lo, hi = a if lo is None else min(lo, a), b if hi is None else max(hi, b)
    return lo, hi


class Corpus:
    """Read-only view of an encoded corpus: the offsets through a memory map, each
    sentence's ids by one positioned read. (Batches read scattered sentences: through a
    memory map the kernel maps whole read-ahead windows and cached folios around each one,
    and after a few batches the whole corpus counts in the process's resident memory.)

    The files are checked on opening: whole entries, offsets that start at 0, never
    decrease and end at the number of ids, and (given ``n_pieces``) every id inside the
    piece table. A damaged file is one line naming it, not a crash mid-training.
    """

    def __init__(self, stem: Path, n_pieces: int | None = None):
        stem = Path(stem)
        ids_path, idx_path = Path(f"{stem}.ids"), Path(f"{stem}.idx")
        self.offsets = _map(idx_path, "<i8")
        n_ids = len(_map(ids_path, "<i4"))  # checks the file's size
        self._ids = open(ids_path, "rb")  # held for the corpus's lifetime
        offsets = self.offsets
        if len(offsets) == 0 or offsets[0] != 0 or bool((np.diff(offsets) < 0).any()):
            raise DataError(f"{idx_path}: damaged (offsets must start at 0 and never "
                            f"decrease); {FIX}")
        n_tokens = int(offsets[-1])
        if n_ids != n_tokens:
            raise DataError(f"{ids_path}: {n_ids} ids but {idx_path} says {n_tokens}; "
                            f"{FIX}")
        if n_pieces is not None and n_tokens:
            lo, hi = _id_range(ids_path)
            if lo < 0 or hi >= n_pieces:
                bad = lo if lo < 0 else hi
                raise DataError(f"{ids_path}: damaged (piece id {bad} is outside the piece "
                                f"table of {n_pieces} pieces); {FIX}")
        self.lengths = np.diff(offsets).astype(np.int32)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        data = os.pread(self._ids.fileno(), 4 * (end - start), 4 * start)
        return np.frombuffer(data, dtype="<i4")

    def __del__(self) -> None:
        ids = getattr(self, "_ids", None)
        if ids is not None:
            ids.close()


def corpus_fingerprint(data_dir: Path, split: str = "train") -> str:
    """sha256 of a split's id corpora (both sides, pieces and line offsets): what a resumed
    training compares to tell that its data changed."""
    import hashlib

    from nmtkit.fileio import file_fingerprint

    h = hashlib.sha256()
    for side in ("src", "tgt"):
        for ext in ("ids", "idx"):
            h.update(file_fingerprint(Path(data_dir) / f"{split}.{side}.{ext}").encode())
    return f"sha256:{h.hexdigest()}"
