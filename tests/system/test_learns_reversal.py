"""System test: an attentional LSTM learns to reverse sequences (BLEU above 90), attends
to the source words in reverse order, and scores the true reversals above shuffled ones."""

import random
from pathlib import Path

import pytest

from nmtkit import api
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions
from tests.conftest import reversal_pairs, train_toy_rnn


@pytest.mark.system
def test_rnn_learns_to_reverse(tmp_path: Path):
    model = train_toy_rnn(tmp_path, reversal_pairs(4000, seed=11, lo=3, hi=12),
                          reversal_pairs(100, seed=12, lo=3, hi=12), steps=500,
                          decoder_hidden=128)
    test = reversal_pairs(200, seed=13, lo=3, hi=12)
    for beam in (1, 4):
        opts = TranslateOptions(SearchOptions(beam=beam), attention="mean")
        translator = api.load_translator(model, opts)
        out = translator.translate_lines([s for s, _ in test])
        [bleu] = api.score([t.text for t in out], [t for _, t in test], ["bleu"])
        print(f"beam {beam}: BLEU {bleu.score}")
        assert bleu.score > 90, f"beam {beam}: BLEU {bleu.score}"
    # The attention follows the reversal: target word j comes from source word n - 1 - j.
    correct = [t for t, (_, ref) in zip(out, test) if t.text == ref]
    reversed_ = [t for t in correct if t.word_alignment ==
                 sorted((n - 1 - j, j) for n in [len(t.pieces)] for j in range(n))]
    print(f"{len(reversed_)} of {len(correct)} alignments are the anti-diagonal")
    assert len(reversed_) >= 0.8 * len(correct)

    # Scoring pairs with the model: the references are far likelier than the same
    # references shuffled (each against another line's source).
    sources, refs = [s for s, _ in test], [t for _, t in test]
    shuffled = refs[:]
    random.Random(14).shuffle(shuffled)
    true, true_corpus = api.score_pairs(model, sources, refs)
    wrong, wrong_corpus = api.score_pairs(model, sources, shuffled)
    assert true_corpus.pairs == wrong_corpus.pairs == 200
    assert true_corpus.perplexity < 1.5 < 10 < wrong_corpus.perplexity
    better = sum(t.logprob > w.logprob for t, w, a, b in zip(true, wrong, refs, shuffled)
                 if a != b)
    assert better == sum(a != b for a, b in zip(refs, shuffled))
