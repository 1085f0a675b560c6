"""A model's translation process: a fresh interpreter (``spawn``, not a fork: the OpenMP
thread pool of a process that has computed does not survive a fork with more than one
thread) that loads the model itself and translates what the server sends it. The search's
Python then never waits for the server's, nor the server's for the search's, as they
would for the one interpreter lock of a single process.

A process that dies is started again; the requests it was translating are answered with
an error (503), not left hanging. Errors inside it (a model that does not load) come back
as themselves, one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from nmtkit.serve.errors import busy

_here: dict = {}  # in the translation process: "model", the ServedModel
_PR_SET_PDEATHSIG = 1


def _start(parent: int, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops it
    with contextlib.suppress(OSError, AttributeError):  # killed with the server (Linux)
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    import torch

    torch.set_num_threads(threads)


def _load(path: str, name: str, options) -> None:
    from nmtkit.serve.models import ServedModel

    if "model" not in _here:
        _here["model"] = ServedModel.load(Path(path), name, options)


def _translate(request, lines: list[str]):
    return _here["model"].translate_here(request, lines)


class TranslationProcess:
    """The process translating for the model ``name`` in ``path``."""

    def __init__(self, path: Path, name: str, options, threads: int):
        self.path, self.name, self.options, self.threads = str(path), name, options, threads
        self.restarts = 0
        self._lock = threading.Lock()
        self._pool = self._started()

    def _started(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(os.getpid(), self.threads))
        pool.submit(_load, self.path, self.name, self.options).result()  # its errors, here
        return pool

    def translate(self, request, lines: list[str]):
        pool = self._pool
        try:
            return pool.submit(_translate, request, lines).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:  # not started again by another batch already
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._started()
                    self.restarts += 1
            raise busy(f"model {self.name}: its translation process died (killed, perhaps "
                       "out of memory) and was started again; send the request again") \
                from None

    def pids(self) -> list[int]:
        return [p.pid for p in (getattr(self._pool, "_processes", None) or {}).values()]

    def close(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._pool.shutdown(wait=True, cancel_futures=True)
