"""The model folder's training log, ``metrics.jsonl``: one JSON object per line, for each
log window (``{"step", "epoch", "loss", "lr", "tokens_per_sec", "elapsed"}``) and each
validation (``{"step", "valid_loss", "valid_ppl", "valid_bleu"}``).

Lines are appended as training goes. A resumed run first drops the lines past the
checkpoint it resumes from (and a line a killed run left half-written), so the log tells
one history.
"""

from __future__ import annotations

import json
from pathlib import Path

from nmtkit.fileio import atomic_path

NAME = "metrics.jsonl"


def append(folder: Path, record: dict) -> None:
    with open(Path(folder) / NAME, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read(folder: Path) -> list[dict]:
    """The whole lines that parse; a missing log is empty."""
    path = Path(folder) / NAME
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def keep_until(folder: Path, step: int) -> None:
    """Rewrite the log with only the records of steps up to ``step``."""
    path = Path(folder) / NAME
    if not path.is_file():
        return
    kept = [r for r in read(folder) if r.get("step", 0) <= step]
    with atomic_path(path) as tmp:
        Path(tmp).write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
