"""Ctrl-C (SIGINT) and SIGTERM during training: the first asks the training loop to save a
checkpoint and stop (the run then exits with 130 or 143 and can be resumed); a second one
exits at once, leaving the last checkpoint as it was. Under torchrun, whose agent passes
the terminal's Ctrl-C on to workers that already had it, repeats are ignored instead (the
agent kills workers that have not finished 30 seconds later)."""

from __future__ import annotations

import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """While entered (in the main thread), records the first SIGINT or SIGTERM."""

    def __init__(self, second_exits: bool = True):
        self.second_exits = second_exits
        self.signum: int | None = None
        self._previous: dict = {}

    @property
    def status(self) -> int | None:
        """The exit status the signal asks for (128 + its number), or None."""
        return None if self.signum is None else 128 + self.signum

    def handle(self, signum: int, frame=None) -> None:
        if self.signum is not None:
            if self.second_exits:
                raise SystemExit(128 + signum)  # the second: at once
            return
        self.signum = signum

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self.handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}
