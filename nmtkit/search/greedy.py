"""Greedy search, batched: every sentence advances in one tensor step."""

from __future__ import annotations

import torch

from nmtkit.data.vocab import BOS, EOS, PAD
from nmtkit.search.common import Hypothesis, SearchOptions, force_length, max_lengths


def greedy_search(model, src, src_lengths, opts: SearchOptions) -> list[list[Hypothesis]]:
    enc = model.encode(src, src_lengths)
    decoder = model.decoder
    state = decoder.start_state(enc)
    batch = src.size(0)
    limits = max_lengths(src_lengths, opts)
    prev = torch.full((batch,), BOS, dtype=torch.long, device=src.device)
    done = torch.zeros(batch, dtype=torch.bool, device=src.device)
    scores = torch.zeros(batch, device=src.device)
    tokens = []
    for step in range(int(limits.max())):
        out = decoder.step(prev, state, enc)
        log_probs = force_length(out.log_probs, step, limits, opts.min_len)
        best, prev = log_probs.max(dim=-1)
        prev = prev.masked_fill(done, PAD)
        scores = scores + best.masked_fill(done, 0.0)
        tokens.append(prev)
        done = done | (prev == EOS)
        state = out.state
        if bool(done.all()):
            break
    rows = torch.stack(tokens, dim=1).tolist() if tokens else [[] for _ in range(batch)]
    hyps = []
    for row, score in zip(rows, scores.tolist()):
        out_tokens = []
        for t in row:
            if t in (EOS, PAD):
                break
            out_tokens.append(t)
        hyps.append([Hypothesis(out_tokens, score)])
    return hyps
