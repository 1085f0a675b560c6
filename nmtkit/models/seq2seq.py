"""Assembly of a sequence-to-sequence model from registered components."""

from __future__ import annotations

import torch
from torch import nn

from nmtkit.config import ModelConfig
from nmtkit.data.vocab import EOS, PAD
from nmtkit.errors import ConfigError
from nmtkit.models.build import resolve, resolved_spec
from nmtkit.models.embeddings import Embeddings
from nmtkit.models.init import init_parameters
from nmtkit.models.interfaces import DecoderContext, DecoderOutput, EncoderOutput
from nmtkit.models.registry import ATTENTION, BRIDGES, DECODERS, ENCODERS


class Seq2Seq(nn.Module):
    def __init__(self, cfg: ModelConfig, src_vocab_size: int, tgt_vocab_size: int):
        super().__init__()
        self.cfg = cfg
        self.src_embed = Embeddings(src_vocab_size, cfg.embed_dim, cfg.embed_dropout)
        if cfg.share_embeddings:
            if src_vocab_size != tgt_vocab_size:
                raise ConfigError("model.share_embeddings needs a shared vocabulary "
                                  "(nmtkit build-vocab --shared)")
            self.tgt_embed = self.src_embed
        else:
            self.tgt_embed = Embeddings(tgt_vocab_size, cfg.embed_dim, cfg.embed_dropout)
        enc_cls, enc_cfg = resolve(ENCODERS, cfg.encoder, "model.encoder")
        self.encoder = enc_cls(enc_cfg, cfg.embed_dim)
        dec_cls, dec_cfg = resolve(DECODERS, cfg.decoder, "model.decoder")
        ctx = DecoderContext(
            embed=self.tgt_embed, vocab_size=tgt_vocab_size,
            memory_size=self.encoder.output_size,
            enc_final_size=getattr(self.encoder, "final_size", None),
            enc_final_layers=getattr(self.encoder, "final_layers", 0),
            attention=cfg.attention, bridge=cfg.bridge, tie_output=cfg.tie_output,
            shared_vocab=cfg.share_embeddings,
        )
        self.decoder = dec_cls(dec_cfg, ctx)
        self.components = {
            "encoder": resolved_spec(cfg.encoder["type"], enc_cfg),
            "decoder": resolved_spec(cfg.decoder["type"], dec_cfg),
        }
        for key, registry in (("attention", ATTENTION), ("bridge", BRIDGES)):
            spec = getattr(cfg, key)
            if spec is not None:
                _, sub_cfg = resolve(registry, spec, f"model.{key}")
                self.components[key] = resolved_spec(spec["type"], sub_cfg)
        init_parameters(self, cfg.init, cfg.init_scale)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> EncoderOutput:
        """src (batch, src_len) token ids -> EncoderOutput."""
        if self.cfg.source_eos:
            src, src_lengths = append_eos(src, src_lengths)
        mask = src != PAD
        enc = self.encoder(self.src_embed(src), src_lengths, mask)
        enc.src_tokens = src
        return enc

    def forward(self, src, src_lengths, tgt_in, teacher_forcing: float = 1.0) -> DecoderOutput:
        """Teacher-forced scores (batch, tgt_len, tgt_vocab) and any auxiliary loss."""
        return self.decoder(tgt_in, self.encode(src, src_lengths), teacher_forcing)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())


def append_eos(src: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """src (batch, len) padded with PAD -> (batch, len + 1) with EOS after each row's
    tokens (``model.source_eos``), and the lengths counting it."""
    out = torch.nn.functional.pad(src, (0, 1), value=PAD)
    out.scatter_(1, lengths.to(src.device).view(-1, 1), EOS)
    return out, lengths + 1
