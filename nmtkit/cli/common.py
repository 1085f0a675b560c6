"""What the command files share: logging set-up, stderr output, output checks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_logging(quiet: bool = False) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING if quiet else logging.INFO,
                        format="nmtkit: %(message)s")


def warn(message: str) -> None:
    print(f"nmtkit: warning: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    print(f"nmtkit: {message}", file=sys.stderr, flush=True)


def check_output_file(path: Path, option: str) -> None:
    """An output file can be written where the user asked (before any work is done)."""
    from nmtkit.errors import NmtkitError

    path = Path(path)
    if path.is_dir():
        raise NmtkitError(f"{option} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise NmtkitError(f"{option} {path}: the folder {path.parent} does not exist")
