"""The one decoding loop, and :func:`search`, the entry point every caller uses.

The loop runs a strategy (:mod:`nmtkit.search.strategies`) step by step over a batch; a
row policy decides how the batch's rows are kept:

- :class:`Shrinking` (eager): a finished sentence leaves the batch at once, so it costs
  nothing more and its result cannot depend on the sentences still searching; n-gram
  blocking is available.
- :class:`Bucketed` (what ``torch.compile`` needs): sentences are padded to a bucket of
  rows (a power of two; filler rows copy a real sentence and are done from the start) and
  the source to a bucket of positions (:func:`source_bucket`), which also fixes the most
  steps a batch can take; a decoder whose state grows (a Transformer's cache) gets room
  for 16 steps, then 32, 64, ...; a finished sentence stays in its row, masked, and only
  once at most a quarter of the rows are still searching does the batch shrink, to the next
  smaller bucket. Each step (decoder step, decoding rules, strategy update, state reorder) is
  a function of fixed-size tensors called through a runner, so it compiles once per
  (rows, source, capacity) bucket and strategy, not per batch or step.

Both give the same results (tests/unit/test_search_loop.py): the same candidates are
scored and ranked by the same rules, row by row. The search depends only on the decoder
interface (:class:`nmtkit.models.interfaces.Decoder`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from nmtkit.data.vocab import BOS, PAD
from nmtkit.errors import NmtkitError
from nmtkit.models.interfaces import EncoderOutput
from nmtkit.search.constraints import (
    NEG_INF,
    Rule,
    StepView,
    apply_rules,
    apply_rules_fixed,
    max_lengths,
    min_lengths,
    needs_history,
    not_compiled,
    rules_for,
)
from nmtkit.search.options import Hypothesis, SearchOptions, length_penalty
from nmtkit.search.shortlist import Lexicon, Shortlist
from nmtkit.search.strategies import Buffers, Strategy, strategy_for

SHRINK = 4  # Bucketed: shrink the rows once at most 1/SHRINK of them are still searching
FIRST_CAPACITY = 16  # Bucketed: steps of room in a growing decoder state; doubled when reached

# Calls a step function: ``runner(fn, *args)`` (eagerly, or fn's compiled version).
Runner = Callable[..., tuple]


def call(fn, *args):
    """The runner that calls the step function as it is (the fixed-shape loop, eagerly)."""
    return fn(*args)


@torch.no_grad()
def search(model, src: torch.Tensor, src_lengths: torch.Tensor, opts: SearchOptions,
           runner: Runner | None = None, lexicon: Lexicon | None = None
           ) -> list[list[Hypothesis]]:
    """n-best hypotheses for each sentence of the batch, best first.

    runner: None for the eager loop (:class:`Shrinking`); otherwise the fixed-shape loop
    (:class:`Bucketed`) with every step called through it -- a
    :class:`nmtkit.search.compiled.CompiledRunner` compiles the steps, :func:`call` runs
    them as they are. The fixed-shape loop has no sampling, shortlist, or rule without a
    fixed form (n-gram blocking).
    lexicon: score only each sentence's shortlist (:mod:`nmtkit.search.shortlist`).
    """
    rules = rules_for(opts)
    if runner is not None:
        rule = not_compiled(rules)
        if opts.sampling or lexicon or rule is not None:
            why_not = "sampling" if opts.sampling else "a shortlist" if lexicon else rule.option
            raise NmtkitError(f"the fixed-shape decoding loop does not support {why_not}")
    strategy = strategy_for(opts, src.device)
    rows = Shrinking(rules) if runner is None else Bucketed(runner, rules)
    return run_loop(model, src, src_lengths, opts, strategy, rows, lexicon)


@dataclass
class Rows:
    """The working set of one batch: per sentence (first dimension: rows) and per
    hypothesis (rows * k)."""

    ids: torch.Tensor  # (rows,) index of each row's sentence in the batch; -1: filler
    limits: torch.Tensor  # (rows,) step limits
    mins: torch.Tensor  # (rows,) minimum lengths
    bufs: Buffers  # the strategy's per-sentence buffers
    prev: torch.Tensor  # (rows * k,) the tokens just chosen
    enc: EncoderOutput  # rows * k, or rows where the beams share it (``shared``)
    state: object  # the decoder state
    # The rows of ``state`` that continue (None: all, in order), applied by :meth:`settle`,
    # so that a step's reordering and a shrink's selection index the state once.
    pending: torch.Tensor | None = None
    # Per-sentence output vocabularies (None: the whole vocabulary); with one, tokens
    # (prev, the buffers) are columns of each sentence's list.
    vocab: Shortlist | None = None
    shared: bool = False  # one row of ``enc`` per sentence (Decoder.shares_source)

    def select(self, pick: torch.Tensor, real: int, k: int) -> Rows:
        """Rows ``pick`` (sentence indices); all but the first ``real`` are fillers."""
        filler = torch.arange(pick.numel(), device=pick.device) >= real
        bufs = self.bufs.select(pick)
        bufs.done = bufs.done | filler
        hyps = ((pick * k).unsqueeze(1) + torch.arange(k, device=pick.device)).view(-1)
        enc = self.enc.index_select(pick if self.shared else hyps)
        return Rows(torch.where(filler, -1, self.ids[pick]), self.limits[pick],
                    self.mins[pick], bufs, self.prev[hyps], enc,
                    self.state, hyps if self.pending is None else self.pending[hyps],
                    self.vocab.select(pick) if self.vocab is not None else None, self.shared)

    def settle(self, decoder) -> None:
        if self.pending is not None:
            self.state = decoder.reorder_state(self.state, self.pending)
            self.pending = None


class RowPolicy(Protocol):
    """How a batch's rows are kept while the loop runs (:class:`Shrinking`, :class:`Bucketed`;
    see the module docstring)."""

    def source_width(self, length: int) -> int: ...

    def steps(self, limits: torch.Tensor, width: int, opts: SearchOptions) -> int: ...

    def capacity(self, length: int) -> int | None: ...

    def first(self, rows: Rows, k: int) -> Rows: ...

    def grow(self, rows: Rows, step: int, decoder, length: int) -> None: ...

    def step(self, strategy: Strategy, decoder, w: Rows, penalties: torch.Tensor,
             step: int) -> None: ...

    def drops(self, done: torch.Tensor) -> bool: ...

    def keep(self, active: torch.Tensor) -> tuple[torch.Tensor, int]: ...


class Shrinking:
    """The eager row policy: every finished sentence leaves the batch at once; each step's
    log-probabilities go through ``rules`` (:func:`nmtkit.search.constraints.rules_for`)."""

    def __init__(self, rules: tuple[Rule, ...]):
        self.rules = rules
        self.history = needs_history(rules)

    def source_width(self, length: int) -> int:
        return length

    def steps(self, limits: torch.Tensor, width: int, opts: SearchOptions) -> int:
        return int(limits.max())  # the longest sentence's limit

    def capacity(self, length: int) -> int | None:
        return None  # the decoder's state grows as it likes

    def first(self, rows: Rows, k: int) -> Rows:
        return rows

    def grow(self, rows: Rows, step: int, decoder, length: int) -> None:
        pass

    def step(self, strategy, decoder, w: Rows, penalties: torch.Tensor, step: int) -> None:
        k = strategy.k
        if w.vocab is None:
            out = decoder.step(w.prev, w.state, w.enc)
            scores = out.log_probs
        else:
            prev = w.vocab.to_ids(w.prev)
            out = decoder.step_features(prev, w.state, w.enc)
            scores = w.vocab.log_probs(out.log_probs, k)
        history = strategy.history(w.bufs) if self.history else None
        view = StepView(step, _per_hypothesis(w.limits, k), _per_hypothesis(w.mins, k),
                        history)
        log_probs = apply_rules(self.rules, scores, view)
        w.prev, w.pending, w.bufs = strategy.update(
            log_probs, w.bufs, torch.tensor(step, device=w.prev.device), w.limits, penalties)
        w.state = out.state

    def drops(self, done: torch.Tensor) -> bool:
        return bool(done.any())

    def keep(self, active: torch.Tensor) -> tuple[torch.Tensor, int]:
        index = active.nonzero().squeeze(1)
        return index, index.numel()


class Bucketed:
    """The fixed-shape row policy (see the module docstring), each step through ``runner``;
    ``rules`` (all with a fixed form) are passed to each step."""

    def __init__(self, runner: Runner, rules: tuple[Rule, ...]):
        self.runner, self.rules = runner, rules
        self.room = 0  # steps of room in the decoder state

    def source_width(self, length: int) -> int:
        return source_bucket(length)

    def steps(self, limits: torch.Tensor, width: int, opts: SearchOptions) -> int:
        return int(max_lengths(torch.tensor([width]), opts))  # any source of this width

    def capacity(self, length: int) -> int:
        self.room = min(FIRST_CAPACITY, length)
        return self.room

    def first(self, rows: Rows, k: int) -> Rows:
        n = rows.ids.numel()
        return rows.select(_fill(rows.ids, row_bucket(n)), n, k)

    def grow(self, rows: Rows, step: int, decoder, length: int) -> None:
        if step == self.room:
            self.room = min(2 * self.room, length)
            rows.state = decoder.grow_state(rows.state, self.room)

    def step(self, strategy, decoder, w: Rows, penalties: torch.Tensor, step: int) -> None:
        w.prev, w.state, w.bufs = self.runner(
            fixed_step, strategy, decoder, self.rules, w.prev, w.state, w.enc, w.bufs,
            w.limits, w.mins, penalties, torch.tensor(step, device=w.prev.device))

    def drops(self, done: torch.Tensor) -> bool:
        active, rows = int((~done).sum()), done.numel()
        return active == 0 or (rows > 1 and active * SHRINK <= rows)

    def keep(self, active: torch.Tensor) -> tuple[torch.Tensor, int]:
        index = active.nonzero().squeeze(1)
        return _fill(index, row_bucket(index.numel())), index.numel()


def fixed_step(strategy, decoder, rules, prev, state, enc, bufs, limits, mins, penalties,
               step):
    """One step over fixed-size tensors, without data-dependent branches: the decoder step,
    the decoding rules' fixed forms, the strategy's update and the state's reordering."""
    out = decoder.step(prev, state, enc)
    k = strategy.k
    view = StepView(step, _per_hypothesis(limits, k), _per_hypothesis(mins, k))
    log_probs = apply_rules_fixed(rules, out.log_probs, view)
    tokens, rows, bufs = strategy.update(log_probs, bufs, step, limits, penalties)
    state = out.state if rows is None else decoder.reorder_state(out.state, rows)
    return tokens, state, bufs


