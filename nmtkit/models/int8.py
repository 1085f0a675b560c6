"""Batch-invariant int8 layers for CPU translation.

Weights are stored in int8 with a scale per output channel; activations are quantized on
the fly with a scale per row (per token), taken from that row's own values alone. The
int8 products accumulate exactly in int32 (``torch._int_mm``), and the scales are applied
element by element, so a row's result depends on that row and the weights only, never on
the rows it was batched with: like float32, int8 translation gives the same line whatever
the batch (PyTorch's dynamic quantization takes one activation scale per batch, which
does not).

:func:`int8_layers` swaps a model's linear layers (the output projection among them) and
its LSTM/GRU/RNN cells for these. Multi-layer recurrent layers (``nn.LSTM``, the recurrent
encoder) stay in float32, which is batch-invariant too.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

QMAX = 127.0
TINY = 1e-30  # the scale of an all-zero row: any positive value quantizes it to zeros


def available() -> bool:
    """Whether this PyTorch has the exact int8 matrix product the layers need."""
    return hasattr(torch, "_int_mm")


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, n) float -> int8 values and each row's scale (rows, 1): symmetric, from the
    row's largest magnitude. No clamp is needed: ``|x| / scale`` is at most 127 up to one
    rounding, which rounds back to 127."""
    scale = x.abs().amax(dim=1, keepdim=True).clamp_min_(TINY).div_(QMAX)
    return torch.div(x, scale).round_().to(torch.int8), scale


class Int8Linear(nn.Module):
    """``y = x W^T + b`` with W in int8 (a scale per output row) and x quantized per row."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        q, scale = quantize_rows(weight.detach().float())
        self.in_features, self.out_features = weight.size(1), weight.size(0)
        self.register_buffer("weight_t", q.t().contiguous())  # (in, out): the product's layout
        self.register_buffer("scale", scale.view(-1))
        self.register_buffer("bias", None if bias is None else bias.detach().float().clone())

    @classmethod
    def from_linear(cls, layer: nn.Linear) -> Int8Linear:
        return cls(layer.weight, layer.bias)

    @property
    def weight(self) -> torch.Tensor:
        """The weights as float32 again (int8 values times their scales)."""
        return self.weight_t.t().float() * self.scale.unsqueeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        q, row_scale = quantize_rows(x.reshape(-1, self.in_features).float())
        # Scaled by plain products and a sum, one pass each (no fused multiply-add, whose
        # rounding could depend on where an element falls in a vectorised loop; and not
        # torch.mul(int32, float), whose type promotion was far slower than the cast:
        # docs/benchmarks.md, "int8 by default").
        out = torch._int_mm(q, self.weight_t).float().mul_(row_scale).mul_(self.scale)
        if self.bias is not None:
            out.add_(self.bias)
        return out.view(*shape[:-1], self.out_features)

    def rows(self, ids: torch.Tensor) -> Int8Linear:
        """The layer computing outputs ``ids`` only, with the same int8 weights and scales."""
        part = copy.copy(self)
        part._buffers = dict(self._buffers)
        part.weight_t = self.weight_t.index_select(1, ids).contiguous()
        part.scale = self.scale.index_select(0, ids)
        part.bias = None if self.bias is None else self.bias.index_select(0, ids)
        part.out_features = ids.numel()
        return part

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


class Int8Cell(nn.Module):
    """An LSTM, GRU or RNN cell whose two matrix products are :class:`Int8Linear`; the
    gates' arithmetic stays in float32. Called as the ``nn`` cell it replaces."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        self.kind = {nn.LSTMCell: "lstm", nn.GRUCell: "gru", nn.RNNCell: "rnn"}[type(cell)]
        self.nonlinearity = getattr(cell, "nonlinearity", "tanh")
        self.hidden_size = cell.hidden_size
        self.ih = Int8Linear(cell.weight_ih, cell.bias_ih)
        self.hh = Int8Linear(cell.weight_hh, cell.bias_hh)

    def forward(self, x: torch.Tensor, state=None):
        if state is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            state = (zeros, zeros) if self.kind == "lstm" else zeros
        if self.kind == "lstm":
            h, c = state
            i, f, g, o = (self.ih(x) + self.hh(h)).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        if self.kind == "gru":
            x_r, x_z, x_n = self.ih(x).chunk(3, dim=1)
            h_r, h_z, h_n = self.hh(state).chunk(3, dim=1)
            r = torch.sigmoid(x_r + h_r)
            z = torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            return (1 - z) * n + z * state
        act = torch.tanh if self.nonlinearity == "tanh" else F.relu
        return act(self.ih(x) + self.hh(state))


SWAPS = {nn.Linear: Int8Linear.from_linear, nn.LSTMCell: Int8Cell, nn.GRUCell: Int8Cell,
         nn.RNNCell: Int8Cell}


def is_int8(model: nn.Module) -> bool:
    """Whether ``model``'s layers were swapped for int8 ones already."""
    return any(isinstance(m, (Int8Linear, Int8Cell)) for m in model.modules())


def int8_layers(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (for inference) whose linear layers and recurrent cells compute
    in int8; the original is unchanged."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            swap = next((make for kind, make in SWAPS.items() if isinstance(child, kind)), None)
            if swap is not None:
                setattr(parent, name, swap(child))
    return model
