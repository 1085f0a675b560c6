"""Worker processes (translate --workers): forked from this process, with their share of
the threads, and a worker that dies is a one-line error."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.translator import AUTO_MAX_WORKERS, resolve_workers
from nmtkit.workers import WorkerPool


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
    assert resolve_workers(3, torch.device("cpu")) == 3
    assert resolve_workers(0, torch.device("cuda")) == 1
    with pytest.raises(ConfigError, match="--workers: worker processes are for CPU"):
        resolve_workers(2, torch.device("cuda"))
