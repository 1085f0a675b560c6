"""Progress bars (tqdm) on stderr for long runs, shown only when stderr is a terminal, so
logs, pipes and files never see them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    """``progress(done, total)``: draws a tqdm bar of ``done`` of ``total`` units."""

    def __init__(self, desc: str, unit: str):
        self.desc, self.unit = desc, unit
        self.bar = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr,
                            leave=False, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _none(done: int, total: int | None = None) -> None:
    pass


@contextmanager
def progress(desc: str, unit: str = "lines", show: bool = True) -> Iterator:
    """A ``progress(done, total)`` callback: a bar when ``show`` and stderr is a terminal,
    else one that does nothing."""
    if not (show and sys.stderr.isatty()):
        yield _none
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    bar = Progress(desc, unit)
    try:
        with logging_redirect_tqdm():  # log lines print above the bar
            yield bar
    finally:
        bar.close()
