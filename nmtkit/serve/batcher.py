"""Dynamic batching across requests: the lines of concurrent requests wait in one queue
and are translated together. A batch keeps gathering while requests keep coming: it
closes once it holds ``max_batch`` lines, or once ``max_wait`` seconds pass without a new
request, or :data:`WAIT_CAP` times ``max_wait`` after its first; and at once when the last
batch held one request and no other request is in the server (``in_flight``), so a lone
client never waits for company.
While a batch is translated the next one gathers. Each request gets its own lines back,
in order, one result per line.

Waiting for a pause rather than a fixed time after the first request matters to clients
that send their next request as soon as they have an answer: their requests come back as
a burst over a few milliseconds, and a batch cut at a fixed time after the first of them
splits the burst in two, halving the batch.

Requests that ask for different search options are translated in separate groups of the
same batch (a key per option set). In float32 a line's translation does not depend on what
it was batched with, so batching changes no one's output. A request whose client has gone
(its future cancelled) before its batch runs is left out of it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field

from nmtkit.serve.errors import busy

WAIT_CAP = 8  # a batch waits at most this many times max_wait after its first request


@dataclass
class Job:
    lines: list[str]
    key: Hashable  # the request's search options
    future: Future = field(default_factory=Future)


class Batcher:
    """One thread translating batches with ``translate(key, lines) -> results``;
    :meth:`submit` from any thread. ``on_batch(lines)`` hears each batch's size."""

    def __init__(self, translate: Callable[[Hashable, list[str]], list], max_batch: int,
                 max_wait: float, max_queue: int,
                 on_batch: Callable[[int], None] = lambda n: None,
                 in_flight: Callable[[], int] | None = None):
        self.translate = translate
        # requests the server holds now (None: always worth waiting for more)
        self.in_flight = in_flight
        self._last_requests = 0  # requests in the last batch
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self.on_batch = on_batch
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self.waiting = 0  # lines queued or being translated
        self._thread = threading.Thread(target=self._serve, name="nmtkit-batcher", daemon=True)
        self._thread.start()

    def submit(self, lines: list[str], key: Hashable) -> Future:
        """A future of ``lines``' results; refused (503) when the queue would pass
        ``max_queue`` lines."""
        with self._lock:
            if self.waiting + len(lines) > self.max_queue:
                raise busy(f"the server has {self.waiting} lines waiting, and takes "
                           f"{self.max_queue} at most (--max-queue); try again shortly")
            self.waiting += len(lines)
        job = Job(list(lines), key)
        self._jobs.put(job)
        return job.future

    def close(self) -> None:
        """Translate what is queued, then stop the thread."""
        self._jobs.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while (first := self._jobs.get()) is not None:
            jobs, lines, stop = [first], len(first.lines), False
            cap = time.monotonic() + WAIT_CAP * self.max_wait
            while lines < self.max_batch:
                if (self.in_flight is not None and self._last_requests <= 1
                        and self.in_flight() <= len(jobs)):
                    break  # no one else to wait for
                wait = min(self.max_wait, cap - time.monotonic())
                try:
                    job = self._jobs.get(timeout=max(0.0, wait))
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
                lines += len(job.lines)
            self._run(jobs)
            if stop:
                break

    def _run(self, jobs: list[Job]) -> None:
        live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
        self._last_requests = len(jobs)
        self.on_batch(sum(len(j.lines) for j in live))
        groups: dict[Hashable, list[Job]] = {}
        for job in live:
            groups.setdefault(job.key, []).append(job)
        for key, group in groups.items():
            try:
                results = self.translate(key, [line for j in group for line in j.lines])
            except Exception as e:  # noqa: BLE001 (each request hears it; the thread goes on)
                for job in group:
                    job.future.set_exception(e)
            else:
                start = 0
                for job in group:
                    job.future.set_result(results[start : start + len(job.lines)])
                    start += len(job.lines)
        with self._lock:
            self.waiting -= sum(len(j.lines) for j in jobs)
