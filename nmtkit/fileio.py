"""Atomic file and folder writes, and line reading that reports file and line on bad input.

Every file a command produces is written to a temporary name beside its target and
renamed into place, so an interrupted run never leaves a half-written file that a later
command would trust.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from nmtkit.errors import DataError, NmtkitError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _public(path: Path | str, mode: int) -> None:
    """mkstemp/mkdtemp create private files; give them the usual permissions instead."""
    os.chmod(path, mode & ~_umask())


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _public(tmp, 0o666)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and rename it to ``path`` on success.

    An interrupted build leaves only a hidden ``.NAME.tmp*`` folder, which no command reads.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise NmtkitError(f"{path}: already exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    _public(tmp, 0o777)
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_lines(path: Path) -> list[str]:
    """All lines of a UTF-8 text file, without line ends; bad UTF-8 names file and line."""
    return list(iter_lines(path))


def iter_lines(path: Path) -> Iterator[str]:
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise NmtkitError(f"{path}: cannot read: {e.strerror}") from None
    with f:
        yield from decode_lines(f, str(path))


def decode_lines(stream, name: str) -> Iterator[str]:
    """Decode a binary line stream; ``\\n``, ``\\r\\n`` end a line, nothing else does."""
    for lineno, raw in enumerate(stream, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{name}:{lineno}: invalid UTF-8 at byte {e.start}") from None
        if text.endswith("\n"):
            text = text[:-1]
            if text.endswith("\r"):
                text = text[:-1]
        yield text


def count_lines(path: Path) -> int:
    """Number of lines, counting a last line without a newline."""
    n = 0
    last = b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                n += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as e:
        raise NmtkitError(f"{path}: cannot read: {e.strerror}") from None
    return n + (last != b"\n")
