"""How a search chooses the next tokens: :class:`Greedy` (the best token, or a drawn one
with a :class:`Sampler`) and :class:`Beam`.

A strategy keeps its per-sentence state in a buffers dataclass (first dimension: the
sentences) and offers the same four steps to the loop (:mod:`nmtkit.search.loop`):

- ``start(sentences, length, device)``: the buffers before the first step;
- ``update(log_probs, bufs, step, limits, penalties)``: one step over fixed-size tensors
  without data-dependent branches (the compiled loop traces it), returning the next input
  tokens (one per hypothesis row), the rows of the decoder state they continue (None: the
  same rows) and the new buffers; sentences already done change nothing;
- ``history(bufs)``: each hypothesis row's tokens so far (n-gram blocking);
- ``hypotheses(scores, tokens, n_best)``: the results of a batch, from the buffers named
  by ``bufs.result_fields``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import torch

from nmtkit.data.vocab import EOS, PAD
from nmtkit.search.constraints import NEG_INF
from nmtkit.search.options import Hypothesis, SearchOptions


class Strategy(Protocol):
    """What the loop asks of a way of choosing tokens (see the module docstring); a new
    search rule is a new strategy, and the loop does not change."""

    def start(self, sentences: int, length: int, device) -> Buffers: ...

    def update(self, log_probs: torch.Tensor, bufs: Buffers, step: torch.Tensor,
               limits: torch.Tensor, penalties: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor | None, Buffers]: ...

    def history(self, bufs: Buffers) -> torch.Tensor: ...

    def hypotheses(self, scores: torch.Tensor, tokens: torch.Tensor,
                   n_best: int) -> list[list[Hypothesis]]: ...


@dataclass
class Buffers:
    """Per-sentence tensors of a search; ``done`` (sentences,) marks finished sentences."""

    done: torch.Tensor
    # The fields holding the results: (scores, tokens).
    result_fields = ("scores", "tokens")

    def select(self, index: torch.Tensor):
        """The buffers of sentences ``index``."""
        return dataclasses.replace(self, **{f.name: getattr(self, f.name)[index]
                                            for f in dataclasses.fields(self)})

    def results(self) -> tuple[torch.Tensor, torch.Tensor]:
        return tuple(getattr(self, name) for name in self.result_fields)


@dataclass
class GreedyBuffers(Buffers):
    tokens: torch.Tensor  # (sentences, length) chosen tokens, EOS included, PAD after
    scores: torch.Tensor  # (sentences,) summed log-probabilities


@dataclass
class BeamBuffers(Buffers):
    scores: torch.Tensor  # (sentences, k) scores of the live beams
    alive: torch.Tensor  # (sentences, k, length) their tokens
    fin_scores: torch.Tensor  # (sentences, k) finished hypotheses, length-normalised, best first
    fin_tokens: torch.Tensor  # (sentences, k, length) their tokens, EOS not included
    n_fin: torch.Tensor  # (sentences,) hypotheses finished so far
    result_fields = ("fin_scores", "fin_tokens")


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
            logits = logits.masked_fill(logits < kth, NEG_INF)
        if self.opts.top_p < 1.0:
            sorted_logits, order = logits.sort(dim=-1, descending=True)
            sorted_probs = sorted_logits.softmax(-1)
            # Keep every token up to and including the first that takes the mass past p.
            drop = sorted_probs.cumsum(-1) - sorted_probs >= self.opts.top_p
            logits = logits.masked_fill(drop.scatter(1, order, drop), NEG_INF)
        probs = logits.softmax(-1)
        return torch.multinomial(probs, 1, generator=self.generator).squeeze(1)


class Greedy:
    """One hypothesis per sentence: the most likely token at each step, or one drawn by
    ``sampler``. The score is the summed log-probability (EOS included)."""

    k = 1

    def __init__(self, sampler: Sampler | None = None):
        self.sampler = sampler

    def start(self, sentences: int, length: int, device) -> GreedyBuffers:
        return GreedyBuffers(
            done=torch.zeros(sentences, dtype=torch.bool, device=device),
            tokens=torch.full((sentences, length), PAD, dtype=torch.long, device=device),
            scores=torch.zeros(sentences, device=device))

    def update(self, log_probs: torch.Tensor, bufs: GreedyBuffers, step: torch.Tensor,
               limits: torch.Tensor, penalties: torch.Tensor):
        if self.sampler is None:
            tokens = log_probs.argmax(dim=-1)
        else:
            tokens = self.sampler(log_probs)
        gained = log_probs.gather(1, tokens.unsqueeze(1)).squeeze(1)
        active = ~bufs.done
        rows = tokens.size(0)
        written = torch.where(active, tokens, PAD).unsqueeze(1)
        return tokens, None, GreedyBuffers(
            done=bufs.done | (tokens == EOS),
            tokens=bufs.tokens.scatter(1, step.view(1, 1).expand(rows, 1), written),
            scores=bufs.scores + torch.where(active, gained, 0.0))

    def history(self, bufs: GreedyBuffers) -> torch.Tensor:
        return bufs.tokens

    def hypotheses(self, scores: torch.Tensor, tokens: torch.Tensor,
                   n_best: int) -> list[list[Hypothesis]]:
        return [[Hypothesis(until_end(toks), score)]
                for toks, score in zip(tokens.tolist(), scores.tolist())]


class Beam:
    """``k`` hypotheses per sentence. Every step takes the best ``2 * k`` continuations of
    each sentence. End-of-sentence candidates that rank among the first ``k`` move into the
    sentence's finished hypotheses (scored with the length penalty); the best ``k`` others
    continue. A sentence is done once it reaches its length limit, or once it has ``k``
    finished hypotheses (``stop`` "all", fairseq's rule), or

    - ``stop`` "bound": once its ``n_best``-th finished hypothesis scores at least what its
      best unfinished one could reach. Scores only fall as a hypothesis grows, and the
      length penalty only grows with the length, so the most an unfinished hypothesis can
      reach is its score now divided by the penalty at the sentence's length limit: past
      that point no later hypothesis enters the ``n_best``, and the result is the one
      "all" gives (a search bound, as fairseq's and CTranslate2's early stopping);
    - ``stop`` "best" (OpenNMT-py's and CTranslate2's rule): once its best candidate of a
      step is an end-of-sentence and it has ``n_best`` finished hypotheses. Exact without a
      length penalty; with one, a longer hypothesis could still have won.
    """

    def __init__(self, k: int, n_best: int = 1, stop: str = "bound"):
        self.k = k
        self.n_best = n_best
        self.stop = stop

    def start(self, sentences: int, length: int, device) -> BeamBuffers:
        k = self.k
        scores = torch.full((sentences, k), NEG_INF, device=device)
        scores[:, 0] = 0.0  # all beams start identical: only the first may expand
        tokens = torch.full((sentences, k, length), PAD, dtype=torch.long, device=device)
        return BeamBuffers(done=torch.zeros(sentences, dtype=torch.bool, device=device),
                           scores=scores, alive=tokens, fin_scores=torch.full_like(scores, NEG_INF),
                           fin_tokens=tokens.clone(),
                           n_fin=torch.zeros(sentences, dtype=torch.long, device=device))

    def update(self, log_probs: torch.Tensor, bufs: BeamBuffers, step: torch.Tensor,
               limits: torch.Tensor, penalties: torch.Tensor):
        """log_probs: (sentences * k, vocab) after the constraints; penalties: the length
        penalty of a hypothesis finishing at each step; step: 0-dim."""
        k = self.k
        n, vocab = bufs.scores.size(0), log_probs.size(-1)
        alive, done = bufs.alive, bufs.done
        length = alive.size(2)
        penalty = penalties.index_select(0, step.view(1))
        cand = (bufs.scores.view(-1, 1) + log_probs).view(n, k * vocab)
        top_scores, top_ids = cand.topk(2 * k, dim=1)  # (n, 2k)
        top_beams = torch.div(top_ids, vocab, rounding_mode="floor")
        top_tokens = top_ids % vocab
        is_eos = top_tokens == EOS

        # Finish: EOS candidates among the first k move to the finished buffer.
        first_k = (torch.arange(2 * k, device=log_probs.device) < k).unsqueeze(0)
        finishing = is_eos & first_k & (top_scores > NEG_INF)
        new_scores = (top_scores / penalty).masked_fill(~finishing, NEG_INF)
        new_tokens = alive.gather(1, top_beams.unsqueeze(2).expand(-1, -1, length))
        fin_scores, pick = torch.cat([bufs.fin_scores, new_scores], 1).topk(k, dim=1)
        fin_tokens = torch.cat([bufs.fin_tokens, new_tokens], 1).gather(
            1, pick.unsqueeze(2).expand(-1, -1, length))
        frozen = done.unsqueeze(1)
        fin_scores = torch.where(frozen, bufs.fin_scores, fin_scores)
        fin_tokens = torch.where(frozen.unsqueeze(2), bufs.fin_tokens, fin_tokens)
        n_fin = bufs.n_fin + finishing.sum(1)

        # Continue: the best k non-EOS candidates.
        scores, cont = top_scores.masked_fill(is_eos, NEG_INF).topk(k, dim=1)
        beams = top_beams.gather(1, cont)
        tokens = top_tokens.gather(1, cont)
        alive = alive.gather(1, beams.unsqueeze(2).expand(-1, -1, length))
        alive = alive.scatter(2, step.view(1, 1, 1).expand(n, k, 1), tokens.unsqueeze(2))
        rows = (torch.arange(n, device=log_probs.device) * k).unsqueeze(1) + beams
        return tokens.view(-1), rows.view(-1), BeamBuffers(
            done=done | (n_fin >= k) | self._ends(finishing, n_fin, fin_scores, scores,
                                                  limits, penalties) | (limits <= step + 1),
            scores=scores,
            alive=alive, fin_scores=fin_scores, fin_tokens=fin_tokens, n_fin=n_fin)

    def _ends(self, finishing, n_fin, fin_scores, scores, limits, penalties) -> torch.Tensor:
        """Sentences whose search may end before ``k`` hypotheses finished (``stop``)."""
        enough = n_fin >= self.n_best
        if self.stop == "best":
            return finishing[:, 0] & enough
        if self.stop == "bound":
            last = (limits - 1).clamp(0, penalties.size(0) - 1)
            reachable = scores[:, 0] / penalties.index_select(0, last)
            return enough & (fin_scores[:, self.n_best - 1] >= reachable)
        return torch.zeros_like(enough)

    def history(self, bufs: BeamBuffers) -> torch.Tensor:
        return bufs.alive.view(-1, bufs.alive.size(2))

    def hypotheses(self, scores: torch.Tensor, tokens: torch.Tensor,
                   n_best: int) -> list[list[Hypothesis]]:
        return [[Hypothesis(until_end(toks), score)
                 for score, toks in zip(sent_scores[:n_best], sent_tokens[:n_best])]
                for sent_scores, sent_tokens in zip(scores.tolist(), tokens.tolist())]


def strategy_for(opts: SearchOptions, device: torch.device) -> Strategy:
    """The strategy the options ask for: sampling, greedy (beam 1) or beam search."""
    if opts.sampling:
        return Greedy(Sampler(opts, device))
    return Greedy() if opts.beam <= 1 else Beam(opts.beam, opts.n_best, opts.beam_stop)


def until_end(tokens: list[int]) -> list[int]:
    """The tokens before the first EOS or PAD."""
    for i, t in enumerate(tokens):
        if t in (EOS, PAD):
            return tokens[:i]
    return tokens
