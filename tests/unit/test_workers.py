"""Worker processes (translate --workers): forked from this process, with their share of
the threads, and a worker that dies is a one-line error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
import torch

from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.translate.translator import AUTO_MAX_WORKERS, WORKERS_PER_CPU, resolve_workers
from nmtkit.translate.workers import WorkerPool


def _where(value):
    return os.getpid(), torch.get_num_threads(), value * 2


def test_workers_are_other_processes_with_their_threads_and_return_in_order():
    pool = WorkerPool(_where, workers=2, threads=1)
    try:
        futures = [pool.submit(v) for v in range(6)]
        results = [pool.result(f) for f in futures]
        workers = set(pool.pids())
    finally:
        pool.close()
    assert [r[2] for r in results] == [0, 2, 4, 6, 8, 10]
    pids = {r[0] for r in results}
    assert os.getpid() not in pids and pids <= workers and len(workers) == 2
    assert {r[1] for r in results} == {1}


def test_a_worker_that_dies_is_a_one_line_error():
    pool = WorkerPool(_where, workers=1, threads=1)
    try:
        pool.result(pool.submit(1))  # the worker is up
        [pid] = pool.pids()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(NmtkitError, match="a --workers process died"):
            pool.result(pool.submit(2))
    finally:
        pool.close(now=True)


def test_auto_takes_one_worker_per_thread_and_a_gpu_takes_none():
    threads = torch.get_num_threads()
    assert resolve_workers(0, torch.device("cpu")) == min(AUTO_MAX_WORKERS, threads)
    most = WORKERS_PER_CPU * os.cpu_count()
    assert resolve_workers(most, torch.device("cpu")) == most
    with pytest.raises(ConfigError, match=f"--workers {most + 1}: far more processes than "
                                          f"this machine's {os.cpu_count()} CPUs"):
        resolve_workers(most + 1, torch.device("cpu"))
    assert resolve_workers(0, torch.device("cuda")) == 1
    with pytest.raises(ConfigError, match="--workers: worker processes are for CPU"):
        resolve_workers(2, torch.device("cuda"))


def _raise_memory_error(value):
    raise MemoryError


def _allocate_too_much(value):
    return torch.empty(1 << 60, dtype=torch.uint8)  # torch's allocator refuses it


@pytest.mark.parametrize("target", [_raise_memory_error, _allocate_too_much])
def test_a_worker_out_of_memory_is_a_one_line_error(target):
    pool = WorkerPool(target, workers=1, threads=1)
    try:
        with pytest.raises(NmtkitError) as caught:
            pool.result(pool.submit(1))
    finally:
        pool.close(now=True)
    assert str(caught.value) == ("a --workers process ran out of memory; try fewer --workers "
                                 "or a smaller --batch-size")


def test_another_failure_in_a_worker_is_not_called_out_of_memory():
    def fails(value):
        raise RuntimeError("a bug")

    pool = WorkerPool(fails, workers=1, threads=1)
    try:
        with pytest.raises(RuntimeError, match="a bug"):
            pool.result(pool.submit(1))
    finally:
        pool.close(now=True)


WORKER_FAULT = textwrap.dedent("""
    import os, signal, sys
    from nmtkit.cli import main
    from nmtkit.translate.translator import Translator
    fault, parent, real = sys.argv.pop(1), os.getpid(), Translator.search_batch
    def search_batch(self, batch, lines_done):
        if os.getpid() != parent:  # in a worker
            if fault == "SIGKILL":
                os.kill(os.getpid(), signal.SIGKILL)
            raise MemoryError
        return real(self, batch, lines_done)
    Translator.search_batch = search_batch
    sys.argv[0] = "nmtkit"
    main()
""")


@pytest.mark.parametrize("fault", ["MemoryError", "SIGKILL"])
def test_translate_with_a_worker_out_of_memory_says_so_in_one_line(tiny_model, fault):
    """translate --workers 2, a worker out of memory (Python's MemoryError, or killed as the
    kernel's OOM killer does): one line saying what to do, status 2, no traceback. In a
    process of its own: translate gives SIGPIPE its default action, which once killed the
    whole process without a word when the pool wrote to a dead worker's pipe."""
    proc = subprocess.run([sys.executable, "-c", WORKER_FAULT, fault, "translate", "-m",
                           str(tiny_model), "--workers", "2", "--batch-size", "1"],
                          input=b"a b\n" * 50, capture_output=True, check=False)
    said = ("ran out of memory" if fault == "MemoryError" else
            "died (killed, perhaps out of memory)")
    assert (proc.returncode, proc.stdout) == (2, b""), proc.stderr.decode()[-2000:]
    assert proc.stderr.decode() == (f"nmtkit: error: a --workers process {said}; try fewer "
                                    "--workers or a smaller --batch-size\n")


def _blocks_sigpipe(tid: int) -> bool:
    status = open(f"/proc/{os.getpid()}/task/{tid}/status").read()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigBlk:"))
               .split()[1], 16)
    return bool(mask & (1 << (signal.SIGPIPE - 1)))


def _worker_blocks_sigpipe(value):
    return _blocks_sigpipe(threading.get_native_id())


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_the_pools_threads_block_sigpipe_and_the_workers_do_not():
    """A write to a dead worker's pipe fails with EPIPE in the pool's threads, rather than
    raising SIGPIPE, which kills the process where it has its default action."""
    before = {t.native_id for t in threading.enumerate()}
    pool = WorkerPool(_worker_blocks_sigpipe, workers=1, threads=1)
    try:
        assert pool.result(pool.submit(1)) is False  # the worker: as it was
        started = {t.native_id for t in threading.enumerate()} - before
        assert started and all(_blocks_sigpipe(tid) for tid in started)
        assert not _blocks_sigpipe(threading.get_native_id())  # this thread: as it was
    finally:
        pool.close()
