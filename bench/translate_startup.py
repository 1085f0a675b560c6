"""Start-up time to the first output line, wall time and peak RSS of the real command,
`nmtkit translate`, per --compile choice, each in a fresh process, in the same run.

    python bench/translate_startup.py --model-dir runs/multi30k/model \\
        --input ../shared/data/multi30k/test2016.en --compile off,on -- --beam 5

Arguments after ``--`` go to `nmtkit translate`. The first output line appears once the
first chunk (1,000 lines by default) is translated, so this includes the model load, the
first chunk and, compiled, the compilation of every bucket that chunk needs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def run(cmd: list[str], input_path: Path) -> tuple[float, float, int, float]:
    """(seconds to the first line, seconds in all, lines out, peak RSS MiB)."""
    start = time.perf_counter()
    with open(input_path, "rb") as stdin:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        first = proc.stdout.readline()
        first_s = time.perf_counter() - start
        lines = (1 if first else 0) + sum(1 for _ in proc.stdout)
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with status {status}")
    return first_s, time.perf_counter() - start, lines, usage.ru_maxrss / 1024


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--compile", default="off,on")
    args = ap.parse_args(argv)
    n = sum(1 for _ in open(args.input, "rb"))
    print(f"{args.model_dir}, {n} lines, nmtkit translate {' '.join(extra)}")
    print("| --compile | first line s | all lines s | lines out | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for mode in args.compile.split(","):
        cmd = [sys.executable, "-m", "nmtkit", "translate", "-m", str(args.model_dir),
               "--compile", mode, *extra]
        first_s, all_s, lines, rss = run(cmd, args.input)
        print(f"| {mode} | {first_s:.1f} | {all_s:.1f} | {lines} | {rss:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
