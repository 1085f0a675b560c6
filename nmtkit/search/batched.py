"""Decoding many sequences: sorted by length into batches, results in input order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from nmtkit.data.batching import pad_sequences
from nmtkit.search.common import Hypothesis, SearchOptions, search


def decode_sequences(model, seqs: Sequence[Sequence[int]], opts: SearchOptions,
                     batch_size: int = 64, device: str | torch.device = "cpu",
                     search_fn: Callable = search) -> list[list[Hypothesis]]:
    """n-best hypotheses for each source id sequence, in input order.

    Sorting by length keeps padding low; empty sequences get an empty hypothesis without
    touching the model. ``search_fn(model, src, lengths, opts)`` searches one batch.
    """
    results: list[list[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in seqs]
    order = sorted((i for i, s in enumerate(seqs) if len(s)), key=lambda i: len(seqs[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        src, lengths = pad_sequences([seqs[i] for i in idx])
        hyps = search_fn(model, src.to(device), lengths.to(device), opts)
        for i, h in zip(idx, hyps):
            results[i] = h
    return results
