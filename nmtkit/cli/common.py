"""What the command files share: logging set-up and stderr output."""

from __future__ import annotations

import logging
import sys


def setup_logging(quiet: bool = False) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING if quiet else logging.INFO,
                        format="nmtkit: %(message)s")


def warn(message: str) -> None:
    print(f"nmtkit: warning: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    print(f"nmtkit: {message}", file=sys.stderr, flush=True)
