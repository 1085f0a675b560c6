"""``nmtkit import MARIAN_DIR OUT``: an OPUS-MT / Marian model in Hugging Face's format (a
folder holding ``config.json``, ``model.safetensors`` or ``pytorch_model.bin``,
``source.spm``, ``target.spm`` and ``vocab.json``) as an ordinary nmtkit model folder.

Each particular of the Marian Transformer is an option of nmtkit's registered Transformer
components, not a special case of the loader:

==============================================  ===========================================
Marian                                          nmtkit
==============================================  ===========================================
post-norm layers                                ``pre_norm: false``
sinusoidal positions, sines then cosines        ``positions: sinusoidal_halves``
embeddings times sqrt(d_model)                  ``scale_embeddings`` (``scale_embedding``)
one embedding for encoder, decoder and output   ``model.share_embeddings``, ``tie_output``
the output layer's bias (``final_logits_bias``)  the output layer's bias
the activation it was trained with              ``activation`` (relu, gelu, gelu_tanh, swish)
decoding starts from the padding entry          decoder ``start: padding``
``</s>`` after every source                     ``model.source_eos``
``>>xxx<<`` target tags                         the tokenizer's ``target_tags``
==============================================  ===========================================

The sentencepiece ids are not the model's ids: ``vocab.json`` maps pieces to rows. nmtkit's
vocabulary lists the specials first (<pad>, <unk>, <s>, </s>), then Marian's entries in
Marian's order; the weights' rows are permuted to match (Marian's padding entry takes the
<s> row, see the decoder's ``start``). A configuration or a file this does not reproduce
exactly is refused with one line naming the setting: nothing is written then.

Weights are read with ``torch.load(weights_only=True)`` or from safetensors: never code.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from nmtkit.config import Config, ModelConfig, from_dict, save_yaml
from nmtkit.data.units import TokenizerSpec
from nmtkit.data.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocab
from nmtkit.errors import NmtkitError
from nmtkit.fileio import atomic_dir, file_fingerprint, write_json
from nmtkit.folders import claim_folder
from nmtkit.model_folder.tensors import save_tensors
from nmtkit.models.positions import SinusoidalPositions
from nmtkit.version import FORMAT_VERSION, __version__

# Hugging Face's activation names -> nmtkit's
ACTIVATIONS = {"relu": "relu", "swish": "swish", "silu": "swish", "gelu": "gelu",
               "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh"}
# Settings of the BART family that can appear in a Marian config.json; Marian's
# architecture has the value on the right (or the key absent) and nothing else.
FIXED = {"normalize_before": False, "add_final_layer_norm": False,
         "normalize_embedding": False, "static_position_embeddings": True,
         "add_bias_logits": False, "layernorm_embedding": False}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
SPM_FILES = {"src": "spm.src.model", "tgt": "spm.tgt.model"}
TAG_START, TAG_END = ">>", "<<"


@dataclass
class ImportReport:
    out: Path
    layers: tuple[int, int]
    vocab_sizes: tuple[int, int]
    languages: list[str]  # target languages of the >>xxx<< tags (none: one target)


@dataclass
class MarianFolder:
    """What a Hugging Face Marian folder holds, read and checked."""

    path: Path
    config: dict
    src_vocab: dict[str, int]
    tgt_vocab: dict[str, int]
    separate_vocabs: bool
    weights: dict[str, torch.Tensor]


def _fail(path: Path, what: str) -> NmtkitError:
    return NmtkitError(f"{path}: {what}; nmtkit does not convert this model (it would not "
                       f"translate as the original does)")


def _json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise NmtkitError(f"{path}: missing; a Marian model folder in Hugging Face format "
                          f"holds config.json, vocab.json, source.spm, target.spm and "
                          f"model.safetensors or pytorch_model.bin")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NmtkitError(f"{path}: not a {what} ({e})") from None
    if not isinstance(doc, dict):
        raise NmtkitError(f"{path}: not a {what} (expected a JSON object)")
    return doc


def _vocab(path: Path) -> dict[str, int]:
    doc = _json(path, "vocabulary (vocab.json)")
    ids = sorted(doc.values()) if all(type(v) is int for v in doc.values()) else None
    if ids != list(range(len(doc))):
        raise NmtkitError(f"{path}: damaged vocabulary (the ids are not 0 .. {len(doc) - 1}, "
                          f"each once)")
    return doc


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    for name in WEIGHT_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if name.endswith(".safetensors"):
            try:
                from safetensors.torch import load_file
            except ImportError:
                raise NmtkitError(f"{path}: reading safetensors needs the safetensors package: "
                                  f"pip install 'nmtkit[marian]'") from None
            try:
                return load_file(str(path))
            except Exception as e:  # noqa: BLE001 - any damage is one line
                raise NmtkitError(f"{path}: damaged safetensors file ({e})") from None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001
            raise NmtkitError(f"{path}: not a file of tensors torch.load reads without "
                              f"running code ({str(e).splitlines()[0][:120]})") from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                                  for v in state.values()):
            raise NmtkitError(f"{path}: not a state dict of tensors")
        return state
    raise NmtkitError(f"{folder}: no weights (model.safetensors or pytorch_model.bin)")


def read_marian(folder: Path) -> MarianFolder:
    folder = Path(folder)
    if not folder.is_dir():
        raise NmtkitError(f"{folder}: no such folder")
    config = _json(folder / "config.json", "model configuration (config.json)")
    for name in ("source.spm", "target.spm"):
        if not (folder / name).is_file():
            raise NmtkitError(f"{folder / name}: missing; the model's sentencepiece models "
                              f"are source.spm and target.spm")
    tok_config = folder / "tokenizer_config.json"
    tok = _json(tok_config, "tokenizer configuration") if tok_config.is_file() else {}
    separate = bool(tok.get("separate_vocabs"))
    src_vocab = _vocab(folder / "vocab.json")
    tgt_vocab = _vocab(folder / "target_vocab.json") if separate else src_vocab
    return MarianFolder(folder, config, src_vocab, tgt_vocab, separate, _weights(folder))


# -- the configuration ---------------------------------------------------------------
def _int(cfg: dict, key: str, where: Path, default=None) -> int:
    value = cfg.get(key, default)
    if type(value) is not int:
        raise _fail(where, f"{key} is {value!r}, expected a whole number")
    return value


def model_config(src: MarianFolder) -> dict:
    """The ``model`` section of the nmtkit config that reproduces ``src``, or one line
    naming the setting it cannot reproduce."""
    cfg, where = src.config, src.path / "config.json"
    if cfg.get("model_type") != "marian":
        raise _fail(where, f"model_type is {cfg.get('model_type')!r}, not 'marian'")
    for key, value in FIXED.items():
        if key in cfg and cfg[key] != value:
            raise _fail(where, f"{key} is {cfg[key]!r}; Marian's Transformer has {value!r}")
    act = cfg.get("activation_function", "gelu")
    if act not in ACTIVATIONS:
        raise _fail(where, f"activation_function {act!r} (nmtkit has "
                           f"{', '.join(sorted(ACTIVATIONS))})")
    pad, start = _int(cfg, "pad_token_id", where), _int(cfg, "decoder_start_token_id", where)
    if start != pad:
        raise _fail(where, f"decoder_start_token_id {start} is not pad_token_id {pad}")
    d_model = _int(cfg, "d_model", where)
    side = {}
    for name, prefix in (("encoder", "encoder"), ("decoder", "decoder")):
        heads = _int(cfg, f"{prefix}_attention_heads", where)
        if heads < 1 or d_model % heads:
            raise _fail(where, f"{prefix}_attention_heads {heads} does not divide d_model "
                               f"{d_model}")
        side[name] = {"type": "transformer", "layers": _int(cfg, f"{prefix}_layers", where),
                      "heads": heads, "ff_size": _int(cfg, f"{prefix}_ffn_dim", where),
                      "dropout": float(cfg.get("dropout", 0.1)),
                      "attention_dropout": float(cfg.get("attention_dropout", 0.0)),
                      "pre_norm": False, "positions": "sinusoidal_halves",
                      "scale_embeddings": bool(cfg.get("scale_embedding", False)),
                      "activation": ACTIVATIONS[act]}
    side["decoder"]["start"] = "padding"
    shared = bool(cfg.get("share_encoder_decoder_embeddings", True))
    if shared and src.separate_vocabs:
        raise _fail(where, "share_encoder_decoder_embeddings is true but the tokenizer has "
                           "separate source and target vocabularies")
    positions = _int(cfg, "max_position_embeddings", where, 512)
    return {"embed_dim": d_model, "embed_dropout": 0.0, "encoder": side["encoder"],
            "bridge": None, "attention": None, "decoder": side["decoder"],
            "tie_output": bool(cfg.get("tie_word_embeddings", True)),
            "share_embeddings": shared, "max_src_len": max(1, positions - 1),
            "source_eos": True, "init": "default"}


# -- the vocabulary ------------------------------------------------------------------
def vocab_order(marian: dict[str, int], cfg: dict, where: Path) -> tuple[list[str], list[int]]:
    """nmtkit's tokens and, for each, the Marian row it takes (-1: <pad>, no row)."""
    specials = {"eos_token_id": "</s>", "pad_token_id": "<pad>"}
    by_id = {i: t for t, i in marian.items()}
    for key, token in specials.items():
        i = cfg.get(key)
        if by_id.get(i) != token:
            raise _fail(where, f"{key} {i} is {by_id.get(i)!r} in the vocabulary, not {token}")
    if "<unk>" not in marian:
        raise _fail(where.parent / "vocab.json", "no <unk> entry")
    if "<s>" in marian:
        raise _fail(where.parent / "vocab.json", "an <s> entry, which nmtkit's decoding "
                                                 "start takes")
    rows = {PAD: -1, UNK: marian["<unk>"], BOS: marian["<pad>"], EOS: marian["</s>"]}
    taken = set(rows.values())
    rest = [t for t, i in sorted(marian.items(), key=lambda ti: ti[1]) if i not in taken]
    tokens = [*SPECIALS, *rest]
    return tokens, [rows[i] for i in range(len(SPECIALS))] + [marian[t] for t in rest]


