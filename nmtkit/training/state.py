"""Where a training run stands (:class:`TrainState`, owned by the trainer and saved in
``train_state.pt`` by :mod:`nmtkit.training.resume`), how long it has trained
(:class:`Clock`) and what the next log line reports (:class:`Window`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nmtkit.training.validate import ValidBook


@dataclass
class TrainState:
    """The counters a resumed run continues from (the weights, optimizer, schedule, gradient
    scaler and random generators are saved beside them)."""

    book: ValidBook  # the validations so far: best, last, how many without a better one
    step: int = 0  # optimizer steps taken
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of this epoch already trained on
    tgt_tokens: int = 0  # target tokens trained on (EOS included)
    seconds_before: float = 0.0  # training seconds of the runs before this one


class Clock:
    """Training seconds: this run's, less the time spent validating, plus the earlier
    runs' (``train.max_minutes`` counts these)."""

    def __init__(self, seconds_before: float, now: Callable[[], float]):
        self.now = now
        self.start = now()
        self.before = seconds_before
        self.paused = 0.0  # seconds spent validating

    def active(self) -> float:
        """Seconds of this run spent training."""
        return self.now() - self.start - self.paused

    def elapsed(self) -> float:
        """Seconds spent training, earlier runs included."""
        return self.active() + self.before

    def pause(self, seconds: float) -> None:
        """Do not count ``seconds`` (validating) as training."""
        self.paused += seconds


class Window:
    """Loss and target tokens since the last log line."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.start, self.tokens, self.loss = self.clock.active(), 0, 0.0

    def add(self, loss: float, tokens: int) -> None:
        self.loss += loss
        self.tokens += tokens

    def loss_per_token(self) -> float:
        return self.loss / max(self.tokens, 1)

    def tokens_per_sec(self) -> float:
        return self.tokens / max(self.clock.active() - self.start, 1e-9)
