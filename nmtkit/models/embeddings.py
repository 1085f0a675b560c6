"""Token embeddings."""

from __future__ import annotations

import torch
from torch import nn

from nmtkit.data.vocab import PAD


class Embeddings(nn.Module):
    """Token embedding with dropout; shape (batch, len) -> (batch, len, dim)."""

    def __init__(self, vocab_size: int, dim: int, dropout: float = 0.0):
        super().__init__()
        self.dim = dim
        self.table = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        nn.init.normal_(self.table.weight, std=0.1)
        with torch.no_grad():
            self.table.weight[PAD].zero_()
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.table(tokens))
