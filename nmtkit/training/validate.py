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
from nmtkit.model_folder.validations import METRIC_NAMES, ValidResult, better
from nmtkit.scoring.metrics import corpus_scores
from nmtkit.search.options import SearchOptions
from nmtkit.search.sequences import search_sequences
from nmtkit.training.loss import token_loss


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
        total += float(token_loss(out.scores.float(), batch.tgt_out,
                                  no_output=model.decoder.no_output))
        tokens += batch.n_tgt_tokens
    loss = total / max(tokens, 1)
    scores = {"bleu": None, "chrf": None}
    if refs is not None:
        seqs = [data.src_ids(i) for i in range(len(data))]
        hyps = search_sequences(model, seqs, SearchOptions(beam=1), batch_size, device)
        texts = [tokenizer.decode(tgt_vocab.decode(h[0].tokens)) for h in hyps]
        scores = {s.metric: s.score for s in corpus_scores(texts, refs, ("bleu", "chrf"))}
    model.train(was_training)
    return ValidResult(step, loss, math.exp(min(loss, 50.0)), scores["bleu"],
                       time.time() - start, scores["chrf"])
