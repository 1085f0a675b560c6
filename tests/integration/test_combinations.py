"""Every built-in encoder x attention x decoder combination meant to work together trains
a few steps and decodes with greedy and beam search; incompatible ones fail at config time
with a clear message."""

from __future__ import annotations

import pytest

from nmtkit import api
from nmtkit.config import Config, from_dict
from nmtkit.errors import ConfigError
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions

ENCODERS = {
    "rnn-lstm-bi": {"type": "rnn", "cell": "lstm", "hidden_size": 8, "bidirectional": True},
    "rnn-gru": {"type": "rnn", "cell": "gru", "hidden_size": 16, "bidirectional": False,
                "reverse_source": True},
    "mean": {"type": "mean"},
    "transformer": {"type": "transformer", "layers": 1, "heads": 2, "ff_size": 32},
}
ATTENTION = {
    "dot": {"type": "dot"},
    "general": {"type": "general"},
    "additive": {"type": "additive", "coverage": True},
    "mlp": {"type": "mlp"},
    "scaled_dot": {"type": "scaled_dot"},
    "multi_head": {"type": "multi_head", "heads": 2},
}
RNN_DECODERS = {
    "rnn-lstm": {"type": "rnn", "cell": "lstm", "hidden_size": 16},
    "rnn-gru-copy": {"type": "rnn", "cell": "gru", "hidden_size": 16, "copy": True,
                     "input_feeding": False},
}
TRANSFORMER_DECODER = {"type": "transformer", "layers": 1, "heads": 2, "ff_size": 32}

COMBOS = [(e, a, d) for e in ENCODERS for a in ATTENTION for d in RNN_DECODERS]
COMBOS += [(e, None, "transformer") for e in ENCODERS]


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory, tiny_corpus):
    out = tmp_path_factory.mktemp("shared") / "data"
    c = tiny_corpus
    api.preprocess(api.PreprocessOptions(src=c / "train.src", tgt=c / "train.tgt", out=out,
                                         valid_src=c / "valid.src", valid_tgt=c / "valid.tgt",
                                         units="word"))
    api.build_vocab(api.VocabOptions(out, shared=True))
    return out


def config(encoder, attention, decoder) -> Config:
    transformer_dec = decoder == "transformer"
    return from_dict(Config, {
        "model": {
            "embed_dim": 16, "share_embeddings": True,
            "init": "xavier" if transformer_dec or encoder == "transformer" else "uniform",
            "encoder": ENCODERS[encoder],
            "attention": None if attention is None else ATTENTION[attention],
            # A Transformer encoder has no final state to bridge from.
            "bridge": None if transformer_dec else
            {"type": "none" if encoder == "transformer" else "dense"},
            "decoder": TRANSFORMER_DECODER if transformer_dec else RNN_DECODERS[decoder],
        },
        "train": {"max_steps": 3, "batch_tokens": 150, "valid_every": 0, "valid_bleu": False,
                  "lr": 0.01},
    })


@pytest.mark.parametrize(("encoder", "attention", "decoder"), COMBOS,
                         ids=["-".join(str(x) for x in c if x) for c in COMBOS])
def test_combination_trains_and_decodes(tmp_path, shared_data, encoder, attention, decoder):
    result = api.train(config(encoder, attention, decoder), shared_data, tmp_path / "model")
    assert result.steps == 3 and result.last.loss > 0
    lines = ["a b c", "", "d e f g h"]
    for beam in (1, 3):
        translator = api.load_translator(tmp_path / "model",
                                         TranslateOptions(SearchOptions(beam=beam, max_len=12)))
        out = translator.translate_lines(lines)
        assert len(out) == 3 and out[1].text == ""


@pytest.mark.parametrize(("model", "message"), [
    ({"encoder": {"type": "rnn", "hidden_size": 8, "bidirectional": False},
      "attention": {"type": "dot"}}, "attention 'dot' needs the decoder hidden size"),
    ({"encoder": {"type": "transformer", "heads": 3}}, "must divide the model size"),
    ({"encoder": {"type": "rnn", "hidden_size": 10}, "attention": None, "bridge": None,
      "decoder": {"type": "transformer", "heads": 2}}, "encoder output size"),
    ({"encoder": {"type": "mean"}, "bridge": {"type": "copy"},
      "decoder": {"type": "rnn", "hidden_size": 32}}, "bridge 'copy' needs"),
    ({"decoder": {"type": "rnn", "copy": True}, "share_embeddings": False},
     "copy needs one vocabulary"),
    ({"decoder": {"type": "rnn"}, "attention": None}, "needs an attention type"),
])
def test_incompatible_combinations_fail_at_config_time(tmp_path, shared_data, model, message):
    from nmtkit.models.seq2seq import Seq2Seq

    spec = {"embed_dim": 16, "decoder": {"type": "rnn", "hidden_size": 16}, **model}
    cfg = from_dict(Config, {"model": spec})
    with pytest.raises(ConfigError, match=message):
        Seq2Seq(cfg.model, 20, 20)


def test_scheduled_sampling_is_refused_by_the_transformer_decoder(tmp_path, shared_data):
    cfg = config("transformer", None, "transformer")
    cfg.train.teacher_forcing = 0.5
    with pytest.raises(ConfigError, match="scheduled sampling"):
        api.train(cfg, shared_data, tmp_path / "m")
