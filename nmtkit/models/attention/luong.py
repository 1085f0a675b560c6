"""Luong et al. (2015) attention scores: dot (h^T s) and general (h^T W s), each query
scored against its memory row (k queries per row in beam search, see
:class:`nmtkit.models.interfaces.Attention`)."""

from __future__ import annotations

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import Attention, NoOptions, attend, per_memory_row
from nmtkit.models.registry import ATTENTION


@ATTENTION.register("dot")
class DotAttention(Attention):
    """score(h, s) = h^T s; query and memory sizes must match."""

    Config = NoOptions
    shares_memory = True

    def __init__(self, cfg: NoOptions, query_size: int, memory_size: int):
        super().__init__()
        if query_size != memory_size:
            raise ConfigError(
                f"attention 'dot' needs the decoder hidden size ({query_size}) to equal the "
                f"encoder output size ({memory_size}); use 'general'"
            )

    def forward(self, query, memory, mask, keys=None, coverage=None):
        scores = torch.bmm(per_memory_row(query, memory), memory.transpose(1, 2))
        return attend(scores, memory, mask)


@ATTENTION.register("general")
class GeneralAttention(Attention):
    """score(h, s) = h^T W s (multiplicative). ``W^T s`` (the keys) is computed once per
    sentence by :meth:`precompute`, not ``W h`` at every step for every beam."""

    Config = NoOptions
    shares_memory = True

    def __init__(self, cfg: NoOptions, query_size: int, memory_size: int):
        super().__init__()
        self.proj = nn.Linear(query_size, memory_size, bias=False)

    def precompute(self, memory: torch.Tensor) -> torch.Tensor:
        """(batch, src_len, d_query): each memory vector mapped into query space."""
        # An int8 layer (models/int8.py) gives its weights back as float32.
        return torch.matmul(memory, self.proj.weight.to(memory.dtype))

    def forward(self, query, memory, mask, keys=None, coverage=None):
        keys = self.precompute(memory) if keys is None else keys
        scores = torch.bmm(per_memory_row(query, memory).to(keys.dtype), keys.transpose(1, 2))
        return attend(scores, memory, mask)
