"""Why training throughput drifts over a run: ``nmtkit train``'s own loop for
``--minutes``, and at every log window (``--every`` steps) three probes beside its
tokens/s:

- the machine: float32 matrix-product GFLOP/s of a fixed product (1024 x 1024 x 1024, best
  of 3), which no state of the training process changes;
- the process: the milliseconds of forward and backward over one fixed batch (the
  epoch's first; its gradients are thrown away: every step starts from zero), which the
  allocator's or oneDNN's state would slow but the data would not;
- memory: the resident set (MiB) now, and its peak so far.

Training returns the allocator's free memory at each log window
(:mod:`nmtkit.training.memory`); ``--no-trim`` measures without that.

If tokens/s falls with the machine's GFLOP/s, the machine slowed; if with the fixed batch,
the process did; if alone, the batches did. The probes take a few seconds a window, which
the tokens/s of the window does not count.

    python bench/train_drift.py --data runs/m30k/data --config examples/multi30k/rnn.yaml \\
        --minutes 10 --every 50
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from nmtkit.config import load_config
from nmtkit.data.batching import token_batches
from nmtkit.precision import autocast
from nmtkit.training import trainer as trainer_module
from nmtkit.training.loss import token_loss
from nmtkit.training.reports import StepReport, TrainCallbacks
from nmtkit.training.trainer import Trainer

SIZE = 1024


def memory_mib(field: str) -> float:
    """VmRSS (resident now) or VmHWM (the peak so far) of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine_gflops() -> float:
    a, b = torch.randn(SIZE, SIZE), torch.randn(SIZE, SIZE)
    best = None
    for _ in range(3):
        start = time.perf_counter()
        torch.mm(a, b)
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
    return 2 * SIZE**3 / best / 1e9


class Probes(TrainCallbacks):
    def __init__(self):
        self.trainer: Trainer | None = None
        self.fixed = None
        self.last = None  # (when the previous probes started, how long they took)

    def fixed_batch_ms(self) -> float:
        t = self.trainer
        if self.fixed is None:
            tc = t.config.train
            lengths = (t.train_data.src.lengths, t.train_data.tgt.lengths)
            first = token_batches(*lengths, tc.batch_tokens, torch.Generator().manual_seed(0),
                                  tc.max_len)[0]
            self.fixed = t.train_data.collate(first)
        batch = self.fixed
        start = time.perf_counter()
        with autocast(t.precision, t.device):
            out = t.model(batch.src, batch.src_lengths, batch.tgt_in)
        loss = token_loss(out.scores.float(), batch.tgt_out, t.config.train.label_smoothing)
        loss.backward()
        t.optimizer.zero_grad(set_to_none=True)
        return (time.perf_counter() - start) * 1000

    def on_step(self, report: StepReport) -> None:
        start = time.perf_counter()
        tokens_per_sec = report.tokens_per_sec
        if self.last is not None:  # the trainer's window also held the previous probes
            window = start - self.last[0]
            tokens_per_sec *= window / (window - self.last[1])
        gflops, fixed = machine_gflops(), self.fixed_batch_ms()
        rss, peak = memory_mib("VmRSS"), memory_mib("VmHWM")
        print(f"| {report.step} | {report.elapsed:.0f} | {tokens_per_sec:,.0f} | "
              f"{gflops:.1f} | {fixed:.0f} | {rss:,.0f} | {peak:,.0f} |", flush=True)
        self.last = (start, time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--no-trim", action="store_true",
                    help="keep the allocator's free memory (as before nmtkit.training.memory)")
    ap.add_argument("overrides", nargs="*", help="KEY=VALUE config overrides")
    args = ap.parse_args()
    config = load_config(args.config, [f"train.max_minutes={args.minutes}",
                                       f"train.log_every={args.every}", "train.valid_every=0",
                                       *args.overrides])
    if args.no_trim:
        trainer_module.release_free_memory = lambda: None
    probes = Probes()
    with tempfile.TemporaryDirectory() as work:
        trainer = Trainer(config, args.data, Path(work) / "model", probes)
        probes.trainer = trainer
        print(f"{args.config}, precision {trainer.precision}, {torch.get_num_threads()} "
              f"threads, log window {args.every} steps")
        print("| step | training s | tgt tokens/s | machine fp32 GFLOP/s | fixed batch ms | "
              "RSS MiB | peak RSS MiB |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        trainer.run()


if __name__ == "__main__":
    main()
