"""Transformer encoder (Vaswani et al., 2017): self-attention and feed-forward layers.

Per layer (pre-norm):   x = x + SelfAttention(LN(x));   x = x + FF(LN(x))
           (post-norm): x = LN(x + SelfAttention(x));   x = LN(x + FF(x))
Pre-norm ends with a final layer norm. Padding positions are masked out as keys, so a
sentence's encoding does not depend on the padding added to it, and their memory is zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.models.interfaces import Encoder, EncoderOutput
from nmtkit.models.registry import ENCODERS
from nmtkit.models.transformer_layers import (
    FeedForward,
    LayerNorm,
    Residual,
    TransformerAttention,
    TransformerConfig,
    check_config,
    embed_inputs,
)


@dataclass
class TransformerEncoderConfig(TransformerConfig):
    """See :class:`nmtkit.models.transformer_layers.TransformerConfig` for the options."""


class TransformerEncoderLayer(nn.Module):
    """(batch, src_len, d_model) -> (batch, src_len, d_model)."""

    def __init__(self, cfg: TransformerConfig, d_model: int):
        super().__init__()
        self.self_attn = TransformerAttention(d_model, cfg.heads, cfg.attention_dropout)
        self.attn_res = Residual(d_model, cfg.dropout, cfg.pre_norm)
        self.ff = FeedForward(d_model, cfg.ff_size, cfg.dropout, cfg.activation)
        self.ff_res = Residual(d_model, cfg.dropout, cfg.pre_norm)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """key_mask: (batch, 1, 1, src_len) bool, True at real tokens."""
        h = self.attn_res.input(x)
        x = self.attn_res.output(x, self.self_attn(h, h, key_mask)[0])
        return self.ff_res.output(x, self.ff(self.ff_res.input(x)))


@ENCODERS.register("transformer")
class TransformerEncoder(Encoder):
    """Transformer encoder of width d_model = ``input_size`` (the model's embed_dim)."""

    Config = TransformerEncoderConfig

    def __init__(self, cfg: TransformerEncoderConfig, input_size: int):
        super().__init__()
        check_config(cfg, input_size, "model.encoder")
        self.cfg = cfg
        self.scale, self.positions = embed_inputs(cfg, input_size, "model.encoder")
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(cfg, input_size) for _ in range(cfg.layers)
        )
        self.final_norm = LayerNorm(input_size) if cfg.pre_norm else None
        self.output_size = input_size
        self.final_size = None
        self.final_layers = 0

    def forward(self, embedded: torch.Tensor, lengths: torch.Tensor,
                mask: torch.Tensor) -> EncoderOutput:
        """embedded (batch, src_len, d_model), mask (batch, src_len) -> EncoderOutput."""
        x = self.dropout(self.positions(embedded * self.scale))
        key_mask = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, key_mask)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return EncoderOutput(x.masked_fill(~mask.unsqueeze(-1), 0.0), mask, None)
