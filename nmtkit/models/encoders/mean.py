"""Mean-of-embeddings encoder: the no-recurrence baseline.

Memory is the (optionally projected) embeddings themselves; the final state is their mean
over the real (non-padding) positions, so a bridge can start the decoder from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.checks import ranged
from nmtkit.models.interfaces import Encoder, EncoderOutput
from nmtkit.models.registry import ENCODERS


@dataclass
class MeanEncoderConfig:
    hidden_size: int = ranged(0, 0, 1 << 20)  # 0: the embedding size; else a linear projection
    dropout: float = ranged(0.0, 0.0, 1.0, hi_open=True)


@ENCODERS.register("mean")
class MeanEncoder(Encoder):
    Config = MeanEncoderConfig

    def __init__(self, cfg: MeanEncoderConfig, input_size: int):
        super().__init__()
        size = cfg.hidden_size or input_size
        self.proj = nn.Linear(input_size, size) if cfg.hidden_size else nn.Identity()
        self.dropout = nn.Dropout(cfg.dropout)
        self.output_size = self.final_size = size
        self.final_layers = 1

    def forward(self, embedded: torch.Tensor, lengths: torch.Tensor,
                mask: torch.Tensor) -> EncoderOutput:
        memory = self.proj(embedded) * mask.unsqueeze(2)
        mean = memory.sum(1) / lengths.clamp(min=1).unsqueeze(1).to(memory.dtype)
        return EncoderOutput(self.dropout(memory), mask, (mean.unsqueeze(0),))
