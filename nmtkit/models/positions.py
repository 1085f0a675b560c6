"""Positional encodings for Transformer encoders and decoders.

Each encoding adds the vectors of positions ``offset .. offset + len - 1`` to its input, so
incremental decoding (one token at a time, ``offset`` = the number of tokens already
decoded) adds exactly the vectors that teacher-forced decoding adds.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nmtkit.errors import ConfigError, NmtkitError

POSITIONS = ("sinusoidal", "sinusoidal_halves", "learned")


def _positions(x: torch.Tensor, offset: int | torch.Tensor) -> torch.Tensor:
    """Position indices (batch or 1, len) for ``x`` (batch, len, d) starting at ``offset``.

    offset: an int, or a (batch,) long tensor (one start per row).
    """
    pos = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    if isinstance(offset, torch.Tensor):
        return pos + offset.to(x.device).view(-1, 1)
    return pos + offset


class SinusoidalPositions(nn.Module):
    """Fixed sine/cosine encodings (Vaswani et al., 2017); no parameters, no length limit.

    Interleaved (``halves=False``):  PE(p, 2i) = sin(p / 10000^(2i/d)),
                                     PE(p, 2i+1) = cos(p / 10000^(2i/d));
    in halves (``halves=True``, Marian's layout): the sines of every frequency, then the
    cosines (the first ceil(d/2) components are sines). Halves are computed in float64 and
    rounded once, as Marian's table is.
    """

    def __init__(self, dim: int, halves: bool = False):
        super().__init__()
        self.dim = dim
        self.halves = halves
        dtype = torch.float64 if halves else torch.float32
        inv_freq = torch.exp(torch.arange(0, dim, 2, dtype=dtype) * (-math.log(10000.0) / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def encoding(self, positions: torch.Tensor) -> torch.Tensor:
        """positions (...) long -> (..., dim) encodings."""
        angles = positions.unsqueeze(-1).to(self.inv_freq.dtype) * self.inv_freq
        if self.halves:
            sines = angles.sin()
            cosines = angles.cos()[..., : self.dim - sines.size(-1)]
            return torch.cat([sines, cosines], dim=-1).float()
        enc = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)
        return enc[..., : self.dim]

    def forward(self, x: torch.Tensor, offset: int | torch.Tensor = 0) -> torch.Tensor:
        """x (batch, len, dim) -> x plus the encodings of positions offset .. offset+len-1."""
        return x + self.encoding(_positions(x, offset)).to(x.dtype)


class LearnedPositions(nn.Module):
    """One trained vector per position 0 .. max_positions - 1."""

    def __init__(self, dim: int, max_positions: int):
        super().__init__()
        self.max_positions = max_positions
        self.table = nn.Embedding(max_positions, dim)
        nn.init.normal_(self.table.weight, std=dim**-0.5)

    def forward(self, x: torch.Tensor, offset: int | torch.Tensor = 0) -> torch.Tensor:
        """x (batch, len, dim) -> x plus the vectors of positions offset .. offset+len-1."""
        positions = _positions(x, offset)
        if torch.compiler.is_compiling():  # a compiled decoding loop checks its capacity
            return x + self.table(positions)
        last = int(positions.max()) if positions.numel() else -1
        if last >= self.max_positions:
            raise NmtkitError(
                f"a sequence reaches position {last} but the learned positional encoding "
                f"has only max_positions={self.max_positions}; raise max_positions or "
                f"shorten the input"
            )
        return x + self.table(positions)


def build_positions(kind: str, dim: int, max_positions: int, where: str) -> nn.Module:
    """The positional encoding named ``kind`` (sinusoidal | learned)."""
    if kind in ("sinusoidal", "sinusoidal_halves"):
        return SinusoidalPositions(dim, halves=kind == "sinusoidal_halves")
    if kind == "learned":
        if max_positions < 1:
            raise ConfigError(f"{where}.max_positions must be positive, got {max_positions}")
        return LearnedPositions(dim, max_positions)
    raise ConfigError(f"{where}.positions: unknown '{kind}'; valid: {', '.join(POSITIONS)}")
