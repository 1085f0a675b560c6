"""Vocabulary shortlists (``translate --shortlist``) against the whole output layer,
measured in the same run: sentences/s of eager decoding, BLEU on the references, lines
that differ, and the mean size of each sentence's list and of a batch's union (the output
layer's rows), for several table sizes (target pieces per source piece, most frequent
pieces). Each table is counted from ``--data``'s training
pairs, as ``nmtkit shortlist`` does; the configurations alternate, ``--repeats`` times
each, and the best time counts.

    python bench/shortlist_speed.py --model-dir runs/m30k/rnn --data runs/m30k/data \\
        --input ../shared/data/multi30k/test2016.en --ref ../shared/data/multi30k/test2016.de
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from paired import alternate, heading, parser

from nmtkit.data.batching import pad_sequences
from nmtkit.data.lexicon import lexicon_for
from nmtkit.data.text import normalize
from nmtkit.model_folder import ModelFolder
from nmtkit.scoring.metrics import corpus_scores
from nmtkit.search.options import SearchOptions
from nmtkit.search.sequences import length_batches
from nmtkit.search.shortlist import Lexicon
from nmtkit.translate.translator import TranslateOptions, Translator


def main() -> None:
    ap = parser(__doc__, ref=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--tables", default="20:100,50:100,100:300",
                    help="PER_PIECE:FREQUENT,...")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    refs = args.ref.read_text(encoding="utf-8").splitlines()
    loaded = ModelFolder(args.model_dir).load()
    tables = {}
    for spec in args.tables.split(","):
        per_piece, frequent = map(int, spec.split(":"))
        t = lexicon_for(args.data, loaded.src_vocab, loaded.tgt_vocab, per_piece, frequent)
        tables[spec] = Lexicon(torch.from_numpy(t.table), torch.from_numpy(t.frequent))
    print(heading(args, lines, args.precision, f"{args.workers} worker(s)",
                  f"target vocabulary {len(loaded.tgt_vocab)}"))
    print("| beam | table (per piece:frequent) | mean list / batch union | sent/s | "
          "vs whole layer | BLEU | lines differ |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for beam in map(int, args.beams.split(",")):
        translators = {}
        for name, lexicon in [("whole", None), *tables.items()]:
            opts = TranslateOptions(SearchOptions(beam=beam), batch_size=args.batch_size,
                                    chunk_size=len(lines), compile="off",
                                    precision=args.precision, workers=args.workers,
                                    shortlist=lexicon is not None)
            translators[name] = Translator(dataclasses.replace(loaded, lexicon=lexicon), opts)
        best, texts = alternate(translators, lines, args.repeats)
        for name in translators:
            rate = len(lines) / best[name]
            bleu = corpus_scores(texts[name], refs, ("bleu",))[0].score
            differ = sum(a != b for a, b in zip(texts["whole"], texts[name]))
            size = "" if name == "whole" else \
                list_sizes(tables[name], loaded, lines, args.batch_size)
            ratio = rate / (len(lines) / best["whole"])
            print(f"| {beam} | {name} | {size} | {rate:.1f} | {ratio:.2f}x | {bleu:.2f} | "
                  f"{differ} |", flush=True)


def list_sizes(lexicon: Lexicon, loaded, lines: list[str], batch_size: int) -> str:
    """The mean size of the test lines' own lists, and of their batches' unions."""
    seqs = [loaded.src_vocab.encode(loaded.src_tokenizer.encode(normalize(line)))
            for line in lines]
    own, union = [], []
    for idx in length_batches(seqs, batch_size):
        src, _ = pad_sequences([seqs[i] for i in idx])
        shortlist = lexicon.for_batch(src, loaded.model.decoder.output_layer)
        own.extend(shortlist.allowed.sum(1).tolist())
        union.append(shortlist.ids.numel())
    return f"{sum(own) / len(own):.0f} / {sum(union) / len(union):.0f}"


if __name__ == "__main__":
    main()
