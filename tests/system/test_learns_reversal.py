"""System test: an attentional LSTM learns to reverse sequences (BLEU above 90), and
scores the true reversals above shuffled ones."""

import random
from pathlib import Path

import pytest

from nmtkit import api
from nmtkit.config import Config, from_dict
from nmtkit.search.options import SearchOptions
from nmtkit.translator import TranslateOptions
from tests.conftest import reversal_pairs, write_pairs

CONFIG = {
    "model": {
        "embed_dim": 32, "embed_dropout": 0.0,
        "encoder": {"type": "rnn", "hidden_size": 64, "dropout": 0.0},
        "decoder": {"type": "rnn", "hidden_size": 128, "dropout": 0.0},
    },
    "train": {"batch_tokens": 1200, "max_steps": 700, "lr": 0.005, "valid_every": 0,
              "valid_bleu": False, "label_smoothing": 0.0, "seed": 3},
}


@pytest.mark.system
def test_rnn_learns_to_reverse(tmp_path: Path):
    src, tgt = write_pairs(tmp_path, "train", reversal_pairs(4000, seed=11, lo=3, hi=12))
    vsrc, vtgt = write_pairs(tmp_path, "valid", reversal_pairs(100, seed=12, lo=3, hi=12))
    test = reversal_pairs(200, seed=13, lo=3, hi=12)
    api.preprocess(api.PreprocessOptions(src=src, tgt=tgt, valid_src=vsrc, valid_tgt=vtgt,
                                         out=tmp_path / "data", units="word"))
    api.build_vocab(api.VocabOptions(tmp_path / "data"))
    result = api.train(from_dict(Config, CONFIG), tmp_path / "data", tmp_path / "model")
    assert result.steps == 700
    for beam in (1, 4):
        opts = TranslateOptions(SearchOptions(beam=beam))
        translator = api.load_translator(tmp_path / "model", opts)
        hyps = [t.text for t in translator.translate_lines([s for s, _ in test])]
        [bleu] = api.score(hyps, [t for _, t in test], ["bleu"])
        print(f"beam {beam}: BLEU {bleu.score}")
        assert bleu.score > 90, f"beam {beam}: BLEU {bleu.score}"

    # Scoring pairs with the model: the references are far likelier than the same
    # references shuffled (each against another line's source).
    sources, refs = [s for s, _ in test], [t for _, t in test]
    shuffled = refs[:]
    random.Random(14).shuffle(shuffled)
    true, true_corpus = api.score_pairs(tmp_path / "model", sources, refs)
    wrong, wrong_corpus = api.score_pairs(tmp_path / "model", sources, shuffled)
    assert true_corpus.pairs == wrong_corpus.pairs == 200
    assert true_corpus.perplexity < 1.5 < 10 < wrong_corpus.perplexity
    better = sum(t.logprob > w.logprob for t, w, a, b in zip(true, wrong, refs, shuffled)
                 if a != b)
    assert better == sum(a != b for a, b in zip(refs, shuffled))
