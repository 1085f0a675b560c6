"""The decoding rules: what each step's log-probabilities go through before a strategy
picks, one object per rule (:class:`Rule`). :func:`rules_for` lists the rules the search
options ask for, in the order they apply: :class:`MinLength` (EOS forbidden before the
minimum), :class:`NoRepeatNgram` (n-gram blocking), :class:`MaxLength` (EOS forced at the
limit; last, so the limit wins over the minimum). :func:`max_lengths` and
:func:`min_lengths` give each sentence's limits.

A rule's ``apply`` may skip what no row needs (the eager loop); its ``apply_fixed`` gives
the same values without data-dependent branches (the compiled loop). A rule without a
fixed form says so (``compiles``), and its ``option`` names it where the compiled loop is
refused. A new rule is a new class and a line in :func:`rules_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import torch

from nmtkit.data.vocab import EOS
from nmtkit.errors import NmtkitError
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


@dataclass(frozen=True)
class StepView:
    """What a rule sees of one step, per hypothesis row: ``step`` (an int in the eager
    loop, a 0-dim tensor in the compiled one), ``limits`` and ``mins`` (rows,), and
    ``history`` (rows, >= step) the tokens so far, given only where a rule needs it."""

    step: int | torch.Tensor
    limits: torch.Tensor
    mins: torch.Tensor
    history: torch.Tensor | None = None


class Rule(Protocol):
    """One decoding rule (see the module docstring). log_probs: (rows, vocab); neither
    method changes its input."""

    needs_history: ClassVar[bool]  # whether ``apply`` reads ``view.history``
    compiles: ClassVar[bool]  # whether it has ``apply_fixed`` (the compiled loop)
    option: ClassVar[str]  # the command-line option that asks for it

    def apply(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor: ...

    def apply_fixed(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor: ...


@dataclass(frozen=True)
class MinLength:
    """EOS forbidden before each row's minimum length."""

    needs_history: ClassVar[bool] = False
    compiles: ClassVar[bool] = True
    option: ClassVar[str] = "--min-len"

    def apply(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor:
        early = (view.mins > view.step).unsqueeze(1)
        if bool(early.any()):
            log_probs = log_probs.clone()
            log_probs[:, EOS] = log_probs[:, EOS].masked_fill(early.squeeze(1), NEG_INF)
        return log_probs

    def apply_fixed(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor:
        early = (view.mins > view.step).unsqueeze(1) & _is_eos(log_probs)
        return log_probs.masked_fill(early, NEG_INF)


@dataclass(frozen=True)
class NoRepeatNgram:
    """A token that would repeat an ``n``-gram of the row's history is forbidden."""

    n: int
    needs_history: ClassVar[bool] = True
    compiles: ClassVar[bool] = False
    option: ClassVar[str] = "--no-repeat-ngram"

    def apply(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor:
        n, step, history = self.n, view.step, view.history
        if step < n:
            return log_probs
        windows = history[:, :step].unfold(1, n, 1)  # (rows, step - n + 1, n)
        current = history[:, step - n + 1 : step].unsqueeze(1)
        match = (windows[:, :, :-1] == current).all(-1)
        banned = torch.zeros(log_probs.shape, dtype=torch.long, device=log_probs.device)
        banned.scatter_reduce_(1, windows[:, :, -1], match.long(), reduce="amax")
        return log_probs.masked_fill(banned.bool(), NEG_INF)

    def apply_fixed(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor:
        raise NmtkitError(f"{self.option} has no form for the compiled decoding loop")


@dataclass(frozen=True)
class MaxLength:
    """EOS forced on each row's last allowed step (applied last: the limit wins over the
    minimum)."""

    needs_history: ClassVar[bool] = False
    compiles: ClassVar[bool] = True
    option: ClassVar[str] = "--max-len"

    def apply(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor:
        last = (view.limits == view.step + 1).unsqueeze(1)
        if bool(last.any()):
            eos_only = torch.full_like(log_probs, NEG_INF)
            eos_only[:, EOS] = 0.0
            log_probs = torch.where(last, eos_only, log_probs)
        return log_probs

    def apply_fixed(self, log_probs: torch.Tensor, view: StepView) -> torch.Tensor:
        last = (view.limits == view.step + 1).unsqueeze(1)
        eos_only = torch.zeros_like(log_probs).masked_fill(~_is_eos(log_probs), NEG_INF)
        return torch.where(last, eos_only, log_probs)


def rules_for(opts: SearchOptions) -> tuple[Rule, ...]:
    """The rules the options ask for, in the order they apply."""
    rules: list[Rule] = [MinLength()]
    if opts.no_repeat_ngram:
        rules.append(NoRepeatNgram(opts.no_repeat_ngram))
    rules.append(MaxLength())
    return tuple(rules)


def not_compiled(rules: tuple[Rule, ...]) -> Rule | None:
    """The first rule without a form for the compiled loop, or None."""
    return next((rule for rule in rules if not rule.compiles), None)


def needs_history(rules: tuple[Rule, ...]) -> bool:
    return any(rule.needs_history for rule in rules)


def apply_rules(rules: tuple[Rule, ...], log_probs: torch.Tensor,
                view: StepView) -> torch.Tensor:
    """``rules`` applied in turn (the eager loop)."""
    for rule in rules:
        log_probs = rule.apply(log_probs, view)
    return log_probs


def apply_rules_fixed(rules: tuple[Rule, ...], log_probs: torch.Tensor,
                      view: StepView) -> torch.Tensor:
    """``rules`` applied in turn without data-dependent branches (the compiled loop)."""
    for rule in rules:
        log_probs = rule.apply_fixed(log_probs, view)
    return log_probs


def _is_eos(log_probs: torch.Tensor) -> torch.Tensor:
    """(vocab,) True at EOS."""
    return torch.arange(log_probs.size(-1), device=log_probs.device) == EOS
