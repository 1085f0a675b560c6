"""Fonts for plot labels in any script.

matplotlib draws with DejaVu Sans, which has Latin, Greek, Cyrillic, Arabic and Hebrew but
no CJK or Indic scripts. For labels with characters it lacks, :func:`label_fonts` adds the
installed fonts that have them (matplotlib falls back glyph by glyph through a list of
families), and for characters no installed font has, matplotlib's Last Resort font, which
draws a box naming the script instead of a warning and an empty square (older matplotlib
without it: the character is replaced by □).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

DEFAULT = "DejaVu Sans"
LAST_RESORT = "Last Resort High-Efficiency"
REPLACEMENT = "\u25a1"  # □


@dataclass(frozen=True)
class LabelFonts:
    """families: the font families to draw with, in fallback order; missing: the
    characters no installed font has; replace: whether to replace those (no Last Resort
    font)."""

    families: tuple[str, ...]
    missing: str = ""
    replace: bool = False

    def clean(self, text: str) -> str:
        """``text`` as it can be drawn."""
        if not self.replace or not self.missing:
            return text
        return "".join(REPLACEMENT if c in self.missing else c for c in text)


@cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@cache
def _installed() -> tuple[dict[str, str], str]:
    """The installed families (one regular file each) and DejaVu Sans' file."""
    from matplotlib import font_manager

    families: dict[str, str] = {}
    for f in sorted(font_manager.fontManager.ttflist,
                    key=lambda f: (f.style != "normal", abs(int(f.weight) - 400)
                                   if str(f.weight).isdigit() else 1000)):
        families.setdefault(f.name, f.fname)
    default = font_manager.findfont(font_manager.FontProperties(family=DEFAULT))
    return families, default


def label_fonts(texts: Iterable[str]) -> LabelFonts:
    """The fonts that draw ``texts``: DejaVu Sans, then, while characters are left that it
    lacks, the installed family that has most of them, and so on."""
    families, default = _installed()
    missing = {ord(c) for t in texts for c in t if not c.isspace()} - _charmap(default)
    chosen = [DEFAULT]
    candidates = {name: path for name, path in families.items()
                  if name not in (DEFAULT, LAST_RESORT)}
    while missing and candidates:
        name, covered = max(((n, missing & _charmap(p)) for n, p in candidates.items()),
                            key=lambda item: len(item[1]))
        if not covered:
            break
        chosen.append(name)
        missing -= covered
        del candidates[name]
    has_last_resort = LAST_RESORT in families
    if missing and has_last_resort:
        chosen.append(LAST_RESORT)
    return LabelFonts(tuple(chosen), "".join(sorted(map(chr, missing))),
                      replace=bool(missing) and not has_last_resort)
