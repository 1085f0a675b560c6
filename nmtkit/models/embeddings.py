"""Token embeddings."""

from __future__ import annotations

import math

import torch
from torch import nn

from nmtkit.data.vocab import PAD


class Embeddings(nn.Module):
    """Token embedding with dropout; shape (batch, len) -> (batch, len, dim)."""

    def __init__(self, vocab_size: int, dim: int, dropout: float = 0.0, scale: bool = False):
        super().__init__()
        self.dim = dim
        self.table = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        nn.init.normal_(self.table.weight, std=dim**-0.5 if scale else 0.1)
        with torch.no_grad():
            self.table.weight[PAD].zero_()
        self.scale = math.sqrt(dim) if scale else 1.0
        self.dropout = nn.Dropout(dropout)

    @property
    def weight(self) -> torch.Tensor:
        return self.table.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.table(tokens)
        if self.scale != 1.0:
            x = x * self.scale
        return self.dropout(x)
