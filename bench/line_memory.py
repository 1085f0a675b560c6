"""Peak memory of `nmtkit translate` on one long line, for each output kind: what a line's
attention costs (JSONL matrices, alignments, heatmaps) beside plain translation's. The
input is a few ordinary lines and one line of CHARS characters of the words a..j (the
tiny test model's symbols; any word-unit model reads them), and each run is a process of
its own whose peak resident memory the kernel reports when it ends.

    .venv/bin/python bench/line_memory.py MODEL_DIR [CHARS ...]   (default: 1500 50000)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL, PIPE, Popen

KINDS = {
    "text": [],
    "n-best 3": ["--beam", "3", "--n-best", "3"],
    "jsonl": ["--output-format", "jsonl"],
    "jsonl + attention": ["--output-format", "jsonl", "--jsonl-attention"],
    "alignments": ["--alignments", "{dir}/links.txt"],
    "plots, all views": ["--attention-plots", "{dir}/plots", "--attention-view", "all"],
}


def peak(model: str, source: Path, args: list[str]) -> tuple[int, float, int]:
    """(peak RSS in MiB, seconds, exit status) of one run in a fresh folder."""
    with tempfile.TemporaryDirectory() as folder, open(source, "rb") as f:
        start = time.perf_counter()
        proc = Popen([sys.executable, "-m", "nmtkit", "translate", "-m", model, "--workers",
                      "1", "--threads", "1", *(a.format(dir=folder) for a in args)],
                     stdin=f, stdout=DEVNULL, stderr=PIPE)
        proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_maxrss // 1024, time.perf_counter() - start, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("chars", nargs="*", type=int, default=[1500, 50000])
    args = parser.parse_args()
    print("| characters | output | peak RSS (MiB) | seconds | exit |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for chars in args.chars:
            long = ("a b c d e f g h i j " * (chars // 20 + 1))[:chars]
            source = Path(folder) / "in.txt"
            source.write_text(f"a b c\nd e f g h\n{long}\n\ni j\n", encoding="utf-8")
            for kind, extra in KINDS.items():
                rss, secs, status = peak(args.model, source, extra)
                print(f"| {chars:,} | {kind} | {rss} | {secs:.1f} | {status} |", flush=True)


if __name__ == "__main__":
    main()
