"""Recurrent encoder: LSTM, GRU or tanh RNN; layers; bidirectional; optionally reversed."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nmtkit.checks import one_of, ranged
from nmtkit.models.interfaces import Encoder, EncoderOutput
from nmtkit.models.registry import ENCODERS
from nmtkit.models.rnn_cells import CELL_NAMES, CELLS, check_cell


@dataclass
class RNNEncoderConfig:
    cell: str = one_of("lstm", CELL_NAMES)
    hidden_size: int = ranged(256, 1, 1 << 20)  # per direction
    layers: int = ranged(1, 1, 1000)
    bidirectional: bool = True
    dropout: float = ranged(0.2, 0.0, 1.0, hi_open=True)  # between layers, on the output
    reverse_source: bool = False  # read the source backwards (Sutskever et al., 2014)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of ``x`` (batch, len, ...) within its length; padding stays put."""
    batch, length = x.shape[:2]
    pos = torch.arange(length, device=x.device).unsqueeze(0)
    idx = lengths.unsqueeze(1) - 1 - pos
    idx = torch.where(idx >= 0, idx, pos)  # padding positions map to themselves
    idx = idx.view(batch, length, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, idx)


@ENCODERS.register("rnn")
class RNNEncoder(Encoder):
    Config = RNNEncoderConfig

    def __init__(self, cfg: RNNEncoderConfig, input_size: int):
        super().__init__()
        check_cell(cfg.cell, "model.encoder")
        self.cfg = cfg
        rnn_cls = CELLS[cfg.cell][0]
        self.rnn = rnn_cls(input_size, cfg.hidden_size, num_layers=cfg.layers,
                           bidirectional=cfg.bidirectional, batch_first=True,
                           dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.dropout = nn.Dropout(cfg.dropout)
        dirs = 2 if cfg.bidirectional else 1
        self.output_size = cfg.hidden_size * dirs
        self.final_size = cfg.hidden_size * dirs
        self.final_layers = cfg.layers

    def forward(self, embedded: torch.Tensor, lengths: torch.Tensor,
                mask: torch.Tensor) -> EncoderOutput:
        if self.cfg.reverse_source:
            embedded = reverse_padded(embedded, lengths)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, final = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=embedded.size(1))
        if self.cfg.reverse_source:  # memory position i is source token i again
            out = reverse_padded(out, lengths)
        states = final if isinstance(final, tuple) else (final,)
        return EncoderOutput(self.dropout(out), mask, tuple(self._merge(s) for s in states))

    def _merge(self, state: torch.Tensor) -> torch.Tensor:
        """(layers * dirs, batch, hidden) -> (layers, batch, dirs * hidden)."""
        if not self.cfg.bidirectional:
            return state
        layers2, batch, hidden = state.shape
        state = state.view(layers2 // 2, 2, batch, hidden)
        return torch.cat([state[:, 0], state[:, 1]], dim=-1)
