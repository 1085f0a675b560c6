"""Bridges: none (zeros), copy, and dense (linear + tanh over the final states).

A bridge maps the encoder's final states, each (enc_layers, batch, enc_size), to the
decoder's ``n_states`` start states, each (dec_layers, batch, dec_size). When the layer
counts differ, the encoder's top layer feeds every decoder layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import BridgeShape
from nmtkit.models.registry import BRIDGES


@dataclass
class BridgeConfig:
    pass


class Bridge(nn.Module):
    needs_final = False  # True: the encoder must have final states

    def __init__(self, cfg: BridgeConfig, shape: BridgeShape):
        super().__init__()
        self.shape = shape
        if self.needs_final and shape.enc_size is None:
            raise ConfigError(f"bridge '{self.name}' needs an encoder with final states; "
                              "use 'none'")

    @property
    def name(self) -> str:
        return next(n for n in BRIDGES.names() if BRIDGES.get(n) is type(self))

    def _layers(self, state: torch.Tensor) -> torch.Tensor:
        if state.size(0) == self.shape.dec_layers:
            return state
        return state[-1:].expand(self.shape.dec_layers, -1, -1).contiguous()

    def _states(self, final: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        """One encoder state per decoder state; a missing cell state is zeros."""
        states = list(final[: self.shape.n_states])
        while len(states) < self.shape.n_states:
            states.append(torch.zeros_like(states[0]))
        return [self._layers(s) for s in states]

    def zeros(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        z = like.new_zeros(self.shape.dec_layers, batch, self.shape.dec_size)
        return tuple(z for _ in range(self.shape.n_states))


@BRIDGES.register("none")
class ZeroBridge(Bridge):
    """The decoder starts from zeros."""

    Config = BridgeConfig

    def forward(self, final, batch: int, like: torch.Tensor):
        return self.zeros(batch, like)


@BRIDGES.register("copy")
class CopyBridge(Bridge):
    """The decoder starts from the encoder's final states as they are (sizes must match)."""

    Config = BridgeConfig
    needs_final = True

    def __init__(self, cfg: BridgeConfig, shape: BridgeShape):
        super().__init__(cfg, shape)
        if shape.enc_size != shape.dec_size:
            raise ConfigError(
                f"bridge 'copy' needs the encoder's final state size ({shape.enc_size}) to equal "
                f"the decoder's hidden size ({shape.dec_size}); use bridge 'dense'"
            )

    def forward(self, final, batch: int, like: torch.Tensor):
        return tuple(self._states(final))


@dataclass
class DenseBridgeConfig:
    bias: bool = True


@BRIDGES.register("dense")
class DenseBridge(Bridge):
    """tanh(W s + b) for each final state s (forward and backward states concatenated)."""

    Config = DenseBridgeConfig
    needs_final = True

    def __init__(self, cfg: DenseBridgeConfig, shape: BridgeShape):
        super().__init__(cfg, shape)
        self.proj = nn.ModuleList(
            nn.Linear(shape.enc_size, shape.dec_size, bias=cfg.bias)
            for _ in range(shape.n_states)
        )

    def forward(self, final, batch: int, like: torch.Tensor):
        return tuple(torch.tanh(p(s)) for p, s in zip(self.proj, self._states(final)))
