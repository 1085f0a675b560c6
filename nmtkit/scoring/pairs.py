"""Scoring given (source, target) pairs with a model: each target's log-probability under
teacher forcing (its pieces and the end of sentence), the average per piece and the
perplexity, and the corpus perplexity; batched by length. What reranking and data
filtering need."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from nmtkit.data.batching import pair_batch
from nmtkit.data.text import normalize
from nmtkit.data.vocab import PAD
from nmtkit.search.sequences import length_batches


@dataclass
class PairScore:
    logprob: float | None  # natural log; None where the pair was not scored
    pieces: int  # target pieces scored, the end of sentence included

    @property
    def avg_logprob(self) -> float | None:
        return None if self.logprob is None else self.logprob / self.pieces

    @property
    def perplexity(self) -> float | None:
        return None if self.logprob is None else math.exp(-self.avg_logprob)


@dataclass
class CorpusScore:
    pairs: int  # pairs scored
    pieces: int
    logprob: float

    @property
    def perplexity(self) -> float:
        return math.exp(-self.logprob / self.pieces) if self.pieces else float("nan")


def corpus_score(scores: list[PairScore]) -> CorpusScore:
    scored = [s for s in scores if s.logprob is not None]
    return CorpusScore(len(scored), sum(s.pieces for s in scored),
                       sum(s.logprob for s in scored))


@torch.inference_mode()
def score_pairs(loaded, sources: list[str], targets: list[str], batch_size: int = 64,
                device: torch.device | str = "cpu",
                on_skip: Callable[[int, str], None] | None = None) -> list[PairScore]:
    """One :class:`PairScore` per pair, in order. A pair whose source is empty, or longer
    than the model's ``max_src_len`` pieces, is not scored (``on_skip(index, why)``)."""
    model = loaded.model.eval()
    limit = loaded.config.model.max_src_len
    src_ids, tgt_ids = [], []
    for i, (s, t) in enumerate(zip(sources, targets, strict=True)):
        s, t = normalize(s), normalize(t)
        ids = loaded.src_vocab.encode(loaded.src_tokenizer.encode(s)) if s else []
        if not ids or len(ids) > limit:
            if on_skip is not None:
                on_skip(i, "empty source" if not ids else
                        f"{len(ids)} source pieces, more than the model's maximum of {limit}")
            ids = []
        src_ids.append(ids)
        tgt_ids.append(loaded.tgt_vocab.encode(loaded.tgt_tokenizer.encode(t)) if t else [])
    out = [PairScore(None, len(t) + 1) for t in tgt_ids]
    for batch in length_batches(src_ids, batch_size):
        b = pair_batch([src_ids[i] for i in batch], [tgt_ids[i] for i in batch]).to(device)
        scores = model(b.src, b.src_lengths, b.tgt_in).scores.float().log_softmax(-1)
        picked = scores.gather(-1, b.tgt_out.unsqueeze(-1)).squeeze(-1)
        sums = picked.masked_fill(b.tgt_out == PAD, 0.0).sum(1)
        for i, total in zip(batch, sums.tolist(), strict=True):
            out[i].logprob = total
    return out
