"""Parts shared by the Transformer encoder and decoder (Vaswani et al., 2017).

- :class:`TransformerConfig`: the options both take, and their validation;
- :class:`TransformerAttention`: multi-head scaled dot-product attention over ``heads``
  subspaces, with the key/value projection separate from the attention so a decoder can
  cache it;
- :class:`FeedForward`: the position-wise two-layer network;
- :class:`LayerNorm`: layer normalisation whose gain is stored as an offset from 1;
- :class:`Residual`: a sublayer's residual connection with pre- or post-layer-norm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nmtkit.checks import one_of, ranged
from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import masked_softmax
from nmtkit.models.positions import POSITIONS, build_positions

ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "swish")


@dataclass
class TransformerConfig:
    layers: int = ranged(6, 1, 1000)
    heads: int = ranged(8, 1, 1024)
    ff_size: int = ranged(2048, 1, 1 << 20)  # inner size of the position-wise feed-forward network
    # on embeddings + positions, sublayer outputs, feed-forward inner
    dropout: float = ranged(0.1, 0.0, 1.0, hi_open=True)
    attention_dropout: float = ranged(0.1, 0.0, 1.0, hi_open=True)  # on attention weights
    pre_norm: bool = True  # layer norm before each sublayer (else after the residual sum)
    # sinusoidal_halves: sines then cosines (Marian's layout) instead of interleaved
    positions: str = one_of("sinusoidal", POSITIONS)
    max_positions: int = ranged(1024, 1, 1 << 20)  # table size of learned positions
    scale_embeddings: bool = True  # multiply embeddings by sqrt(d_model) before positions
    # of the feed-forward network's inner layer (swish = x * sigmoid(x); gelu_tanh: GELU's
    # tanh approximation)
    activation: str = one_of("relu", ACTIVATIONS)


def check_config(cfg: TransformerConfig, d_model: int, where: str) -> None:
    """Raise ConfigError for options that cannot build a model of width ``d_model`` (the
    ranges of single values are checked with the config, see :mod:`nmtkit.checks`)."""
    if d_model % cfg.heads:
        raise ConfigError(f"{where}.heads ({cfg.heads}) must divide the model size "
                          f"({d_model}, model.embed_dim)")


def embed_inputs(cfg: TransformerConfig, d_model: int, where: str) -> tuple[float, nn.Module]:
    """The embedding scale and the positional encoding for ``cfg``."""
    scale = math.sqrt(d_model) if cfg.scale_embeddings else 1.0
    return scale, build_positions(cfg.positions, d_model, cfg.max_positions, where)


class TransformerAttention(nn.Module):
    """Multi-head attention with explicit matrix products.

    Keys and values are (batch, heads, k_len, d_head), as returned by :meth:`project_kv`;
    masks are bool, True where a query may attend, broadcastable to
    (batch, heads, q_len, k_len). Masked positions get exactly zero weight.
    """

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.d_head = d_model // heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, len, d_model) -> (batch, heads, len, d_head)."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.d_head).transpose(1, 2)

    def project_kv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, k_len, d_model) -> keys, values (batch, heads, k_len, d_head)."""
        return self._split(self.key(x)), self._split(self.value(x))

    def attend(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
               mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Queries from x (batch, q_len, d_model) against projected keys and values.

        Returns the output (batch, q_len, d_model) and the weights before dropout
        (batch, heads, q_len, k_len).
        """
        q = self._split(self.query(x))
        scores = torch.matmul(q, keys.transpose(-1, -2)) / math.sqrt(self.d_head)
        if mask is None:
            weights = torch.softmax(scores, dim=-1)
        else:
            weights = masked_softmax(scores, mask)
        context = torch.matmul(self.dropout(weights), values)  # (batch, heads, q_len, d_head)
        batch, _, q_len, _ = context.shape
        context = context.transpose(1, 2).reshape(batch, q_len, self.heads * self.d_head)
        return self.out(context), weights

    def forward(self, x: torch.Tensor, memory: torch.Tensor,
                mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention of x (batch, q_len, d) over memory (batch, k_len, d)."""
        keys, values = self.project_kv(memory)
        return self.attend(x, keys, values, mask)


def activation(name: str):
    """The element-wise function named ``name`` (one of ACTIVATIONS)."""
    return {"relu": torch.relu, "gelu": F.gelu, "swish": F.silu,
            "gelu_tanh": lambda x: F.gelu(x, approximate="tanh")}[name]


class FeedForward(nn.Module):
    """(batch, len, d_model) -> (batch, len, d_model): Linear, activation, dropout, Linear."""

    def __init__(self, d_model: int, ff_size: int, dropout: float, act: str = "relu"):
        super().__init__()
        self.inner = nn.Linear(d_model, ff_size)
        self.outer = nn.Linear(ff_size, d_model)
        self.dropout = nn.Dropout(dropout)
        self.act = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(self.dropout(self.act(self.inner(x))))


class LayerNorm(nn.Module):
    """Layer normalisation over the last dimension with gain ``1 + offset``.

    The model's initialisation schemes (nmtkit/models/init.py) set every vector to zero
    (``xavier``) or to U(-scale, scale) (``uniform``); a plain ``nn.LayerNorm`` would start
    with a zero or near-zero gain and block the signal. Storing the gain as an offset from
    1 (as Megatron-LM's ``apply_layernorm_1p``) starts it at 1 (or 1 +- scale) instead.
    """

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.gain_offset = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.bias.shape, 1.0 + self.gain_offset, self.bias, self.eps)


class Residual(nn.Module):
    """A residual connection around a sublayer, with its layer norm.

    Pre-norm:  sublayer input = norm(x),  output = x + dropout(sublayer(norm(x)))
    Post-norm: sublayer input = x,        output = norm(x + dropout(sublayer(x)))
    """

    def __init__(self, d_model: int, dropout: float, pre_norm: bool):
        super().__init__()
        self.pre_norm = pre_norm
        self.norm = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def input(self, x: torch.Tensor) -> torch.Tensor:
        """What the sublayer reads."""
        return self.norm(x) if self.pre_norm else x

    def output(self, x: torch.Tensor, sub: torch.Tensor) -> torch.Tensor:
        """The layer output from its input x and the sublayer's output ``sub``."""
        y = x + self.dropout(sub)
        return y if self.pre_norm else self.norm(y)
