"""Validation: loss and perplexity under teacher forcing, BLEU and chrF of greedy
translations, and the bookkeeping that ranks validations (best model, early stopping)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from nmtkit.data.batching import ParallelData, token_batches
from nmtkit.data.units import Tokenizer
from nmtkit.data.vocab import Vocab
from nmtkit.metrics import corpus_scores
from nmtkit.search.options import SearchOptions
from nmtkit.search.sequences import decode_sequences
from nmtkit.training.loss import token_loss


@dataclass
class ValidResult:
    step: int
    loss: float  # per target token, without label smoothing
    ppl: float
    bleu: float | None
    seconds: float
    chrf: float | None = None

    def value(self, metric: str) -> float | None:
        """The figure ``metric`` (bleu, chrf or loss) ranks by."""
        return {"bleu": self.bleu, "chrf": self.chrf, "loss": self.loss}[metric]


METRIC_NAMES = {"bleu": "BLEU", "chrf": "chrF", "loss": "loss"}


def rank_key(result: ValidResult, metric: str) -> float:
    """Smaller is better: the loss, or BLEU and chrF negated (the figure must be there)."""
    value = result.value(metric)
    return value if metric == "loss" else -value


def better(a: ValidResult, b: ValidResult | None, metric: str) -> bool:
    """Whether ``a`` beats ``b`` on ``metric`` (higher BLEU or chrF, lower loss); a result
    beats none, and one without the figure (older runs had no chrF)."""
    if b is None or b.value(metric) is None:
        return True
    if a.value(metric) is None:
        return False
    return rank_key(a, metric) < rank_key(b, metric)


@dataclass
class ValidBook:
    """The validations so far: the best and the last, and how many in a row have not beaten
    the best (early stopping's patience counts these)."""

    metric: str  # bleu, chrf or loss
    best: ValidResult | None = None
    last: ValidResult | None = None
    bad: int = 0

    def record(self, result: ValidResult) -> bool:
        """Note ``result``; True when it is the best so far."""
        self.last = result
        if better(result, self.best, self.metric):
            self.best, self.bad = result, 0
            return True
        self.bad += 1
        return False

    def describe_stop(self, patience: int) -> str:
        best = self.best
        return (f"stopped early at step {self.last.step}: valid "
                f"{METRIC_NAMES[self.metric]} has not beaten {best.value(self.metric):.4g} "
                f"(step {best.step}) in {patience} validations")


@torch.no_grad()
def validate(model, data: ParallelData, step: int, batch_tokens: int, device,
             refs: list[str] | None, tgt_vocab: Vocab, tokenizer: Tokenizer,
             batch_size: int = 64) -> ValidResult:
    start = time.time()
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    for idx in token_batches(data.src.lengths, data.tgt.lengths, batch_tokens):
        batch = data.collate(idx).to(device)
        out = model(batch.src, batch.src_lengths, batch.tgt_in)
        total += float(token_loss(out.scores.float(), batch.tgt_out))
        tokens += batch.n_tgt_tokens
    loss = total / max(tokens, 1)
    scores = {"bleu": None, "chrf": None}
    if refs is not None:
        seqs = [data.src_ids(i) for i in range(len(data))]
        hyps = decode_sequences(model, seqs, SearchOptions(beam=1), batch_size, device)
        texts = [tokenizer.decode(tgt_vocab.decode(h[0].tokens)) for h in hyps]
        scores = {s.metric: s.score for s in corpus_scores(texts, refs, ("bleu", "chrf"))}
    model.train(was_training)
    return ValidResult(step, loss, math.exp(min(loss, 50.0)), scores["bleu"],
                       time.time() - start, scores["chrf"])
