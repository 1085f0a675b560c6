"""The record of int8 against float32 on a model's validation set, ``int8_check.json`` in
the model folder: what ``translate --precision auto`` reads to choose int8 (the record is
for these weights, and int8's BLEU is within :data:`TOLERANCE` of float32's) or float32.

``nmtkit train`` writes it after its last validation; ``nmtkit check-int8`` writes it for
an existing model folder (:mod:`nmtkit.translate.int8_check` translates and scores).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from nmtkit.fileio import file_fingerprint, read_json, write_json

CHECK_FILE = "int8_check.json"
TOLERANCE = 0.3  # BLEU int8 may lose against float32 and still be the default


@dataclass(frozen=True)
class Int8Check:
    fp32_bleu: float
    int8_bleu: float
    lines: int  # validation lines translated
    source: str  # where they came from
    beam: int
    weights: str  # fingerprint of the model.pt the check translated with
    version: str  # nmtkit's, that made the check

    @property
    def passed(self) -> bool:
        return self.fp32_bleu - self.int8_bleu <= TOLERANCE

    def summary(self) -> str:
        return (f"int8 BLEU {self.int8_bleu:.2f} against float32 {self.fp32_bleu:.2f} on "
                f"{self.lines:,} lines of {self.source}, beam {self.beam}")


def weights_fingerprint(model_dir: Path) -> str:
    return file_fingerprint(Path(model_dir) / "model.pt")


def write_check(model_dir: Path, check: Int8Check) -> Path:
    path = Path(model_dir) / CHECK_FILE
    write_json(path, asdict(check))
    return path


def read_check(model_dir: Path) -> Int8Check | None:
    """The folder's check, or None when it has none, or one made with other weights (the
    model was trained on or replaced since) or by a release that wrote other fields."""
    path = Path(model_dir) / CHECK_FILE
    if not path.is_file():
        return None
    doc = read_json(path, "int8 check")
    kinds = {f.name: str if f.type == "str" else (int, float) for f in fields(Int8Check)}
    if not isinstance(doc, dict) or set(doc) != set(kinds) or not all(
            isinstance(doc[name], kind) for name, kind in kinds.items()):
        return None
    check = Int8Check(**doc)
    if check.weights != weights_fingerprint(model_dir):
        return None
    return check
