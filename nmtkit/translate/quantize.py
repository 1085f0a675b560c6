"""int8 weights for CPU translation: PyTorch's dynamic quantization of the linear layers
(the output projection above all) and the LSTM/GRU layers and cells. Weights are stored
in int8 with a scale per tensor; activations are quantized on the fly, with a scale taken
from each batch's own values, so (as in bf16) an output line may change with the batch
it was translated in."""

from __future__ import annotations

import warnings

import torch
from torch import nn

QUANTIZED = {nn.Linear, nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell}


def int8_weights(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose linear and recurrent layers compute with int8 weights."""
    with warnings.catch_warnings():  # torch.ao.quantization announces its successor, torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, QUANTIZED, dtype=torch.qint8)
