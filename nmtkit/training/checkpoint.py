"""The model folder: everything ``translate`` needs, and the state that resumes training.

=====================  ===========================================================
``config.yaml``        the resolved config (every default filled in)
``meta.json``          format version, versions, components, plugins, parameters, progress
``vocab.src.tsv``      source vocabulary with counts (``vocab.tgt.tsv`` likewise)
``tokenizer.json``     units and the sentencepiece model file names
``spm*.model``         sentencepiece model(s), for sentencepiece units
``model.pt``           weights of the best model so far (state dict of tensors)
``train_state.pt``     last weights, optimizer, schedule, random states, data position
=====================  ===========================================================

Tensors are saved with ``torch.save`` and read with ``torch.load(weights_only=True)``:
a model file can never run code. Every file is written atomically.

``meta.json`` records under ``plugins`` the package and version of every component that
came from an outside package, so that loading where it is missing names what to install.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import nmtkit
from nmtkit.config import Config, from_dict, load_yaml, save_yaml, to_dict
from nmtkit.data.units import Tokenizer, build_tokenizer
from nmtkit.data.vocab import Vocab
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.fileio import atomic_path, atomic_write_text
from nmtkit.registry import ATTENTION, BRIDGES, DECODERS, ENCODERS, Registry, load_builtins

# The registry of each component key of ``model`` in the config.
COMPONENT_REGISTRIES: dict[str, Registry] = {
    "encoder": ENCODERS, "decoder": DECODERS, "attention": ATTENTION, "bridge": BRIDGES,
}


@dataclass
class LoadedModel:
    """A model ready to translate, with its vocabularies and tokenizers."""

    model: Any  # Seq2Seq
    config: Config
    src_vocab: Vocab
    tgt_vocab: Vocab
    src_tokenizer: Tokenizer
    tgt_tokenizer: Tokenizer
    meta: dict


def save_tensors(obj: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_tensors(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise NmtkitError(f"{path}: missing") from None
    except Exception as e:  # noqa: BLE001 -- corrupt or foreign: never fall back to unpickling
        raise NmtkitError(f"{path}: not a valid nmtkit tensor file "
                          f"({e.__class__.__name__})") from None


class ModelFolder:
    def __init__(self, path: Path):
        self.path = Path(path)

    # -- writing ----------------------------------------------------------------------
    def prepare(self, config: dict, data_dir: Path, manifest: dict, components: dict,
                n_parameters: int) -> None:
        """Write config, vocabularies and tokenizer files (before the first weights)."""
        self.path.mkdir(parents=True, exist_ok=True)
        save_yaml(config, self.path / "config.yaml")
        tok = dict(manifest["tokenizer"])
        names = [f"vocab.{side}.tsv" for side in ("src", "tgt")]
        names += {tok[key] for key in ("src_model", "tgt_model") if tok.get(key)}
        for name in names:
            with atomic_path(self.path / name) as tmp:
                shutil.copyfile(data_dir / name, tmp)
        atomic_write_text(self.path / "tokenizer.json", json.dumps(tok, indent=2) + "\n")
        self.write_meta({
            "format_version": nmtkit.FORMAT_VERSION,
            "nmtkit_version": nmtkit.__version__,
            "torch_version": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "components": components,
            "plugins": plugin_provenance(components),
            "parameters": n_parameters,
            "data_dir": str(data_dir),
        })

    def write_meta(self, updates: dict) -> None:
        meta = self.meta() if (self.path / "meta.json").exists() else {}
        meta.update(updates)
        atomic_write_text(self.path / "meta.json", json.dumps(meta, indent=2) + "\n")

    def save_weights(self, model: torch.nn.Module) -> None:
        save_tensors({"format_version": nmtkit.FORMAT_VERSION, "model": model.state_dict()},
                     self.path / "model.pt")

    def save_train_state(self, state: dict) -> None:
        save_tensors(state, self.path / "train_state.pt")

    # -- reading ----------------------------------------------------------------------
    def meta(self) -> dict:
        path = self.path / "meta.json"
        if not path.exists():
            raise NmtkitError(f"{self.path}: not a model folder (no meta.json)")
        meta = json.loads(path.read_text())
        if meta.get("format_version", 0) > nmtkit.FORMAT_VERSION:
            raise NmtkitError(f"{path}: made by a newer nmtkit (format "
                              f"{meta['format_version']}); upgrade nmtkit")
        return meta

    def config(self) -> Config:
        return from_dict(Config, load_yaml(self.path / "config.yaml"),
                         str(self.path / "config.yaml"))

    def check_components(self, config: Config, meta: dict) -> None:
        """Every component the config names is registered; else one line saying what
        package to install (from ``meta['plugins']``) or which names are valid."""
        load_builtins()
        for key, registry in COMPONENT_REGISTRIES.items():
            spec = getattr(config.model, key)
            if isinstance(spec, dict) and "type" in spec and spec["type"] not in registry:
                raise self._missing_component(key, registry, spec["type"], meta)

    def _missing_component(self, key: str, registry: Registry, name: str,
                           meta: dict) -> NmtkitError:
        record = meta.get("plugins", {}).get(f"{key}:{name}")
        if record:
            dist = record.get("distribution") or "?"
            package = " ".join(filter(None, (dist, record.get("version"))))
            return NmtkitError(f"{self.path}: {key} '{name}' comes from the package {package}"
                               f", which is not installed; pip install {dist}")
        try:
            registry.entry(name)
        except ConfigError as e:
            return NmtkitError(f"{self.path}: {e}")
        return NmtkitError(f"{self.path}: {key} '{name}' is not registered")

    def load(self, device: str | torch.device = "cpu") -> LoadedModel:
        from nmtkit.models.seq2seq import Seq2Seq

        meta = self.meta()
        weights = self.path / "model.pt"
        if not weights.exists():
            raise NmtkitError(f"{self.path}: no weights yet (model.pt); training has not "
                              "reached its first checkpoint")
        config = self.config()
        self.check_components(config, meta)
        src_vocab = Vocab.load(self.path / "vocab.src.tsv")
        tgt_vocab = Vocab.load(self.path / "vocab.tgt.tsv")
        model = Seq2Seq(config.model, len(src_vocab), len(tgt_vocab))
        state = load_tensors(weights)
        try:
            model.load_state_dict(state["model"])
        except (KeyError, RuntimeError) as e:
            raise NmtkitError(f"{weights}: weights do not fit the config "
                              f"({str(e).splitlines()[0]})") from None
        model.to(device).eval()
        tok = json.loads((self.path / "tokenizer.json").read_text())

        def tokenizer(key: str) -> Tokenizer:
            name = tok.get(key)
            return build_tokenizer(tok["units"], self.path / name if name else None)

        return LoadedModel(model, config, src_vocab, tgt_vocab, tokenizer("src_model"),
                           tokenizer("tgt_model"), meta)


def plugin_provenance(components: dict) -> dict:
    """``{"KIND:NAME": {distribution, version}}`` for each component from a plugin."""
    plugins = {}
    for key, spec in components.items():
        registry = COMPONENT_REGISTRIES.get(key)
        if registry is None or not isinstance(spec, dict) or "type" not in spec:
            continue
        entry = registry.entry(spec["type"])
        if entry.distribution is not None:
            plugins[f"{key}:{entry.name}"] = {"distribution": entry.distribution,
                                              "version": entry.version}
    return plugins


def resolved_config(config: Config, components: dict) -> dict:
    """The config as saved: components with every option filled in."""
    data = to_dict(config)
    data["model"].update(components)
    return data
