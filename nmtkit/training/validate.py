"""Validation: loss and perplexity under teacher forcing, BLEU of greedy translations."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from nmtkit.data.batching import ParallelData, token_batches
from nmtkit.data.units import Tokenizer
from nmtkit.data.vocab import Vocab
from nmtkit.metrics import bleu
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
    score = None
    if refs is not None:
        seqs = [data.src_ids(i) for i in range(len(data))]
        hyps = decode_sequences(model, seqs, SearchOptions(beam=1), batch_size, device)
        texts = [tokenizer.decode(tgt_vocab.decode(h[0].tokens)) for h in hyps]
        score = bleu(texts, refs)
    model.train(was_training)
    return ValidResult(step, loss, math.exp(min(loss, 50.0)), score, time.time() - start)
