"""Greedy and beam search over fixed shapes: the decoding loop that torch.compile compiles.

The eager searches (:mod:`nmtkit.search.greedy`, :mod:`nmtkit.search.beam`) shrink the
batch whenever a sentence finishes, so almost every step has new shapes. Here one step --
decoder step, length constraints, log-softmax, top-k and the beam bookkeeping -- is a
function of fixed-size tensors:

- sentences are padded to a bucket of rows (a power of two; filler rows copy a real
  sentence and are marked done from the start);
- the source is padded to a bucket of positions (:func:`source_bucket`), which also fixes
  the most steps a batch can take;
- a decoder whose state grows (a Transformer's cache) gets room for 16 steps, then 32,
  64, ... (``start_state(capacity=...)``, ``grow_state``);
- a finished sentence stays in its row, masked: nothing of it changes any more;
- only when at most a quarter of the rows are still searching does the batch shrink, to
  the next smaller bucket.

So a step compiles once per (rows, source, capacity) bucket, not per batch or step. The
results equal the eager searches' (tests/unit/test_static_search.py): the same
candidates are scored and ranked by the same rules, row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from nmtkit.data.vocab import BOS, EOS, PAD
from nmtkit.errors import NmtkitError
from nmtkit.models.interfaces import EncoderOutput
from nmtkit.search.beam import NEG_INF, beam_buffers, beam_update
from nmtkit.search.common import (
    Hypothesis,
    SearchOptions,
    length_penalty,
    max_lengths,
    min_lengths,
)

SHRINK = 4  # shrink the rows once at most 1/SHRINK of them are still searching
FIRST_CAPACITY = 16  # steps of room in a growing decoder state; doubled when reached

# A step runner: calls a step function (eagerly, or its compiled version).
Runner = Callable[..., tuple]


def row_bucket(n: int) -> int:
    """Rows for ``n`` sentences: the next power of two."""
    return 1 << max(n - 1, 0).bit_length()


def source_bucket(length: int) -> int:
    """Source positions for a batch whose longest sentence has ``length`` pieces: a
    multiple of 16 up to 64, then of 64."""
    unit = 16 if length <= 64 else 64
    return max(unit, -(-length // unit) * unit)


def constrain_fixed(log_probs: torch.Tensor, step: torch.Tensor, limits: torch.Tensor,
                    mins: torch.Tensor) -> torch.Tensor:
    """:func:`nmtkit.search.common.constrain` without data-dependent branches: EOS is
    forbidden before ``mins`` and forced on each row's last allowed step (step: 0-dim)."""
    is_eos = torch.arange(log_probs.size(-1), device=log_probs.device) == EOS
    early = (mins > step).unsqueeze(1) & is_eos
    log_probs = log_probs.masked_fill(early, NEG_INF)
    last = (limits == step + 1).unsqueeze(1)
    eos_only = torch.zeros_like(log_probs).masked_fill(~is_eos, NEG_INF)
    return torch.where(last, eos_only, log_probs)


def greedy_step(decoder, k, prev, state, enc, bufs, limits, mins, penalties, step):
    """One greedy step over all rows; rows already done change nothing."""
    out = decoder.step(prev, state, enc)
    log_probs = constrain_fixed(out.log_probs, step, limits, mins)
    tokens = log_probs.argmax(dim=-1)
    gained = log_probs.gather(1, tokens.unsqueeze(1)).squeeze(1)
    active = ~bufs["done"]
    rows = tokens.size(0)
    written = torch.where(active, tokens, PAD).unsqueeze(1)
    new = {
        "tokens": bufs["tokens"].scatter(1, step.view(1, 1).expand(rows, 1), written),
        "scores": bufs["scores"] + torch.where(active, gained, 0.0),
        "done": bufs["done"] | (tokens == EOS),
    }
    return tokens, out.state, new


def beam_step(decoder, k, prev, state, enc, bufs, limits, mins, penalties, step):
    """One beam step for every sentence (rows = sentences * k): the decoder step, the
    constraints and :func:`nmtkit.search.beam.beam_update`."""
    out = decoder.step(prev, state, enc)
    log_probs = constrain_fixed(out.log_probs, step, limits.repeat_interleave(k),
                                mins.repeat_interleave(k))
    tokens, beams, new = beam_update(log_probs, bufs, k, penalties.index_select(0, step.view(1)),
                                     step, limits)
    rows = (torch.arange(beams.size(0), device=prev.device) * k).unsqueeze(1) + beams
    return tokens.view(-1), decoder.reorder_state(out.state, rows.view(-1)), new


@dataclass
class _Kind:
    """What differs between greedy and beam: the step, the buffers, the results."""

    step: Callable
    results: tuple[str, str]  # buffers holding (scores, tokens) of the results


GREEDY = _Kind(greedy_step, ("scores", "tokens"))
BEAM = _Kind(beam_step, ("fin_scores", "fin_tokens"))


def _buffers(kind: _Kind, rows: int, k: int, length: int, device) -> dict:
    """The search's per-sentence buffers at the start, no sentence done."""
    if kind is BEAM:
        return beam_buffers(rows, k, length, device)
    return {"tokens": torch.full((rows, length), PAD, dtype=torch.long, device=device),
            "scores": torch.zeros(rows, device=device),
            "done": torch.zeros(rows, dtype=torch.bool, device=device)}


