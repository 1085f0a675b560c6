"""Additive attention (Bahdanau et al., 2015) and Luong's concat (MLP) score, with optional
coverage (Tu et al., 2016; See et al., 2017).

additive: score(h, s) = v^T tanh(W h + U s [+ w_c c])
mlp:      score(h, s) = v^T tanh(W [h; s] + b [+ w_c c])

``U s`` (the memory side) is computed once per sentence by :meth:`precompute`. With
coverage, ``c`` is the sum of the earlier steps' attention weights at each source
position, fed into the score; the decoder adds the coverage loss
``sum_i min(a_i, c_i)`` weighted by ``coverage_loss``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.checks import ranged
from nmtkit.models.interfaces import Attention, attend, per_memory_row
from nmtkit.models.registry import ATTENTION


@dataclass
class AdditiveConfig:
    hidden_size: int = ranged(0, 0, 1 << 20)  # size of the tanh layer; 0: the memory size
    coverage: bool = False
    coverage_loss: float = ranged(1.0, 0, 1000.0)  # weight of the coverage loss when coverage is on


class _TanhScore(Attention):
    """v^T tanh(W h + U s + b + w_c c); subclasses only differ in the bias."""

    Config = AdditiveConfig
    bias = False
    shares_memory = True

    def __init__(self, cfg: AdditiveConfig, query_size: int, memory_size: int):
        super().__init__()
        hidden = cfg.hidden_size or memory_size
        self.query_proj = nn.Linear(query_size, hidden, bias=self.bias)
        self.memory_proj = nn.Linear(memory_size, hidden, bias=False)
        self.v = nn.Linear(hidden, 1, bias=False)
        self.uses_coverage = cfg.coverage
        self.coverage_loss = cfg.coverage_loss if cfg.coverage else 0.0
        self.coverage_proj = nn.Linear(1, hidden, bias=False) if cfg.coverage else None

    def precompute(self, memory: torch.Tensor) -> torch.Tensor:
        return self.memory_proj(memory)  # (batch, src_len, hidden)

    def forward(self, query, memory, mask, keys=None, coverage=None):
        keys = self.precompute(memory) if keys is None else keys
        # (batch, k, src_len, hidden): each of a memory row's k queries against its keys
        hidden = keys.unsqueeze(1) + per_memory_row(self.query_proj(query), memory).unsqueeze(2)
        if self.coverage_proj is not None and coverage is not None:
            covered = per_memory_row(coverage, memory).unsqueeze(3).to(hidden.dtype)
            hidden = hidden + self.coverage_proj(covered)
        scores = self.v(torch.tanh(hidden)).squeeze(3)
        return attend(scores, memory, mask)


@ATTENTION.register("additive")
class AdditiveAttention(_TanhScore):
    """Bahdanau's v^T tanh(W h + U s)."""


@ATTENTION.register("mlp")
class MLPAttention(_TanhScore):
    """Luong's concat score v^T tanh(W [h; s] + b), W split into its h and s columns."""

    bias = True
