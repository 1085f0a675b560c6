"""Translation speed, eager against the compiled decoding loop, measured in the same run.

For each search (greedy, beam), batch size and precision: sentences/s and target
pieces/s of the eager loop and of the compiled loop (after its compilation: a first pass
over the input compiles every bucket it needs and is timed separately), the ratio, the
graphs compiled and the seconds they took, and how many output lines differ from eager.

    python bench/translate_speed.py --model-dir runs/multi30k/model \\
        --input ../shared/data/multi30k/test2016.en --batch-sizes 1,16,64 --beams 1,5

Set TORCHINDUCTOR_CACHE_DIR to an empty folder to measure compilation without inductor's
on-disk cache (a "cold" first run), or run twice to measure it with the cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

from nmtkit.model_folder import ModelFolder
from nmtkit.search.loop import call
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator


def timed(translator: Translator, lines: list[str]):
    start = time.perf_counter()
    out = translator.translate_lines(lines)
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--batch-sizes", default="1,16,64")
    ap.add_argument("--beams", default="1,5")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--max-len", type=int, default=100)
    ap.add_argument("--lines", type=int, default=0, help="use the first N lines (0: all)")
    ap.add_argument("--static-eager", action="store_true",
                    help="also time the fixed-shape loop run eagerly (what the static "
                         "shapes cost before compilation wins anything back)")
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    lines = lines[: args.lines] if args.lines else lines
    loaded = ModelFolder(args.model_dir).load()
    print(f"{args.model_dir}: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{len(lines)} lines")
    print("| search | batch | precision | eager sent/s | eager pieces/s | compiled sent/s | "
          "compiled pieces/s | compiled/eager | graphs | first pass s (compiling s) | "
          "lines differing |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for beam in (int(b) for b in args.beams.split(",")):
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            for precision in args.precisions.split(","):
                opts = TranslateOptions(SearchOptions(beam=beam, max_len=args.max_len),
                                        batch_size=batch, chunk_size=len(lines),
                                        precision=precision, compile="off", workers=1)
                eager = Translator(loaded, opts)
                eager.translate_lines(lines[:batch])  # warm-up
                eager_out, eager_s = timed(eager, lines)
                compiled = Translator(loaded, dataclasses.replace(opts, compile="on"))
                _, first_s = timed(compiled, lines)  # compiles what this input needs
                graphs, compile_s = compiled.compile_stats.graphs, compiled.compile_stats.seconds
                out, fast_s = timed(compiled, lines)
                if compiled.compile_stats.graphs != graphs:
                    print(f"(second pass compiled {compiled.compile_stats.graphs - graphs} more)")
                pieces = sum(len(loaded.tgt_tokenizer.encode(t.text)) + 1 for t in eager_out)
                differ = sum(a.text != b.text for a, b in zip(eager_out, out))
                if args.static_eager:
                    static = Translator(loaded, opts)
                    static.compile.runner = call  # the fixed-shape loop, uncompiled
                    _, static_s = timed(static, lines)
                    print(f"(fixed-shape loop run eagerly: {len(lines) / static_s:,.1f} sent/s, "
                          f"{eager_s / static_s:.2f}x eager)")
                name = "greedy" if beam == 1 else f"beam {beam}"
                print(f"| {name} | {batch} | {precision} | {len(lines) / eager_s:,.1f} | "
                      f"{pieces / eager_s:,.0f} | {len(lines) / fast_s:,.1f} | "
                      f"{pieces / fast_s:,.0f} | {eager_s / fast_s:.2f}x | {graphs} | "
                      f"{first_s:.1f} ({compile_s:.1f}) | {differ} |", flush=True)


if __name__ == "__main__":
    main()