def run_loop(model, src: torch.Tensor, src_lengths: torch.Tensor, opts: SearchOptions,
           strategy: Strategy, policy: RowPolicy,
           lexicon: Lexicon | None = None) -> list[list[Hypothesis]]:
    """The decoding loop: ``strategy`` step by step, rows kept by ``policy``, over each
    sentence's shortlist when given a ``lexicon``."""
    device, n, k = src.device, src.size(0), strategy.k
    decoder = model.decoder
    enc = model.encode(src, src_lengths)  # (model.source_eos may add a position)
    width = policy.source_width(enc.memory.size(1))
    limits = max_lengths(src_lengths, opts).to(device)
    length = policy.steps(limits, width, opts)
    penalties = torch.tensor([length_penalty(t + 1, opts) for t in range(length)],
                             device=device)
    everyone = torch.arange(n, device=device)
    enc = decoder.prepare(enc.pad_to(width))
    # A sentence's k beams share its encoder output where the decoder allows it (no copies
    # to make, or to select again when sentences leave the batch); otherwise each beam
    # gets a copy.
    shared = k > 1 and decoder.shares_source
    beams = everyone.repeat_interleave(k)
    if k > 1 and not shared:
        enc = enc.index_select(beams)
    capacity = policy.capacity(length)
    state = decoder.start_state(enc) if capacity is None else \
        decoder.start_state(enc, capacity=capacity)
    if shared:
        state = decoder.reorder_state(state, beams)
    bufs = strategy.start(n, length, device)
    scores, tokens = bufs.results()  # the results' shapes, per sentence
    out_scores, out_tokens = torch.full_like(scores, NEG_INF), torch.full_like(tokens, PAD)
    w = Rows(everyone, limits, min_lengths(src_lengths, opts).to(device), bufs,
             torch.full((n * k,), BOS, dtype=torch.long, device=device), enc, state,
             vocab=lexicon.for_batch(src, decoder.output_layer) if lexicon else None,
             shared=shared)
    w = policy.first(w, k)
    w.settle(decoder)

    def save(which: torch.Tensor) -> None:
        which = which & (w.ids >= 0)
        got_scores, got_tokens = w.bufs.results()
        if w.vocab is not None:
            got_tokens = w.vocab.to_ids(got_tokens)
        out_scores[w.ids[which]] = got_scores[which]
        out_tokens[w.ids[which]] = got_tokens[which]

    for step in range(length):
        policy.grow(w, step, decoder, length)
        policy.step(strategy, decoder, w, penalties, step)
        done = w.bufs.done
        if policy.drops(done):
            save(done)
            active = ~done
            if not bool(active.any()):
                break
            w = w.select(*policy.keep(active), k)
        w.settle(decoder)
    else:
        save(torch.ones_like(w.ids, dtype=torch.bool))
    return strategy.hypotheses(out_scores, out_tokens, opts.n_best)


def row_bucket(n: int) -> int:
    """Rows for ``n`` sentences: the next power of two."""
    return 1 << max(n - 1, 0).bit_length()


def source_bucket(length: int) -> int:
    """Source positions for a batch whose longest sentence has ``length`` pieces: a
    multiple of 16 up to 64, then of 64."""
    unit = 16 if length <= 64 else 64
    return max(unit, -(-length // unit) * unit)


def _per_hypothesis(values: torch.Tensor, k: int) -> torch.Tensor:
    """Per-sentence ``values`` repeated for each of the sentence's ``k`` hypotheses."""
    return values if k == 1 else values.repeat_interleave(k)


def _fill(index: torch.Tensor, rows: int) -> torch.Tensor:
    """``index`` padded to ``rows`` entries by repeating its first entry."""
    return torch.cat([index, index[:1].expand(rows - index.numel())])


