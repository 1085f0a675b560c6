"""Where a command may write: the one rule every command's outputs go through.

- An output folder is replaced only when nmtkit made it, of the kind the command writes,
  it holds nothing but nmtkit's files, and the user passed ``--overwrite``
  (:func:`claim_folder`). A data folder is marked by its ``manifest.json``, a model folder
  by its ``meta.json``, an exported model by its ``nmtkit-export.json`` (each written last);
  a folder of attention plots must be new or empty.
- No output is, holds or lies inside one of the command's inputs, or another of its
  outputs (:func:`claim_folder`, :func:`claim_file`): a command never deletes or writes
  into what it reads.
- An output file may replace a file of the user's (like a shell's ``>``), never a folder.
- A folder's files carry a format version; one made by a newer nmtkit is refused where its
  files are read (:func:`check_format`).

The command line declares which of each command's paths it reads and writes
(``nmtkit/cli/paths.py``) and claims every output here before any work.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.fileio import is_empty_dir, is_temporary
from nmtkit.version import FORMAT_VERSION, __version__

MARKERS = {"data": "manifest.json", "model": "meta.json", "ctranslate2": "nmtkit-export.json"}
CREATED_BY = {"data": "nmtkit preprocess", "model": "nmtkit train",
              "ctranslate2": "nmtkit export"}
# What each command writes into its folder (fnmatch patterns).
CONTENTS = {
    "data": ("manifest.json", "vocab.json", "vocab.src.tsv", "vocab.tgt.tsv", "pieces.*.tsv",
             "spm*.model", "train.*.ids", "train.*.idx", "valid.*.ids", "valid.*.idx",
             "valid.*.txt", "train.*.txt"),
    "model": ("meta.json", "config.yaml", "tokenizer.json", "vocab.src.tsv", "vocab.tgt.tsv",
              "spm*.model", "model.pt", "train_state.pt", "checkpoint*.pt", "checkpoints.json",
              "metrics.jsonl", "tensorboard", "shortlist.pt", "int8_check.json"),
    "ctranslate2": ("nmtkit-export.json", "model.bin", "config.json", "*vocabulary.json",
                    "*vocabulary.txt", "tokenizer.json", "spm*.model"),
}
# Folders of these kinds are made fresh, never replaced: they must be new or empty.
FRESH_ONLY = ("plots",)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_not_holding_inputs(folder: Path, inputs: Iterable[Path], option: str) -> None:
    """Refuse an output that is, or holds, one of the inputs."""
    for p in inputs:
        if p is not None and _inside(Path(p), Path(folder)):
            raise NmtkitError(f"{option} {folder} holds the input {p}; write the output "
                              "to another folder")


def check_not_inside_inputs(path: Path, inputs: Iterable[Path], option: str) -> None:
    """Refuse an output that lies inside one of the input folders of nmtkit's (a data or
    model folder: writing there would change what it holds)."""
    for p in inputs:
        if p is not None and _is_nmtkit_folder(Path(p)) and _inside(Path(path), Path(p)):
            raise NmtkitError(f"{option} {path} lies inside the input folder {p}; write "
                              "the output outside it")


def _is_nmtkit_folder(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in MARKERS.values())


def claim_folder(folder: Path, kind: str, option: str, inputs: Iterable[Path] = (),
                 overwrite: bool = False, resume: bool = False) -> None:
    """Raise unless a ``kind`` folder may be written at ``folder``, before any work: it
    neither holds nor lies inside an input, and it is new or empty, or (``overwrite``)
    replaceable by :func:`check_replaceable`. ``resume``: an existing ``kind`` folder may
    be continued (``train`` resuming its model folder)."""
    folder = Path(folder)
    inputs = [Path(p) for p in inputs if p is not None]
    check_not_holding_inputs(folder, inputs, option)
    check_not_inside_inputs(folder, inputs, option)
    if not folder.exists() or is_empty_dir(folder):
        return
    if not folder.is_dir():
        raise NmtkitError(f"{option} {folder} is a file, not a folder")
    if kind in FRESH_ONLY:
        if all(is_temporary(e.name) for e in folder.iterdir()):
            return  # what a killed run left: the next writer of each file removes it
        raise NmtkitError(f"{option} {folder}: the folder is not empty; give a new or "
                          "empty one")
    if resume and not overwrite and (folder / MARKERS[kind]).is_file():
        return
    if not overwrite and not resume:
        raise NmtkitError(f"{folder}: already exists; pass --overwrite to replace it")
    check_replaceable(folder, kind, option)


def claim_file(path: Path, option: str, inputs: Iterable[Path] = ()) -> None:
    """Raise unless an output file may be written at ``path``: not a folder, in a folder
    that exists, neither one of the inputs nor inside an input folder."""
    path = Path(path)
    if path.is_dir():
        raise NmtkitError(f"{option} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise NmtkitError(f"{option} {path}: the folder {path.parent} does not exist")
    for p in inputs:
        if p is not None and _same(path, Path(p)):
            raise NmtkitError(f"{option} {path} is also {p}, which this command reads or "
                              "writes; give another file")
    check_not_inside_inputs(path, inputs, option)


def _same(a: Path, b: Path) -> bool:
    """The same file: the same path once links are resolved, or the same inode."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:
        return False


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


# -- format versions -----------------------------------------------------------------------

def check_format(doc: object, path: Path, keys: tuple[str, ...], fix: str) -> dict:
    """``doc`` (read from ``path``) is a mapping with ``keys`` and a format version this
    nmtkit reads; else one line saying what is wrong and ``fix``."""
    if not isinstance(doc, dict):
        raise NmtkitError(f"{path}: damaged (expected a JSON object); {fix}")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise NmtkitError(f"{path}: damaged (no format_version); {fix}")
    if version > FORMAT_VERSION:
        raise NmtkitError(f"{path}: made by a newer nmtkit (format {version}; this is "
                          f"nmtkit {__version__}, format {FORMAT_VERSION}); "
                          "upgrade nmtkit")
    missing = [k for k in keys if k not in doc]
    if missing:
        raise NmtkitError(f"{path}: damaged (no {', '.join(missing)}); {fix}")
    return doc
