"""Every named preset trained for the same CPU time on one data folder, then scored on a
test set: parameters, training target tokens/s, BLEU greedy and beam 5. Prints a Markdown
table. Every figure comes from this one run.

    python bench/presets.py --data runs/multi30k/data --minutes 5 \
        --test-src ../shared/data/multi30k/test2016.en \
        --test-ref ../shared/data/multi30k/test2016.de --work runs/presets
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from nmtkit.presets import PRESETS


def nmtkit(*args: str, stdin=None, stdout=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nmtkit", *args], stdin=stdin, stdout=stdout,
                          check=True, text=True)


def bleu(hyp: Path, ref: Path) -> float:
    with open(hyp) as f:
        out = nmtkit("score", "--ref", str(ref), "--metrics", "bleu", "--json", stdin=f,
                     stdout=subprocess.PIPE).stdout
    return json.loads(out)["bleu"]["score"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--test-src", type=Path, required=True)
    ap.add_argument("--test-ref", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("runs/presets"))
    ap.add_argument("--presets", default=",".join(PRESETS))
    args = ap.parse_args()
    rows = []
    for name in args.presets.split(","):
        model = args.work / name
        nmtkit("train", "--preset", name, "--data", str(args.data), "--model-dir", str(model),
               "--overwrite",
               f"train.max_minutes={args.minutes}", "train.max_epochs=0", "train.max_steps=0",
               "train.valid_every=0")
        meta = json.loads((model / "meta.json").read_text())
        state_tokens = meta["tgt_tokens"]
        scores = {}
        for beam in (1, 5):
            hyp = model / f"test.beam{beam}.txt"
            start = time.perf_counter()
            with open(args.test_src) as f, open(hyp, "w") as out:
                nmtkit("translate", "--model-dir", str(model), "--beam", str(beam),
                       "--max-len", "100", stdin=f, stdout=out)
            scores[beam] = (bleu(hyp, args.test_ref), time.perf_counter() - start)
        rows.append(
            f"| {name} | {meta['parameters'] / 1e6:.1f}M | "
            f"{state_tokens / meta['train_seconds']:,.0f} | {meta['steps']:,} | "
            f"{meta['best_valid']['ppl']:.2f} | {scores[1][0]:.2f} | {scores[5][0]:.2f} | "
            f"{scores[5][1]:.1f} |")
        print(rows[-1], flush=True)
    print(f"\n{args.minutes:g} minutes of training each (validation excluded), 2 CPU threads\n")
    print("| preset | parameters | train tgt tok/s | steps | valid ppl | BLEU greedy | "
          "BLEU beam 5 | beam-5 wall s (incl. load) |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
