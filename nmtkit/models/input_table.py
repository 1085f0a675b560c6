"""The first LSTM layer of an input-feeding decoder at decoding time, its embedding part
looked up instead of multiplied.

Per step, the layer's gates are ``W_ih [E y; feed] + b_ih + W_hh h + b_hh``. The part
that depends on the token, ``W_e E y + b_ih + b_hh`` (``W_e`` the embedding columns of
``W_ih``), is one row of a table (vocabulary x 4 hidden) computed once per weights; the
rest is one matrix product of ``[feed; h]`` with ``[W_f, W_hh]``. For Multi30k's RNN
(embeddings 256, hidden 512) that is a fifth fewer multiply-adds in the cell and one
product instead of two (docs/benchmarks.md, "Decoding speed"). Used without gradients in evaluation
mode, in float32 on CPU, for a plain ``nn.LSTMCell`` (not int8), when the table takes at
most :data:`MAX_TABLE_BYTES`; otherwise the cell runs as it is.
"""

from __future__ import annotations

import torch
from torch import nn

MAX_TABLE_BYTES = 128 * 2**20


class InputTable:
    """The table and the joined weights of one decoder's first cell, remade whenever a
    weight changes (training updates them in place between validations)."""

    def __init__(self):
        self.key = None
        self.table = self.weight = None

    def usable(self, cell: nn.Module, embedding: torch.Tensor, x: torch.Tensor) -> bool:
        return (type(cell) is nn.LSTMCell and not cell.training and cell.bias
                and not torch.is_grad_enabled() and x.device.type == "cpu"
                and x.dtype == torch.float32 and embedding.dtype == torch.float32
                and not torch.is_autocast_enabled("cpu") and not torch.compiler.is_compiling()
                and embedding.size(0) * cell.weight_ih.size(0) * 4 <= MAX_TABLE_BYTES)

    def step(self, cell: nn.LSTMCell, embedding: torch.Tensor, tokens: torch.Tensor,
             feed: torch.Tensor, hidden: torch.Tensor, memory_cell: torch.Tensor):
        """The cell's (h, c) for tokens (batch,), feed (batch, d_feed) and the previous
        state (batch, hidden) each -- what ``cell([E tokens; feed], (hidden, memory_cell))``
        gives, up to rounding."""
        self._refresh(cell, embedding)
        gates = torch.addmm(self.table.index_select(0, tokens),
                            torch.cat([feed, hidden], dim=1), self.weight.t())
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * memory_cell + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def _refresh(self, cell: nn.LSTMCell, embedding: torch.Tensor) -> None:
        params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, embedding)
        key = tuple((p.data_ptr(), p._version) for p in params)
        if key == self.key:
            return
        dim = embedding.size(1)
        self.table = torch.addmm(cell.bias_ih + cell.bias_hh, embedding,
                                 cell.weight_ih[:, :dim].t())
        self.weight = torch.cat([cell.weight_ih[:, dim:], cell.weight_hh], dim=1).contiguous()
        self.key = key