def _pad_source(enc: EncoderOutput, length: int) -> EncoderOutput:
    """The encoder output with ``length`` source positions (padding masked)."""
    extra = length - enc.memory.size(1)
    if extra == 0:
        return enc
    pad = torch.nn.functional.pad
    src = pad(enc.src_tokens, (0, extra), value=PAD) if enc.src_tokens is not None else None
    return EncoderOutput(pad(enc.memory, (0, 0, 0, extra)), pad(enc.mask, (0, extra)),
                         enc.final, src)


def _fill(index: torch.Tensor, rows: int) -> torch.Tensor:
    """``index`` padded to ``rows`` entries by repeating its first entry."""
    return torch.cat([index, index[:1].expand(rows - index.numel())])


@dataclass
class _Rows:
    """The working set of one batch: per sentence (first dimension ``rows``) and per
    hypothesis (``rows * k``)."""

    ids: torch.Tensor  # (rows,) index of each row's sentence in the batch; -1: filler
    limits: torch.Tensor  # (rows,) step limits
    mins: torch.Tensor  # (rows,) minimum lengths
    bufs: dict  # the search's per-sentence buffers, "done" among them
    prev: torch.Tensor  # (rows * k,) the tokens just chosen
    enc: EncoderOutput  # rows * k
    state: object  # the decoder state, rows * k

    def select(self, pick: torch.Tensor, real: int, k: int, decoder) -> _Rows:
        """Rows ``pick`` (sentence indices); all but the first ``real`` are fillers."""
        filler = torch.arange(pick.numel(), device=pick.device) >= real
        ids = torch.where(filler, -1, self.ids[pick])
        bufs = {name: value[pick] for name, value in self.bufs.items()}
        bufs["done"] = self.bufs["done"][pick] | filler
        hyps = ((pick * k).unsqueeze(1) + torch.arange(k, device=pick.device)).view(-1)
        return _Rows(ids, self.limits[pick], self.mins[pick], bufs, self.prev[hyps],
                     self.enc.index_select(hyps), decoder.reorder_state(self.state, hyps))


def static_search(model, src: torch.Tensor, src_lengths: torch.Tensor, opts: SearchOptions,
                  run: Runner) -> list[list[Hypothesis]]:
    """Greedy (beam 1) or beam search with every step through ``run(step_fn, *args)``."""
    kind, k = (GREEDY, 1) if opts.beam <= 1 else (BEAM, opts.beam)
    if opts.n_best > k:
        raise NmtkitError(f"--n-best ({opts.n_best}) cannot exceed --beam ({k})")
    device, n = src.device, src.size(0)
    decoder = model.decoder
    width = source_bucket(src.size(1))
    length = int(max_lengths(torch.tensor([width]), opts))  # >= every sentence's limit
    penalties = torch.tensor([length_penalty(t + 1, opts) for t in range(length)],
                             device=device)
    capacity = min(FIRST_CAPACITY, length)
    everyone = torch.arange(n, device=device)
    enc = _pad_source(model.encode(src, src_lengths), width)
    enc = enc.index_select(everyone.repeat_interleave(k))
    start = _Rows(everyone, max_lengths(src_lengths, opts).to(device),
                  min_lengths(src_lengths, opts).to(device),
                  _buffers(kind, n, k, length, device),
                  torch.full((n * k,), BOS, dtype=torch.long, device=device), enc,
                  decoder.start_state(enc, capacity=capacity))
    w = start.select(_fill(everyone, row_bucket(n)), n, k, decoder)
    score_key, token_key = kind.results
    out_scores = torch.full_like(start.bufs[score_key], NEG_INF)
    out_tokens = torch.full_like(start.bufs[token_key], PAD)

    def save(which: torch.Tensor) -> None:
        which = which & (w.ids >= 0)
        out_scores[w.ids[which]] = w.bufs[score_key][which]
        out_tokens[w.ids[which]] = w.bufs[token_key][which]

    for step in range(length):
        if step == capacity:
            capacity = min(2 * capacity, length)
            w.state = decoder.grow_state(w.state, capacity)
        w.prev, w.state, w.bufs = run(kind.step, decoder, k, w.prev, w.state, w.enc, w.bufs,
                                      w.limits, w.mins, penalties,
                                      torch.tensor(step, device=device))
        done = w.bufs["done"]
        active = int((~done).sum())
        if active == 0:
            break
        rows = done.numel()
        if rows > 1 and active * SHRINK <= rows:
            save(done)
            w = w.select(_fill((~done).nonzero().squeeze(1), row_bucket(active)), active, k,
                         decoder)
    save(torch.ones_like(w.ids, dtype=torch.bool))

    if kind is GREEDY:
        return [[Hypothesis(_until_end(toks), score)]
                for toks, score in zip(out_tokens.tolist(), out_scores.tolist())]
    return [[Hypothesis(_until_end(toks), score)
             for score, toks in zip(scores[: opts.n_best], tokens[: opts.n_best])]
            for scores, tokens in zip(out_scores.tolist(), out_tokens.tolist())]


def _until_end(tokens: list[int]) -> list[int]:
    """The tokens before the first EOS or PAD."""
    for i, t in enumerate(tokens):
        if t in (EOS, PAD):
            return tokens[:i]
    return tokens
