"""Training throughput: target tokens per second over whole optimizer steps.

Measures each precision (float32 baseline and bfloat16 autocast) in the same run, on the
same batches, and prints a Markdown table with the ratio against float32. Protocol as in
../shared/BENCHMARKS.md: target tokens (non-pad, EOS included), first steps excluded, no
validation. Beside it, the matrix-product FLOPs of those steps (forward and backward,
``torch.utils.flop_counter``, counted in a second, untimed pass; the fused recurrent
kernels are not counted, so for an RNN it is a lower bound) per second, as a fraction of
the machine's best bfloat16 and float32 ``torch.mm`` throughput measured in the same run.

    python bench/train_throughput.py --data runs/multi30k/data \
        --config examples/multi30k/rnn.yaml --steps 40 --warmup 5
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from nmtkit.config import load_config
from nmtkit.data.batching import ParallelData, token_batches
from nmtkit.data.vocab import Vocab
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.precision import autocast
from nmtkit.training.loss import token_loss
from nmtkit.training.optim import build_optimizer


def gemm_peak(dtype) -> float:
    """The best GFLOP/s of a 2048-cube ``torch.mm`` in ``dtype``."""
    a, b = torch.randn(2048, 2048, dtype=dtype), torch.randn(2048, 2048, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


def measure(cfg, data, sizes, batches, precision: str, warmup: int,
            count: bool = False) -> tuple[float, int]:
    """Target tokens/s over the steps after ``warmup`` (with ``count``: the FLOPs of
    those steps instead, untimed)."""
    torch.manual_seed(cfg.train.seed)
    model = Seq2Seq(cfg.model, *sizes).train()
    opt = build_optimizer(model.parameters(), cfg.train)
    device = torch.device("cpu")
    tokens, start = 0, None
    counter = FlopCounterMode(display=False) if count else contextlib.nullcontext()
    for i, idx in enumerate(batches):
        if i == warmup:
            tokens, start = 0, time.perf_counter()
            if count:
                counter.__enter__()
        batch = data.collate(idx)
        with autocast(precision, device):
            out = model(batch.src, batch.src_lengths, batch.tgt_in)
        loss = token_loss(out.scores.float(), batch.tgt_out, cfg.train.label_smoothing)
        opt.zero_grad(set_to_none=True)
        (loss / batch.n_tgt_tokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.clip_norm)
        opt.step()
        tokens += batch.n_tgt_tokens
    if count:
        counter.__exit__(None, None, None)
        return counter.get_total_flops(), tokens
    return tokens / (time.perf_counter() - start), tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--precisions", default="fp32,bf16")
    args = ap.parse_args()
    cfg = load_config(args.config)
    src_vocab = Vocab.load(args.data / "vocab.src.tsv")
    tgt_vocab = Vocab.load(args.data / "vocab.tgt.tsv")
    data = ParallelData(args.data, "train", src_vocab, tgt_vocab)
    gen = torch.Generator().manual_seed(cfg.train.seed)
    batches = token_batches(data.src.lengths, data.tgt.lengths, cfg.train.batch_tokens, gen,
                            cfg.train.max_len)[: args.warmup + args.steps]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.steps} steps after {args.warmup} warm-up steps, "
          f"batch_tokens {cfg.train.batch_tokens}")
    peak = {"bf16": gemm_peak(torch.bfloat16), "fp32": gemm_peak(torch.float32)}
    print(f"machine: 2048-cube torch.mm GFLOP/s: bf16 {peak['bf16']:,.0f}, "
          f"fp32 {peak['fp32']:,.0f}")
    sizes = (len(src_vocab), len(tgt_vocab))
    flops, _ = measure(cfg, data, sizes, batches, "fp32", args.warmup, count=True)
    rows, base = [], None
    for precision in args.precisions.split(","):
        tps, tokens = measure(cfg, data, sizes, batches, precision, args.warmup)
        base = base or tps
        gflops = flops / (tokens / tps) / 1e9
        rows.append(f"| {precision} | {tps:,.0f} | {tps / base:.2f}x | {tokens:,} | "
                    f"{gflops:,.0f} | {gflops / peak.get(precision, peak['fp32']):.0%} |")
    print("| precision | train tgt tok/s | vs fp32 | tokens measured | matrix GFLOP/s | "
          "of the machine's peak at that precision |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
