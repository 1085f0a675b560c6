"""Batching across requests (nmtkit/serve/batcher.py), with a stand-in translation."""

import threading

import pytest

from nmtkit.serve.batcher import Batcher
from nmtkit.serve.errors import Refusal


class Recorder:
    """Translates a line into (key, line), recording each call; waits on ``gate``."""

    def __init__(self):
        self.calls = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, key, lines):
        self.gate.wait()
        self.calls.append((key, list(lines)))
        if "boom" in lines:
            raise RuntimeError("boom")
        return [(key, line) for line in lines]


def test_concurrent_requests_are_batched_and_each_gets_its_own_lines_in_order():
    record = Recorder()
    record.gate.clear()  # the first batch waits: the others gather behind it
    batcher = Batcher(record, max_batch=100, max_wait=0.05, max_queue=1000)
    first = batcher.submit(["0"], "k")
    futures = [batcher.submit([f"{i}a", f"{i}b"], "k") for i in range(1, 6)]
    record.gate.set()
    assert first.result(timeout=10) == [("k", "0")]
    assert [f.result(timeout=10) for f in futures] == [
        [("k", f"{i}a"), ("k", f"{i}b")] for i in range(1, 6)]
    assert max(len(lines) for _, lines in record.calls) > 2  # translated together
    batcher.close()


def test_requests_with_other_options_are_translated_apart():
    record = Recorder()
    record.gate.clear()
    batcher = Batcher(record, max_batch=100, max_wait=0.05, max_queue=1000)
    a, b = batcher.submit(["x"], "beam1"), batcher.submit(["y"], "beam5")
    record.gate.set()
    assert (a.result(timeout=10), b.result(timeout=10)) == ([("beam1", "x")],
                                                            [("beam5", "y")])
    assert sorted(record.calls) == [("beam1", ["x"]), ("beam5", ["y"])]  # one call each
    batcher.close()


def test_a_full_queue_is_refused_with_503_and_retry_after():
    record = Recorder()
    record.gate.clear()
    batcher = Batcher(record, max_batch=1, max_wait=0, max_queue=3)
    batcher.submit(["a", "b"], "k")
    with pytest.raises(Refusal) as refused:
        batcher.submit(["c", "d"], "k")
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "1"}
    assert "--max-queue" in refused.value.message
    record.gate.set()
    batcher.close()
    assert batcher.waiting == 0  # the lines translated leave the count


def test_a_failing_translation_reaches_its_requests_and_the_batcher_goes_on():
    batcher = Batcher(Recorder(), max_batch=10, max_wait=0, max_queue=100)
    with pytest.raises(RuntimeError, match="boom"):
        batcher.submit(["boom"], "k").result(timeout=10)
    assert batcher.submit(["fine"], "k").result(timeout=10) == [("k", "fine")]
    batcher.close()


def test_a_request_whose_client_left_is_not_translated():
    record = Recorder()
    record.gate.clear()
    batcher = Batcher(record, max_batch=100, max_wait=0.05, max_queue=100)
    blocker = batcher.submit(["first"], "k")
    gone = batcher.submit(["gone"], "k")
    kept = batcher.submit(["kept"], "k")
    assert gone.cancel()
    record.gate.set()
    blocker.result(timeout=10)
    assert kept.result(timeout=10) == [("k", "kept")]
    assert all("gone" not in lines for _, lines in record.calls)
    batcher.close()
    assert batcher.waiting == 0


def test_a_lone_request_does_not_wait_for_company():
    """With no other request in the server, a batch closes at once instead of waiting
    max_wait (here 30 s) for more."""
    batcher = Batcher(Recorder(), max_batch=100, max_wait=30.0, max_queue=100,
                      in_flight=lambda: 1)
    assert batcher.submit(["x"], "k").result(timeout=10) == [("k", "x")]
    batcher.close()
