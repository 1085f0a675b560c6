"""Scaled dot-product attention and multi-head attention (Vaswani et al., 2017)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.models.attention.luong import NoOptions, attend
from nmtkit.models.interfaces import Attention, masked_softmax
from nmtkit.registry import ATTENTION


@ATTENTION.register("scaled_dot")
class ScaledDotAttention(Attention):
    """score(h, s) = h^T s / sqrt(d); a linear map brings the query to the memory size
    when the sizes differ."""

    Config = NoOptions

    def __init__(self, cfg: NoOptions, query_size: int, memory_size: int):
        super().__init__()
        self.proj = (nn.Linear(query_size, memory_size, bias=False)
                     if query_size != memory_size else nn.Identity())
        self.scale = 1.0 / math.sqrt(memory_size)

    def forward(self, query, memory, mask, keys=None, coverage=None):
        q = self.proj(query) * self.scale
        scores = torch.bmm(memory, q.unsqueeze(2)).squeeze(2)
        return attend(scores, memory, mask)


@dataclass
class MultiHeadConfig:
    heads: int = 8
    dropout: float = 0.0  # on the attention weights used for the context


@ATTENTION.register("multi_head")
class MultiHeadAttention(Attention):
    """``heads`` scaled dot-product attentions over learned projections; the context is
    projected back to the memory size. The returned weights are the heads' average."""

    Config = MultiHeadConfig

    def __init__(self, cfg: MultiHeadConfig, query_size: int, memory_size: int):
        super().__init__()
        if memory_size % cfg.heads:
            raise ConfigError(f"attention 'multi_head': the memory size ({memory_size}) must be "
                              f"divisible by heads ({cfg.heads})")
        self.heads, self.d_head = cfg.heads, memory_size // cfg.heads
        self.q = nn.Linear(query_size, memory_size)
        self.kv = nn.Linear(memory_size, 2 * memory_size)
        self.out = nn.Linear(memory_size, memory_size)
        self.dropout = nn.Dropout(cfg.dropout)

    def precompute(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values, each (batch, heads, src_len, d_head)."""
        batch, src_len, _ = memory.shape
        kv = self.kv(memory).view(batch, src_len, 2, self.heads, self.d_head)
        kv = kv.permute(2, 0, 3, 1, 4)
        return kv[0], kv[1]

    def forward(self, query, memory, mask, keys=None, coverage=None):
        k, v = self.precompute(memory) if keys is None else keys
        batch = query.size(0)
        q = self.q(query).view(batch, self.heads, 1, self.d_head)
        scores = (q @ k.transpose(2, 3)).squeeze(2) / math.sqrt(self.d_head)  # (b, h, src)
        weights = masked_softmax(scores, mask.unsqueeze(1))
        context = (self.dropout(weights).unsqueeze(2) @ v).squeeze(2).reshape(batch, -1)
        return self.out(context), weights.mean(1)
