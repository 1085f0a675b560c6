"""One decoder step, eager against torch.compile (inductor, C++ on CPU), at a fixed shape,
in float32 and bfloat16, measured in the same run. This is the measurement behind the plan
for a compiled decoding loop: on CPU the step is matrix-product bound, so what compilation
can fuse (the elementwise work around the products) is a small share of the time.

    python bench/compile_step.py --model-dir runs/multi30k/model --rows 320 --src-len 20
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import torch

from nmtkit.training.checkpoint import ModelFolder


def per_step(fn, args, n: int) -> float:
    for _ in range(3):
        fn(*args)
    start = time.perf_counter()
    for _ in range(n):
        fn(*args)
    return (time.perf_counter() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=320, help="batch x beam")
    ap.add_argument("--src-len", type=int, default=20)
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    model = ModelFolder(args.model_dir).load().model
    vocab = model.src_embed.table.num_embeddings
    torch.manual_seed(0)
    src = torch.randint(4, vocab, (args.rows, args.src_len))
    lengths = torch.full((args.rows,), args.src_len)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.rows} rows x {args.src_len} source positions")
    print("| precision | eager ms/step | compiled ms/step | compiled/eager speed | compile s |")
    print("|---|---|---|---|---|")
    for precision in ("fp32", "bf16"):
        cast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())
        with torch.inference_mode(), cast:
            enc = model.encode(src, lengths)
            state = model.decoder.start_state(enc)
            prev = torch.randint(4, vocab, (args.rows,))

            def step(prev, state, enc=enc):
                return model.decoder.step(prev, state, enc).log_probs

            eager = per_step(step, (prev, state), args.steps)
            torch._dynamo.reset()
            compiled = torch.compile(step, dynamic=False)
            start = time.perf_counter()
            compiled(prev, state)
            compile_s = time.perf_counter() - start
            fast = per_step(compiled, (prev, state), args.steps)
        print(f"| {precision} | {eager * 1e3:.2f} | {fast * 1e3:.2f} | {eager / fast:.2f}x | "
              f"{compile_s:.1f} |")


if __name__ == "__main__":
    main()
