"""What every search strategy shares: options, hypotheses, length limits, dispatch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nmtkit.data.vocab import EOS


@dataclass
class SearchOptions:
    beam: int = 1  # 1: greedy
    length_penalty: float = 1.0  # GNMT alpha: score / ((5 + len) / 6) ** alpha; 0: raw sum
    max_len_ratio: float = 2.0  # at most ratio * source length + 10 target pieces ...
    max_len: int = 256  # ... and never more than this
    min_len: int = 0
    n_best: int = 1
    sampling: bool = False  # draw each token instead of searching (beam is ignored)
    temperature: float = 1.0
    top_k: int = 0  # 0: no limit
    top_p: float = 1.0  # nucleus sampling; 1: no limit
    seed: int = 0


@dataclass
class Hypothesis:
    tokens: list[int]  # target ids, EOS not included
    score: float  # length-normalised log-probability (beam) or log-probability (greedy)


def max_lengths(src_lengths: torch.Tensor, opts: SearchOptions) -> torch.Tensor:
    """Per-sentence step limit (batch,), counting the EOS step."""
    limit = (src_lengths.float() * opts.max_len_ratio).long() + 10
    return limit.clamp(min=1, max=opts.max_len)


def force_length(log_probs: torch.Tensor, step: int, limits: torch.Tensor,
                 min_len: int) -> torch.Tensor:
    """Forbid EOS before ``min_len`` and force it on each row's last allowed step.

    log_probs: (rows, vocab); limits: (rows,) step limits.
    """
    if step < min_len:
        log_probs = log_probs.clone()
        log_probs[:, EOS] = float("-inf")
    last = (limits == step + 1).unsqueeze(1)
    if bool(last.any()):
        eos_only = torch.full_like(log_probs, float("-inf"))
        eos_only[:, EOS] = 0.0
        log_probs = torch.where(last, eos_only, log_probs)
    return log_probs


def length_penalty(lengths: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT length penalty ((5 + len) / 6) ** alpha (Wu et al., 2016)."""
    return ((5.0 + lengths.float()) / 6.0) ** alpha


@torch.no_grad()
def search(model, src: torch.Tensor, src_lengths: torch.Tensor,
           opts: SearchOptions) -> list[list[Hypothesis]]:
    """n-best hypotheses for each sentence of the batch, best first."""
    from nmtkit.search.beam import beam_search
    from nmtkit.search.greedy import greedy_search, sample_search

    if opts.sampling:
        return sample_search(model, src, src_lengths, opts)
    if opts.beam <= 1:
        return greedy_search(model, src, src_lengths, opts)
    return beam_search(model, src, src_lengths, opts)
