"""Worker processes (``translate --workers N``) against one process with all the threads,
measured in the same run: sentences/s of eager decoding for each search and precision,
how many output lines differ, and the memory of the whole process tree (the sum of each
process's proportional set size, so the weights that forked workers share count once).
The configurations alternate, ``--repeats`` times each; the best time counts. Model load
is outside the timing; the first repeat includes forking the workers.

    python bench/workers_speed.py --model-dir runs/m30k/rnn \\
        --input ../shared/data/multi30k/test2016.en --workers 2
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from paired import alternate, heading, parser, versus

from nmtkit.model_folder import ModelFolder
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator


def pss_mib(pids: list[int]) -> float:
    """The summed proportional set size of ``pids``, in MiB."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    loaded = ModelFolder(args.model_dir).load()
    threads = torch.get_num_threads()
    n = args.workers
    print(heading(args, lines, f"1 process x {threads} threads against {n} workers x "
                                f"{max(1, threads // n)} threads"))
    print(f"| beam | precision | 1 x {threads} sent/s | {n} workers sent/s | ratio | "
          f"lines differ | 1 x {threads} MiB | {n} workers MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for beam in map(int, args.beams.split(",")):
        for precision in args.precisions.split(","):
            translators = {w: Translator(loaded, TranslateOptions(
                search=SearchOptions(beam=beam), batch_size=args.batch_size,
                chunk_size=len(lines), compile="off", precision=precision, workers=w))
                for w in (1, n)}
            mib = {}

            def measure(w, translator, mib=mib):
                pool = translator._pool
                # Once, before the other configuration's workers share the parent's pages.
                mib.setdefault(w, pss_mib([os.getpid()] + (pool.pids() if pool else [])))

            best, texts = alternate(translators, lines, args.repeats, measure)
            one, many, differ = versus(best, texts, 1, n, len(lines))
            print(f"| {beam} | {precision} | {one:.1f} | {many:.1f} | {many / one:.2f}x | "
                  f"{differ} | {mib[1]:.0f} | {mib[n]:.0f} |", flush=True)


if __name__ == "__main__":
    main()
