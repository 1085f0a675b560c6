"""Normalisation and filtering of parallel text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from nmtkit.checks import ranged

_SPACE = re.compile(r"\s+")


def normalize(line: str) -> str:
    """Unicode NFC, every run of whitespace (tabs, NBSP, ...) to one space, stripped."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", line)).strip()


@dataclass
class FilterOptions:
    max_len: int = ranged(250, 1, 1 << 20)  # units (pieces, characters or words) per side
    min_len: int = ranged(1, 0, 1 << 20)
    max_ratio: float = ranged(3.0, 0, 1e6)  # longer side / shorter side, in units; 0 disables

    def describe(self, reason: str) -> str:
        """The option behind a drop reason, as the command line spells it."""
        return {"empty": "empty on a side", "too_long": f"--max-len {self.max_len}",
                "too_short": f"--min-len {self.min_len}",
                "ratio": f"--max-ratio {self.max_ratio:g}"}[reason]


@dataclass
class FilterCounts:
    """How many pairs were kept and how many were dropped, by reason."""

    kept: int = 0
    dropped: dict[str, int] = field(
        default_factory=lambda: {"empty": 0, "too_long": 0, "too_short": 0, "ratio": 0}
    )


def drop_reason(src_len: int, tgt_len: int, opts: FilterOptions) -> str | None:
    """Why a pair with these lengths (in units) is dropped, or None to keep it."""
    if src_len == 0 or tgt_len == 0:
        return "empty"
    if src_len > opts.max_len or tgt_len > opts.max_len:
        return "too_long"
    if src_len < opts.min_len or tgt_len < opts.min_len:
        return "too_short"
    if opts.max_ratio > 0 and max(src_len, tgt_len) > opts.max_ratio * min(src_len, tgt_len):
        return "ratio"
    return None
