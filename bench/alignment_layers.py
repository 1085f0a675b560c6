"""Which decoder layer's attention gives the alignments (``translate --attention-layer``):
a small Transformer learns the monotone toy task of
``tests/system/test_monotone_alignment.py`` (each source word replaced by its own target
word, in order, so the true alignment is the diagonal), then each layer's alignments of
200 test lines are compared with the diagonal, on the lines translated right.

    python bench/alignment_layers.py --steps 600 --layers 3

Training is seeded and deterministic on CPU: the figures repeat on one machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from nmtkit import api
from nmtkit.config import Config, from_dict
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import write_pairs
from tests.system.test_monotone_alignment import substitution_pairs


def train(folder: Path, steps: int, layers: int) -> Path:
    src, tgt = write_pairs(folder, "train", substitution_pairs(3000, seed=21))
    vsrc, vtgt = write_pairs(folder, "valid", substitution_pairs(50, seed=22))
    api.preprocess(api.PreprocessOptions(src=src, tgt=tgt, valid_src=vsrc, valid_tgt=vtgt,
                                         out=folder / "data", units="word"))
    api.build_vocab(api.VocabOptions(folder / "data"))
    side = {"type": "transformer", "layers": layers, "heads": 4, "dropout": 0.0}
    config = {"model": {"embed_dim": 64, "embed_dropout": 0.0, "encoder": side,
                        "decoder": side},
              "train": {"batch_tokens": 1200, "max_steps": steps, "lr": 0.002,
                        "valid_every": 0, "valid_bleu": False, "label_smoothing": 0.0,
                        "seed": 3}}
    api.train(from_dict(Config, config), folder / "data", folder / "model")
    return folder / "model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--layers", type=int, default=3)
    args = parser.parse_args()
    test = substitution_pairs(200, seed=23)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        model = train(Path(tmp), args.steps, args.layers)
        print(f"trained {args.steps} steps in {time.time() - t0:.0f} s")
        print("layer | lines right | alignment = the diagonal | links on the diagonal")
        for layer in range(1, args.layers + 1):
            opts = TranslateOptions(SearchOptions(beam=4), attention="mean",
                                    attention_layer=layer)
            with api.load_translator(model, opts) as translator:
                out = translator.translate_lines([s for s, _ in test])
            right = [t for t, (_, ref) in zip(out, test) if t.text == ref]
            diagonal = sum(t.word_alignment == [(i, i) for i in range(len(t.pieces))]
                           for t in right)
            links = [link for t in right for link in t.word_alignment]
            on = sum(i == j for i, j in links) / max(1, len(links))
            print(f"{layer} | {len(right)} of {len(test)} | {diagonal} of {len(right)} | "
                  f"{on:.3f}")


if __name__ == "__main__":
    main()
