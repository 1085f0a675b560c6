"""Nested dataclass configs: YAML in and out, dotted overrides, unknown keys rejected.

A training config has two sections, ``model`` and ``train``. Components (encoder, bridge,
attention, decoder) are given as ``{type: NAME, option: value, ...}``; the options are
checked against the ``Config`` dataclass of the registered component, whose defaults
live beside the component.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nmtkit.errors import ConfigError


@dataclass
class ModelConfig:
    embed_dim: int = 256
    embed_dropout: float = 0.2
    encoder: dict = field(default_factory=lambda: {"type": "rnn"})
    # null where the decoder has its own attention and start state (the Transformer)
    bridge: dict | None = field(default_factory=lambda: {"type": "dense"})
    attention: dict | None = field(default_factory=lambda: {"type": "general"})
    decoder: dict = field(default_factory=lambda: {"type": "rnn"})
    tie_output: bool = False  # decoder output projection shares the target embedding
    share_embeddings: bool = False  # source and target share one embedding (shared vocab)
    max_src_len: int = 200  # longer inputs are split into pieces at translation time
    init: str = "uniform"  # uniform | xavier | default (see nmtkit/models/init.py)
    init_scale: float = 0.1  # bound of the uniform initialisation


@dataclass
class TrainConfig:
    seed: int = 1234
    batch_tokens: int = 2000  # padded tokens per batch (max of source and target side)
    max_len: int = 100  # training pairs with more pieces on either side are skipped
    # Training stops at the first limit reached; with none set, after 10 epochs.
    max_steps: int = 0  # 0: no limit
    max_epochs: int = 0  # 0: no limit
    max_minutes: float = 0.0  # training time budget, validation excluded; 0: no limit
    optimizer: str = "adam"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | noam | inverse_sqrt | reduce_on_plateau
    warmup_steps: int = 0
    plateau_factor: float = 0.5  # reduce_on_plateau: multiply the rate by this ...
    plateau_patience: int = 1  # ... after this many validations without improvement
    accumulate: int = 1  # batches per optimizer step (gradient accumulation)
    # Scheduled sampling: the share of gold inputs decays linearly from 1 to
    # teacher_forcing over teacher_forcing_steps (0: teacher_forcing from the start).
    teacher_forcing: float = 1.0
    teacher_forcing_steps: int = 0
    label_smoothing: float = 0.1
    clip_norm: float = 5.0
    valid_every: int = 500  # steps; 0: only at the end
    valid_bleu: bool = True
    valid_batch_size: int = 64
    log_every: int = 50
    threads: int = 0  # torch intra-op threads; 0: torch's default
    # Matrix products in bfloat16 with float32 weights and loss (autocast): auto uses it
    # where the CPU has native bfloat16 (AVX512-BF16 / AMX) or on a CUDA GPU.
    precision: str = "auto"  # auto | fp32 | bf16


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
    return cls(**kwargs)


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
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(a, v, where) for a, v in zip(typing.get_args(tp), value))
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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {getattr(e, 'problem', e)}") from None
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
                preset: str | None = None) -> Config:
    """A named preset (or the defaults), the YAML config merged over it, then the dotted
    overrides; everything validated."""
    from nmtkit.presets import preset as get_preset

    data = get_preset(preset) if preset else {}
    merge(data, load_yaml(path) if path else {})
    apply_overrides(data, overrides or [])
    return from_dict(Config, data, "config")


def save_yaml(data: dict, path: str | Path) -> None:
    from nmtkit.fileio import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(data, sort_keys=False))
