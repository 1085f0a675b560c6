"""Tiny sentencepiece data folders for the subword-sampling tests: made-up words built from
a few syllables, so that a small unigram or BPE model has many ways to split each word."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import write_pairs

SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo")


def word_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """Sentences of 3-7 words of 1-3 syllables; the target is the source reversed, in
    capitals."""
    rng = random.Random(seed)
    words = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
             for _ in range(40)]
    pairs = []
    for _ in range(n):
        sent = [rng.choice(words) for _ in range(rng.randint(3, 7))]
        pairs.append((" ".join(sent), " ".join(reversed(sent)).upper()))
    return pairs


def spm_data(folder: Path, n: int = 200, model_type: str = "unigram", vocab: int = 60,
             joint: bool = True) -> Path:
    """A data folder with vocabularies: ``n`` training pairs, 10 validation pairs."""
    from nmtkit.api import PreprocessOptions, VocabOptions, build_vocab, preprocess

    src, tgt = write_pairs(folder, "train", word_pairs(n, seed=1))
    vsrc, vtgt = write_pairs(folder, "valid", word_pairs(10, seed=2))
    out = folder / "data"
    preprocess(PreprocessOptions(src, tgt, out, vsrc, vtgt, units="spm", spm_vocab_size=vocab,
                                 spm_model_type=model_type, joint=joint))
    build_vocab(VocabOptions(out))
    return out
