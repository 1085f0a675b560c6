"""Which folders nmtkit may replace: only its own, and never one that holds the inputs.

A data folder is marked by its ``manifest.json``, a model folder by its ``meta.json``
(each written last, with a format version). ``--overwrite`` replaces such a folder only
when everything in it is a file that nmtkit writes there, so a user's own files are never
deleted with it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.fileio import is_empty_dir, is_temporary

MARKERS = {"data": "manifest.json", "model": "meta.json"}
CREATED_BY = {"data": "nmtkit preprocess", "model": "nmtkit train"}
# What each command writes into its folder (fnmatch patterns).
CONTENTS = {
    "data": ("manifest.json", "vocab.json", "vocab.src.tsv", "vocab.tgt.tsv", "pieces.*.tsv",
             "spm*.model", "train.*.ids", "train.*.idx", "valid.*.ids", "valid.*.idx",
             "valid.*.txt"),
    "model": ("meta.json", "config.yaml", "tokenizer.json", "vocab.src.tsv", "vocab.tgt.tsv",
              "spm*.model", "model.pt", "train_state.pt", "checkpoint*.pt", "checkpoints.json",
              "metrics.jsonl", "tensorboard", "shortlist.pt"),
}


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_not_holding_inputs(folder: Path, inputs: Iterable[Path], option: str) -> None:
    """Refuse an output folder that holds (or is) one of the inputs."""
    for p in inputs:
        if p is not None and _inside(Path(p), Path(folder)):
            raise NmtkitError(f"{option} {folder} holds the input {p}; write the output "
                              "to another folder")


def foreign_entries(folder: Path, kind: str) -> list[str]:
    """Names in ``folder`` that nmtkit does not write into a ``kind`` folder."""
    patterns = CONTENTS[kind]
    return sorted(e.name for e in Path(folder).iterdir()
                  if not any(fnmatch.fnmatchcase(e.name, pat) for pat in patterns)
                  and not is_temporary(e.name))


def check_replaceable(folder: Path, kind: str, option: str) -> None:
    """Raise unless ``folder`` may be replaced by a new ``kind`` folder: it does not exist,
    is empty, or is a ``kind`` folder made by nmtkit holding only nmtkit's files."""
    folder = Path(folder)
    if not folder.exists() or is_empty_dir(folder):
        return
    if not folder.is_dir():
        raise NmtkitError(f"{option} {folder} is a file, not a folder")
    if not (folder / MARKERS[kind]).is_file():
        raise NmtkitError(f"{option} {folder} is not a {kind} folder made by "
                          f"{CREATED_BY[kind]} (no {MARKERS[kind]}); nmtkit replaces only "
                          "its own folders: choose a new or empty folder")
    foreign = foreign_entries(folder, kind)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise NmtkitError(f"{option} {folder} holds {foreign[0]}{more}, which nmtkit did not "
                          "write; move it away first, or choose another folder")
