"""nmtkit beside CTranslate2 on the same Transformer, measured in the same run.

The model folder is exported with ``nmtkit export --format ctranslate2`` (into
``--work``), then both engines translate the input with batches of 64 and at most 100
output pieces, greedy and beam 5, in float32 and int8: nmtkit in one process with both
threads and with two single-threaded workers, CTranslate2 with one replica of two
threads and two replicas of one thread; nmtkit also with its defaults. Reported:
sentences/s, output pieces/s (the
engines' outputs differ in length once their scores differ: CTranslate2's length penalty
is length ** alpha, nmtkit's GNMT's) and BLEU. Best of ``--repeats``; model load is
outside the timing.

    python bench/ctranslate2_side.py --model-dir runs/m30k/tf2 \\
        --input ../shared/data/multi30k/test2016.en --ref ../shared/data/multi30k/test2016.de
"""

from __future__ import annotations

from pathlib import Path

import ctranslate2
import torch
from paired import best_of, heading, parser

from nmtkit.model_folder import ModelFolder
from nmtkit.model_folder.export import export
from nmtkit.scoring.metrics import corpus_scores
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator

MAX_LEN = 100


def main() -> None:
    ap = parser(__doc__, ref=True)
    ap.add_argument("--work", type=Path, default=Path("runs/ct2"))
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    refs = args.ref.read_text(encoding="utf-8").splitlines()
    out = args.work / args.model_dir.name
    export(args.model_dir, out, overwrite=True)
    loaded = ModelFolder(args.model_dir).load()
    pieces = [loaded.src_tokenizer.encode(line) for line in lines]
    threads = torch.get_num_threads()
    print(heading(args, lines, f"exported to {out}"))
    print("| engine | layout | precision | beam | sent/s | pieces/s | BLEU |")
    print("|---|---|---|---:|---:|---:|---:|")

    def row(engine, layout, precision, beam, seconds, texts, n_pieces):
        bleu = corpus_scores(texts, refs, ("bleu",))[0].score
        print(f"| {engine} | {layout} | {precision} | {beam} | {len(lines) / seconds:.1f} | "
              f"{n_pieces / seconds:,.0f} | {bleu:.2f} |", flush=True)

    # The defaults (precision auto, workers auto, compile auto), then each precision and
    # layout by name.
    runs = [("auto", 0, "auto")] + [(p, w, "off") for p in ("fp32", "int8")
                                    for w in (1, threads)]
    for precision, workers, compile_mode in runs:
        layout = "defaults" if workers == 0 else f"{workers} x {threads // workers}"
        for beam in map(int, args.beams.split(",")):
            translator = Translator(loaded, TranslateOptions(
                SearchOptions(beam=beam, max_len=MAX_LEN), batch_size=args.batch_size,
                chunk_size=len(lines), compile=compile_mode, precision=precision,
                workers=workers))
            with translator:
                seconds, result = best_of(lambda t=translator: t.translate_lines(lines),
                                          args.repeats)
            texts = [t.text for t in result]
            n = sum(len(loaded.tgt_tokenizer.encode(t)) for t in texts)
            row("nmtkit", layout, translator.precision, beam, seconds, texts, n)
    for compute_type, precision in (("float32", "fp32"), ("int8", "int8")):
        for inter in (1, threads):
            engine = ctranslate2.Translator(str(out), device="cpu", compute_type=compute_type,
                                            intra_threads=threads // inter,
                                            inter_threads=inter)
            for beam in map(int, args.beams.split(",")):
                seconds, result = best_of(lambda e=engine, b=beam: e.translate_batch(
                    pieces, beam_size=b, max_batch_size=args.batch_size,
                    batch_type="examples", max_decoding_length=MAX_LEN, length_penalty=1.0),
                    args.repeats)
                hyps = [r.hypotheses[0] for r in result]
                texts = [loaded.tgt_tokenizer.decode(h) for h in hyps]
                row("CTranslate2", f"{inter} x {threads // inter}", precision, beam, seconds,
                    texts, sum(map(len, hyps)))
            del engine


if __name__ == "__main__":
    main()
