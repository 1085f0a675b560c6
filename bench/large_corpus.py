"""Large training corpora: does training memory stay flat, and how fast is preprocess?

For each scale S (in multiples of Multi30k's 29,000 training pairs) this builds a synthetic
parallel corpus of round(S x 29,000) pairs, runs ``nmtkit preprocess`` (sentencepiece, fixed
--spm-vocab-size, no validation split) and ``nmtkit build-vocab`` on it, then ``nmtkit train``
for a fixed number of steps (``examples/multi30k/rnn.yaml``, ``train.max_steps=STEPS``,
``train.valid_every=0``, ``train.max_minutes=0``), each as its own child process. It prints a
Markdown table, one row per scale:

- preprocess wall seconds, and the same per 1M line pairs (one line on each side);
- the data folder's size (MiB) after build-vocab;
- training peak RSS (MiB): the peak resident set of the ``nmtkit train`` process, exact;
- training steps done (``meta.json`` of the model folder) and training wall seconds;
- extras: training peak RssAnon / RssFile (sampled), preprocess peak RSS, and the
  vocabulary sizes and model parameters (a corpus below 1x has fewer pieces, so a smaller
  model: compare RSS across scales with the same parameter count).

The synthetic corpus repeats Multi30k's train.en / train.de: copy 0 is the real data, every
further copy perturbs each side of each pair with one seeded random generator (one word
dropped, then two neighbouring words swapped), so lines are not all identical and the output
is the same on every run. A scale may be fractional (0.1: the first 2,900 pairs).

Peak RSS: each command is started with ``subprocess.Popen`` and reaped with ``os.wait4(pid)``,
whose ``ru_maxrss`` (KiB on Linux) is that one child's high-water resident set (the maximum
over it and any descendants it reaped); unlike ``getrusage(RUSAGE_CHILDREN)`` it is not a
maximum over every child this script has run so far. RSS counts file pages mapped and
touched (e.g. memory-mapped corpus files) as well as anonymous memory (heap), so a thread also
samples ``/proc/PID/status`` every 20 ms for the peak ``RssAnon`` and ``RssFile`` split
(sampled peaks can miss spikes shorter than that).

Full run (100x: 2.9M pairs; about 1.5 GB of disk under --work at the 100x peak, each scale's
folder deleted once measured; tens of minutes on 2 cores, mostly preprocess):

    .venv/bin/python bench/large_corpus.py --scales 1,10,100 --steps 100

The commands run as ``python -m nmtkit`` from the work folder, so they import the installed
(editable) nmtkit, or the one PYTHONPATH names: ``PYTHONPATH=/path/to/checkout ...`` measures
another copy. The output names the nmtkit measured. Run it on an otherwise idle machine: the
seconds columns are wall time.

Quick check that it works end to end:

    .venv/bin/python bench/large_corpus.py --scales 0.1,1 --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MULTI30K_PAIRS = 29_000
MIB = 1024 * 1024


@dataclass
class Measured:
    seconds: float
    maxrss_kib: int  # ru_maxrss of this one child (Linux: KiB)
    peak_anon_kib: int  # sampled from /proc/PID/status
    peak_file_kib: int


def _rss_split(pid: int) -> tuple[int, int] | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    try:
        return int(fields["RssAnon"].split()[0]), int(fields["RssFile"].split()[0])
    except (KeyError, ValueError, IndexError):  # a zombie has no memory fields
        return None


def run_measured(cmd: list[str], log_path: Path, interval: float = 0.02) -> Measured:
    """Run ``cmd`` to completion, output to ``log_path``; its wall time and peak memory."""
    cwd = log_path.parent  # not the repository: PYTHONPATH may pick the nmtkit to measure
    with open(log_path, "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        peaks = [0, 0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                split = _rss_split(proc.pid)
                if split is not None:
                    peaks[0], peaks[1] = max(peaks[0], split[0]), max(peaks[1], split[1])
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # Wait for the exit without reaping, so the pid cannot be reused under the sampler.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-20:]
        sys.exit(f"large_corpus: {' '.join(cmd)} exited {proc.returncode}; last lines of "
                 f"{log_path} (--keep keeps it):\n" + "\n".join(tail))
    return Measured(seconds, usage.ru_maxrss, peaks[0], peaks[1])


def perturb(line: str, rng: random.Random) -> str:
    words = line.split()
    if len(words) > 1:
        del words[rng.randrange(len(words))]
    if len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def make_corpus(data: Path, n_pairs: int, out_src: Path, out_tgt: Path, seed: int) -> None:
    src = (data / "train.en").read_text(encoding="utf-8").splitlines()
    tgt = (data / "train.de").read_text(encoding="utf-8").splitlines()
    if len(src) != len(tgt) or not src:
        sys.exit(f"large_corpus: {data}: train.en and train.de must be non-empty and aligned")
    rng = random.Random(seed)
    with open(out_src, "w", encoding="utf-8") as fs, open(out_tgt, "w", encoding="utf-8") as ft:
        for i in range(n_pairs):
            copy, j = divmod(i, len(src))
            s, t = src[j], tgt[j]
            if copy:
                s, t = perturb(s, rng), perturb(t, rng)
            fs.write(s + "\n")
            ft.write(t + "\n")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def machine() -> str:
    models = []
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                models.append(line.split(":", 1)[1].strip())
    name = models[0] if models else "unknown CPU"
    usable = len(os.sched_getaffinity(0))
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / MIB:.1f} GiB"
    return f"{name}, {len(models)} logical cores ({usable} usable), {mem} memory"


def nmtkit_measured(cwd: Path) -> str:
    """Which nmtkit the child processes import (PYTHONPATH can point elsewhere)."""
    out = subprocess.run(
        [sys.executable, "-c", "import nmtkit; print(nmtkit.__version__, nmtkit.__file__)"],
        cwd=cwd, capture_output=True, text=True, check=True).stdout.split()
    return f"nmtkit {out[0]} from {Path(out[1]).parent}"


def nmtkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "nmtkit", *args]


def fmt_scale(scale: float) -> str:
    return f"{scale:g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10,100",
                    help="corpus sizes in multiples of Multi30k's 29,000 pairs (default 1,10,100)")
    ap.add_argument("--steps", type=int, default=100, help="training steps at every scale")
    ap.add_argument("--work", type=Path, default=None,
                    help="folder for corpora, data and model folders, one subfolder x<SCALE> "
                         "each, replaced if there (default: a new folder under the system "
                         "temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folders")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/multi30k",
                    help="Multi30k folder with train.en and train.de")
    ap.add_argument("--config", type=Path, default=REPO / "examples/multi30k/rnn.yaml",
                    help="training config (default examples/multi30k/rnn.yaml)")
    ap.add_argument("--spm-vocab-size", type=int, default=8000)
    ap.add_argument("--threads", type=int, default=0,
                    help="train.threads (0: torch's default)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the corpus perturbation")
    args = ap.parse_args()
    try:
        scales = [float(s) for s in args.scales.split(",") if s.strip()]
    except ValueError:
        sys.exit(f"large_corpus: --scales {args.scales!r}: expected numbers, e.g. 1,10,100")
    if not scales or any(s <= 0 for s in scales):
        sys.exit("large_corpus: --scales: give one or more positive numbers")
    for name in ("train.en", "train.de"):
        if not (args.data / name).is_file():
            sys.exit(f"large_corpus: {args.data / name}: missing (see --data)")

    if args.work is None:
        work, made_work = Path(tempfile.mkdtemp(prefix="nmtkit-large-corpus-")), True
    else:
        work, made_work = args.work.resolve(), not args.work.exists()
        work.mkdir(parents=True, exist_ok=True)
    print(f"work folder: {work}", file=sys.stderr)
    measured = nmtkit_measured(work)

    rows = []
    try:
        for scale in scales:
            n_pairs = max(1, round(scale * MULTI30K_PAIRS))
            folder = work / f"x{fmt_scale(scale)}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            src, tgt = folder / "train.en", folder / "train.de"
            data_dir, model_dir = folder / "data", folder / "model"
            t0 = time.perf_counter()
            make_corpus(args.data, n_pairs, src, tgt, args.seed)
            print(f"x{fmt_scale(scale)}: {n_pairs} pairs written in "
                  f"{time.perf_counter() - t0:.1f} s; preprocess", file=sys.stderr)
            pre = run_measured(nmtkit(
                "preprocess", "--src", str(src), "--tgt", str(tgt), "--out", str(data_dir),
                "--spm-vocab-size", str(args.spm_vocab_size), "--overwrite"),
                folder / "preprocess.log")
            run_measured(nmtkit("build-vocab", str(data_dir)), folder / "build-vocab.log")
            data_bytes = folder_bytes(data_dir)
            print(f"x{fmt_scale(scale)}: preprocess {pre.seconds:.1f} s; train", file=sys.stderr)
            overrides = [f"train.max_steps={args.steps}", "train.valid_every=0",
                         "train.max_minutes=0", "train.max_epochs=0",
                         f"train.log_every={max(1, args.steps // 5)}"]
            if args.threads:
                overrides.append(f"train.threads={args.threads}")
            tr = run_measured(nmtkit(
                "train", "--config", str(args.config), "--data", str(data_dir),
                "--model-dir", str(model_dir), "--overwrite", "--no-progress", *overrides),
                folder / "train.log")
            meta = json.loads((model_dir / "meta.json").read_text())
            vocab = "/".join(str(len((data_dir / f"vocab.{side}.tsv").read_text().splitlines()))
                             for side in ("src", "tgt"))
            rows.append((scale, n_pairs, pre, data_bytes, tr, meta["steps"],
                         meta["parameters"], vocab))
            if not args.keep:
                shutil.rmtree(folder)
    finally:
        if not args.keep:
            for scale in scales:
                shutil.rmtree(work / f"x{fmt_scale(scale)}", ignore_errors=True)
            if made_work:
                shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {machine()}")
    print(f"measured: {measured}")
    config = args.config.resolve()
    shown = config.relative_to(REPO) if config.is_relative_to(REPO) else config
    print(f"training: {shown}, train.max_steps={args.steps}, no validation; sentencepiece "
          f"{args.spm_vocab_size} pieces (joint unigram)")
    print()
    print("| scale (x Multi30k) | pairs | preprocess s | preprocess s per 1M lines "
          "| data folder MiB | training peak RSS MiB | training steps | training s "
          "| training peak RssAnon / RssFile MiB (sampled) | preprocess peak RSS MiB "
          "| vocab src/tgt | parameters |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scale, n_pairs, pre, data_bytes, tr, steps, params, vocab in rows:
        print(f"| {fmt_scale(scale)} | {n_pairs:,} | {pre.seconds:.1f} "
              f"| {pre.seconds / n_pairs * 1e6:.1f} | {data_bytes / MIB:.1f} "
              f"| {tr.maxrss_kib / 1024:.0f} | {steps} | {tr.seconds:.1f} "
              f"| {tr.peak_anon_kib / 1024:.0f} / {tr.peak_file_kib / 1024:.0f} "
              f"| {pre.maxrss_kib / 1024:.0f} | {vocab} | {params:,} |")
    print()
    print("Lines: line pairs (one line on each side). Seconds are wall time of the whole "
          "command, Python and torch start-up included. RSS is ru_maxrss from wait4 on each "
          "command alone.")


if __name__ == "__main__":
    main()
