"""Decoding many sequences: sorted by length into batches, results in input order."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from nmtkit.data.batching import pad_sequences
from nmtkit.search.loop import Runner, search
from nmtkit.search.options import Hypothesis, SearchOptions


def decode_sequences(model, seqs: Sequence[Sequence[int]], opts: SearchOptions,
                     batch_size: int = 64, device: str | torch.device = "cpu",
                     runner: Runner | None = None) -> list[list[Hypothesis]]:
    """n-best hypotheses for each source id sequence, in input order.

    Sorting by length keeps padding low; empty sequences get an empty hypothesis without
    touching the model. Each batch goes through :func:`nmtkit.search.search` (``runner``:
    None for the eager loop, else the fixed-shape loop through it).
    """
    results: list[list[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in seqs]
    order = sorted((i for i, s in enumerate(seqs) if len(s)), key=lambda i: len(seqs[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        src, lengths = pad_sequences([seqs[i] for i in idx])
        hyps = search(model, src.to(device), lengths.to(device), opts, runner)
        for i, h in zip(idx, hyps):
            results[i] = h
    return results
