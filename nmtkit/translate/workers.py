"""Worker processes for ``translate --workers N``: a pool of processes forked from this one,
each calling the same function with its share of the CPU threads.

Forking (rather than starting fresh interpreters) gives every worker the parent's loaded,
possibly quantized, model at once, with the weights' memory pages shared, so the pool
costs no start-up time (a fresh interpreter spends about 2 s importing torch alone).
Hence CPU only: CUDA does not survive a fork. Workers ignore Ctrl-C (the parent stops
them) and are killed when the parent dies, so a pipeline cut short (``| head``) leaves no
process behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from nmtkit.errors import NmtkitError

_worker: dict = {}  # in a worker: "target", what it calls
_PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def _sigpipe_blocked():
    """Threads started in here have SIGPIPE blocked. The pool's threads write to the
    workers' pipe; once a worker dies, the pool closes its end, and the next write there
    would raise SIGPIPE, which kills the whole process, without a word, where SIGPIPE has
    its default action (translate's, to end quietly under ``| head``). Blocked, the write
    fails with EPIPE, and the pool reports the dead worker."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _start(target: Callable, threads: int, parent: int) -> None:
    """A worker's set-up; its arguments come through the fork, unpickled."""
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # forked from a thread that blocked SIGPIPE
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPIPE})
    # Not Linux: no parent-death signal; the pool's own shutdown ends the workers.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    torch.set_num_threads(threads)
    _forget_compile_threads()
    _worker["target"] = target


def _forget_compile_threads() -> None:
    """torch.compile's C++ kernels are built in a thread pool that inductor makes once per
    process (``AsyncCompile.pool``). A forked worker inherits that pool but not its
    threads, so its first compile would wait forever where the parent had compiled before
    forking; torch resets its process pool after a fork, not this one. The worker makes
    its own on its first compile."""
    module = sys.modules.get("torch._inductor.async_compile")
    pool = getattr(getattr(module, "AsyncCompile", None), "pool", None)
    if hasattr(pool, "cache_clear"):
        pool.cache_clear()


def _call(*args):
    return _worker["target"](*args)


class WorkerDied(NmtkitError):
    """A worker process died (killed, perhaps out of memory)."""


class WorkerPool:
    """``workers`` processes with ``threads`` threads each, calling ``target`` (a function
    or bound method of an object the parent holds, inherited through the fork; the calls'
    arguments and results are pickled).

    ``start="spawn"`` starts fresh interpreters instead, for a parent that has computed
    with more than one thread (a forked child's OpenMP pool then hangs unless it uses one
    thread); ``target`` must then be a module-level function, pickled by name."""

    def __init__(self, target: Callable, workers: int, threads: int, start: str = "fork"):
        self.workers = workers
        self.threads = threads
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context(start), initializer=_start,
            initargs=(target, threads, os.getpid()))

    def submit(self, *args) -> Future:
        try:
            with _sigpipe_blocked():  # the pool's threads start in the first submit
                return self._pool.submit(_call, *args)
        except BrokenProcessPool:
            raise _died() from None

    @staticmethod
    def result(future: Future):
        """The future's result; a worker that died or ran out of memory is a one-line
        error."""
        try:
            return future.result()
        except BrokenProcessPool:
            raise _died() from None
        except MemoryError:
            raise _out_of_memory() from None
        except RuntimeError as e:  # torch's allocator says it so
            if "can't allocate memory" not in str(e):
                raise
            raise _out_of_memory() from None

    def pids(self) -> list[int]:
        """The worker processes started so far."""
        return [p.pid for p in (getattr(self._pool, "_processes", None) or {}).values()]

    def close(self, now: bool = False) -> None:
        """Stop the workers: once their work is done, or ``now`` (after an error or Ctrl-C,
        whose results nobody will read)."""
        if now:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        # Waiting after a kill is quick (the pool's manager thread sees its workers dead),
        # and leaves nothing for the interpreter's exit to trip over.
        self._pool.shutdown(wait=True, cancel_futures=True)


WHAT_TO_DO = "try fewer --workers or a smaller --batch-size"


def _died() -> WorkerDied:
    return WorkerDied(f"a --workers process died (killed, perhaps out of memory); "
                      f"{WHAT_TO_DO}")


def _out_of_memory() -> NmtkitError:
    return NmtkitError(f"a --workers process ran out of memory; {WHAT_TO_DO}")
