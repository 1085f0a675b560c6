"""System test: an attentional LSTM that learned a monotone task (each source symbol
replaced by its own target symbol, in order) attends to source word i while it writes
target word i, so the alignments from its attention are the diagonal."""

import random
from pathlib import Path

import pytest

from nmtkit import api
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions
from tests.conftest import train_toy_rnn


def substitution_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        seq = [rng.choice("abcdefghij") for _ in range(rng.randint(3, 12))]
        pairs.append((" ".join(seq), " ".join(c.upper() + "x" for c in seq)))
    return pairs


@pytest.mark.system
def test_alignments_of_a_monotone_task_are_the_diagonal(tmp_path: Path):
    model = train_toy_rnn(tmp_path, substitution_pairs(3000, seed=21),
                          substitution_pairs(50, seed=22), steps=300, decoder_hidden=64)
    test = substitution_pairs(200, seed=23)
    opts = TranslateOptions(SearchOptions(beam=4), attention="mean")
    with api.load_translator(model, opts) as translator:
        out = translator.translate_lines([s for s, _ in test])
    correct = [t for t, (_, ref) in zip(out, test) if t.text == ref]
    assert len(correct) >= 190, f"{len(correct)} of 200 translations right"
    diagonal = [t for t in correct
                if t.word_alignment == [(i, i) for i in range(len(t.pieces))]]
    links = [link for t in correct for link in t.word_alignment]
    on_diagonal = sum(i == j for i, j in links) / len(links)
    print(f"{len(diagonal)} of {len(correct)} alignments are the diagonal; "
          f"{on_diagonal:.3f} of the links on it")
    assert len(diagonal) >= 0.9 * len(correct) and on_diagonal >= 0.97
