"""Transformer decoder (Vaswani et al., 2017) with cached incremental decoding.

Per layer (pre-norm):   x = x + SelfAttention(LN(x))          (causal)
                        x = x + CrossAttention(LN(x), memory)
                        x = x + FF(LN(x))
           (post-norm): the same with x = LN(x + Sublayer(x)).
Pre-norm ends with a final layer norm; p(y_t) = softmax(W_o x_t).

Step-by-step decoding keeps each layer's self-attention keys and values of the tokens
decoded so far, and the cross-attention keys and values of the memory (projected once,
in ``prepare``, and shared by a sentence's beams: its k beams are k query positions of
one cross-attention), so a step costs one position per layer. The self-attention cache
either grows by one position per step or, with ``start_state(enc, capacity=T)``, is
allocated for T steps (and grown by ``grow_state``), written in place and read through a
mask, so that every step has the same shapes (what a compiled decoding loop needs).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.checks import one_of
from nmtkit.data.vocab import BOS, PAD
from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import (
    Decoder,
    DecoderContext,
    DecoderOutput,
    DecoderState,
    EncoderOutput,
    StepOutput,
)
from nmtkit.models.output_layer import project
from nmtkit.models.registry import DECODERS
from nmtkit.models.transformer_layers import (
    FeedForward,
    LayerNorm,
    Residual,
    TransformerAttention,
    TransformerConfig,
    check_config,
    embed_inputs,
)

Tensors = tuple[torch.Tensor, ...]


@dataclass
class TransformerDecoderConfig(TransformerConfig):
    """See :class:`nmtkit.models.transformer_layers.TransformerConfig` for the options,
    and :data:`STARTS` for ``start``."""

    # bos: decoding starts from <s>, an entry of its own; padding: from the padding entry
    # of a vocabulary that has no <s> (Marian's), kept in <s>'s row (see STARTS)
    start: str = one_of("bos", ("bos", "padding"))


# ``start: padding`` is how a Marian model's vocabulary maps onto nmtkit's fixed specials.
# Marian decodes from its padding entry, whose probability is part of each step's
# normalisation but which generation never chooses; it has no entry of nmtkit's <pad>
# kind. So its padding entry takes the <s> row (input embedding, output row and bias), the
# step never chooses <s>, and <pad> gets no probability at all (log-probability -inf, the
# ``no_output`` column that the loss leaves out).
STARTS = ("bos", "padding")


@dataclass
class TransformerDecoderState(DecoderState):
    """Per-layer caches, one (batch, heads, len, d_head) tensor per layer in each tuple.

    self_keys / self_values: self-attention keys and values of the tokens decoded so far
                             (len = the number of steps taken, or the capacity);
    steps: None for growing caches; for fixed-capacity caches, (batch,) the number of steps
           taken (the same in every row), which is also the slot the next step writes.
    """

    self_keys: Tensors
    self_values: Tensors
    steps: torch.Tensor | None = None

    @property
    def position(self) -> int | torch.Tensor:
        """The position of the next input token (= the number of steps taken)."""
        return self.self_keys[0].size(2) if self.steps is None else self.steps


class TransformerDecoderLayer(nn.Module):
    """Causal self-attention, cross-attention over the memory, feed-forward."""

    def __init__(self, cfg: TransformerConfig, d_model: int):
        super().__init__()
        self.self_attn = TransformerAttention(d_model, cfg.heads, cfg.attention_dropout)
        self.self_res = Residual(d_model, cfg.dropout, cfg.pre_norm)
        self.cross_attn = TransformerAttention(d_model, cfg.heads, cfg.attention_dropout)
        self.cross_res = Residual(d_model, cfg.dropout, cfg.pre_norm)
        self.ff = FeedForward(d_model, cfg.ff_size, cfg.dropout, cfg.activation)
        self.ff_res = Residual(d_model, cfg.dropout, cfg.pre_norm)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None,
                self_mask: torch.Tensor | None, cross_kv: tuple[torch.Tensor, torch.Tensor],
                src_mask: torch.Tensor, slot: torch.Tensor | None = None):
        """x (batch, len, d_model) -> (x, self keys, self values, cross weights).

        past: the cached self-attention keys and values of earlier positions, or None;
        self_mask: bool, broadcastable to (batch, heads, len, keys), or None (attend to
        everything); src_mask: (batch, 1, 1, src_len) bool; slot: for a fixed-capacity
        cache, the (1,) position this step's key and value are written to, in place (len is
        then 1). The returned keys and values include past; the cross weights are
        (batch, heads, len, src_len).
        """
        h = self.self_res.input(x)
        keys, values = self.self_attn.project_kv(h)
        if past is not None and slot is not None:
            keys = past[0].index_copy_(2, slot, keys.to(past[0].dtype))
            values = past[1].index_copy_(2, slot, values.to(past[1].dtype))
        elif past is not None:
            keys = torch.cat([past[0], keys], dim=2)
            values = torch.cat([past[1], values], dim=2)
        x = self.self_res.output(x, self.self_attn.attend(h, keys, values, self_mask)[0])
        h = self.cross_res.input(x)
        rows = cross_kv[0].size(0)
        if h.size(0) == rows:
            context, weights = self.cross_attn.attend(h, *cross_kv, src_mask)
        else:  # k beams per memory row: the row's k * len queries, then back per beam
            batch, length, d_model = h.shape
            context, weights = self.cross_attn.attend(h.reshape(rows, -1, d_model), *cross_kv,
                                                      src_mask)
            context = context.reshape(batch, length, d_model)
            weights = weights.transpose(1, 2).reshape(batch, length, -1, weights.size(-1))
            weights = weights.transpose(1, 2)
        x = self.cross_res.output(x, context)
        x = self.ff_res.output(x, self.ff(self.ff_res.input(x)))
        return x, keys, values, weights


@DECODERS.register("transformer")
class TransformerDecoder(Decoder):
    """Transformer decoder of width d_model = the target embedding size.

    It has its own multi-head cross-attention and starts from no encoder state, so it
    ignores ``model.attention`` and ``model.bridge``; the encoder output size must equal
    ``model.embed_dim``. Scheduled sampling is not supported.
    """

    Config = TransformerDecoderConfig
    supports_scheduled_sampling = False
    fixed_shape_state = True  # with start_state(capacity=...)
    shares_source = True

    def __init__(self, cfg: TransformerDecoderConfig, ctx: DecoderContext):
        super().__init__()
        d_model = ctx.embed.dim
        check_config(cfg, d_model, "model.decoder")
        if ctx.memory_size != d_model:
            raise ConfigError(
                f"model.decoder: the transformer decoder needs the encoder output size "
                f"({ctx.memory_size}) to equal model.embed_dim ({d_model})"
            )
        self.cfg = cfg
        self.embed = ctx.embed
        self.scale, self.positions = embed_inputs(cfg, d_model, "model.decoder")
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(
            TransformerDecoderLayer(cfg, d_model) for _ in range(cfg.layers)
        )
        self.final_norm = LayerNorm(d_model) if cfg.pre_norm else None
        self.generator = nn.Linear(d_model, ctx.vocab_size)
        if ctx.tie_output:
            self.generator.weight = ctx.embed.table.weight
        self.no_output: tuple[int, ...] = ()  # columns that never have probability
        self.never_chosen: tuple[int, ...] = ()  # columns that search never chooses
        mask = never = None
        if cfg.start == "padding":
            self.no_output, self.never_chosen = (PAD,), (BOS,)
            mask = torch.zeros(ctx.vocab_size)
            mask[PAD] = float("-inf")
            never = torch.tensor(self.never_chosen)
        self.register_buffer("logit_mask", mask, persistent=False)
        self.register_buffer("never_chosen_ids", never, persistent=False)

    def _logits(self, features: torch.Tensor, blocked: bool = False) -> torch.Tensor:
        """The output layer's scores (``blocked``: through output_layer.project)."""
        logits = project(self.generator, features) if blocked else self.generator(features)
        return logits if self.logit_mask is None else logits + self.logit_mask.to(logits.dtype)

    def _inputs(self, tokens: torch.Tensor, offset: int) -> torch.Tensor:
        """tokens (batch, len) at positions offset.. -> (batch, len, d_model)."""
        return self.dropout(self.positions(self.embed(tokens) * self.scale, offset))

    def _layers(self, x: torch.Tensor, past: list | None, self_mask: torch.Tensor | None,
                cross: list, src_mask: torch.Tensor, slot: torch.Tensor | None = None,
                every_layer: list | None = None):
        """Runs every layer: (output (batch, len, d_model), keys, values, last weights);
        each layer's cross-attention weights are appended to ``every_layer`` if given."""
        all_keys, all_values = [], []
        weights = None
        for i, layer in enumerate(self.layers):
            x, keys, values, weights = layer(x, past[i] if past else None, self_mask,
                                             cross[i], src_mask, slot)
            all_keys.append(keys)
            all_values.append(values)
            if every_layer is not None:
                every_layer.append(weights)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x, tuple(all_keys), tuple(all_values), weights

    def _cross(self, memory: torch.Tensor) -> list:
        return [layer.cross_attn.project_kv(memory) for layer in self.layers]

    def forward(self, tgt_in: torch.Tensor, enc: EncoderOutput,
                teacher_forcing: float = 1.0) -> DecoderOutput:
        """tgt_in (batch, tgt_len) -> logits (batch, tgt_len, vocab) and the last layer's
        cross-attention averaged over heads (batch, tgt_len, src_len)."""
        if teacher_forcing < 1.0:
            raise ConfigError("the transformer decoder does not support scheduled sampling "
                              "(teacher forcing below 1)")
        x, weights = self._teacher_forced(tgt_in, enc)
        return DecoderOutput(self._logits(x), attention=weights.mean(dim=1))

    def _teacher_forced(self, tgt_in: torch.Tensor, enc: EncoderOutput,
                        every_layer: list | None = None):
        length = tgt_in.size(1)
        causal = torch.ones(length, length, dtype=torch.bool, device=tgt_in.device).tril()
        x, _, _, weights = self._layers(self._inputs(tgt_in, 0), None, causal,
                                        self._cross(enc.memory), enc.mask[:, None, None, :],
                                        every_layer=every_layer)
        return x, weights

    def attention_maps(self, tgt_in: torch.Tensor, enc: EncoderOutput) -> torch.Tensor:
        """Every layer's cross-attention, per head."""
        every_layer: list[torch.Tensor] = []
        self._teacher_forced(tgt_in, enc, every_layer)
        return torch.stack(every_layer, dim=1)

    def prepare(self, enc: EncoderOutput) -> EncoderOutput:
        """Each layer's cross-attention keys and values, as ``enc.cache``."""
        return dataclasses.replace(enc, cache=tuple(self._cross(enc.memory)))

    def start_state(self, enc: EncoderOutput,
                    capacity: int | None = None) -> TransformerDecoderState:
        batch = enc.memory.size(0)
        first = self.layers[0].self_attn
        n = len(self.layers)
        shape = (batch, first.heads, capacity or 0, first.d_head)
        # Fixed-capacity caches are written in place: one tensor each.
        caches = [enc.memory.new_zeros(shape) for _ in range(2 * n if capacity else 1)]
        steps = None
        if capacity is not None:
            steps = torch.zeros(batch, dtype=torch.long, device=enc.memory.device)
        return TransformerDecoderState(tuple(caches[:n]) if capacity else (caches[0],) * n,
                                       tuple(caches[n:]) if capacity else (caches[0],) * n,
                                       steps)

    def grow_state(self, state: TransformerDecoderState,
                   capacity: int) -> TransformerDecoderState:
        extra = capacity - state.self_keys[0].size(2)
        if state.steps is None or extra <= 0:
            return state

        def grow(caches):
            return tuple(torch.nn.functional.pad(c, (0, 0, 0, extra)) for c in caches)

        return dataclasses.replace(state, self_keys=grow(state.self_keys),
                                   self_values=grow(state.self_values))

    def step(self, prev: torch.Tensor, state: TransformerDecoderState,
             enc: EncoderOutput) -> StepOutput:
        """prev (batch,) -> log-probabilities (batch, vocab), attention (batch, src_len)."""
        out = self.step_features(prev, state, enc)
        log_probs = torch.log_softmax(self._logits(out.log_probs, blocked=True).float(), dim=-1)
        if self.never_chosen_ids is not None:
            log_probs = log_probs.index_fill(1, self.never_chosen_ids, float("-inf"))
        return StepOutput(log_probs, out.state, out.attention)

    @property
    def output_layer(self) -> nn.Module | None:
        # A shortlist scores rows of the plain output layer: not offered with start: padding
        return self.generator if self.logit_mask is None else None

    def step_features(self, prev: torch.Tensor, state: TransformerDecoderState,
                      enc: EncoderOutput) -> StepOutput:
        x = self._inputs(prev.unsqueeze(1), state.position)
        past = list(zip(state.self_keys, state.self_values))
        cross = enc.cache if enc.cache is not None else self._cross(enc.memory)
        self_mask = slot = steps = None
        if state.steps is not None:  # fixed capacity: write slot `steps`, read slots <= it
            slots = torch.arange(state.self_keys[0].size(2), device=prev.device)
            slot = state.steps[:1]  # every row is at the same step
            self_mask = (slots <= state.steps.unsqueeze(1))[:, None, None, :]
            steps = state.steps + 1
        x, keys, values, weights = self._layers(x, past, self_mask, cross,
                                                enc.mask[:, None, None, :], slot)
        new = dataclasses.replace(state, self_keys=keys, self_values=values, steps=steps)
        return StepOutput(x[:, 0], new, weights.mean(dim=1)[:, 0])
