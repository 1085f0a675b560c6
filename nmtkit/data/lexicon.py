"""The lexical table behind vocabulary shortlists (``nmtkit shortlist``): for each source
vocabulary entry, the target entries that co-occur with it most, and the most frequent
target entries, counted over a data folder's training pairs.

Association is the Dice coefficient of sentence co-occurrence,
2 c(s, t) / (c(s) + c(t)), with c counting sentences (pairs) that contain the entries;
unlike the conditional frequency c(s, t) / c(s) it does not rank every source entry's
list by the target entries that are frequent everywhere (those are in the frequent list).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmtkit.data.batching import ParallelData
from nmtkit.data.vocab import PAD, SPECIALS, Vocab

CHUNK = 100_000  # sentences whose pairs are counted at once


@dataclass
class LexiconTable:
    table: np.ndarray  # (source vocab, per_piece) int64 target ids, best first; -1: none
    frequent: np.ndarray  # (F,) int64 the most frequent target ids, specials excluded
    sentences: int  # training pairs counted


def _merge(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys, where = np.unique(keys, return_inverse=True)
    return keys, np.bincount(where, weights=counts, minlength=len(keys))


def build_lexicon(data: ParallelData, n_src: int, n_tgt: int, per_piece: int,
                  frequent: int) -> LexiconTable:
    """The table of ``per_piece`` target ids per source id, from ``data``'s pairs."""
    src_count = np.zeros(n_src)
    tgt_count = np.zeros(n_tgt)
    keys = np.zeros(0, dtype=np.int64)
    counts = np.zeros(0)
    for start in range(0, len(data), CHUNK):
        chunk = []
        for i in range(start, min(start + CHUNK, len(data))):
            s = np.unique(data.src_ids(i))
            t = np.unique(data.tgt_ids(i))
            src_count[s] += 1
            tgt_count[t] += 1
            chunk.append((s[:, None].astype(np.int64) * n_tgt + t[None, :]).ravel())
        pairs = np.concatenate(chunk) if chunk else np.zeros(0, dtype=np.int64)
        new_keys, new_counts = np.unique(pairs, return_counts=True)
        keys, counts = _merge(np.concatenate([keys, new_keys]),
                              np.concatenate([counts, new_counts]))
    s, t = keys // n_tgt, keys % n_tgt
    dice = 2 * counts / (src_count[s] + tgt_count[t])
    special = t < len(SPECIALS)
    s, t, dice = s[~special], t[~special], dice[~special]
    order = np.lexsort((t, -dice, s))  # by source, best first (ties: lower id)
    s, t = s[order], t[order]
    table = np.full((n_src, per_piece), -1, dtype=np.int64)
    starts = np.searchsorted(s, np.arange(n_src))
    rank = np.arange(len(s)) - starts[s]
    keep = rank < per_piece
    table[s[keep], rank[keep]] = t[keep]
    table[PAD] = -1
    tgt_count[: len(SPECIALS)] = -1
    top = np.argsort(-tgt_count, kind="stable")[:frequent]
    return LexiconTable(table, top[tgt_count[top] > 0].astype(np.int64), len(data))


def lexicon_for(data_dir: Path, src_vocab: Vocab, tgt_vocab: Vocab, per_piece: int,
                frequent: int) -> LexiconTable:
    """The table of a data folder's training pairs in these vocabularies' ids."""
    data = ParallelData(Path(data_dir), "train", src_vocab, tgt_vocab)
    return build_lexicon(data, len(src_vocab), len(tgt_vocab), per_piece, frequent)
