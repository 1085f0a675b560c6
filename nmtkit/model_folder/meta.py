"""A model folder's ``meta.json``, typed: read and checked in one place (:func:`load_meta`).

Written by ``train`` (``prepare``, then at each checkpoint), ``average`` and fine-tuning
runs; every key but ``format_version`` may be absent from a folder of an older release,
and each field says what stands in for it then. ``doc`` keeps the whole document as
written, keys of a later release included, so that rewriting it loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.fileio import read_json
from nmtkit.folders import check_format
from nmtkit.model_folder.tensors import RETRAIN


@dataclass(frozen=True)
class Meta:
    path: Path
    doc: dict  # the document as written
    components: dict  # the resolved component specs, by kind
    # "KIND:NAME" -> {distribution, version}, for each component from an outside package
    plugins: dict[str, dict]
    # file name -> sha256 of each file the weights depend on (none: made before they were)
    fingerprints: dict[str, str]
    parameters: int | None
    steps: int  # optimizer steps trained so far (0 before the first checkpoint)
    epoch: int
    tgt_tokens: int
    train_seconds: float
    best_valid: dict | None  # the best validation: step, loss, ppl, bleu, chrf, metric
    corpus: dict | None  # the training corpus of the last run: data_dir, fingerprint
    corpus_history: list[dict]  # the corpora of earlier runs, oldest first
    averaged: dict | None  # nmtkit average: from, steps, chosen_by
    languages: dict[str, str]  # "src"/"tgt" -> language code, where preprocess was given one


_TYPES = {"components": dict, "plugins": dict, "fingerprints": dict, "parameters": int,
          "steps": int, "epoch": int, "tgt_tokens": int, "train_seconds": (int, float),
          "best_valid": dict, "corpus": dict, "corpus_history": list, "averaged": dict,
          "languages": dict}


def load_meta(folder: Path) -> Meta:
    """The ``meta.json`` of the model folder ``folder``; a missing folder or file, a format
    this nmtkit does not read, or a field of the wrong type is one line."""
    folder = Path(folder)
    path = folder / "meta.json"
    if folder.is_file():
        raise NmtkitError(f"{folder}: is a file, not a model folder")
    if not folder.is_dir():
        raise NmtkitError(f"{folder}: no such model folder")
    if not path.exists():
        raise NmtkitError(f"{folder}: not a model folder (no meta.json)")
    return parse_meta(read_json(path, "model folder metadata"), path)


def parse_meta(doc: object, path: Path) -> Meta:
    """``doc``, read from the ``meta.json`` at ``path``, checked and typed."""
    doc = check_format(doc, path, (), RETRAIN)
    for key, kind in _TYPES.items():
        value = doc.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise NmtkitError(f"{path}: damaged ({key}); {RETRAIN}")
    return Meta(
        path=path, doc=doc, components=doc.get("components") or {},
        plugins=doc.get("plugins") or {}, fingerprints=doc.get("fingerprints") or {},
        parameters=doc.get("parameters"), steps=doc.get("steps") or 0,
        epoch=doc.get("epoch") or 0, tgt_tokens=doc.get("tgt_tokens") or 0,
        train_seconds=float(doc.get("train_seconds") or 0.0),
        best_valid=doc.get("best_valid"), corpus=doc.get("corpus"),
        corpus_history=list(doc.get("corpus_history") or []), averaged=doc.get("averaged"),
        languages=dict(doc.get("languages") or {}))
