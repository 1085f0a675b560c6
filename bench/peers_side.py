"""nmtkit beside a peer toolkit's evaluation under ../shared/BENCHMARKS.md's protocol:
test2016, batches of 64 sentences, at most 100 pieces, model load excluded, best of
``--repeats``; sentences/s and BLEU of greedy and beam 5 in each ``--precisions``, and the
ratio to the peer's figures read from its ``eval.json`` (``../shared/peers/run.sh``). Run
the peer's evaluation just before (``EVAL_ONLY=1 ../shared/peers/run.sh onmt rnn``) so
that both come from the same hour on the same machine.

    python bench/peers_side.py --model-dir runs/m30k/rnn10 \\
        --input ../shared/data/multi30k/test2016.en --ref ../shared/data/multi30k/test2016.de \\
        --peer runs/peers/runs/onmt_rnn/eval.json
"""

from __future__ import annotations

import json
from pathlib import Path

from paired import best_of, heading, parser

from nmtkit.api import load_translator
from nmtkit.scoring.metrics import corpus_scores
from nmtkit.search.options import SearchOptions
from nmtkit.translate.options import TranslateOptions


def main() -> None:
    ap = parser(__doc__, ref=True)
    ap.add_argument("--peer", type=Path, required=True, help="the peer's eval.json")
    ap.add_argument("--precisions", default="auto,fp32,int8")
    ap.add_argument("--max-len", type=int, default=100)
    ap.add_argument("--compile", default="auto", help="nmtkit's --compile")
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    refs = args.ref.read_text(encoding="utf-8").splitlines()
    peer = json.loads(args.peer.read_text())
    print(heading(args, lines, f"max {args.max_len} pieces", f"peer {peer['toolkit']}"))
    print("| precision | beam | nmtkit sent/s | nmtkit BLEU | peer sent/s | peer BLEU | "
          "nmtkit / peer |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for precision in args.precisions.split(","):
        for beam in map(int, args.beams.split(",")):
            options = TranslateOptions(SearchOptions(beam=beam, max_len=args.max_len),
                                       batch_size=args.batch_size, chunk_size=len(lines),
                                       precision=precision, compile=args.compile)
            with load_translator(args.model_dir, options) as translator:
                seconds, out = best_of(lambda t=translator: t.translate_lines(lines),
                                       args.repeats)
            label = f"auto ({translator.precision})" if precision == "auto" else precision
            ours = len(lines) / seconds
            bleu = corpus_scores([o.text for o in out], refs, ("bleu",))[0].score
            theirs = peer.get(f"beam{beam}", {})
            if theirs:  # the peer's evaluation is in float32
                rate = theirs["sents_per_s"]
                print(f"| {label} | {beam} | {ours:.1f} | {bleu:.2f} | {rate:.1f} | "
                      f"{theirs['bleu']:.2f} | {ours / rate:.2f}x |", flush=True)
            else:
                print(f"| {label} | {beam} | {ours:.1f} | {bleu:.2f} | | | |", flush=True)

if __name__ == "__main__":
    main()
