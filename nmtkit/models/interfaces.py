"""The contracts between model parts, and the dataclasses they hand to each other: what a
plugin component implements and receives.

- :class:`Encoder` -> :class:`EncoderOutput`; :class:`Attention` (with :func:`attend`
  and :class:`NoOptions` for attention types without options); a bridge is built from a
  :class:`BridgeShape`; a decoder is built from a :class:`DecoderContext` and implements
  :class:`Decoder`, whose incremental methods are all that search uses (see its
  docstring), so any registered decoder decodes with every search strategy and in the
  compiled loop without changes to search code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.data.vocab import PAD
from nmtkit.errors import ConfigError
from nmtkit.models.build import resolve
from nmtkit.models.registry import ATTENTION, BRIDGES


@dataclass
class EncoderOutput:
    """What an encoder hands to the decoder.

    memory: (batch, src_len, d_memory) -- one vector per source position.
    mask:   (batch, src_len) bool, True at real tokens, False at padding.
    final:  per-state tensors of shape (layers, batch, d_final) (an LSTM gives (h, c)),
            or None for encoders without a final state.
    src_tokens: (batch, src_len) source token ids (set by the model; the copy layer
            uses them).
    cache:  what the decoder's :meth:`Decoder.prepare` derived from the memory for every
            step (attention keys, cross-attention keys and values): a tensor or nested
            tuples of tensors, batch first; None before.
    """

    memory: torch.Tensor
    mask: torch.Tensor
    final: tuple[torch.Tensor, ...] | None = None
    src_tokens: torch.Tensor | None = None
    cache: object = None

    def index_select(self, index: torch.Tensor) -> EncoderOutput:
        """Rows ``index`` of the batch (e.g. each sentence repeated for its beams)."""
        final = None
        if self.final is not None:
            final = tuple(f.index_select(1, index) for f in self.final)
        src = self.src_tokens.index_select(0, index) if self.src_tokens is not None else None
        cache = _index(self.cache, 0, index) if self.cache is not None else None
        return EncoderOutput(self.memory.index_select(0, index),
                             self.mask.index_select(0, index), final, src, cache)

    def pad_to(self, length: int) -> EncoderOutput:
        """The output with ``length`` source positions, the new ones masked as padding
        (before :meth:`Decoder.prepare`)."""
        extra = length - self.memory.size(1)
        if extra == 0:
            return self
        pad = torch.nn.functional.pad
        src = pad(self.src_tokens, (0, extra), value=PAD) if self.src_tokens is not None \
            else None
        return EncoderOutput(pad(self.memory, (0, 0, 0, extra)), pad(self.mask, (0, extra)),
                             self.final, src)


@dataclass
class DecoderState:
    """Base of decoder states: dataclasses of tensors whose first dimension is the batch.

    Subclasses list fields whose batch dimension is not first in ``layer_first_fields``
    (e.g. RNN hidden states (layers, batch, hidden)).
    """

    layer_first_fields = ()

    def index_select(self, index: torch.Tensor):
        changes = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            dim = 1 if f.name in self.layer_first_fields else 0
            changes[f.name] = _index(value, dim, index)
        return dataclasses.replace(self, **changes)


def _index(value, dim: int, index: torch.Tensor):
    if isinstance(value, torch.Tensor):
        return value.index_select(dim, index)
    return type(value)(_index(v, dim, index) for v in value)


@dataclass
class DecoderOutput:
    """Teacher-forced decoder output.

    scores: (batch, tgt_len, vocab) logits or log-probabilities (either is a valid input to
            cross-entropy: log_softmax leaves log-probabilities unchanged).
    aux_loss: an extra summed loss (e.g. coverage), added to the token loss, or None.
    attention: (batch, tgt_len, src_len) attention weights, or None.
    """

    scores: torch.Tensor
    aux_loss: torch.Tensor | None = None
    attention: torch.Tensor | None = None


@dataclass
class StepOutput:
    """One decoding step. log_probs: (batch, vocab); attention: (batch, src_len) or None."""

    log_probs: torch.Tensor
    state: DecoderState
    attention: torch.Tensor | None = None


class Encoder(nn.Module):
    """Encodes embedded source tokens.

    forward(embedded (batch, src_len, d_embed), lengths (batch,), mask (batch, src_len))
    -> EncoderOutput
    """

    output_size: int
    final_size: int | None = None  # size of each final state, None if there is none
    final_layers: int = 0


class Attention(nn.Module):
    """Scores memory against a query and returns the context and the weights.

    forward(query (batch, d_query), memory (batch, src_len, d_memory),
            mask (batch, src_len), keys, coverage)
        -> (context (batch, d_memory), weights (batch, src_len))

    ``keys`` is what :meth:`precompute` returned for this memory (computed once per
    sentence, not once per step). ``coverage`` (batch, src_len) is the sum of earlier
    attention weights, given when :attr:`uses_coverage` is True. Padding positions get
    exactly zero weight.

    An attention type with :attr:`shares_memory` also takes ``k`` queries per memory row:
    query (batch * k, d_query) and coverage (batch * k, src_len), row ``i * k + j`` for
    memory row ``i`` (a sentence's ``k`` beams), giving context and weights with
    ``batch * k`` rows; :func:`per_memory_row` and :func:`attend` do the reshaping. Beam
    search then keeps one copy of each sentence's memory and keys instead of ``k``.
    """

    uses_coverage = False
    coverage_loss = 0.0  # weight of the coverage loss (See et al., 2017)
    shares_memory = False

    def precompute(self, memory: torch.Tensor):
        return None

    def head_weights(self, query, memory, mask, keys=None, coverage=None) -> torch.Tensor:
        """The weights of each head (batch, heads, src_len), for looking at them; one head
        unless overridden (the weights forward() returns are then the heads' average)."""
        return self(query, memory, mask, keys, coverage)[1].unsqueeze(1)


class Decoder(nn.Module):
    """The decoder interface that training and every search strategy use.

    Training calls :meth:`forward` (teacher forcing). Search uses only the incremental
    methods, in this order for each batch:

    0. ``enc = prepare(enc)`` -- once per batch: what every step needs from the memory;
    1. ``state = start_state(enc)`` -- or ``start_state(enc, capacity=T)`` in the compiled
       loop, for decoders with :attr:`fixed_shape_state` (see also :attr:`shares_source`);
    2. per step, ``out = step(prev, state, enc)`` with the previous tokens (batch,), giving
       ``out.log_probs`` (batch, vocab) and ``out.state``;
    3. ``state = reorder_state(out.state, index)`` to keep rows ``index`` (the hypotheses
       that survive a beam step, or the sentences still searching); ``enc`` is selected
       the same way by the search (:meth:`EncoderOutput.index_select`);
    4. in the compiled loop, ``state = grow_state(state, T2)`` when a fixed-capacity state
       is full (capacity 16, then 32, 64, ...).

    Rows are independent: a row's log-probabilities depend only on that row's source and
    previous tokens, never on the other rows of the batch.
    """

    # Whether forward() accepts teacher_forcing < 1 (scheduled sampling).
    supports_scheduled_sampling = False
    # Whether search may give start_state(), step() and step_features() an ``enc`` with one
    # row per sentence while ``prev`` and the state have k rows per sentence (k = their
    # rows / enc's rows; a sentence's beams are consecutive rows): the beams share their
    # sentence's memory and cache instead of copies. start_state() then gives one row per
    # sentence, which search repeats for the beams with reorder_state().
    shares_source = False
    # Whether start_state(enc, capacity=T) gives a state whose tensors keep their shapes
    # for T steps (what a compiled, static-shape decoding loop needs).
    fixed_shape_state = False

    def forward(self, tgt_in: torch.Tensor, enc: EncoderOutput,
                teacher_forcing: float = 1.0) -> DecoderOutput:
        """Scores for target inputs (batch, tgt_len) under teacher forcing.

        With ``teacher_forcing`` < 1, each step's input is the gold token with that
        probability and the model's own previous prediction otherwise (scheduled sampling).
        """
        raise NotImplementedError

    def attention_maps(self, tgt_in: torch.Tensor, enc: EncoderOutput) -> torch.Tensor:
        """The attention over the source of each teacher-forced step, per layer and head:
        (batch, layers, heads, tgt_len, src_len), the last layer last, for looking at it
        (heatmaps, alignments). By default the one map of :meth:`forward`."""
        attention = self.forward(tgt_in, enc).attention
        if attention is None:
            raise ConfigError(f"the decoder {type(self).__name__} gives no attention weights")
        return attention[:, None, None]

    def prepare(self, enc: EncoderOutput) -> EncoderOutput:
        """``enc`` with what every step derives from the memory in :attr:`EncoderOutput.cache`
        (computed once per batch, selected with ``enc``); as it is by default."""
        return enc

    def start_state(self, enc: EncoderOutput, capacity: int | None = None) -> DecoderState:
        """The state before the first step.

        With ``capacity`` (only asked of decoders with :attr:`fixed_shape_state`), every
        tensor of the state keeps its shape for that many steps: a decoder whose state grows
        (a Transformer's key/value cache) allocates it at full size and masks what is unused.
        A step may then write into such a state in place: step from it once, then use the
        state the step returned.
        """
        raise NotImplementedError

    def grow_state(self, state: DecoderState, capacity: int) -> DecoderState:
        """A fixed-capacity state (see :meth:`start_state`) with room for ``capacity`` steps
        in all; the state of a decoder whose state does not grow is returned as it is."""
        return state

    def step(self, prev: torch.Tensor, state: DecoderState, enc: EncoderOutput) -> StepOutput:
        """Log-probabilities of the next token given the previous ones ``prev`` (batch,)."""
        raise NotImplementedError

    # A decoder whose step's log-probabilities are log_softmax(output_layer(features))
    # offers the layer and step_features(), so that a vocabulary shortlist can score a
    # subset of the vocabulary (nmtkit.search.shortlist); None: it cannot (say, copying).
    output_layer: nn.Module | None = None
    # Output columns that never have probability (their scores are -inf; the loss leaves
    # them out of label smoothing), and columns that search never chooses although they
    # are part of each step's normalisation (see the Transformer decoder's ``start``).
    no_output: tuple[int, ...] = ()
    never_chosen: tuple[int, ...] = ()

    def step_features(self, prev: torch.Tensor, state: DecoderState,
                      enc: EncoderOutput) -> StepOutput:
        """:meth:`step` up to the output layer: its input (batch, features) in the
        ``log_probs`` field, the new state and the attention."""
        raise NotImplementedError

    def reorder_state(self, state: DecoderState, index: torch.Tensor) -> DecoderState:
        """The state of rows ``index`` (beam search keeps the surviving hypotheses)."""
        return state.index_select(index)


@dataclass
class NoOptions:
    """The Config of a component without options."""


def attend(scores: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
    """What an attention type returns from its scores: scores (batch, src_len) ->
    (context (batch, d_memory), weights (batch, src_len)), padding weighted zero; or, for
    k queries per memory row, scores (batch, k, src_len) -> context (batch * k, d_memory),
    weights (batch * k, src_len)."""
    if scores.dim() == 2:
        weights = masked_softmax(scores, mask)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights
    weights = masked_softmax(scores, mask.unsqueeze(1))
    return torch.bmm(weights, memory).flatten(0, 1), weights.flatten(0, 1)


def per_memory_row(query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """Queries (batch * k, ...) -> (batch, k, ...): the k queries of each memory row."""
    return query.view(memory.size(0), -1, *query.shape[1:])


@dataclass
class BridgeShape:
    """What a bridge is built for: it maps the encoder's final states, each (enc_layers,
    batch, enc_size), to the decoder's ``n_states`` start states, each (dec_layers, batch,
    dec_size)."""

    enc_size: int | None  # None: the encoder has no final state
    enc_layers: int
    dec_size: int
    dec_layers: int
    n_states: int  # decoder states (LSTM: 2)


@dataclass
class DecoderContext:
    """What the model gives a decoder to build itself: embeddings, sizes, and the
    attention and bridge specs (built by the decoder, which knows its own sizes)."""

    embed: nn.Module  # the target embeddings (nmtkit.models.embeddings.Embeddings)
    vocab_size: int
    memory_size: int
    enc_final_size: int | None
    enc_final_layers: int
    attention: dict | None
    bridge: dict | None
    tie_output: bool = False
    shared_vocab: bool = False  # source ids are target ids (shared embeddings)

    def build_attention(self, query_size: int):
        if self.attention is None:
            raise ConfigError("model.attention: this decoder needs an attention type")
        cls, cfg = resolve(ATTENTION, self.attention, "model.attention")
        return cls(cfg, query_size=query_size, memory_size=self.memory_size)

    def build_bridge(self, dec_size: int, dec_layers: int, n_states: int):
        cls, cfg = resolve(BRIDGES, self.bridge or {"type": "none"}, "model.bridge")
        shape = BridgeShape(self.enc_final_size, self.enc_final_layers, dec_size, dec_layers,
                            n_states)
        return cls(cfg, shape)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension with exactly zero weight where ``mask`` is False."""
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
