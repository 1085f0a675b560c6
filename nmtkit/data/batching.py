"""Datasets over memory-mapped corpora and token-budget batches with length bucketing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nmtkit.data.corpus import Corpus, PieceTable
from nmtkit.data.vocab import BOS, EOS, PAD, Vocab
from nmtkit.errors import DataError


@dataclass
class Batch:
    """A padded batch. Shapes: src (batch, src_len); tgt_in / tgt_out (batch, tgt_len).

    ``tgt_in`` starts with BOS, ``tgt_out`` ends with EOS.
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor | None = None
    tgt_out: torch.Tensor | None = None

    @property
    def n_tgt_tokens(self) -> int:
        return int((self.tgt_out != PAD).sum()) if self.tgt_out is not None else 0

    def to(self, device: torch.device | str) -> Batch:
        move = lambda t: t.to(device) if t is not None else None  # noqa: E731
        return Batch(move(self.src), move(self.src_lengths), move(self.tgt_in),
                     move(self.tgt_out))


def pad_sequences(seqs: list[np.ndarray] | list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), max(int(lengths.max()), 1) if len(seqs) else 1), PAD,
                     dtype=torch.long)
    for i, s in enumerate(seqs):
        if len(s):
            out[i, : len(s)] = torch.as_tensor(np.asarray(s, dtype=np.int64))
    return out, lengths


class ParallelData:
    """One split of a data folder, read through memory maps, in vocabulary ids."""

    def __init__(self, data_dir: Path, split: str, src_vocab: Vocab, tgt_vocab: Vocab):
        data_dir = Path(data_dir)
        src_pieces = PieceTable.load(data_dir / "pieces.src.tsv").pieces
        tgt_pieces = PieceTable.load(data_dir / "pieces.tgt.tsv").pieces
        self.src = Corpus(data_dir / f"{split}.src", len(src_pieces))
        self.tgt = Corpus(data_dir / f"{split}.tgt", len(tgt_pieces))
        if len(self.src) != len(self.tgt):
            raise DataError(f"{data_dir}: damaged ({split}.src has {len(self.src)} sentences "
                            f"but {split}.tgt has {len(self.tgt)}); run nmtkit preprocess again")
        # Piece-table ids -> vocabulary ids, applied per batch so the corpus stays mapped.
        self.src_map = src_vocab.lookup_array(src_pieces)
        self.tgt_map = tgt_vocab.lookup_array(tgt_pieces)

    def __len__(self) -> int:
        return len(self.src)

    @property
    def src_lengths(self) -> np.ndarray:
        """Each source sentence's length in pieces, as the epoch reads it (what batches are
        packed by)."""
        return self.src.lengths

    @property
    def tgt_lengths(self) -> np.ndarray:
        return self.tgt.lengths

    def start_epoch(self, epoch: int) -> None:
        """Prepare to read ``epoch`` (the segmentations are fixed: nothing to do; sampled
        data, :class:`nmtkit.data.sampling.SampledParallelData`, samples its lengths)."""

    def src_ids(self, i: int) -> np.ndarray:
        return self.src_map[self.src[i]]

    def tgt_ids(self, i: int) -> np.ndarray:
        return self.tgt_map[self.tgt[i]]

    def collate(self, indices: np.ndarray) -> Batch:
        return pair_batch([self.src_ids(i) for i in indices],
                          [self.tgt_ids(i) for i in indices])


def pair_batch(src: list, tgt: list) -> Batch:
    """The padded batch of (source, target) id sequences for teacher forcing."""
    src_ids, src_lengths = pad_sequences(src)
    tgt_in, _ = pad_sequences([np.concatenate(([BOS], t)).astype(np.int64) for t in tgt])
    tgt_out, _ = pad_sequences([np.concatenate((t, [EOS])).astype(np.int64) for t in tgt])
    return Batch(src_ids, src_lengths, tgt_in, tgt_out)


def _pack(costs: list[int], batch_tokens: int) -> list[int]:
    """Where each batch ends in ``costs`` (sorted, ascending): as many sentences as fit
    ``count * largest cost <= batch_tokens``, at least one. Since the largest cost is the
    last one's, that product only grows with the count: a binary search per batch."""
    ends, start, n = [], 0, len(costs)
    while start < n:
        lo, hi = 1, n - start  # the most that fit, at least one
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if costs[start + mid - 1] * mid <= batch_tokens:
                lo = mid
            else:
                hi = mid - 1
        start += lo
        ends.append(start)
    return ends


def token_batches(
    src_lengths: np.ndarray,
    tgt_lengths: np.ndarray,
    batch_tokens: int,
    generator: torch.Generator | None = None,
    max_len: int = 0,
    pool_batches: int = 100,
) -> list[np.ndarray]:
    """Group sentence indices into batches of at most ``batch_tokens`` padded tokens.

    The cost of a batch is ``n_sentences * max(longest source, longest target + 1)``.
    With a generator, sentences are shuffled, sorted by length inside pools of about
    ``pool_batches`` batches (bucketing: little padding, still random), and the batch order
    is shuffled; without one, the order is by length (for evaluation). Pairs longer than
    ``max_len`` (when > 0) are skipped.
    """
    n = len(src_lengths)
    cost = np.maximum(src_lengths, tgt_lengths + 1)
    keep = np.arange(n) if max_len <= 0 else np.nonzero(
        (src_lengths <= max_len) & (tgt_lengths <= max_len))[0]
    if generator is not None:
        keep = keep[torch.randperm(len(keep), generator=generator).numpy()]
        avg = max(1, int(cost[keep].mean())) if len(keep) else 1
        pool = max(1, pool_batches * batch_tokens // avg)
    else:
        pool = max(1, len(keep))
    batches: list[np.ndarray] = []
    for start in range(0, len(keep), pool):
        chunk = keep[start : start + pool]
        # Stable sort by (cost, src length) keeps the shuffled order among equals.
        chunk = chunk[np.lexsort((src_lengths[chunk], cost[chunk]))]
        start = 0
        for end in _pack(cost[chunk].tolist(), batch_tokens):
            batches.append(chunk[start:end].astype(np.int64))
            start = end
    if generator is not None:
        order = torch.randperm(len(batches), generator=generator).numpy()
        batches = [batches[i] for i in order]
    return batches
