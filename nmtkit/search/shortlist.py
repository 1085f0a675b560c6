"""Vocabulary shortlists: each sentence's output layer scores only the target pieces its
source can produce (as Marian's lexical shortlist and CTranslate2's vocabulary map do).

A :class:`Lexicon` (written into the model folder by ``nmtkit shortlist``) lists, for every
source vocabulary entry, the target entries most associated with it, plus the most
frequent target entries. For a batch, :meth:`Lexicon.for_batch` gathers each sentence's
entries -- its own pieces' lists, the frequent ones and the special tokens -- into a
:class:`Shortlist`: per sentence, the ids it may produce and the output layer's rows for
them. The search then works in each sentence's columns (the special tokens keep their
ids as columns, so the length constraints and the end of sentence are where they were),
and the columns are turned back into vocabulary ids for the next step's input and the
results. The softmax is taken over the sentence's own list, so the output does not depend
on the other sentences of the batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from nmtkit.data.vocab import PAD, SPECIALS
from nmtkit.models.output_layer import project
from nmtkit.search.constraints import NEG_INF


@dataclass
class Lexicon:
    table: torch.Tensor  # (source vocab, per_piece) target ids, best first; -1: none
    frequent: torch.Tensor  # (F,) target ids always allowed

    def for_batch(self, src: torch.Tensor, output_layer: torch.nn.Module) -> Shortlist:
        """The shortlists of the sentences of ``src`` (batch, len), padding ignored."""
        device = src.device
        n = src.size(0)
        table = self.table.to(device)
        fixed = torch.cat([torch.arange(len(SPECIALS), device=device),
                           self.frequent.to(device)])
        own = table[src].masked_fill((src == PAD).unsqueeze(2), -1)
        cand = torch.cat([own.view(n, -1), fixed.expand(n, -1)], dim=1)
        ids = cand.unique()  # sorted: the special ids first, as columns 0, 1, 2, 3
        ids = ids[ids >= 0]
        allowed = torch.zeros((n, ids.numel() + 1), dtype=torch.bool, device=device)
        column = torch.searchsorted(ids, cand).masked_fill(cand < 0, ids.numel())
        allowed.scatter_(1, column, True)
        return Shortlist(ids, _rows(output_layer, ids), allowed[:, :-1])


def _rows(layer: torch.nn.Module, ids: torch.Tensor) -> torch.nn.Module:
    """A linear layer computing ``layer``'s outputs ``ids`` only: float, or int8 with the
    same int8 weights and scales for an int8 layer (``--precision int8``)."""
    if hasattr(layer, "rows"):  # nmtkit.models.int8.Int8Linear
        return layer.rows(ids)
    weight, bias = layer.weight, layer.bias
    part = torch.nn.utils.skip_init(torch.nn.Linear, weight.size(1), ids.numel(),
                                    bias=bias is not None, device=weight.device,
                                    dtype=weight.dtype)
    part.weight = torch.nn.Parameter(weight.index_select(0, ids), requires_grad=False)
    if bias is not None:
        part.bias = torch.nn.Parameter(bias.index_select(0, ids), requires_grad=False)
    return part


@dataclass
class Shortlist:
    """The output vocabulary of a batch: the union of its sentences' lists as columns, each
    sentence allowed only its own."""

    ids: torch.Tensor  # (columns,) vocabulary id of each column, ascending
    layer: torch.nn.Module  # the output layer's rows of those ids
    allowed: torch.Tensor  # (sentences, columns) a sentence's own list

    def select(self, index: torch.Tensor) -> Shortlist:
        return dataclasses.replace(self, allowed=self.allowed[index])

    def log_probs(self, features: torch.Tensor, k: int) -> torch.Tensor:
        """features (sentences * k, d) -> log-probabilities over each sentence's own list,
        as (sentences * k, columns); the other columns are -inf."""
        logits = project(self.layer, features).float()
        n, width = self.allowed.shape
        logits = logits.view(n, k, width).masked_fill(~self.allowed.unsqueeze(1), NEG_INF)
        return torch.log_softmax(logits, dim=-1).view(n * k, width)

    def to_ids(self, columns: torch.Tensor) -> torch.Tensor:
        """Vocabulary ids of ``columns``."""
        return self.ids[columns]
