"""Training seconds and log windows (nmtkit/training/state.py)."""

import pytest

from nmtkit.training.state import Clock, Window


class Ticks:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_clock_counts_training_not_validation_and_the_earlier_runs():
    ticks = Ticks()
    clock = Clock(seconds_before=50.0, now=ticks)
    ticks.now += 10
    clock.pause(4.0)  # 4 of those 10 s were spent validating
    assert clock.active() == pytest.approx(6.0)
    assert clock.elapsed() == pytest.approx(56.0)


def test_a_window_reports_its_own_tokens_over_its_training_seconds():
    ticks = Ticks()
    clock = Clock(0.0, ticks)
    window = Window(clock)
    window.add(30.0, 10)
    ticks.now += 1000  # a validation inside the window
    clock.pause(1000)
    window.add(10.0, 10)
    ticks.now += 2
    assert window.loss_per_token() == pytest.approx(2.0)
    assert window.tokens_per_sec() == pytest.approx(10.0)
    window.reset()
    assert (window.tokens, window.loss) == (0, 0.0)
