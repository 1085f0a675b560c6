"""The format version of data and model folders, checked where a folder's files are read."""

from __future__ import annotations

from pathlib import Path

import nmtkit
from nmtkit.errors import NmtkitError


def check_format(doc: object, path: Path, keys: tuple[str, ...], fix: str) -> dict:
    """``doc`` (read from ``path``) is a mapping with ``keys`` and a format version this
    nmtkit reads; else one line saying what is wrong and ``fix``."""
    if not isinstance(doc, dict):
        raise NmtkitError(f"{path}: damaged (expected a JSON object); {fix}")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise NmtkitError(f"{path}: damaged (no format_version); {fix}")
    if version > nmtkit.FORMAT_VERSION:
        raise NmtkitError(f"{path}: made by a newer nmtkit (format {version}; this is "
                          f"nmtkit {nmtkit.__version__}, format {nmtkit.FORMAT_VERSION}); "
                          "upgrade nmtkit")
    missing = [k for k in keys if k not in doc]
    if missing:
        raise NmtkitError(f"{path}: damaged (no {', '.join(missing)}); {fix}")
    return doc
