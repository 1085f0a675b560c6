"""Start-up time to the first output line, wall time and peak RSS of the real command,
`nmtkit translate`, per --compile choice, each in a fresh process, in the same run.

    python bench/translate_startup.py --model-dir runs/multi30k/model \\
        --input ../shared/data/multi30k/test2016.en --compile off,on,on -- --beam 5

Arguments after ``--`` go to `nmtkit translate`. The first output line appears once the
first chunk (1,000 lines by default) is translated, so this includes the model load, the
first chunk and, compiled, the compilation (or the loading from the cache) of every bucket
that chunk needs.

Every run shares one nmtkit cache (``NMTKIT_CACHE_DIR``: saved compiled steps and
inductor's kernels), empty when the bench starts unless ``--cache-dir`` names one, so the
first ``on`` compiles and later ones load. ``--baseline DIR`` (a checkout of an earlier
nmtkit, e.g. from ``git worktree add``) adds, after each ``on`` of this checkout, a run of
that checkout (from its folder, with ``PYTHONPATH=DIR``) with inductor's cache in the same
folder, for a comparison in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd: list[str], input_path: Path, env: dict, cwd: Path | None
        ) -> tuple[float, float, int, float]:
    """(seconds to the first line, seconds in all, lines out, peak RSS MiB)."""
    start = time.perf_counter()
    with open(input_path, "rb") as stdin:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, cwd=cwd)
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
    ap.add_argument("--cache-dir", type=Path, help="nmtkit's cache (default: a new, empty one)")
    ap.add_argument("--baseline", type=Path, help="an earlier nmtkit checkout to run beside")
    args = ap.parse_args(argv)
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="nmtkit-cache-"))
    env = {k: v for k, v in os.environ.items() if k != "TORCHINDUCTOR_CACHE_DIR"}
    env["NMTKIT_CACHE_DIR"] = str(cache)
    runs = [("this", env, None)]
    if args.baseline:  # run from its folder: `python -m` puts the working folder first
        runs.append(("baseline", dict(env, PYTHONPATH=str(args.baseline.resolve()),
                                      TORCHINDUCTOR_CACHE_DIR=str(cache / "inductor")),
                     args.baseline.resolve()))
    n = sum(1 for _ in open(args.input, "rb"))
    print(f"{args.model_dir}, {n} lines, nmtkit translate {' '.join(extra)}, cache {cache}")
    print("| code | --compile | first line s | all lines s | lines out | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for mode in args.compile.split(","):
        for name, run_env, cwd in runs:
            if name == "baseline" and mode != "on":
                continue
            cmd = [sys.executable, "-m", "nmtkit", "translate", "-m", str(args.model_dir.resolve()),
                   "--compile", mode, *extra]
            first_s, all_s, lines, rss = run(cmd, args.input, run_env, cwd)
            print(f"| {name} | {mode} | {first_s:.1f} | {all_s:.1f} | {lines} | {rss:,.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
