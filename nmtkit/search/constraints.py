"""The rules applied to each step's log-probabilities before a strategy picks: length
limits (EOS forbidden before the minimum, forced at the limit; :func:`max_lengths`,
:func:`min_lengths`) and n-gram blocking.

:func:`constrain` skips what no row needs (the eager loop); :func:`constrain_fixed` gives
the same values without data-dependent branches (the compiled loop).
"""

from __future__ import annotations

import torch

from nmtkit.data.vocab import EOS
from nmtkit.search.options import SearchOptions

NEG_INF = float("-inf")


def max_lengths(src_lengths: torch.Tensor, opts: SearchOptions) -> torch.Tensor:
    """Per-sentence step limit (batch,), counting the EOS step."""
    limit = (src_lengths.float() * opts.max_len_ratio).long() + 10
    return limit.clamp(min=1, max=opts.max_len)


def min_lengths(src_lengths: torch.Tensor, opts: SearchOptions) -> torch.Tensor:
    """Per-sentence number of pieces before which EOS is forbidden (batch,)."""
    ratio = torch.ceil(src_lengths.float() * opts.min_len_ratio).long()
    return ratio.clamp(min=opts.min_len)



def constrain(log_probs: torch.Tensor, step: int, limits: torch.Tensor, mins: torch.Tensor,
              history: torch.Tensor | None = None, no_repeat: int = 0) -> torch.Tensor:
    """Apply the length limits and n-gram blocking to one step's log-probabilities.

    log_probs: (rows, vocab); limits / mins: (rows,); history: (rows, >= step) tokens so
    far. EOS is forbidden before ``mins`` and forced on each row's last allowed step (the
    limit wins over the minimum); with ``no_repeat`` = n, a token that would repeat an
    n-gram of the row's history is forbidden.
    """
    early = (mins > step).unsqueeze(1)
    if bool(early.any()):
        log_probs = log_probs.clone()
        log_probs[:, EOS] = log_probs[:, EOS].masked_fill(early.squeeze(1), NEG_INF)
    if no_repeat > 0 and history is not None and step >= no_repeat:
        windows = history[:, :step].unfold(1, no_repeat, 1)  # (rows, step - n + 1, n)
        current = history[:, step - no_repeat + 1 : step].unsqueeze(1)
        match = (windows[:, :, :-1] == current).all(-1)
        banned = torch.zeros(log_probs.shape, dtype=torch.long, device=log_probs.device)
        banned.scatter_reduce_(1, windows[:, :, -1], match.long(), reduce="amax")
        log_probs = log_probs.masked_fill(banned.bool(), NEG_INF)
    last = (limits == step + 1).unsqueeze(1)
    if bool(last.any()):
        eos_only = torch.full_like(log_probs, NEG_INF)
        eos_only[:, EOS] = 0.0
        log_probs = torch.where(last, eos_only, log_probs)
    return log_probs


def constrain_fixed(log_probs: torch.Tensor, step: torch.Tensor, limits: torch.Tensor,
                    mins: torch.Tensor) -> torch.Tensor:
    """:func:`constrain`'s length limits without data-dependent branches (step: 0-dim)."""
    is_eos = torch.arange(log_probs.size(-1), device=log_probs.device) == EOS
    early = (mins > step).unsqueeze(1) & is_eos
    log_probs = log_probs.masked_fill(early, NEG_INF)
    last = (limits == step + 1).unsqueeze(1)
    eos_only = torch.zeros_like(log_probs).masked_fill(~is_eos, NEG_INF)
    return torch.where(last, eos_only, log_probs)
