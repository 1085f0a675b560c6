"""Several models decoding as one (an ensemble): at each step the average of the models'
log-probabilities, each model with its own encoder output and decoder state. To search it
is one model with one decoder (:class:`EnsembleDecoder` implements the decoder interface),
so every strategy decodes ensembles. Rows stay independent, so an ensemble in float32 or
int8 gives the same lines whatever the batch, as one model does."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from nmtkit.models.interfaces import Decoder, DecoderState, EncoderOutput, StepOutput


@dataclass
class EnsembleEncoderOutput(EncoderOutput):
    """The first model's output in the fields (what search reads of them: sizes and the
    mask), and every model's in ``parts``."""

    parts: tuple = ()

    @classmethod
    def of(cls, parts) -> EnsembleEncoderOutput:
        # the widest (a model with source_eos has one position more)
        first = max(parts, key=lambda p: p.memory.size(1))
        return cls(first.memory, first.mask, first.final, first.src_tokens, first.cache,
                   tuple(parts))

    def index_select(self, index: torch.Tensor) -> EnsembleEncoderOutput:
        return self.of([p.index_select(index) for p in self.parts])

    def pad_to(self, length: int) -> EnsembleEncoderOutput:
        return self.of([p.pad_to(length) for p in self.parts])


@dataclass
class EnsembleState(DecoderState):
    states: tuple

    def index_select(self, index: torch.Tensor):
        raise TypeError("an ensemble's state is reordered by EnsembleDecoder.reorder_state")


class EnsembleDecoder(Decoder):
    """The models' decoders stepping together; log-probabilities averaged."""

    fixed_shape_state = False
    output_layer = None  # no shortlist: each model has its own output layer

    def __init__(self, decoders: list[Decoder]):
        super().__init__()
        self.decoders = nn.ModuleList(decoders)
        self.shares_source = all(d.shares_source for d in decoders)

    def prepare(self, enc: EnsembleEncoderOutput) -> EnsembleEncoderOutput:
        return EnsembleEncoderOutput.of([d.prepare(p) for d, p in zip(self.decoders, enc.parts)])

    def start_state(self, enc: EnsembleEncoderOutput, capacity: int | None = None):
        return EnsembleState(tuple(d.start_state(p) for d, p in zip(self.decoders, enc.parts)))

    def step(self, prev: torch.Tensor, state: EnsembleState,
             enc: EnsembleEncoderOutput) -> StepOutput:
        outs = [d.step(prev, s, p) for d, s, p in zip(self.decoders, state.states, enc.parts)]
        log_probs = torch.stack([o.log_probs.float() for o in outs]).mean(dim=0)
        attention = [o.attention for o in outs]
        if all(a is not None and a.shape == attention[0].shape for a in attention):
            attention = torch.stack(attention).mean(dim=0)
        else:
            attention = attention[0]
        return StepOutput(log_probs, EnsembleState(tuple(o.state for o in outs)), attention)

    def reorder_state(self, state: EnsembleState, index: torch.Tensor) -> EnsembleState:
        return dataclasses.replace(state, states=tuple(
            d.reorder_state(s, index) for d, s in zip(self.decoders, state.states)))


class Ensemble(nn.Module):
    """Models sharing their vocabularies, searched as one (``translate --model-dir A
    --model-dir B``)."""

    def __init__(self, models: list[nn.Module]):
        super().__init__()
        self.models = nn.ModuleList(models)
        self.decoder = EnsembleDecoder([m.decoder for m in models])

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> EnsembleEncoderOutput:
        return EnsembleEncoderOutput.of([m.encode(src, src_lengths) for m in self.models])
