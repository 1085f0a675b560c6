"""Beam search, batched over sentences and beams with fixed-size tensors.

Every step takes the best ``2 * beam`` continuations of each sentence. End-of-sentence
candidates that rank among the first ``beam`` move into a per-sentence buffer of
finished hypotheses (scored with the length penalty); the best ``beam`` others continue.
A sentence is done once it has ``beam`` finished hypotheses (or reaches its length
limit); it then leaves the batch, so it costs nothing more and its result does not depend
on the other sentences in the batch.
"""

from __future__ import annotations

import torch

from nmtkit.data.vocab import BOS, EOS, PAD
from nmtkit.errors import NmtkitError
from nmtkit.search.common import (
    Hypothesis,
    SearchOptions,
    constrain,
    length_penalty,
    max_lengths,
    min_lengths,
)

NEG_INF = float("-inf")


def beam_buffers(sentences: int, k: int, length: int, device) -> dict:
    """The per-sentence tensors of a beam search at its start: beam scores and tokens
    (``scores``, ``alive``), the finished hypotheses (``fin_scores``, ``fin_tokens``,
    ``n_fin``) and ``done``; tokens have room for ``length`` steps."""
    scores = torch.full((sentences, k), NEG_INF, device=device)
    scores[:, 0] = 0.0  # all beams start identical: only the first may expand
    tokens = torch.full((sentences, k, length), PAD, dtype=torch.long, device=device)
    return {"scores": scores, "alive": tokens, "fin_scores": torch.full_like(scores, NEG_INF),
            "fin_tokens": tokens.clone(),
            "n_fin": torch.zeros(sentences, dtype=torch.long, device=device),
            "done": torch.zeros(sentences, dtype=torch.bool, device=device)}


def beam_update(log_probs: torch.Tensor, bufs: dict, k: int, penalty: torch.Tensor,
                step: torch.Tensor, limits: torch.Tensor):
    """One step of beam bookkeeping over fixed-size tensors, without data-dependent
    branches (the compiled loop runs it too).

    log_probs: (sentences * k, vocab) after the constraints; penalty: (1,) the length
    penalty of a hypothesis finishing now; step: 0-dim. Sentences already done change
    nothing. Returns the continuing tokens and the beams they extend, both
    (sentences, k), and the new buffers.
    """
    n, vocab = bufs["scores"].size(0), log_probs.size(-1)
    alive, done = bufs["alive"], bufs["done"]
    length = alive.size(2)
    cand = (bufs["scores"].view(-1, 1) + log_probs).view(n, k * vocab)
    top_scores, top_ids = cand.topk(2 * k, dim=1)  # (n, 2k)
    top_beams = torch.div(top_ids, vocab, rounding_mode="floor")
    top_tokens = top_ids % vocab
    is_eos = top_tokens == EOS

    # Finish: EOS candidates among the first k move to the finished buffer.
    first_k = (torch.arange(2 * k, device=log_probs.device) < k).unsqueeze(0)
    finishing = is_eos & first_k & (top_scores > NEG_INF)
    new_scores = (top_scores / penalty).masked_fill(~finishing, NEG_INF)
    new_tokens = alive.gather(1, top_beams.unsqueeze(2).expand(-1, -1, length))
    fin_scores, pick = torch.cat([bufs["fin_scores"], new_scores], 1).topk(k, dim=1)
    fin_tokens = torch.cat([bufs["fin_tokens"], new_tokens], 1).gather(
        1, pick.unsqueeze(2).expand(-1, -1, length))
    frozen = done.unsqueeze(1)
    fin_scores = torch.where(frozen, bufs["fin_scores"], fin_scores)
    fin_tokens = torch.where(frozen.unsqueeze(2), bufs["fin_tokens"], fin_tokens)
    n_fin = bufs["n_fin"] + finishing.sum(1)

    # Continue: the best k non-EOS candidates.
    scores, cont = top_scores.masked_fill(is_eos, NEG_INF).topk(k, dim=1)
    beams = top_beams.gather(1, cont)
    tokens = top_tokens.gather(1, cont)
    alive = alive.gather(1, beams.unsqueeze(2).expand(-1, -1, length))
    alive = alive.scatter(2, step.view(1, 1, 1).expand(n, k, 1), tokens.unsqueeze(2))
    return tokens, beams, {
        "scores": scores, "alive": alive, "fin_scores": fin_scores, "fin_tokens": fin_tokens,
        "n_fin": n_fin, "done": done | (n_fin >= k) | (limits <= step + 1),
    }


def beam_search(model, src, src_lengths, opts: SearchOptions) -> list[list[Hypothesis]]:
    k = opts.beam
    if opts.n_best > k:
        raise NmtkitError(f"--n-best ({opts.n_best}) cannot exceed --beam ({k})")
    device = src.device
    batch = src.size(0)
    decoder = model.decoder
    enc = model.encode(src, src_lengths)
    enc = enc.index_select(torch.arange(batch, device=device).repeat_interleave(k))
    state = decoder.start_state(enc)
    limits = max_lengths(src_lengths, opts).to(device)  # per active sentence
    mins = min_lengths(src_lengths, opts).to(device)
    steps = int(limits.max())
    penalties = torch.tensor([length_penalty(t + 1, opts) for t in range(steps)],
                             device=device)

    # Results, by original sentence; the working tensors below hold active sentences only.
    out_scores = torch.full((batch, k), NEG_INF, device=device)
    out_tokens = torch.full((batch, k, steps), PAD, dtype=torch.long, device=device)
    ids = torch.arange(batch, device=device)  # original index of each active sentence
    bufs = beam_buffers(batch, k, steps, device)
    prev = torch.full((batch * k,), BOS, dtype=torch.long, device=device)
    beam_offsets = torch.arange(k, device=device).unsqueeze(0)

    for step in range(steps):
        n = ids.numel()
        out = decoder.step(prev, state, enc)
        log_probs = constrain(out.log_probs, step, limits.repeat_interleave(k),
                              mins.repeat_interleave(k), bufs["alive"].view(n * k, steps),
                              opts.no_repeat_ngram)
        tokens, beams, bufs = beam_update(log_probs, bufs, k, penalties[step : step + 1],
                                          torch.tensor(step, device=device), limits)
        rows = (torch.arange(n, device=device) * k).unsqueeze(1) + beams  # (n, k)

        done = bufs["done"]
        if bool(done.any()):
            # Finished sentences leave the batch: they cost nothing from the next step on,
            # and their result cannot depend on the sentences still searching.
            out_scores[ids[done]] = bufs["fin_scores"][done]
            out_tokens[ids[done]] = bufs["fin_tokens"][done]
            keep = (~done).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            ids, limits, mins = ids[keep], limits[keep], mins[keep]
            bufs = {name: value[keep] for name, value in bufs.items()}
            tokens, rows = tokens[keep], rows[keep]
            enc = enc.index_select(((keep * k).unsqueeze(1) + beam_offsets).view(-1))
        state = decoder.reorder_state(out.state, rows.view(-1))
        prev = tokens.view(-1)
    else:
        out_scores[ids], out_tokens[ids] = bufs["fin_scores"], bufs["fin_tokens"]

    results = []
    for sent_scores, sent_tokens in zip(out_scores.tolist(), out_tokens.tolist()):
        hyps = []
        for score, toks in zip(sent_scores[: opts.n_best], sent_tokens[: opts.n_best]):
            end = toks.index(PAD) if PAD in toks else len(toks)
            hyps.append(Hypothesis(toks[:end], score))
        results.append(hyps)
    return results
