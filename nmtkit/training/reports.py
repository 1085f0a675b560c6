"""What training tells its caller: a :class:`StartReport` when it starts, a
:class:`StepReport` per log window, validation results, the :class:`TrainResult` at the
end, through :class:`TrainCallbacks`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nmtkit.training.validate import ValidResult


@dataclass
class StartReport:
    parameters: int
    train_pairs: int
    model_dir: Path
    precision: str  # fp32, bf16 or fp16, as resolved for this machine


@dataclass
class StepReport:
    step: int
    epoch: int
    loss: float  # per target token over the last log window (label-smoothed)
    tokens_per_sec: float  # target tokens (EOS included, padding not) over the window
    lr: float
    elapsed: float
    progress: float | None  # 0..1 of the nearest limit, None when unknown
    eta: float | None  # seconds


@dataclass
class TrainResult:
    model_dir: Path
    steps: int
    epochs: float
    seconds: float
    tgt_tokens: int
    tokens_per_sec: float
    parameters: int
    best: ValidResult | None
    last: ValidResult | None
    # 130 / 143: stopped by Ctrl-C / SIGTERM after saving a checkpoint (resumable)
    interrupted: int | None = None
    stopped_early: str | None = None  # why, when early stopping ended the run
    # int8 against float32 on the validation set after training (api.train; train.check_int8)
    int8_check: Any = None  # nmtkit.model_folder.int8_check.Int8Check


class TrainCallbacks:
    """Override what you need; the defaults do nothing."""

    def on_start(self, report: StartReport) -> None: ...

    def on_step(self, report: StepReport) -> None: ...

    def on_valid(self, result: ValidResult, is_best: bool) -> None: ...

    def on_end(self, result: TrainResult) -> None: ...
