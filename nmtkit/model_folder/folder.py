"""The model folder: everything ``translate`` needs, and the state that resumes training.
Training writes it and translation reads it; neither imports the other for it.

=====================  ===========================================================
``config.yaml``        the resolved config (every default filled in)
``meta.json``          format version, versions, components, plugins, parameters, progress
``vocab.src.tsv``      source vocabulary with counts (``vocab.tgt.tsv`` likewise)
``tokenizer.json``     units and the sentencepiece model file names
``spm*.model``         sentencepiece model(s), for sentencepiece units
``model.pt``           weights of the best model so far (state dict of tensors)
``train_state.pt``     last weights, optimizer, schedule, random states, data position
``checkpoint-N.pt``    weights at step N, as ``model.pt`` (``train.keep_last/keep_best``)
``checkpoints.json``   the step checkpoints kept, with their validation results
``metrics.jsonl``      training log (and ``tensorboard/`` event files, when installed)
=====================  ===========================================================

Tensors are saved with ``torch.save`` and read with ``torch.load(weights_only=True)``:
a model file can never run code. Every file is written atomically.

``meta.json`` records under ``plugins`` the package and version of every component that
came from an outside package, so that loading where it is missing names what to install,
and under ``fingerprints`` the sha256 of each file the weights depend on, checked at load.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nmtkit.config import Config, from_dict, load_yaml, save_yaml
from nmtkit.data.preprocess import Manifest
from nmtkit.data.units import Tokenizer, TokenizerSpec
from nmtkit.data.vocab import Vocab
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.fileio import (
    atomic_path,
    file_fingerprint,
    read_json,
    write_json,
)
from nmtkit.folders import check_format
from nmtkit.model_folder.meta import Meta, load_meta
from nmtkit.model_folder.tensors import (
    RETRAIN,
    describe_misfit,
    load_tensors,
    non_finite,
    save_tensors,
)
from nmtkit.models.registry import REGISTRIES, Registry
from nmtkit.version import FORMAT_VERSION, __version__

TRAIN_STATE = "train_state.pt"  # what a resumed training reads


@dataclass
class LoadedModel:
    """A model ready to translate, with its vocabularies and tokenizers."""

    model: Any  # Seq2Seq
    config: Config
    src_vocab: Vocab
    tgt_vocab: Vocab
    src_tokenizer: Tokenizer
    tgt_tokenizer: Tokenizer
    meta: Meta
    path: Path | None = None
    lexicon: Any = None  # nmtkit.search.shortlist.Lexicon, from shortlist.pt if there is one
    members: tuple = ()  # an ensemble's model folders (model_folder/ensemble.py)
    # target language -> the tag a source line starts with to be translated into it
    target_tags: dict = dataclasses.field(default_factory=dict)


class ModelFolder:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.opened: Meta | None = None  # the meta.json that open() checked

    @classmethod
    def open(cls, path: Path) -> ModelFolder:
        """The one way in for a command that reads a model folder: a folder whose
        ``meta.json`` is of a format this nmtkit reads and whose vocabularies, tokenizer and
        sentencepiece models are byte for byte those the weights were trained with; else
        one line saying which file and what to do. (The weights are checked where they are
        loaded, :meth:`load_state`.)"""
        folder = cls(path)
        meta = folder.meta()
        folder.check_fingerprints(meta)
        folder.opened = meta
        return folder

    # -- writing ----------------------------------------------------------------------
    def prepare(self, config: dict, data_dir: Path, manifest: Manifest, components: dict,
                n_parameters: int) -> None:
        """Write config, vocabularies and tokenizer files (before the first weights), with
        the fingerprint of each file the weights depend on."""
        import shutil

        self.path.mkdir(parents=True, exist_ok=True)
        save_yaml(config, self.path / "config.yaml")
        spec = manifest.tokenizer
        names = [f"vocab.{side}.tsv" for side in ("src", "tgt")] + spec.files()
        for name in names:
            with atomic_path(self.path / name) as tmp:
                shutil.copyfile(data_dir / name, tmp)
        write_json(self.path / "tokenizer.json", spec.to_json())
        names.append("tokenizer.json")
        self.write_meta({
            "format_version": FORMAT_VERSION,
            "nmtkit_version": __version__,
            "torch_version": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "components": components,
            "plugins": plugin_provenance(components),
            "parameters": n_parameters,
            "data_dir": str(data_dir),
            "languages": manifest.languages,
            "fingerprints": {name: file_fingerprint(self.path / name) for name in names},
        })

    def write_meta(self, updates: dict) -> None:
        """``meta.json`` with ``updates`` (keys of :class:`~nmtkit.model_folder.meta.Meta`)
        over what it held."""
        meta = dict(self.meta().doc) if (self.path / "meta.json").exists() else {}
        meta.update(updates)
        write_json(self.path / "meta.json", meta)

    def save_weights(self, model: torch.nn.Module | dict, path: Path | None = None) -> None:
        """A model (or its state dict) as ``model.pt``, or as ``path`` in the same format."""
        state = model if isinstance(model, dict) else model.state_dict()
        save_tensors({"format_version": FORMAT_VERSION, "model": state},
                     path or self.path / "model.pt")

    def save_train_state(self, state: dict) -> None:
        save_tensors(state, self.path / TRAIN_STATE)

    # -- reading ----------------------------------------------------------------------
    def meta(self) -> Meta:
        return load_meta(self.path)

    def config_dict(self) -> dict:
        path = self.path / "config.yaml"
        if not path.exists():
            raise NmtkitError(f"{path}: missing; {RETRAIN}")
        return load_yaml(path)

    def config(self) -> Config:
        return from_dict(Config, self.config_dict(), str(self.path / "config.yaml"))

    def check_fingerprints(self, meta: Meta) -> None:
        """Each vocabulary, tokenizer and sentencepiece file is the one the weights were
        trained with (folders made before fingerprints were recorded are not checked)."""
        for name, fingerprint in sorted(meta.fingerprints.items()):
            path = self.path / name
            if not path.is_file():
                raise NmtkitError(f"{path}: missing; {RETRAIN}")
            if file_fingerprint(path) != fingerprint:
                raise NmtkitError(
                    f"{path}: changed since the model was trained (its sha256 differs from "
                    f"the one in meta.json); put back the file the model was trained with")

    def check_components(self, config: Config, meta: Meta) -> None:
        """Every component the config names is registered; else one line saying what
        package to install (from ``meta['plugins']``) or which names are valid."""
        for key, registry in REGISTRIES.items():
            spec = getattr(config.model, key)
            if isinstance(spec, dict) and "type" in spec and spec["type"] not in registry:
                raise self._missing_component(key, registry, spec["type"], meta)

    def _missing_component(self, key: str, registry: Registry, name: str,
                           meta: Meta) -> NmtkitError:
        record = meta.plugins.get(f"{key}:{name}")
        if isinstance(record, dict):
            dist = record.get("distribution") or "?"
            package = " ".join(filter(None, (dist, record.get("version"))))
            return NmtkitError(f"{self.path}: {key} '{name}' comes from the package {package}"
                               f", which is not installed; pip install {dist}")
        try:
            registry.entry(name)
        except ConfigError as e:
            return NmtkitError(f"{self.path}: {e}")
        return NmtkitError(f"{self.path}: {key} '{name}' is not registered")

    def load_state(self, model: torch.nn.Module, vocab_sizes: tuple[int, int]) -> None:
        """Load ``model.pt`` into ``model``: a file of our format whose tensors fit the
        model exactly and are all finite; else one line saying which and why."""
        weights = self.path / "model.pt"
        if not weights.exists():
            raise NmtkitError(f"{self.path}: no weights yet (model.pt); training has not "
                              "reached its first checkpoint")
        payload = load_tensors(weights)
        check_format(payload, weights, ("model",), RETRAIN)
        state = payload["model"]
        if not isinstance(state, dict):
            raise NmtkitError(f"{weights}: damaged (no state dict); {RETRAIN}")
        misfit = describe_misfit(model.state_dict(), state)
        if misfit:
            raise NmtkitError(
                f"{weights}: the weights do not fit config.yaml and the vocabularies "
                f"(vocab.src.tsv {vocab_sizes[0]} entries, vocab.tgt.tsv {vocab_sizes[1]}): "
                f"{misfit}")
        bad, total, first = non_finite(state)
        if bad:
            raise NmtkitError(f"{weights}: {bad:,} of {total:,} weights are NaN or infinite "
                              f"(first in {first}); the training diverged or the file is "
                              f"damaged: use an earlier checkpoint or train again")
        model.load_state_dict(state)

    def load(self, device: str | torch.device = "cpu") -> LoadedModel:
        from nmtkit.models.seq2seq import Seq2Seq

        meta = (self if self.opened is not None else self.open(self.path)).opened
        config = self.config()
        self.check_components(config, meta)
        src_vocab = Vocab.load(self.path / "vocab.src.tsv")
        tgt_vocab = Vocab.load(self.path / "vocab.tgt.tsv")
        try:
            model = Seq2Seq(config.model, len(src_vocab), len(tgt_vocab))
        except ConfigError as e:
            raise NmtkitError(f"{self.path / 'config.yaml'}: {e}") from None
        self.load_state(model, (len(src_vocab), len(tgt_vocab)))
        model.to(device).eval()
        spec = self.tokenizer_spec()
        return LoadedModel(model, config, src_vocab, tgt_vocab, spec.build(self.path, "src"),
                           spec.build(self.path, "tgt"), meta, self.path,
                           self.lexicon(len(src_vocab), len(tgt_vocab)),
                           target_tags=spec.languages)

    def tokenizer_spec(self) -> TokenizerSpec:
        """How the model's text is split into pieces (``tokenizer.json``), with the
        sentencepiece files it names present."""
        path = self.path / "tokenizer.json"
        if not path.is_file():
            raise NmtkitError(f"{self.path}: not a model folder (no tokenizer.json)")
        spec = TokenizerSpec.from_json(read_json(path, "tokenizer spec"), str(path))
        for name in spec.files():
            if not (self.path / name).is_file():
                raise NmtkitError(f"{self.path / name}: missing; the model folder is "
                                  "incomplete")
        return spec

    def tokenizer(self, side: str) -> Tokenizer:
        """The tokenizer of the source (``"src"``) or target (``"tgt"``) side."""
        return self.tokenizer_spec().build(self.path, side)

    @property
    def shortlist_path(self) -> Path:
        return self.path / "shortlist.pt"

    def lexicon(self, n_src: int, n_tgt: int):
        """The shortlist's lexical table (``nmtkit shortlist``), or None if there is none."""
        from nmtkit.search.shortlist import Lexicon

        path = self.shortlist_path
        if not path.exists():
            return None
        again = f"make it again: nmtkit shortlist {self.path} --data DATA_DIR"
        data = load_tensors(path)
        table, frequent = data.get("table"), data.get("frequent")
        if not (isinstance(table, torch.Tensor) and isinstance(frequent, torch.Tensor)
                and table.dim() == 2 and table.size(0) == n_src and frequent.dim() == 1):
            raise NmtkitError(f"{path}: not a shortlist of this model's {n_src}-entry source "
                              f"vocabulary; {again}")
        if any(t.numel() and int(t.max()) >= n_tgt for t in (table, frequent)):
            raise NmtkitError(f"{path}: target ids past this model's {n_tgt}-entry "
                              f"vocabulary; {again}")
        return Lexicon(table.long(), frequent.long())


def plugin_provenance(components: dict) -> dict:
    """``{"KIND:NAME": {distribution, version}}`` for each component from a plugin."""
    plugins = {}
    for key, spec in components.items():
        registry = REGISTRIES.get(key)
        if registry is None or not isinstance(spec, dict) or "type" not in spec:
            continue
        entry = registry.entry(spec["type"])
        if entry.distribution is not None:
            plugins[f"{key}:{entry.name}"] = {"distribution": entry.distribution,
                                              "version": entry.version}
    return plugins


def resolved_config(config: Config, components: dict) -> dict:
    """The config as saved: components with every option filled in."""
    from nmtkit.config import to_dict

    data = to_dict(config)
    data["model"].update(components)
    return data
