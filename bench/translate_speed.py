"""Translation speed: sentences/s and target pieces/s over the decode call (model load
excluded), greedy and beam search, as in ../shared/BENCHMARKS.md's protocol.

    python bench/translate_speed.py --model-dir runs/multi30k/model \
        --input ../shared/data/multi30k/test2016.en --batch-size 64 --beams 1,5
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import torch

from nmtkit.search.common import SearchOptions
from nmtkit.training.checkpoint import ModelFolder
from nmtkit.translator import TranslateOptions, Translator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--beams", default="1,5")
    ap.add_argument("--max-len", type=int, default=100)
    ap.add_argument("--precisions", default="fp32,bf16")
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    t0 = time.perf_counter()
    loaded = ModelFolder(args.model_dir).load()
    load_s = time.perf_counter() - t0
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(lines)} lines; "
          f"batch {args.batch_size}; model load {load_s:.2f}s")
    print("| search | precision | sent/s | target pieces/s | seconds | vs first precision |")
    print("|---|---|---|---|---|---|")
    for beam in (int(b) for b in args.beams.split(",")):
        base = None
        for precision in args.precisions.split(","):
            search = SearchOptions(beam=beam, length_penalty=1.0, max_len=args.max_len)
            opts = TranslateOptions(search, batch_size=args.batch_size, chunk_size=len(lines),
                                    precision=precision)
            translator = Translator(loaded, opts)
            translator.translate_lines(lines[: args.batch_size])  # warm-up
            start = time.perf_counter()
            out = translator.translate_lines(lines)
            seconds = time.perf_counter() - start
            base = base or seconds
            pieces = sum(len(loaded.tgt_tokenizer.encode(t.text)) + 1 for t in out)
            name = "greedy" if beam == 1 else f"beam {beam}"
            print(f"| {name} | {precision} | {len(lines) / seconds:,.0f} | "
                  f"{pieces / seconds:,.0f} | {seconds:.2f} | {base / seconds:.2f}x |")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
