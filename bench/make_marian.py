"""Write a Marian model in Hugging Face's format with the transformers library's own
classes and initialisation (random weights), its sentencepiece models trained on the given
text: a stand-in for a downloaded OPUS-MT model where none can be downloaded.

    python bench/make_marian.py SRC_TEXT TGT_TEXT OUT [--d-model 256 --layers 3 ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.marian_models import MarianSpec, make_marian


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src", type=Path)
    p.add_argument("tgt", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=1024)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--activation", default="swish")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    read = lambda path: path.read_text(encoding="utf-8").splitlines()  # noqa: E731
    spec = MarianSpec(layers=(a.layers, a.layers), d_model=a.d_model, heads=a.heads,
                      ffn=a.ffn, vocab_size=a.vocab_size, activation=a.activation,
                      seed=a.seed, init="default", max_positions=512)
    make_marian(a.out, spec, (read(a.src), read(a.tgt)))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
