"""Safe writes of files and folders, and reading that names the file (and line) at fault.

Every file a command produces is written to a hidden temporary name beside its target,
flushed to disk and renamed into place; a folder is built under a hidden temporary name and
swapped in whole when it is complete (an atomic exchange where Linux offers one). So an
interrupted run never leaves a half-written file or folder that a later command would
trust, and a folder being replaced stays whole until its successor is.

A temporary holds an advisory lock (``flock``) for as long as its writer lives. The next
writer of the same target removes the leftovers of a killed run, which no longer hold a
lock, and leaves those of a live one alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from nmtkit.errors import DataError, NmtkitError

_TEMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.(?P<kind>tmp|old)$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _public(path: Path | str, mode: int) -> None:
    """mkstemp/mkdtemp create private files; give them the usual permissions instead."""
    os.chmod(path, mode & ~_umask())


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_path(path: Path) -> int:
    """Open ``path`` (a file or a folder) and hold an exclusive lock on it; returns the fd."""
    fd = os.open(path, os.O_RDONLY)
    if not _try_lock(fd):  # pragma: no cover - a fresh random name nobody else knows
        os.close(fd)
        raise NmtkitError(f"{path}: locked by another process")
    return fd


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def is_temporary(name: str) -> bool:
    """True for the name of one of nmtkit's temporaries (``.TARGET.XXXXXXXX.tmp``)."""
    return _TEMP.match(name) is not None


def user_path(filename: str | os.PathLike) -> str:
    """The path a user asked for, for a message about a file in one of our temporaries:
    ``d/.model.x1y2z3w4.tmp/model.pt`` -> ``d/model/model.pt``."""
    parts = [m["name"] if (m := _TEMP.match(part)) else part for part in Path(filename).parts]
    return str(Path(*parts)) if parts else str(filename)


def leftovers(target: Path) -> list[Path]:
    """Temporaries of ``target`` left by writers that no longer run."""
    target = Path(target)
    found = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or m["name"] != target.name:
            continue
        try:
            fd = os.open(entry, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                found.append(entry)
        finally:
            os.close(fd)  # releases the lock we took
    return sorted(found)


def clean_leftovers(target: Path) -> int:
    """Remove the temporaries that killed writers of ``target`` left behind.

    Where a swap was cut between its two renames (systems without an atomic exchange),
    ``target`` is missing and its previous version waits under a ``.old`` name: that is
    put back rather than removed. Returns how many leftovers were dealt with.
    """
    target = Path(target)
    stale = leftovers(target)
    old = [p for p in stale if p.name.endswith(".old")]
    restored = 0
    if not target.exists() and len(old) == 1:
        os.rename(old[0], target)
        stale.remove(old[0])
        restored = 1
    for p in stale:
        _remove(p)
    return len(stale) + restored


def _fsync(fd: int) -> None:
    os.fsync(fd)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


def write_json(path: Path, doc) -> None:
    import json

    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is flushed to disk and renamed
    to ``path``; on failure (or Ctrl-C) it is removed. An OSError that names no file (a
    failed write, a full disk) names ``path``."""
    path = Path(path)
    clean_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if not _try_lock(fd):  # pragma: no cover - a fresh random name nobody else knows
            raise NmtkitError(f"{tmp}: locked by another process")
        yield Path(tmp)
        _fsync(fd)  # the writer may have used another descriptor: fsync syncs the file
        _public(tmp, 0o666)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.filename is None:
            raise _named(e, path) from None
        raise
    finally:
        os.close(fd)


def _named(e: OSError, path: Path) -> OSError:
    """An OSError without a file name (a failed write of pathlib's, matplotlib's or
    CTranslate2's, a failed fsync), named after ``path``, the output being written."""
    return OSError(e.errno, e.strerror or str(e), str(path))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system
    or the file system has no such call."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class StagedDir:
    """A folder built under a hidden temporary name beside ``target``.

    Write into :attr:`path`; :meth:`commit` swaps the finished folder in (replacing an
    existing ``target`` only when ``replace`` is true, or when it is an empty folder) and
    from then on :attr:`path` is ``target``; :meth:`discard` removes the temporary.
    """

    def __init__(self, target: Path, replace: bool = False):
        self.target = Path(target)
        self.replace = replace
        self.target.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(self.target)
        tmp = tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp",
                               dir=self.target.parent)
        self.path = Path(tmp)
        self._fd: int | None = _lock_path(self.path)
        _public(tmp, 0o777)
        self.committed = False

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def commit(self) -> None:
        tmp, target = self.path, self.target
        if is_empty_dir(target):
            target.rmdir()  # an empty folder holds nothing to lose
        if target.exists() or target.is_symlink():
            if not self.replace:
                raise NmtkitError(f"{target}: already exists; pass --overwrite to replace it")
            if _exchange(tmp, target):
                _remove(tmp)  # the previous folder, now under the temporary name
            else:
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old",
                                            dir=target.parent))
                os.rmdir(old)
                os.rename(target, old)
                os.rename(tmp, target)
                _remove(old)
        else:
            os.rename(tmp, target)
        self.path = target
        self.committed = True
        self._release()

    def discard(self) -> None:
        if not self.committed:
            _remove(self.path)
        self._release()


