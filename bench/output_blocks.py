"""The output layer in column blocks (``nmtkit.models.output_layer``) against one matrix
product, in whole eager decoding, measured in the same run: sentences/s in one process
with all the threads and with single-threaded workers, and lines that differ. The two
alternate, ``--repeats`` times each; the best time counts.

    python bench/output_blocks.py --model-dir runs/m30k/rnn10 \\
        --input ../shared/data/multi30k/test2016.en
"""

from __future__ import annotations

from paired import alternate, heading, parser, versus

from nmtkit.model_folder import ModelFolder
from nmtkit.models import output_layer
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator


class Switched:
    """A translator that sets the block size before each pass (workers fork with the
    setting of their first pass and keep it)."""

    def __init__(self, translator: Translator, block: int):
        self.translator, self.block = translator, block

    def translate_lines(self, lines):
        output_layer.BLOCK = self.block
        return self.translator.translate_lines(lines)

    def close(self):
        self.translator.close()


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    lines = args.input.read_text(encoding="utf-8").splitlines()
    loaded = ModelFolder(args.model_dir).load()
    block = output_layer.BLOCK
    print(heading(args, lines, f"blocks of {block}"))
    print("| beam | precision | workers | one product sent/s | blocks sent/s | ratio | "
          "lines differ |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for beam in map(int, args.beams.split(",")):
        for precision in args.precisions.split(","):
            for workers in map(int, args.workers.split(",")):
                translators = {b: Switched(Translator(loaded, TranslateOptions(
                    SearchOptions(beam=beam), batch_size=args.batch_size,
                    chunk_size=len(lines), compile="off", precision=precision,
                    workers=workers)), b) for b in (0, block)}
                best, texts = alternate(translators, lines, args.repeats)
                output_layer.BLOCK = block
                one, blocks, differ = versus(best, texts, 0, block, len(lines))
                print(f"| {beam} | {precision} | {workers} | {one:.1f} | {blocks:.1f} | "
                      f"{blocks / one:.2f}x | {differ} |", flush=True)


if __name__ == "__main__":
    main()
