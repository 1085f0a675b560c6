"""Rendering training progress: a rich progress bar on a terminal, log lines otherwise."""

from __future__ import annotations

import math
import sys
import time

from nmtkit.training.reports import StartReport, StepReport, TrainCallbacks
from nmtkit.training.validate import ValidResult


def _valid_line(r: ValidResult, is_best: bool) -> str:
    bleu = f" bleu {r.bleu:.2f}" if r.bleu is not None else ""
    chrf = f" chrf {r.chrf:.2f}" if r.chrf is not None else ""
    return (f"valid step {r.step}: loss {r.loss:.3f} ppl {r.ppl:.2f}{bleu}{chrf} "
            f"({r.seconds:.1f}s){' *best*' if is_best else ''}")


def _step_figures(r: StepReport) -> str:
    """Loss, its perplexity, learning rate and speed of a log window."""
    return (f"loss {r.loss:.3f} ppl {math.exp(min(r.loss, 50.0)):.2f} lr {r.lr:.2e} "
            f"{r.tokens_per_sec:,.0f} tok/s")


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return time.strftime("%H:%M:%S", time.gmtime(seconds))


class LogLines(TrainCallbacks):
    """Plain lines on stderr, for logs and pipes."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def _print(self, line: str) -> None:
        print(f"nmtkit: {line}", file=sys.stderr, flush=True)

    def on_start(self, report: StartReport) -> None:
        self._print(f"training {report.parameters:,} parameters on {report.train_pairs:,} "
                    f"pairs into {report.model_dir} ({report.precision})")

    def on_step(self, r: StepReport) -> None:
        self._print(f"step {r.step} epoch {r.epoch}: {_step_figures(r)} "
                    f"elapsed {_eta(r.elapsed)} eta {_eta(r.eta)}")

    def on_valid(self, r: ValidResult, is_best: bool) -> None:
        self._print(_valid_line(r, is_best))


class ProgressDisplay(TrainCallbacks):
    """A live rich progress bar with loss, tokens/s and ETA."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[info]}"), TimeRemainingColumn(), console=self.console)
        self.task = self.progress.add_task("train", total=1000, info="starting")
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()
        return False

    def on_start(self, report: StartReport) -> None:
        self.console.print(f"training {report.parameters:,} parameters on "
                           f"{report.train_pairs:,} pairs into {report.model_dir} "
                           f"({report.precision})")

    def on_step(self, r: StepReport) -> None:
        info = f"step {r.step} {_step_figures(r)}"
        completed = 1000 * r.progress if r.progress is not None else None
        self.progress.update(self.task, completed=completed, info=info)

    def on_valid(self, r: ValidResult, is_best: bool) -> None:
        self.console.print(_valid_line(r, is_best))
