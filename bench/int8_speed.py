"""int8 weights (``--precision int8``) against float32 on CPU, measured in the same run:
sentences/s of eager decoding (greedy and beam), BLEU of each on the references, and how
many output lines differ. The two alternate, ``--repeats`` times each; the best time of
each counts. Model load and quantization are outside the timing (quantization is reported
on its own).

    python bench/int8_speed.py --model-dir runs/m30k/rnn \\
        --input ../shared/data/multi30k/test2016.en --ref ../shared/data/multi30k/test2016.de
"""

from __future__ import annotations

import time

from paired import alternate, heading, parser

from nmtkit.model_folder import ModelFolder
from nmtkit.scoring.metrics import corpus_scores
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator


def main() -> None:
    args = parser(__doc__, ref=True).parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    refs = args.ref.read_text(encoding="utf-8").splitlines()
    loaded = ModelFolder(args.model_dir).load()
    print(heading(args, lines))
    print("| beam | fp32 sent/s | int8 sent/s | int8 / fp32 | BLEU fp32 | BLEU int8 | "
          "lines differ |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for beam in map(int, args.beams.split(",")):
        translators = {}
        for precision in ("fp32", "int8"):
            start = time.perf_counter()
            translators[precision] = Translator(loaded, TranslateOptions(
                search=SearchOptions(beam=beam), batch_size=args.batch_size, compile="off",
                precision=precision, workers=1))
            if beam == 1 and precision == "int8":
                print(f"quantization: {time.perf_counter() - start:.2f} s")
        best, texts = alternate(translators, lines, args.repeats)
        bleu = {p: corpus_scores(t, refs, ("bleu",))[0].score for p, t in texts.items()}
        differ = sum(a != b for a, b in zip(texts["fp32"], texts["int8"]))
        f, i = len(lines) / best["fp32"], len(lines) / best["int8"]
        print(f"| {beam} | {f:.1f} | {i:.1f} | {i / f:.2f} | {bleu['fp32']:.2f} | "
              f"{bleu['int8']:.2f} | {differ} |", flush=True)


if __name__ == "__main__":
    main()
