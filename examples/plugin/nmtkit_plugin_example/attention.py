"""Cosine attention: score(h, s) = t * cos(W h, s), with a learned temperature t.

Cosine similarities lie in [-1, 1], so the learned scalar temperature sets how sharp the
attention distribution can become. It is stored as ``init_temperature * exp(log_gain)``
with a learned ``log_gain``: nmtkit's whole-model initialisation (uniform or xavier)
overwrites every parameter, and leaves a log-gain near 0, so the temperature starts near
``init_temperature`` under every scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nmtkit.models.interfaces import Attention, attend


@dataclass
class CosineConfig:
    init_temperature: float = 10.0  # starting value of the learned temperature


class CosineAttention(Attention):
    """score(h, s) = t * cos(W h, s); W maps the query into memory space."""

    Config = CosineConfig

    def __init__(self, cfg: CosineConfig, query_size: int, memory_size: int):
        super().__init__()
        self.proj = nn.Linear(query_size, memory_size, bias=False)
        self.init_temperature = float(cfg.init_temperature)
        self.log_gain = nn.Parameter(torch.zeros(()))

    @property
    def temperature(self) -> torch.Tensor:
        return self.init_temperature * self.log_gain.exp()

    def precompute(self, memory: torch.Tensor) -> torch.Tensor:
        """Unit-length memory vectors (batch, src_len, d_memory), once per sentence."""
        return F.normalize(memory, dim=-1)

    def forward(self, query, memory, mask, keys=None, coverage=None):
        keys = self.precompute(memory) if keys is None else keys
        q = F.normalize(self.proj(query), dim=-1)
        scores = self.temperature * torch.bmm(keys, q.unsqueeze(2)).squeeze(2)
        return attend(scores, memory, mask)
