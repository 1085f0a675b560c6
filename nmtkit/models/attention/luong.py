"""Luong et al. (2015) attention scores: dot (h^T s) and general (h^T W s)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import Attention, masked_softmax
from nmtkit.registry import ATTENTION


@dataclass
class NoOptions:
    pass


def attend(scores: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
    """scores (batch, src_len) -> (context (batch, d_memory), weights (batch, src_len))."""
    weights = masked_softmax(scores, mask)
    return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights


@ATTENTION.register("dot")
class DotAttention(Attention):
    """score(h, s) = h^T s; query and memory sizes must match."""

    Config = NoOptions

    def __init__(self, cfg: NoOptions, query_size: int, memory_size: int):
        super().__init__()
        if query_size != memory_size:
            raise ConfigError(
                f"attention 'dot' needs the decoder hidden size ({query_size}) to equal the "
                f"encoder output size ({memory_size}); use 'general'"
            )

    def forward(self, query, memory, mask, keys=None, coverage=None):
        scores = torch.bmm(memory, query.unsqueeze(2)).squeeze(2)
        return attend(scores, memory, mask)


@ATTENTION.register("general")
class GeneralAttention(Attention):
    """score(h, s) = h^T W s (multiplicative); W maps the query into memory space."""

    Config = NoOptions

    def __init__(self, cfg: NoOptions, query_size: int, memory_size: int):
        super().__init__()
        self.proj = nn.Linear(query_size, memory_size, bias=False)

    def forward(self, query, memory, mask, keys=None, coverage=None):
        scores = torch.bmm(memory, self.proj(query).unsqueeze(2)).squeeze(2)
        return attend(scores, memory, mask)
