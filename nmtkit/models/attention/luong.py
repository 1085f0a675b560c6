"""Luong et al. (2015) attention scores: dot (h^T s) and general (h^T W s)."""

from __future__ import annotations

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import Attention, NoOptions, attend
from nmtkit.registry import ATTENTION


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
