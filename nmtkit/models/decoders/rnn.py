"""Recurrent decoder with attention, input feeding and the attentional output layer.

Per step (Luong et al., 2015):  h_t = RNN([y_{t-1}; h~_{t-1}], h_{t-1})   (input feeding)
                                c_t = attention(h_t, memory)
                                h~_t = tanh(W_c [c_t; h_t])                (attentional output)
                                p(y_t) = softmax(W_o h~_t)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.models.components import DecoderContext
from nmtkit.models.interfaces import (
    Decoder,
    DecoderOutput,
    DecoderState,
    EncoderOutput,
    StepOutput,
)
from nmtkit.models.rnn_cells import CELLS, check_cell, n_states
from nmtkit.registry import DECODERS


@dataclass
class RNNDecoderConfig:
    cell: str = "lstm"  # lstm | gru | rnn
    hidden_size: int = 512
    layers: int = 1
    input_feeding: bool = True
    dropout: float = 0.2


@dataclass
class RNNDecoderState(DecoderState):
    """hidden / cell: (layers, batch, hidden); feed: (batch, hidden) attentional output."""

    hidden: torch.Tensor
    cell: torch.Tensor | None
    feed: torch.Tensor

    layer_first_fields = ("hidden", "cell")


@DECODERS.register("rnn")
class RNNDecoder(Decoder):
    Config = RNNDecoderConfig

    def __init__(self, cfg: RNNDecoderConfig, ctx: DecoderContext):
        super().__init__()
        check_cell(cfg.cell, "model.decoder")
        self.cfg = cfg
        self.embed = ctx.embed
        hidden = cfg.hidden_size
        in_size = ctx.embed.dim + (hidden if cfg.input_feeding else 0)
        cell_cls = CELLS[cfg.cell][1]
        self.cells = nn.ModuleList(
            cell_cls(in_size if i == 0 else hidden, hidden) for i in range(cfg.layers)
        )
        self.n_states = n_states(cfg.cell)
        self.bridge = ctx.build_bridge(hidden, cfg.layers, self.n_states)
        self.attention = ctx.build_attention(hidden)
        self.att_out = nn.Linear(ctx.memory_size + hidden, hidden, bias=False)
        self.dropout = nn.Dropout(cfg.dropout)
        self.generator = nn.Linear(hidden, ctx.vocab_size)
        if ctx.tie_output:
            if ctx.embed.dim != hidden:
                raise ConfigError(
                    f"model.tie_output needs embed_dim ({ctx.embed.dim}) equal to the decoder "
                    f"hidden size ({hidden})"
                )
            self.generator.weight = ctx.embed.table.weight

    def start_state(self, enc: EncoderOutput) -> RNNDecoderState:
        batch = enc.memory.size(0)
        states = self.bridge(enc.final, batch, enc.memory)
        feed = enc.memory.new_zeros(batch, self.cfg.hidden_size)
        return RNNDecoderState(states[0], states[1] if self.n_states == 2 else None, feed)

    def _advance(self, emb: torch.Tensor, state: RNNDecoderState, enc: EncoderOutput):
        """One step from embedded inputs (batch, embed_dim): new state and attention."""
        x = torch.cat([emb, state.feed], dim=-1) if self.cfg.input_feeding else emb
        hs, cs = [], []
        for i, cell in enumerate(self.cells):
            if self.n_states == 2:
                h, c = cell(x, (state.hidden[i], state.cell[i]))
                cs.append(c)
            else:
                h = cell(x, state.hidden[i])
            hs.append(h)
            x = self.dropout(h) if i + 1 < len(self.cells) else h
        context, weights = self.attention(x, enc.memory, enc.mask)
        out = self.dropout(torch.tanh(self.att_out(torch.cat([context, x], dim=-1))))
        new = RNNDecoderState(torch.stack(hs), torch.stack(cs) if cs else None, out)
        return new, weights

    def forward(self, tgt_in: torch.Tensor, enc: EncoderOutput,
                teacher_forcing: float = 1.0) -> DecoderOutput:
        emb = self.embed(tgt_in)
        state = self.start_state(enc)
        outs = []
        for t in range(tgt_in.size(1)):
            state, _ = self._advance(emb[:, t], state, enc)
            outs.append(state.feed)
        return DecoderOutput(self.generator(torch.stack(outs, dim=1)))

    def step(self, prev: torch.Tensor, state: RNNDecoderState, enc: EncoderOutput) -> StepOutput:
        state, weights = self._advance(self.embed(prev), state, enc)
        return StepOutput(torch.log_softmax(self.generator(state.feed), dim=-1), state, weights)
