"""A model's translation process: a fresh interpreter (a :class:`WorkerPool` started with
``spawn``: the OpenMP thread pool of a process that has computed does not survive a fork
with more than one thread) that loads the model itself and translates what the server
sends it. The search's Python then never waits for the server's, nor the server's for the
search's, as they would for the one interpreter lock of a single process.

A process that dies is started again; the requests it was translating are answered with
an error (503), not left hanging. Errors inside it (a model that does not load) come back
as themselves, one line.
"""

from __future__ import annotations

import threading
from pathlib import Path

from nmtkit.serve.errors import busy
from nmtkit.translate.workers import WorkerDied, WorkerPool

_here: dict = {}  # in the translation process: "model", the ServedModel


def _translate(model: tuple, request, lines: list[str]):
    """In the translation process: the model (``(path, name, options)``, loaded on the
    first call) translates ``lines`` as ``request`` asks."""
    from nmtkit.serve.models import RequestOptions, ServedModel

    if "model" not in _here:
        paths, name, options = model
        _here["model"] = ServedModel.load([Path(p) for p in paths], name, options)
    return _here["model"].translate_here(request or RequestOptions(), lines)


class TranslationProcess:
    """The process translating for the model ``name`` in ``paths`` (several: their
    ensemble)."""

    def __init__(self, paths: list[Path], name: str, options, threads: int):
        self.model, self.threads = ([str(p) for p in paths], name, options), threads
        self._lock = threading.Lock()
        self._pool = self._started()

    def _started(self) -> WorkerPool:
        pool = WorkerPool(_translate, 1, self.threads, start="spawn")
        pool.result(pool.submit(self.model, None, []))  # loaded now; its errors, here
        return pool

    def translate(self, request, lines: list[str]):
        pool = self._pool
        try:
            return pool.result(pool.submit(self.model, request, lines))
        except WorkerDied:
            with self._lock:
                if self._pool is pool:  # not started again by another batch already
                    pool.close(now=True)
                    self._pool = self._started()
            raise busy(f"model {self.model[1]}: its translation process died (killed, "
                       "perhaps out of memory) and was started again; send the request "
                       "again") from None

    def close(self) -> None:
        self._pool.close(now=True)
