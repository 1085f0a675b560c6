"""Old import paths kept for one release: a module left at its old path forwards every name
to the new one, after one DeprecationWarning.

    # nmtkit/registry.py
    from nmtkit.moved import moved

    __getattr__ = moved(__name__, "nmtkit.models.registry")
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def moved(old: str, new: str) -> Callable[[str], Any]:
    """Warn that ``old`` moved to ``new``; returns the old module's ``__getattr__``."""
    warnings.warn(f"{old} is deprecated; import from {new}", DeprecationWarning, stacklevel=3)

    def forward(name: str) -> Any:
        return getattr(importlib.import_module(new), name)

    return forward
