"""Recurrent cell kinds shared by the recurrent encoder and decoder."""

from __future__ import annotations

from torch import nn

from nmtkit.errors import ConfigError

CELLS = {"lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell), "rnn": (nn.RNN, nn.RNNCell)}
CELL_NAMES = tuple(CELLS)


def check_cell(cell: str, where: str) -> str:
    if cell not in CELLS:
        raise ConfigError(f"{where}.cell: unknown cell '{cell}'; valid: {', '.join(CELLS)}")
    return cell


def n_states(cell: str) -> int:
    """How many state tensors the cell carries (LSTM: h and c)."""
    return 2 if cell == "lstm" else 1