@contextlib.contextmanager
def atomic_dir(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and swap it in as ``path`` on success.

    An interrupted build leaves only a hidden ``.NAME.*.tmp`` folder, which no command
    reads and the next build of ``path`` removes. An OSError that names no file names
    ``path``.
    """
    path = Path(path)
    if path.exists() and not overwrite and not is_empty_dir(path):
        raise NmtkitError(f"{path}: already exists; pass --overwrite to replace it")
    staged = StagedDir(path, replace=overwrite)
    try:
        yield staged.path
        staged.commit()
    except OSError as e:
        if e.filename is None:  # a write that names no file (CTranslate2's) names path
            raise _named(e, path) from None
        raise
    finally:
        staged.discard()


def is_empty_dir(path: Path) -> bool:
    """A real folder (not a link to one) with nothing in it."""
    path = Path(path)
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


# -- reading -------------------------------------------------------------------------------

def open_input(path: Path, what: str = "") -> BinaryIO:
    """Open a file for reading; a missing file, a folder or no permission is one line."""
    path = Path(path)
    label = f"{what} " if what else ""
    if path.is_dir():
        raise NmtkitError(f"{path}: is a folder, not a {label}file")
    try:
        return open(path, "rb")
    except OSError as e:
        raise NmtkitError(f"{path}: cannot read {label}file: {e.strerror}") from None


def read_lines(path: Path) -> list[str]:
    """All lines of a UTF-8 text file, without line ends; bad UTF-8 names file and line."""
    return list(iter_lines(path))


def iter_lines(path: Path) -> Iterator[str]:
    with open_input(path) as f:
        yield from decode_lines(f, str(path))


BOM = "\ufeff"


def decode_lines(stream, name: str,
                 on_invalid: Callable[[str], None] | None = None) -> Iterator[str]:
    """Decode a binary line stream; ``\\n`` and ``\\r\\n`` end a line, nothing else does.

    A byte-order mark at the start of the stream is dropped. Invalid UTF-8 is a
    :class:`DataError` naming ``name:line``; with ``on_invalid``, the bad bytes are replaced
    by U+FFFD instead and ``on_invalid`` gets that message.
    """
    for lineno, raw in enumerate(stream, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            message = f"{name}:{lineno}: invalid UTF-8 at byte {e.start}"
            if on_invalid is None:
                raise DataError(message) from None
            on_invalid(f"{message}; bad bytes replaced by U+FFFD")
            text = raw.decode("utf-8", errors="replace")
        if lineno == 1 and text.startswith(BOM):
            text = text[1:]
        if text.endswith("\n"):
            text = text[:-1]
            if text.endswith("\r"):
                text = text[:-1]
        yield text


def count_lines(path: Path) -> int:
    """Number of lines, counting a last line without a newline."""
    n = 0
    last = b"\n"
    with open_input(path) as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def read_json(path: Path, what: str):
    """A JSON file of a data or model folder; a missing or damaged one is one line."""
    import json

    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        return json.loads(text)
    except FileNotFoundError:
        raise NmtkitError(f"{path}: missing ({what})") from None
    except OSError as e:
        raise NmtkitError(f"{path}: cannot read {what}: {e.strerror}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise NmtkitError(f"{path}: damaged {what} (not valid JSON: {e})") from None


def file_fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, as ``sha256:HEX``."""
    import hashlib

    h = hashlib.sha256()
    with open_input(path) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"
