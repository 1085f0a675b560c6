"""What every search strategy shares: options, hypotheses, length limits, dispatch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nmtkit.checks import check_fields, cli_name, one_of, ranged
from nmtkit.data.vocab import EOS
from nmtkit.errors import ConfigError

LENGTH_NORMS = ("gnmt", "average", "none")


@dataclass
class SearchOptions:
    """Search options, checked when made; a bad value is a ConfigError naming the
    command-line option (``--beam``, ...)."""

    beam: int = ranged(1, lo=1)  # 1: greedy
    # GNMT alpha: score / ((5 + len) / 6) ** alpha; 0: raw sum
    length_penalty: float = ranged(1.0, lo=0)
    length_norm: str = one_of("gnmt", LENGTH_NORMS)  # gnmt (alpha) | average | none
    max_len_ratio: float = ranged(2.0, lo=0)  # at most ratio * source length + 10 pieces ...
    max_len: int = ranged(256, lo=1)  # ... and never more than this
    min_len: int = ranged(0, lo=0)  # at least this many pieces ...
    min_len_ratio: float = ranged(0.0, lo=0)  # ... and at least ratio * source length
    no_repeat_ngram: int = ranged(0, lo=0)  # > 0: never repeat an n-gram of this size
    n_best: int = ranged(1, lo=1)
    sampling: bool = False  # draw each token instead of searching (beam is ignored)
    temperature: float = ranged(1.0, lo=0, lo_open=True)
    top_k: int = ranged(0, lo=0)  # 0: no limit
    top_p: float = ranged(1.0, 0.0, 1.0, lo_open=True)  # nucleus sampling; 1: no limit
    seed: int = ranged(0, lo=0)

    def __post_init__(self):
        check_fields(self, lambda name: "--sample" if name == "sampling" else cli_name(name))
        if self.sampling and self.n_best > 1:
            raise ConfigError("--n-best cannot be used with --sample (sampling draws one "
                              "translation per line)")
        if not self.sampling and self.n_best > self.beam:
            raise ConfigError(f"--n-best ({self.n_best}) cannot exceed --beam ({self.beam})")


@dataclass
class Hypothesis:
    tokens: list[int]  # target ids, EOS not included
    score: float  # length-normalised log-probability (beam) or log-probability (greedy)


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

    log_probs: (rows, vocab); limits / mins: (rows,); history: (rows, step) tokens so far.
    EOS is forbidden before ``mins`` and forced on each row's last allowed step (the limit
    wins over the minimum); with ``no_repeat`` = n, a token that would repeat an n-gram of
    the row's history is forbidden.
    """
    neg = float("-inf")
    early = (mins > step).unsqueeze(1)
    if bool(early.any()):
        log_probs = log_probs.clone()
        log_probs[:, EOS] = log_probs[:, EOS].masked_fill(early.squeeze(1), neg)
    if no_repeat > 0 and history is not None and step >= no_repeat:
        windows = history[:, :step].unfold(1, no_repeat, 1)  # (rows, step - n + 1, n)
        current = history[:, step - no_repeat + 1 : step].unsqueeze(1)
        match = (windows[:, :, :-1] == current).all(-1)
        banned = torch.zeros(log_probs.shape, dtype=torch.long, device=log_probs.device)
        banned.scatter_reduce_(1, windows[:, :, -1], match.long(), reduce="amax")
        log_probs = log_probs.masked_fill(banned.bool(), neg)
    last = (limits == step + 1).unsqueeze(1)
    if bool(last.any()):
        eos_only = torch.full_like(log_probs, neg)
        eos_only[:, EOS] = 0.0
        log_probs = torch.where(last, eos_only, log_probs)
    return log_probs


def length_penalty(length: int, opts: SearchOptions) -> float:
    """The divisor of a finished hypothesis' log-probability: GNMT's ((5 + len) / 6) ** alpha
    (Wu et al., 2016), the length itself (average), or 1."""
    if opts.length_norm == "gnmt":
        return ((5.0 + length) / 6.0) ** opts.length_penalty
    if opts.length_norm == "average":
        return float(length)
    if opts.length_norm == "none":
        return 1.0
    from nmtkit.errors import NmtkitError

    raise NmtkitError(f"--length-norm: unknown '{opts.length_norm}'; valid: gnmt, average, none")


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
