"""Output does not depend on how sentences are grouped into batches (float32), for a trained
RNN and a trained Transformer, with greedy and beam search."""

from __future__ import annotations

import pytest

from nmtkit import api
from nmtkit.search.common import SearchOptions
from nmtkit.translator import TranslateOptions
from tests.conftest import reversal_pairs, run_cli


@pytest.fixture(scope="module")
def tiny_transformer(tmp_path_factory, tiny_model):
    out = tmp_path_factory.mktemp("tt") / "model"
    run_cli("train", "--preset", "transformer-small", "-d", str(tiny_model.parent / "data"),
            "-m", str(out), "model.embed_dim=16", "model.encoder.heads=2",
            "model.decoder.heads=2", "model.encoder.layers=2", "model.decoder.layers=2",
            "model.encoder.ff_size=32", "model.decoder.ff_size=32", "train.max_steps=40",
            "train.batch_tokens=200", "train.warmup_steps=10", "train.valid_bleu=false")
    return out


@pytest.mark.parametrize("which", ["rnn", "transformer"])
@pytest.mark.parametrize("beam", [1, 4])
def test_batch_size_does_not_change_the_output(which, beam, tiny_model, tiny_transformer):
    model_dir = tiny_model if which == "rnn" else tiny_transformer
    lines = [s for s, _ in reversal_pairs(40, seed=21, lo=1, hi=10)] + ["", "a"]
    outputs = []
    for batch_size in (1, 7, 64):
        opts = TranslateOptions(SearchOptions(beam=beam, max_len=20), batch_size=batch_size)
        translator = api.load_translator(model_dir, opts)
        outputs.append([t.text for t in translator.translate_lines(lines)])
    assert outputs[0] == outputs[1] == outputs[2]
    assert any(outputs[0])  # a trained model says something