def _rows(table: torch.Tensor, order: list[int]) -> torch.Tensor:
    """``table``'s rows in nmtkit's order; zeros for -1 (<pad>)."""
    index = torch.tensor([max(i, 0) for i in order])
    out = table.index_select(0, index).clone()
    out[torch.tensor([i < 0 for i in order])] = 0.0
    return out


# -- the weights ---------------------------------------------------------------------
LAYER = {"self_attn.q_proj": "{a}.query", "self_attn.k_proj": "{a}.key",
         "self_attn.v_proj": "{a}.value", "self_attn.out_proj": "{a}.out",
         "encoder_attn.q_proj": "cross_attn.query", "encoder_attn.k_proj": "cross_attn.key",
         "encoder_attn.v_proj": "cross_attn.value", "encoder_attn.out_proj": "cross_attn.out",
         "fc1": "ff.inner", "fc2": "ff.outer"}
NORMS = {"self_attn_layer_norm": "{r}.norm", "encoder_attn_layer_norm": "cross_res.norm",
         "final_layer_norm": "ff_res.norm"}


def _strip(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys without the ``model.`` prefix of MarianMTModel (MarianModel has none)."""
    return {(k[len("model."):] if k.startswith("model.") else k): v.float()
            for k, v in weights.items()}


def _take(w: dict, key: str, where: Path) -> torch.Tensor:
    if key not in w:
        raise _fail(where, f"no {key} in the weights")
    return w.pop(key)


def _embedding(w: dict, side: str, where: Path) -> torch.Tensor:
    """The side's embedding table: its own, or the shared one."""
    own, shared = f"{side}.embed_tokens.weight", "shared.weight"
    if own in w and shared in w and not torch.equal(w[own], w[shared]):
        raise _fail(where, f"{own} differs from {shared} (which one the model uses is "
                           f"ambiguous)")
    return w.get(own, w.get(shared)) if (own in w or shared in w) else _take(w, own, where)


def convert_weights(src: MarianFolder, model, src_order: list[int],
                    tgt_order: list[int]) -> None:
    """Copy ``src``'s weights into the nmtkit ``model`` (built from :func:`model_config`);
    a missing, extra or misshapen tensor is one line."""
    where = src.path / next(n for n in WEIGHT_FILES if (src.path / n).is_file())
    w = _strip(src.weights)
    cfg = model.cfg
    enc_table, dec_table = _embedding(w, "encoder", where), _embedding(w, "decoder", where)
    head = w.pop("lm_head.weight", None)
    bias = w.pop("final_logits_bias", None)
    if cfg.tie_output and head is not None and not torch.equal(head, dec_table):
        raise _fail(where, "tie_word_embeddings is true but lm_head.weight differs from the "
                           "decoder's embeddings")
    if not cfg.tie_output and head is None:
        raise _fail(where, "tie_word_embeddings is false but there is no lm_head.weight")
    vocab = (len(src.src_vocab), len(src.tgt_vocab))
    for name, table, size in (("encoder", enc_table, vocab[0]),
                              ("decoder", dec_table, vocab[1])):
        if table.shape != (size, cfg.embed_dim):
            raise _fail(where, f"the {name} embeddings are {tuple(table.shape)}, but the "
                               f"vocabulary has {size} entries of d_model {cfg.embed_dim}")
    for side, layers in (("encoder", model.encoder.layers), ("decoder", model.decoder.layers)):
        table = w.pop(f"{side}.embed_positions.weight", None)
        if table is not None:
            ours = SinusoidalPositions(cfg.embed_dim, halves=True).encoding(
                torch.arange(table.size(0)))
            if table.shape != ours.shape or not torch.allclose(table, ours, atol=1e-5):
                raise _fail(where, f"{side}.embed_positions is not Marian's sinusoidal table")
        for key in (f"{side}.embed_tokens.weight",):
            w.pop(key, None)
        attn, res = ("self_attn", "attn_res") if side == "encoder" else ("self_attn", "self_res")
        for i, layer in enumerate(layers):
            prefix = f"{side}.layers.{i}."
            for theirs, ours in LAYER.items():
                if side == "encoder" and theirs.startswith("encoder_attn"):
                    continue
                linear = layer.get_submodule(ours.format(a=attn))
                _copy(linear.weight, _take(w, prefix + theirs + ".weight", where), where)
                _copy(linear.bias, _take(w, prefix + theirs + ".bias", where), where)
            for theirs, ours in NORMS.items():
                if side == "encoder" and theirs.startswith("encoder_attn"):
                    continue
                norm = layer.get_submodule(ours.format(r=res))
                _copy(norm.gain_offset, _take(w, prefix + theirs + ".weight", where) - 1.0,
                      where)
                _copy(norm.bias, _take(w, prefix + theirs + ".bias", where), where)
    w.pop("shared.weight", None)
    if w:
        raise _fail(where, f"weights nmtkit's Marian does not use: {', '.join(sorted(w)[:3])}")
    with torch.no_grad():
        model.src_embed.table.weight.copy_(_rows(enc_table, src_order))
        if not cfg.share_embeddings:
            model.tgt_embed.table.weight.copy_(_rows(dec_table, tgt_order))
        if not cfg.tie_output:
            model.decoder.generator.weight.copy_(_rows(head, tgt_order))
        out_bias = torch.zeros(len(tgt_order)) if bias is None else \
            _rows(bias.reshape(-1, 1), tgt_order).reshape(-1)
        model.decoder.generator.bias.copy_(out_bias)


def _copy(param: torch.nn.Parameter, value: torch.Tensor, where: Path) -> None:
    if param.shape != value.shape:
        raise _fail(where, f"a tensor of shape {tuple(value.shape)} where nmtkit's Marian "
                           f"has {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(value)


# -- the folder ----------------------------------------------------------------------
def target_tags(vocab: dict[str, int]) -> dict[str, str]:
    """Target language -> tag, for the ``>>xxx<<`` entries of the source vocabulary."""
    return {t[len(TAG_START):-len(TAG_END)]: t for t in vocab
            if t.startswith(TAG_START) and t.endswith(TAG_END) and len(t) > 4}


def import_marian(marian_dir: Path, out: Path, overwrite: bool = False,
                  src_lang: str | None = None, tgt_lang: str | None = None) -> ImportReport:
    """Write the nmtkit model folder ``out`` reproducing the Marian model in
    ``marian_dir``; see the module docstring. ``src_lang`` / ``tgt_lang``: language
    codes to record (``serve`` names and finds models by them)."""
    from nmtkit.checks import check_language

    check_language("--src-lang", src_lang)
    check_language("--tgt-lang", tgt_lang)
    from nmtkit.model_folder.folder import resolved_config
    from nmtkit.models.seq2seq import Seq2Seq

    marian_dir, out = Path(marian_dir), Path(out)
    claim_folder(out, "model", "OUT", [marian_dir], overwrite)
    src = read_marian(marian_dir)
    where = marian_dir / "config.json"
    section = model_config(src)
    if src.config.get("vocab_size") not in (None, len(src.src_vocab)):
        raise _fail(where, f"vocab_size {src.config.get('vocab_size')} but vocab.json has "
                           f"{len(src.src_vocab)} entries")
    decoder_size = src.config.get("decoder_vocab_size") or src.config.get("vocab_size")
    if decoder_size not in (None, len(src.tgt_vocab)):
        raise _fail(where, f"decoder_vocab_size {decoder_size} but the target vocabulary has "
                           f"{len(src.tgt_vocab)} entries")
    src_tokens, src_order = vocab_order(src.src_vocab, src.config, where)
    tgt_tokens, tgt_order = vocab_order(src.tgt_vocab, src.config, where)
    config = Config(model=from_dict(ModelConfig, section, "config.model"))
    model = Seq2Seq(config.model, len(src_tokens), len(tgt_tokens))
    convert_weights(src, model, src_order, tgt_order)
    tags = target_tags(src.src_vocab)
    spec = TokenizerSpec("spm", SPM_FILES["src"], SPM_FILES["tgt"], tuple(sorted(tags.items())))
    with atomic_dir(out, overwrite) as staged:
        shutil.copyfile(marian_dir / "source.spm", staged / SPM_FILES["src"])
        shutil.copyfile(marian_dir / "target.spm", staged / SPM_FILES["tgt"])
        Vocab(src_tokens, [0] * len(src_tokens)).save(staged / "vocab.src.tsv")
        Vocab(tgt_tokens, [0] * len(tgt_tokens)).save(staged / "vocab.tgt.tsv")
        write_json(staged / "tokenizer.json", spec.to_json())
        save_yaml(resolved_config(config, model.components), staged / "config.yaml")
        save_tensors({"format_version": FORMAT_VERSION, "model": model.state_dict()},
                     staged / "model.pt")
        names = ["vocab.src.tsv", "vocab.tgt.tsv", *SPM_FILES.values(), "tokenizer.json"]
        write_json(staged / "meta.json", {  # last: marks a whole model folder
            "format_version": FORMAT_VERSION, "nmtkit_version": __version__,
            "torch_version": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "components": model.components, "plugins": {},
            "parameters": model.n_parameters(),
            "languages": {side: code for side, code in (("src", src_lang), ("tgt", tgt_lang))
                          if code},
            "imported": {"format": "marian", "from": str(marian_dir),
                         "config_sha256": file_fingerprint(where)},
            "fingerprints": {n: file_fingerprint(staged / n) for n in names}})
    return ImportReport(out, (len(model.encoder.layers), len(model.decoder.layers)),
                        (len(src_tokens), len(tgt_tokens)), sorted(tags))
