"""Scaled dot-product attention and multi-head attention (Vaswani et al., 2017)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.checks import ranged
from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import Attention, NoOptions, attend, per_memory_row
from nmtkit.models.registry import ATTENTION
from nmtkit.models.transformer_layers import TransformerAttention


@ATTENTION.register("scaled_dot")
class ScaledDotAttention(Attention):
    """score(h, s) = h^T s / sqrt(d); a linear map brings the query to the memory size
    when the sizes differ."""

    Config = NoOptions
    shares_memory = True

    def __init__(self, cfg: NoOptions, query_size: int, memory_size: int):
        super().__init__()
        self.proj = (nn.Linear(query_size, memory_size, bias=False)
                     if query_size != memory_size else nn.Identity())
        self.scale = 1.0 / math.sqrt(memory_size)

    def forward(self, query, memory, mask, keys=None, coverage=None):
        q = per_memory_row(self.proj(query) * self.scale, memory)
        scores = torch.bmm(q, memory.transpose(1, 2))
        return attend(scores, memory, mask)


@dataclass
class MultiHeadConfig:
    heads: int = ranged(8, 1, 1024)
    # on the attention weights used for the context
    dropout: float = ranged(0.0, 0.0, 1.0, hi_open=True)


@ATTENTION.register("multi_head")
class MultiHeadAttention(Attention):
    """``heads`` scaled dot-product attentions over learned projections (the Transformer's
    multi-head layer, one query per step); the returned weights are the heads' average."""

    Config = MultiHeadConfig
    shares_memory = True

    def __init__(self, cfg: MultiHeadConfig, query_size: int, memory_size: int):
        super().__init__()
        if memory_size % cfg.heads:
            raise ConfigError(f"attention 'multi_head': the memory size ({memory_size}) must be "
                              f"divisible by heads ({cfg.heads})")
        self.to_memory = (nn.Linear(query_size, memory_size, bias=False)
                          if query_size != memory_size else nn.Identity())
        self.core = TransformerAttention(memory_size, cfg.heads, cfg.dropout)

    def precompute(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values, each (batch, heads, src_len, d_head)."""
        return self.core.project_kv(memory)

    def _attend(self, query, memory, mask, keys):
        """Output (batch, k, d_memory) and weights (batch, heads, k, src_len)."""
        k, v = self.precompute(memory) if keys is None else keys
        # a memory row's k queries are its k query positions
        return self.core.attend(per_memory_row(self.to_memory(query), memory), k, v,
                                mask[:, None, None, :])

    def forward(self, query, memory, mask, keys=None, coverage=None):
        out, weights = self._attend(query, memory, mask, keys)
        return out.flatten(0, 1), weights.mean(1).flatten(0, 1)

    def head_weights(self, query, memory, mask, keys=None, coverage=None):
        weights = self._attend(query, memory, mask, keys)[1]  # (batch, heads, k, src_len)
        return weights.transpose(1, 2).flatten(0, 1)
