"""``nmtkit export --format ctranslate2 MODEL_DIR OUT_DIR``: a Transformer model folder as
a CTranslate2 model, through CTranslate2's own model specification API (the optional
``ctranslate2`` extra).

Each nmtkit parameter goes to its place in CTranslate2's ``TransformerSpec``: query, key
and value projections fused as CTranslate2 keeps them, layer-norm gains written as the
``1 + offset`` nmtkit stores, the sinusoidal (or learned) position table written out as
nmtkit computes it, embeddings scaled by sqrt(d_model) as nmtkit scales them. The output
folder also holds nmtkit's tokenizer files (``tokenizer.json``, sentencepiece models), so
input can be split into the pieces CTranslate2 expects. RNN models have no CTranslate2
counterpart (CTranslate2 has no RNN decoder): a one-line error.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from nmtkit.errors import NmtkitError
from nmtkit.fileio import atomic_dir, write_json
from nmtkit.folders import MARKERS, claim_folder
from nmtkit.model_folder.folder import ModelFolder
from nmtkit.version import __version__

FORMATS = ("ctranslate2",)
QUANTIZATIONS = ("float32", "int8", "int8_float32", "bfloat16", "int8_bfloat16", "float16",
                 "int8_float16")
POSITIONS = 1024  # rows of the position table written for sinusoidal positions
NEVER = -1e9  # the output bias of a column CTranslate2 must never choose


@dataclass
class ExportReport:
    out: Path
    layers: tuple[int, int]
    quantization: str | None


def _ctranslate2():
    try:
        import ctranslate2
    except ImportError:
        raise NmtkitError("export --format ctranslate2 needs the ctranslate2 package: pip "
                          "install 'nmtkit[ctranslate2]'") from None
    return ctranslate2


def _linear(spec, *layers: torch.nn.Linear) -> None:
    """``spec``'s weight and bias: ``layers`` stacked along the output (fused)."""
    spec.weight = torch.cat([layer.weight.detach() for layer in layers]).float().numpy()
    spec.bias = torch.cat([layer.bias.detach() for layer in layers]).float().numpy()


def _norm(spec, norm) -> None:
    spec.gamma = (1.0 + norm.gain_offset.detach()).float().numpy()
    spec.beta = norm.bias.detach().float().numpy()


def _inputs(spec, embed, side) -> None:
    tables = spec.embeddings if isinstance(spec.embeddings, list) else [spec.embeddings]
    tables[0].weight = embed.table.weight.detach().float().numpy()
    spec.scale_embeddings = side.scale != 1.0  # nmtkit's scale is sqrt(d_model) or 1
    positions = side.positions
    if hasattr(positions, "table"):  # learned
        table = positions.table.weight.detach()
    else:
        table = positions.encoding(torch.arange(POSITIONS))
    spec.position_encodings.encodings = table.float().numpy()


def _attention(spec, attn, self_attention: bool) -> None:
    if self_attention:
        _linear(spec.linear[0], attn.query, attn.key, attn.value)
    else:
        _linear(spec.linear[0], attn.query)
        _linear(spec.linear[1], attn.key, attn.value)
    _linear(spec.linear[-1], attn.out)


def _ffn(spec, layer) -> None:
    _norm(spec.layer_norm, layer.ff_res.norm)
    _linear(spec.linear_0, layer.ff.inner)
    _linear(spec.linear_1, layer.ff.outer)


