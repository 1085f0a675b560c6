"""Recurrent decoder with attention, input feeding, the attentional output layer, and an
optional copy (pointer-generator) output.

Per step (Luong et al., 2015):  h_t = RNN([y_{t-1}; h~_{t-1}], h_{t-1})   (input feeding)
                                c_t = attention(h_t, memory)
                                h~_t = tanh(W_c [c_t; h_t])                (attentional output)
                                p(y_t) = softmax(W_o h~_t)
With ``copy`` (See et al., 2017): p(y_t) = g p_vocab(y_t) + (1 - g) sum_{i: x_i = y_t} a_t,i,
g = sigmoid(w [c_t; h_t; y_{t-1}]); this needs one vocabulary for source and target.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.checks import one_of, ranged
from nmtkit.data.vocab import PAD
from nmtkit.errors import ConfigError
from nmtkit.models.input_table import InputTable
from nmtkit.models.interfaces import (
    Attention,
    Decoder,
    DecoderContext,
    DecoderOutput,
    DecoderState,
    EncoderOutput,
    StepOutput,
)
from nmtkit.models.output_layer import project
from nmtkit.models.registry import DECODERS
from nmtkit.models.rnn_cells import CELL_NAMES, CELLS, check_cell, n_states


@dataclass
class RNNDecoderConfig:
    cell: str = one_of("lstm", CELL_NAMES)
    hidden_size: int = ranged(512, 1, 1 << 20)
    layers: int = ranged(1, 1, 1000)
    input_feeding: bool = True
    dropout: float = ranged(0.2, 0.0, 1.0, hi_open=True)
    copy: bool = False  # pointer-generator output (needs model.share_embeddings)


@dataclass
class RNNDecoderState(DecoderState):
    """hidden / cell: (layers, batch, hidden); feed: (batch, hidden) attentional output;
    coverage: (batch, src_len) or None. (The attention's per-sentence precomputation is
    the encoder output's cache, see :meth:`RNNDecoder.prepare`.)"""

    hidden: torch.Tensor
    cell: torch.Tensor | None
    feed: torch.Tensor
    coverage: torch.Tensor | None = None

    layer_first_fields = ("hidden", "cell")


@dataclass
class _Step:
    state: RNNDecoderState
    weights: torch.Tensor  # (batch, src_len)
    context: torch.Tensor  # (batch, d_memory)
    top: torch.Tensor  # (batch, hidden) top RNN layer output


@DECODERS.register("rnn")
class RNNDecoder(Decoder):
    Config = RNNDecoderConfig
    supports_scheduled_sampling = True
    fixed_shape_state = True  # hidden, cell, feed, coverage: sizes never change

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
        self.input_table = InputTable()  # the first cell at decoding time (input feeding)
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
        self.copy_gate = None
        if cfg.copy:
            if not ctx.shared_vocab:
                raise ConfigError("model.decoder.copy needs one vocabulary for both sides: "
                                  "set model.share_embeddings (and nmtkit build-vocab --shared)")
            self.copy_gate = nn.Linear(ctx.memory_size + hidden + ctx.embed.dim, 1)

    @property
    def shares_source(self) -> bool:
        """Beams share their sentence's memory where the attention type takes k queries per
        memory row (every built-in type)."""
        return self.attention.shares_memory

    def prepare(self, enc: EncoderOutput) -> EncoderOutput:
        """The attention's keys, computed once per sentence, as ``enc.cache``."""
        return dataclasses.replace(enc, cache=self.attention.precompute(enc.memory))

    def start_state(self, enc: EncoderOutput, capacity: int | None = None) -> RNNDecoderState:
        batch = enc.memory.size(0)
        states = self.bridge(enc.final, batch, enc.memory)
        feed = enc.memory.new_zeros(batch, self.cfg.hidden_size)
        coverage = None
        if self.attention.uses_coverage:
            coverage = enc.memory.new_zeros(batch, enc.memory.size(1))
        return RNNDecoderState(states[0], states[1] if self.n_states == 2 else None, feed,
                               coverage)

    def _advance(self, emb: torch.Tensor, state: RNNDecoderState, enc: EncoderOutput,
                 tokens: torch.Tensor | None = None) -> _Step:
        """One step from embedded inputs (batch, embed_dim), whose ``tokens`` (batch,), when
        given, allow the first LSTM cell's table (:mod:`nmtkit.models.input_table`)."""
        table = (tokens is not None and self.cfg.input_feeding
                 and self.input_table.usable(self.cells[0], self.embed.table.weight, emb))
        x = torch.cat([emb, state.feed], dim=-1) if self.cfg.input_feeding and not table \
            else emb
        hs, cs = [], []
        for i, cell in enumerate(self.cells):
            if i == 0 and table:
                h, c = self.input_table.step(cell, self.embed.table.weight, tokens, state.feed,
                                             state.hidden[0], state.cell[0])
                cs.append(c)
            elif self.n_states == 2:
                h, c = cell(x, (state.hidden[i], state.cell[i]))
                cs.append(c)
            else:
                h = cell(x, state.hidden[i])
            hs.append(h)
            x = self.dropout(h) if i + 1 < len(self.cells) else h
        keys = enc.cache if enc.cache is not None else self.attention.precompute(enc.memory)
        context, weights = self.attention(x, enc.memory, enc.mask, keys, state.coverage)
        out = self.dropout(torch.tanh(self.att_out(torch.cat([context, x], dim=-1))))
        coverage = state.coverage + weights if state.coverage is not None else None
        new = RNNDecoderState(torch.stack(hs), torch.stack(cs) if cs else None, out, coverage)
        return _Step(new, weights, context, x)

    def _scores(self, feed, step: _Step, emb, enc, log_probs: bool) -> torch.Tensor:
        """Scores (batch, vocab) for one step's attentional output ``feed`` (batch, hidden):
        logits, or log-probabilities with copy or when ``log_probs``."""
        logits = project(self.generator, feed) if feed.dim() == 2 else self.generator(feed)
        if self.copy_gate is None:
            return torch.log_softmax(logits.float(), dim=-1) if log_probs else logits
        gate_in = torch.cat([step.context, step.top, emb], dim=-1)
        gate = torch.sigmoid(self.copy_gate(gate_in)).float()  # (..., 1)
        probs = gate * torch.softmax(logits.float(), dim=-1)
        src = enc.src_tokens
        if src.size(0) != probs.size(0):  # beams sharing their sentence's source
            src = src.repeat_interleave(probs.size(0) // src.size(0), dim=0)
        probs = probs.scatter_add(-1, src, (1 - gate) * step.weights.float())
        return torch.log(probs.clamp_min(1e-12))

    def forward(self, tgt_in: torch.Tensor, enc: EncoderOutput,
                teacher_forcing: float = 1.0) -> DecoderOutput:
        emb = self.embed(tgt_in)
        enc = self.prepare(enc)
        state = self.start_state(enc)
        outs, steps = [], []
        aux = None
        sampled = teacher_forcing < 1.0
        # Scores are needed per step to feed predictions back or to mix in copying;
        # otherwise one projection over all steps at the end is cheaper.
        per_step = sampled or self.copy_gate is not None
        prev_scores = None
        for t in range(tgt_in.size(1)):
            x = emb[:, t]
            if sampled and t > 0:
                # Scheduled sampling (Bengio et al., 2015): feed the model's own prediction.
                own = prev_scores.argmax(-1)
                use_gold = torch.rand(own.shape, device=own.device) < teacher_forcing
                x = torch.where(use_gold.unsqueeze(1), x, self.embed(own))
            step = self._advance(x, state, enc)
            if self.attention.coverage_loss and state.coverage is not None:
                real = (tgt_in[:, t] != PAD).unsqueeze(1)
                term = torch.minimum(step.weights, state.coverage).masked_fill(~real, 0).sum()
                aux = term if aux is None else aux + term
            state = step.state
            if per_step:
                prev_scores = self._scores(state.feed, step, x, enc, log_probs=False)
                outs.append(prev_scores)
            else:
                outs.append(state.feed)
            steps.append(step.weights)
        scores = torch.stack(outs, dim=1)
        if not per_step:
            scores = self.generator(scores)
        if aux is not None:
            aux = aux * self.attention.coverage_loss
        return DecoderOutput(scores, aux, torch.stack(steps, dim=1))

    def attention_maps(self, tgt_in: torch.Tensor, enc: EncoderOutput) -> torch.Tensor:
        """One layer of attention (the top RNN layer's), per head of the attention type."""
        emb = self.embed(tgt_in)
        enc = self.prepare(enc)
        state = self.start_state(enc)
        one_head = type(self.attention).head_weights is Attention.head_weights
        maps = []
        for t in range(tgt_in.size(1)):
            step = self._advance(emb[:, t], state, enc, tgt_in[:, t])
            maps.append(step.weights.unsqueeze(1) if one_head else
                        self.attention.head_weights(step.top, enc.memory, enc.mask, enc.cache,
                                                    state.coverage))
            state = step.state
        return torch.stack(maps, dim=2).unsqueeze(1)

    def step(self, prev: torch.Tensor, state: RNNDecoderState, enc: EncoderOutput) -> StepOutput:
        emb = self.embed(prev)
        step = self._advance(emb, state, enc, prev)
        log_probs = self._scores(step.state.feed, step, emb, enc, log_probs=True)
        return StepOutput(log_probs, step.state, step.weights)

    @property
    def output_layer(self) -> nn.Module | None:
        return self.generator if self.copy_gate is None else None

    def step_features(self, prev: torch.Tensor, state: RNNDecoderState,
                      enc: EncoderOutput) -> StepOutput:
        step = self._advance(self.embed(prev), state, enc, prev)
        return StepOutput(step.state.feed, step.state, step.weights)
