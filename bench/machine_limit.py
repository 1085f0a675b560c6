"""How close decoding comes to this machine's matrix-product throughput, in one run.

First the machine: the best throughput of large matrix products (2048 x 2048 x 2048 and
the output-layer shape 320 x 512 x 8192) in float32 and bfloat16 (``torch.mm``) and int8
(``torch._int_mm``, the int32-accumulating product ``--precision int8`` runs), with this process's
threads. Then decoding: the matrix-product FLOPs one eager pass over the input performs
(``torch.utils.flop_counter``, counted in float32 in one process; the encoder's fused
recurrent kernel is not counted, so the fraction is a lower bound), divided by the seconds
of the best of ``--repeats`` timed passes, in each precision, in one process and with
``--workers`` forked workers; the fraction of the machine's figure at that precision is
what the step achieves.

    python bench/machine_limit.py --model-dir runs/m30k/rnn \\
        --input ../shared/data/multi30k/test2016.en
"""

from __future__ import annotations

import torch
from paired import best_of, heading, parser
from torch.utils.flop_counter import FlopCounterMode

from nmtkit.model_folder import ModelFolder
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator

SHAPES = ((2048, 2048, 2048), (320, 512, 8192))


@torch.inference_mode()
def best_seconds(fn, repeats: int = 5) -> float:
    fn()  # warm-up
    return best_of(fn, repeats)[0]


def gemm_gflops(precision: str) -> float:
    """The best GFLOP/s of the SHAPES at ``precision``."""
    best = 0.0
    for m, k, n in SHAPES:
        x = torch.randn(m, k)
        w = torch.randn(n, k)
        if precision == "int8":  # the exact int8 product the int8 layers run
            a = torch.randint(-127, 128, (m, k), dtype=torch.int8)
            b = torch.randint(-127, 128, (k, n), dtype=torch.int8)

            def fn(a=a, b=b):
                return torch._int_mm(a, b)
        else:
            dtype = torch.float32 if precision == "fp32" else torch.bfloat16
            a, b = x.to(dtype), w.to(dtype).t()

            def fn(a=a, b=b):
                return torch.mm(a, b)
        best = max(best, 2 * m * k * n / best_seconds(fn) / 1e9)
    return best


def decoding_flops(loaded, beam: int, lines: list[str], batch_size: int) -> float:
    translator = Translator(loaded, TranslateOptions(
        search=SearchOptions(beam=beam), batch_size=batch_size, chunk_size=len(lines),
        compile="off", precision="fp32", workers=1))
    with FlopCounterMode(display=False) as counter:
        translator.translate_lines(lines)
    return counter.get_total_flops()


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--precisions", default="fp32,bf16,int8")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    loaded = ModelFolder(args.model_dir).load()
    precisions = args.precisions.split(",")
    peak = {p: gemm_gflops(p) for p in precisions}
    print(heading(args, lines))
    print("machine, GFLOP/s of large matrix products: "
          + ", ".join(f"{p} {g:.1f}" for p, g in peak.items()))
    print("| beam | GFLOP per pass | precision | workers | sent/s | decoding GFLOP/s | "
          "fraction of the machine |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for beam in map(int, args.beams.split(",")):
        gflop = decoding_flops(loaded, beam, lines, args.batch_size) / 1e9
        for precision in precisions:
            for workers in (1, args.workers):
                translator = Translator(loaded, TranslateOptions(
                    search=SearchOptions(beam=beam), batch_size=args.batch_size,
                    chunk_size=len(lines), compile="off", precision=precision,
                    workers=workers))
                with translator:
                    seconds = best_seconds(lambda t=translator: t.translate_lines(lines),
                                           args.repeats)
                rate = gflop / seconds
                print(f"| {beam} | {gflop:.1f} | {precision} | {workers} | "
                      f"{len(lines) / seconds:.1f} | {rate:.1f} | "
                      f"{rate / peak[precision]:.0%} |", flush=True)


if __name__ == "__main__":
    main()
