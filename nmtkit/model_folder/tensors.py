"""Tensor files (``model.pt``, ``train_state.pt``): written atomically with a full disk
reported as such, read with ``torch.load(weights_only=True)`` so that a file never runs
code, and checked against the model they are loaded into."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from nmtkit.errors import NmtkitError
from nmtkit.fileio import atomic_path

RETRAIN = "train the model again, or restore the folder from a copy"


class _Writes:
    """A file for ``torch.save`` that keeps the first write error: torch may turn it into
    an internal RuntimeError ("unexpected pos ...") that no longer says the disk is full."""

    def __init__(self, f):
        self.f = f
        self.error: OSError | None = None

    def write(self, data) -> int:
        try:
            return self.f.write(data)
        except OSError as e:
            self.error = self.error or e
            raise

    def flush(self) -> None:
        self.f.flush()


def save_tensors(obj: dict, path: Path) -> None:
    """``torch.save`` written atomically; a full disk is an ``OSError`` naming ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        writes = None
        try:
            with open(tmp, "wb") as f:
                writes = _Writes(f)
                torch.save(obj, writes)
        except (OSError, RuntimeError) as e:
            error = writes.error if writes is not None and writes.error else e
            if not isinstance(error, OSError):
                raise
            raise OSError(error.errno, error.strerror, str(path)) from None


def load_tensors(path: Path) -> dict:
    """A dict of tensors (and plain values) saved by :func:`save_tensors`; never unpickles
    anything else, so a hostile file cannot run code."""
    path = Path(path)
    if path.is_dir():
        raise NmtkitError(f"{path}: is a folder, not a tensor file")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles: we refuse them
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise NmtkitError(f"{path}: missing") from None
    except Exception as e:  # noqa: BLE001 -- corrupt or foreign: never fall back to unpickling
        raise NmtkitError(f"{path}: not a valid nmtkit tensor file "
                          f"({e.__class__.__name__}); {RETRAIN}") from None
    if not isinstance(obj, dict):
        raise NmtkitError(f"{path}: not a valid nmtkit tensor file (no mapping inside)")
    return obj


def non_finite(state: dict[str, torch.Tensor]) -> tuple[int, int, str | None]:
    """(non-finite values, all values, the first tensor holding one) of a state dict."""
    bad, total, first = 0, 0, None
    for name, t in state.items():
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            continue
        n = int(t.numel() - torch.isfinite(t).sum())
        total += t.numel()
        if n:
            bad += n
            first = first or name
    return bad, total, first


def describe_misfit(expected: dict, got: dict) -> str | None:
    """What keeps ``got`` (a loaded state dict) from fitting a model whose state dict is
    ``expected``; None when it fits."""
    problems = []
    for name, want in expected.items():
        have = got.get(name)
        if not isinstance(have, torch.Tensor):
            problems.append(f"{name} is missing")
        elif have.shape != want.shape:
            problems.append(f"{name} has shape {list(have.shape)} in the file but "
                            f"{list(want.shape)} in the model the config builds")
        elif have.dtype != want.dtype:
            problems.append(f"{name} is {str(have.dtype).removeprefix('torch.')} in the file "
                            f"but {str(want.dtype).removeprefix('torch.')} in the model "
                            "(training writes what the model holds)")
    problems += [f"{name} belongs to no part of the model" for name in got
                 if name not in expected]
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more
