"""Step checkpoints kept beside ``model.pt``: the last ``train.keep_last`` and the best
``train.keep_best`` by the validation metric, listed in ``checkpoints.json``.

Each ``checkpoint-STEP.pt`` holds the weights at that step in the format of ``model.pt``
(so ``nmtkit average`` and anything that reads weights can use it). At each checkpoint
the new file is written first, then the list, and only then are the files that fell out
of it removed; every write is atomic. A resumed run drops the entries past the step it
resumes from, so the list tells one history.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.fileio import read_json, write_json
from nmtkit.model_folder.validations import ValidResult, rank_key

INDEX = "checkpoints.json"


def checkpoint_name(step: int) -> str:
    return f"checkpoint-{step}.pt"


def read_index(folder: Path) -> dict:
    """``{"metric": NAME, "checkpoints": [{"step", "file", "valid"}...]}``, oldest first;
    a folder without checkpoints has an empty list."""
    path = Path(folder) / INDEX
    if not path.is_file():
        return {"metric": "loss", "checkpoints": []}
    index = read_json(path, "checkpoint list")
    if not isinstance(index, dict) or not isinstance(index.get("checkpoints"), list):
        raise NmtkitError(f"{path}: damaged (no checkpoint list)")
    return index


def _result(entry: dict) -> ValidResult | None:
    return None if entry.get("valid") is None else ValidResult(**entry["valid"])


def kept(entries: list[dict], keep_last: int, keep_best: int, metric: str) -> list[dict]:
    """The entries to keep, oldest first: the last ``keep_last`` by step and the best
    ``keep_best`` by ``metric`` among those with a validation."""
    last = entries[-keep_last:] if keep_last else []
    best = ranked(entries, metric)[:keep_best] if keep_best else []
    steps = {e["step"] for e in last + best}
    return [e for e in entries if e["step"] in steps]


def ranked(entries: list[dict], metric: str) -> list[dict]:
    """The entries with a validation, best first (the earlier step first on a tie)."""
    results = [(e, _result(e)) for e in entries]
    scored = [(e, r) for e, r in results if r is not None and r.value(metric) is not None]
    return [e for e, r in sorted(scored, key=lambda p: rank_key(p[1], metric))]


class CheckpointKeeper:
    """Keeps the checkpoints of ``folder`` (anything with a ``path``: the model folder,
    whose path changes when its staged copy is swapped in)."""

    def __init__(self, folder, keep_last: int, keep_best: int, metric: str):
        self.folder, self.metric = folder, metric
        self.keep_last, self.keep_best = keep_last, keep_best

    def save(self, step: int, valid: ValidResult | None, write_weights) -> None:
        """Add the checkpoint of ``step`` (``write_weights(path)`` writes its file) when
        the keep rules keep it, and remove the files that fall out."""
        if not (self.keep_last or self.keep_best):
            return
        entries = [e for e in read_index(self.folder.path)["checkpoints"] if e["step"] < step]
        entry = {"step": step, "file": checkpoint_name(step),
                 "valid": None if valid is None else asdict(valid)}
        keep = kept(entries + [entry], self.keep_last, self.keep_best, self.metric)
        if entry in keep:
            write_weights(self.folder.path / entry["file"])
        self._write(keep, dropped=[e for e in entries if e not in keep])

    def trim(self, step: int) -> None:
        """Forget the checkpoints past ``step`` (a resumed run takes those steps again)."""
        entries = read_index(self.folder.path)["checkpoints"]
        later = [e for e in entries if e["step"] > step]
        if later:
            self._write([e for e in entries if e["step"] <= step], later)

    def _write(self, entries: list[dict], dropped: list[dict]) -> None:
        write_json(self.folder.path / INDEX, {"metric": self.metric, "checkpoints": entries})
        for e in dropped:
            with contextlib.suppress(FileNotFoundError):
                (self.folder.path / e["file"]).unlink()
