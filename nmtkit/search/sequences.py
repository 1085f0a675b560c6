"""Decoding many sequences: sorted by length into batches, results in input order."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from nmtkit.data.batching import pad_sequences
from nmtkit.search.loop import Runner, search
from nmtkit.search.options import Hypothesis, SearchOptions
from nmtkit.search.shortlist import Lexicon


def length_batches(seqs: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """The indices of the non-empty sequences, sorted by length (which keeps padding low)
    and cut into batches of ``batch_size``: shortest batch first."""
    order = sorted((i for i, s in enumerate(seqs) if len(s)), key=lambda i: len(seqs[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def search_batch(model, batch: Sequence[Sequence[int]], opts: SearchOptions,
                 device: str | torch.device = "cpu",
                 runner: Runner | None = None,
                 lexicon: Lexicon | None = None) -> list[list[Hypothesis]]:
    """n-best hypotheses for each (non-empty) sequence of one batch, through
    :func:`nmtkit.search.search` (``runner``: None for the eager loop, else the fixed-shape
    loop through it; ``lexicon``: each sentence's shortlist only)."""
    src, lengths = pad_sequences(list(batch))
    return search(model, src.to(device), lengths.to(device), opts, runner, lexicon)


def search_sequences(model, seqs: Sequence[Sequence[int]], opts: SearchOptions,
                     batch_size: int = 64, device: str | torch.device = "cpu",
                     runner: Runner | None = None) -> list[list[Hypothesis]]:
    """n-best hypotheses for each source id sequence, in input order; empty sequences get
    an empty hypothesis without touching the model."""
    results: list[list[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in seqs]
    for idx in length_batches(seqs, batch_size):
        for i, h in zip(idx, search_batch(model, [seqs[i] for i in idx], opts, device, runner)):
            results[i] = h
    return results
