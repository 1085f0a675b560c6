"""The model folder's training log, ``metrics.jsonl``: one JSON object per line, for each
log window (``{"step", "epoch", "loss", "lr", "tokens_per_sec", "elapsed"}``) and each
validation (``{"step", "valid_loss", "valid_ppl", "valid_bleu", "valid_chrf"}``); and the
same figures as TensorBoard event files under ``tensorboard/`` when the ``tensorboard``
package is installed (``pip install nmtkit[tensorboard]``) and ``train.tensorboard`` is on.

Lines are appended as training goes. A resumed run first drops the lines past the
checkpoint it resumes from (and a line a killed run left half-written), so the log tells
one history; TensorBoard is told to purge its events past that step likewise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from nmtkit.errors import DataError
from nmtkit.fileio import atomic_path

NAME = "metrics.jsonl"
TENSORBOARD = "tensorboard"
log = logging.getLogger(__name__)


def append(folder: Path, record: dict) -> None:
    with open(Path(folder) / NAME, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read(folder: Path) -> list[dict]:
    """The whole lines that parse as records (objects with a whole-number ``step``); a
    missing log is empty. What a resumed run keeps: anything else is dropped."""
    path = Path(folder) / NAME
    if not path.is_file():
        return []
    records = []
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict) and _whole(record.get("step")):
            records.append(record)
    return records


# The figures a record may hold, each a number (or null: no BLEU when it is not computed).
FIGURES = ("epoch", "loss", "lr", "tokens_per_sec", "elapsed", "valid_loss", "valid_ppl",
           "valid_bleu", "valid_chrf")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def read_checked(folder: Path, on_warning: Callable[[str], None] | None = None
                 ) -> list[dict]:
    """Every record of the log, checked (for reports drawn from it): a line that is not a
    record of this log (invalid UTF-8, not JSON, not an object, no whole-number ``step``, a
    figure that is not a number) is a :class:`DataError` naming the file and line. A last
    line cut short (no line end, not JSON: a run killed while appending it) is skipped and
    ``on_warning`` told."""
    path = Path(folder) / NAME
    data = path.read_bytes()
    lines = data.splitlines()
    records = []
    for lineno, line in enumerate(lines, 1):
        damaged = f"{path}:{lineno}: damaged training log:"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{damaged} invalid UTF-8 at byte {e.start}") from None
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            if lineno == len(lines) and not data.endswith((b"\n", b"\r")):
                if on_warning is not None:
                    on_warning(f"{path}:{lineno}: the last line is cut short (a run killed "
                               "while writing it?); skipped")
                continue
            raise DataError(f"{damaged} not JSON ({e.msg}, column {e.colno}); nmtkit train "
                            "writes one JSON object per line") from None
        if not isinstance(record, dict):
            kind = {list: "an array", str: "a string", bool: "true or false",
                    type(None): "null"}.get(type(record), "a number")
            raise DataError(f"{damaged} {kind}, not a JSON object")
        if not _whole(record.get("step")):
            raise DataError(f"{damaged} no whole-number \"step\"")
        for key in FIGURES:
            if not _number(record.get(key)):
                raise DataError(f"{damaged} \"{key}\" is {json.dumps(record[key])[:40]}, "
                                "not a number")
        records.append(record)
    return records


def keep_until(folder: Path, step: int) -> None:
    """Rewrite the log with only the records of steps up to ``step``."""
    path = Path(folder) / NAME
    if not path.is_file():
        return
    kept = [r for r in read(folder) if r.get("step", 0) <= step]
    with atomic_path(path) as tmp:
        Path(tmp).write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")


def tensorboard_writer(folder: Path, purge_step: int | None):
    """A TensorBoard ``SummaryWriter`` into ``folder/tensorboard``, or None when the
    ``tensorboard`` package is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(Path(folder) / TENSORBOARD), purge_step=purge_step)


class MetricsLog:
    """Where training's figures go: the JSONL log, and TensorBoard when it is there. The
    folder object is read at each write, so writes follow it when it moves."""

    def __init__(self, folder, tensorboard: bool, enabled: bool = True):
        self.folder, self.enabled, self.tensorboard = folder, enabled, tensorboard
        self.writer = None

    def open(self, step: int) -> None:
        """Start writing at ``step`` (0 for a new run)."""
        if self.enabled and self.tensorboard:
            self.writer = tensorboard_writer(self.folder.path, step + 1 if step else None)
            if self.writer is None:
                log.debug("tensorboard is not installed: no event files")

    def moved(self) -> None:
        """The folder was swapped in under its own name: go on writing events there."""
        if self.writer is not None:
            self.writer.close()
            self.writer = tensorboard_writer(self.folder.path, None)

    def append(self, record: dict) -> None:
        if not self.enabled:
            return
        append(self.folder.path, record)
        if self.writer is not None:
            step = record["step"]
            for key, value in record.items():
                if key not in ("step", "epoch") and isinstance(value, (int, float)):
                    group = "valid" if key.startswith("valid_") else "train"
                    self.writer.add_scalar(f"{group}/{key.removeprefix('valid_')}", value,
                                           step)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
