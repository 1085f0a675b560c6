"""Greedy search and sampling, batched: every sentence advances in one tensor step.

Both pick one token per sentence per step; they differ only in how (:func:`pick_best` or
a :class:`Sampler`), so they share one loop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nmtkit.data.vocab import BOS, EOS, PAD
from nmtkit.search.common import (
    Hypothesis,
    SearchOptions,
    constrain,
    max_lengths,
    min_lengths,
)

Picker = Callable[[torch.Tensor], torch.Tensor]  # log_probs (batch, vocab) -> tokens (batch,)


def pick_best(log_probs: torch.Tensor) -> torch.Tensor:
    return log_probs.argmax(dim=-1)


class Sampler:
    """Draws from the distribution sharpened or flattened by ``temperature``, restricted to
    the ``top_k`` most likely tokens and/or the smallest set whose mass reaches ``top_p``;
    seeded, so the same input and seed give the same output."""

    def __init__(self, opts: SearchOptions, device: torch.device):
        self.opts = opts
        self.generator = torch.Generator(device=device).manual_seed(opts.seed)

    def __call__(self, log_probs: torch.Tensor) -> torch.Tensor:
        logits = log_probs.float() / max(self.opts.temperature, 1e-6)
        if self.opts.top_k > 0:
            kth = logits.topk(min(self.opts.top_k, logits.size(-1)), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.opts.top_p < 1.0:
            sorted_logits, order = logits.sort(dim=-1, descending=True)
            sorted_probs = sorted_logits.softmax(-1)
            # Keep every token up to and including the first that takes the mass past p.
            drop = sorted_probs.cumsum(-1) - sorted_probs >= self.opts.top_p
            logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        probs = logits.softmax(-1)
        return torch.multinomial(probs, 1, generator=self.generator).squeeze(1)


def greedy_search(model, src, src_lengths, opts: SearchOptions,
                  pick: Picker = pick_best) -> list[list[Hypothesis]]:
    device = src.device
    enc = model.encode(src, src_lengths)
    decoder = model.decoder
    state = decoder.start_state(enc)
    batch = src.size(0)
    limits = max_lengths(src_lengths, opts)
    mins = min_lengths(src_lengths, opts)
    steps = int(limits.max())
    tokens = torch.full((batch, steps), PAD, dtype=torch.long, device=device)
    scores = torch.zeros(batch, device=device)
    ids = torch.arange(batch, device=device)  # original index of each active row
    prev = torch.full((batch,), BOS, dtype=torch.long, device=device)
    for step in range(steps):
        out = decoder.step(prev, state, enc)
        history = tokens[ids] if opts.no_repeat_ngram else None
        log_probs = constrain(out.log_probs, step, limits, mins, history, opts.no_repeat_ngram)
        prev = pick(log_probs)
        tokens[ids, step] = prev
        scores[ids] += log_probs.gather(1, prev.unsqueeze(1)).squeeze(1)
        state = out.state
        done = prev == EOS
        if bool(done.any()):  # finished sentences leave the batch
            keep = (~done).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            ids, limits, mins, prev = ids[keep], limits[keep], mins[keep], prev[keep]
            enc = enc.index_select(keep)
            state = decoder.reorder_state(state, keep)
    rows = tokens.tolist()
    hyps = []
    for row, score in zip(rows, scores.tolist()):
        out_tokens = []
        for t in row:
            if t in (EOS, PAD):
                break
            out_tokens.append(t)
        hyps.append([Hypothesis(out_tokens, score)])
    return hyps


def sample_search(model, src, src_lengths, opts: SearchOptions) -> list[list[Hypothesis]]:
    return greedy_search(model, src, src_lengths, opts, Sampler(opts, src.device))