def transformer_spec(model, src_tokens: list[str], tgt_tokens: list[str]):
    """The CTranslate2 ``TransformerSpec`` of an nmtkit Transformer ``model``."""
    _ctranslate2()
    from ctranslate2.specs import TransformerSpec

    encoder, decoder = model.encoder, model.decoder
    if type(encoder).__name__ != "TransformerEncoder" or \
            type(decoder).__name__ != "TransformerDecoder":
        raise NmtkitError(f"export --format ctranslate2: Transformer models only (this one "
                          f"has a {type(encoder).__name__} and a {type(decoder).__name__}; "
                          "CTranslate2 has no RNN decoder)")
    if encoder.cfg.pre_norm != decoder.cfg.pre_norm or encoder.cfg.heads != decoder.cfg.heads:
        raise NmtkitError("export --format ctranslate2: the encoder and decoder must agree "
                          "on pre_norm and heads")
    if encoder.cfg.activation != decoder.cfg.activation:
        raise NmtkitError("export --format ctranslate2: the encoder and decoder must agree "
                          "on activation")
    from ctranslate2.specs.common_spec import Activation

    activation = {"relu": Activation.RELU, "gelu": Activation.GELU,
                  "gelu_tanh": Activation.GELUTanh, "swish": Activation.SWISH}
    spec = TransformerSpec.from_config((len(encoder.layers), len(decoder.layers)),
                                       encoder.cfg.heads, pre_norm=encoder.cfg.pre_norm,
                                       no_final_norm=not encoder.cfg.pre_norm,
                                       activation=activation[encoder.cfg.activation])
    spec.config.layer_norm_epsilon = encoder.layers[0].attn_res.norm.eps
    spec.config.add_source_eos = bool(model.cfg.source_eos)
    _inputs(spec.encoder, model.src_embed, encoder)
    for out, layer in zip(spec.encoder.layer, encoder.layers):
        _attention(out.self_attention, layer.self_attn, self_attention=True)
        _norm(out.self_attention.layer_norm, layer.attn_res.norm)
        _ffn(out.ffn, layer)
    _inputs(spec.decoder, model.tgt_embed, decoder)
    for out, layer in zip(spec.decoder.layer, decoder.layers):
        _attention(out.self_attention, layer.self_attn, self_attention=True)
        _norm(out.self_attention.layer_norm, layer.self_res.norm)
        _attention(out.attention, layer.cross_attn, self_attention=False)
        _norm(out.attention.layer_norm, layer.cross_res.norm)
        _ffn(out.ffn, layer)
    if encoder.cfg.pre_norm:
        _norm(spec.encoder.layer_norm, encoder.final_norm)
        _norm(spec.decoder.layer_norm, decoder.final_norm)
    _linear(spec.decoder.projection, decoder.generator)
    # Columns without probability, or never chosen (the decoder's ``start: padding``): a
    # bias no score reaches, as CTranslate2's search has no such rule.
    for column in (*decoder.no_output, *decoder.never_chosen):
        spec.decoder.projection.bias[column] = NEVER
    spec.register_source_vocabulary(src_tokens)
    spec.register_target_vocabulary(tgt_tokens)
    return spec


def export(model_dir: Path, out: Path, fmt: str = "ctranslate2",
           quantization: str | None = None, overwrite: bool = False) -> ExportReport:
    if fmt not in FORMATS:
        raise NmtkitError(f"--format: unknown '{fmt}'; valid: {', '.join(FORMATS)}")
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise NmtkitError(f"--quantization: unknown '{quantization}'; valid: "
                          f"{', '.join(QUANTIZATIONS)}")
    claim_folder(Path(out), "ctranslate2", "OUT", [Path(model_dir)], overwrite)
    _ctranslate2()
    folder = ModelFolder.open(Path(model_dir))
    loaded = folder.load()
    with torch.no_grad():
        spec = transformer_spec(loaded.model, loaded.src_vocab.tokens, loaded.tgt_vocab.tokens)
    spec.validate()
    spec.optimize(quantization=quantization)
    with atomic_dir(Path(out), overwrite) as staged:
        spec.save(str(staged))
        for name in ["tokenizer.json", *(p.name for p in folder.path.glob("spm*.model"))]:
            shutil.copy2(folder.path / name, staged / name)
        write_json(staged / MARKERS["ctranslate2"], {  # last: marks a whole export
            "format": fmt, "from": str(model_dir), "quantization": quantization,
            "nmtkit_version": __version__})
    model = loaded.model
    return ExportReport(Path(out), (len(model.encoder.layers), len(model.decoder.layers)),
                        quantization)
