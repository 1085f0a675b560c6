"""Nested dataclass configs: YAML in and out, dotted overrides, unknown keys rejected.

A training config has two sections, ``model`` and ``train``. Components (encoder, bridge,
attention, decoder) are given as ``{type: NAME, option: value, ...}``; the options are
checked against the ``Config`` dataclass of the registered component, whose defaults
live beside the component.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nmtkit.checks import COUNT_MAX, SEED_MAX, check_fields, one_of, ranged
from nmtkit.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "noam", "inverse_sqrt", "reduce_on_plateau")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
VALID_METRICS = ("bleu", "chrf", "loss")
INITS = ("uniform", "xavier", "default")
# The component specs of ``model``: ``{type: NAME, ...options}``.
COMPONENT_KEYS = ("encoder", "bridge", "attention", "decoder")


def _fraction(default: float) -> Any:
    return ranged(default, 0.0, 1.0, hi_open=True)


@dataclass
class ModelConfig:
    embed_dim: int = ranged(256, 1, 65536)
    embed_dropout: float = _fraction(0.2)
    encoder: dict = field(default_factory=lambda: {"type": "rnn"})
    # null where the decoder has its own attention and start state (the Transformer)
    bridge: dict | None = field(default_factory=lambda: {"type": "dense"})
    attention: dict | None = field(default_factory=lambda: {"type": "general"})
    decoder: dict = field(default_factory=lambda: {"type": "rnn"})
    tie_output: bool = False  # decoder output projection shares the target embedding
    share_embeddings: bool = False  # source and target share one embedding (shared vocab)
    max_src_len: int = ranged(200, 1, 1 << 20)  # longer inputs are split at translation time
    # append </s> to every source sequence before encoding (as Marian models were trained)
    source_eos: bool = False
    init: str = one_of("uniform", INITS)  # see nmtkit/models/init.py
    init_scale: float = ranged(0.1, 0.0, 10.0, lo_open=True)  # bound of uniform initialisation


@dataclass
class TrainConfig:
    seed: int = ranged(1234, 0, SEED_MAX)
    batch_tokens: int = ranged(2000, 1, 1 << 24)  # padded tokens per batch (max of both sides)
    max_len: int = ranged(100, 1, 1 << 20)  # training pairs with more pieces on a side are skipped
    # Training stops at the first limit reached; with none set, after 10 epochs.
    max_steps: int = ranged(0, 0, COUNT_MAX)  # 0: no limit
    max_epochs: int = ranged(0, 0, COUNT_MAX)  # 0: no limit
    max_minutes: float = ranged(0.0, 0, COUNT_MAX)  # training time budget, validation excluded
    optimizer: str = one_of("adam", OPTIMIZERS)
    lr: float = ranged(1e-3, 0.0, 1000.0, lo_open=True)
    betas: tuple[float, float] = ranged((0.9, 0.999), 0.0, 1.0, hi_open=True)
    weight_decay: float = ranged(0.0, 0, 10.0)
    schedule: str = one_of("constant", SCHEDULES)
    warmup_steps: int = ranged(0, 0, COUNT_MAX)
    plateau_factor: float = ranged(0.5, 0.0, 1.0, lo_open=True)  # reduce_on_plateau: x this
    plateau_patience: int = ranged(1, 0, COUNT_MAX)  # ... after this many validations, no better
    accumulate: int = ranged(1, 1, 1 << 16)  # batches per optimizer step (gradient accumulation)
    # Scheduled sampling: the share of gold inputs decays linearly from 1 to
    # teacher_forcing over teacher_forcing_steps (0: teacher_forcing from the start).
    teacher_forcing: float = ranged(1.0, 0.0, 1.0)
    teacher_forcing_steps: int = ranged(0, 0, COUNT_MAX)
    label_smoothing: float = _fraction(0.1)
    # Subword regularization: each epoch, the training pairs (both sides; never validation
    # or translation) are segmented anew by sentencepiece sampling, a function of the seed,
    # the epoch and the sentence (a resumed run samples what it would have). 0: off (the
    # segmentation of preprocess). Unigram models: the smoothing alpha of Kudo (2018)
    # (sentencepiece's enable_sampling with nbest_size -1); smaller: more varied and longer
    # segmentations (0.1 about doubles the pieces of Multi30k's sentences with 8,000
    # pieces). BPE models: BPE-dropout's probability of skipping a merge (Provilkov et al.
    # 2020; 0.1 is usual). Batches are packed by the sampled lengths. Needs sentencepiece
    # units and a data folder made by a preprocess that keeps the training text
    # (train.src.txt, train.tgt.txt).
    subword_alpha: float = ranged(0.0, 0.0, 1.0)
    clip_norm: float = ranged(5.0, 0, 1e6)  # 0: no clipping
    # An update whose loss or gradient is NaN or infinite is skipped with a warning; this
    # many in a row stop training (the last checkpoint stays as it was).
    max_nonfinite: int = ranged(5, 1, COUNT_MAX)
    valid_every: int = ranged(500, 0, COUNT_MAX)  # steps between checkpoints; 0: only at the end
    valid_bleu: bool = True  # translate the validation set (greedy) for BLEU and chrF
    # What ranks validations: the best model (model.pt), train.keep_best, early stopping.
    # bleu and chrf need valid_bleu; without it validations are ranked by loss.
    valid_metric: str = one_of("bleu", VALID_METRICS)
    # Stop after this many validations in a row without a better valid_metric (0: never).
    early_stopping: int = ranged(0, 0, COUNT_MAX)
    keep_last: int = ranged(5, 0, 10000)  # checkpoint-STEP.pt files of the last N checkpoints
    keep_best: int = ranged(0, 0, 10000)  # ... and of the best N by valid_metric
    valid_batch_size: int = ranged(64, 1, 65536)
    # After training, translate the validation set (up to 2,000 lines, beam 5) in float32
    # and int8 and record in the model folder whether int8 kept BLEU: what translate
    # --precision auto reads (nmtkit check-int8 does it for an existing model folder).
    check_int8: bool = True
    log_every: int = ranged(50, 1, COUNT_MAX)
    threads: int = ranged(0, 0, 4096)  # torch intra-op threads; 0: torch's default
    # Matrix products in bfloat16 with float32 weights and loss (autocast): auto uses it
    # where the CPU has native bfloat16 (AVX512-BF16 / AMX) or on a CUDA GPU. fp16 (for
    # GPUs without bfloat16) scales the loss against underflow with a gradient scaler.
    precision: str = one_of("auto", PRECISIONS)
    tensorboard: bool = True  # event files in MODEL_DIR/tensorboard when it is installed


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def from_dict(cls: type, data: Any, where: str = "config") -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and bad types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"valid keys: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}")
    obj = cls(**kwargs)
    check_fields(obj, lambda name: f"{where}.{name}")
    return obj


_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)}, got {value!r}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value))
    if origin is list:
        return list(value)
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
            return float(value)  # YAML 1.1 reads 1e-4 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def to_dict(obj: Any) -> Any:
    """A plain, YAML-serialisable form of a dataclass config."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``a.b.c=value`` overrides (value parsed as YAML) to a nested mapping."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}': expected KEY=VALUE, e.g. train.lr=0.0005")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"override '{item}': '{part}' is not a section")
            node = child
        node[parts[-1]] = value
    return data


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not a YAML config (invalid UTF-8 at byte "
                          f"{e.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        position = getattr(e, "position", None)  # a reader error: an unacceptable character
        line = ""
        if mark is not None:
            line = f":{mark.line + 1}"
        elif isinstance(position, int):
            line = f":{text[:position].count(chr(10)) + 1}"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def merge(base: dict, over: dict) -> dict:
    """``over`` merged into ``base`` (nested mappings merged key by key). A component spec
    whose ``type`` changes is replaced whole, since its options belong to the old type."""
    for key, value in over.items():
        old = base.get(key)
        if (isinstance(old, dict) and isinstance(value, dict)
                and value.get("type", old.get("type")) == old.get("type")):
            merge(old, value)
        else:
            base[key] = value
    return base


def load_config(path: str | Path | None, overrides: list[str] | None = None,
                preset: str | None = None, base_model: dict | None = None) -> Config:
    """A named preset (or the defaults, or ``base_model``: the model section of a trained
    model's config, for fine-tuning), the YAML config merged over it, then the dotted
    overrides; everything validated."""
    from nmtkit.presets import preset as get_preset

    # The default components first, so that a dotted override such as
    # model.decoder.hidden_size=256 merges into the default decoder.
    defaults = to_dict(ModelConfig())
    data = {"model": {key: defaults[key] for key in COMPONENT_KEYS}}
    merge(data, {"model": base_model} if base_model else {})
    merge(data, get_preset(preset) if preset else {})
    merge(data, load_yaml(path) if path else {})
    apply_overrides(data, overrides or [])
    return from_dict(Config, data, "config")


def save_yaml(data: dict, path: str | Path) -> None:
    from nmtkit.fileio import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(data, sort_keys=False))
