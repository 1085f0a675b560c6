"""Ranges and choices declared beside each field, for configs and for options."""

import math

import pytest

from nmtkit.checks import Range, check_value
from nmtkit.config import load_config
from nmtkit.data.build_vocab import VocabOptions
from nmtkit.data.preprocess import PreprocessOptions
from nmtkit.data.text import FilterOptions
from nmtkit.errors import ConfigError
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions


def test_ranges_describe_their_bounds():
    assert Range(1).describe() == "at least 1"
    assert Range(0, lo_open=True).describe() == "greater than 0"
    assert Range(0, 1, lo_open=True).describe() == "in (0, 1]"
    assert Range(0, 1, hi_open=True).holds(0.0) and not Range(0, 1, hi_open=True).holds(1.0)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ConfigError, match="x: must be a finite number"):
            check_value("x", bad)


@pytest.mark.parametrize(("options", "message"), [
    ({"beam": 0}, r"--beam: must be in \[1, 512\], got 0"),
    ({"max_len": 0}, r"--max-len: must be in \[1, 65536\], got 0"),
    ({"min_len": -1}, r"--min-len: must be in \[0, 65536\], got -1"),
    ({"length_penalty": math.nan}, "--length-penalty: must be a finite number, got nan"),
    ({"length_penalty": -0.5}, r"--length-penalty: must be in \[0, 10\]"),
    ({"max_len_ratio": math.inf}, "--max-len-ratio: must be a finite number"),
    ({"temperature": -1.0}, r"--temperature: must be in \(0, 1000\]"),
    ({"temperature": 0.0}, r"--temperature: must be in \(0, 1000\]"),
    ({"top_k": -3}, r"--top-k: must be in \[0, 16777216\], got -3"),
    ({"top_p": 0.0}, r"--top-p: must be in \(0, 1\], got 0.0"),
    ({"top_p": 1.5}, r"--top-p: must be in \(0, 1\], got 1.5"),
    ({"no_repeat_ngram": -1}, r"--no-repeat-ngram: must be in \[0, 100\]"),
    ({"length_norm": "log"}, "--length-norm: unknown 'log'; valid: gnmt, average, none"),
    ({"beam": 2, "n_best": 3}, r"--n-best \(3\) cannot exceed --beam \(2\)"),
    ({"sampling": True, "n_best": 2}, "--n-best cannot be used with --sample"),
])
def test_search_options_are_checked_with_the_option_names(options, message):
    with pytest.raises(ConfigError, match=message):
        SearchOptions(**options)


@pytest.mark.parametrize(("options", "message"), [
    ({"batch_size": -5}, r"--batch-size: must be in \[1, 65536\], got -5"),
    ({"chunk_size": 0}, r"--chunk-size: must be in \[1, 1048576\], got 0"),
    ({"precision": "fp8"}, "--precision: unknown 'fp8'; valid: auto, fp32, bf16"),
    ({"compile": "maybe"}, "--compile: unknown 'maybe'; valid: auto, on, off"),
])
def test_translate_options_are_checked(options, message):
    with pytest.raises(ConfigError, match=message):
        TranslateOptions(SearchOptions(), **options)


def test_preprocess_and_vocab_options_are_checked(tmp_path):
    def opts(**kw):
        return PreprocessOptions(tmp_path / "a", tmp_path / "b", tmp_path / "out", **kw)

    with pytest.raises(ConfigError, match=r"--spm-vocab-size: must be in \[1, 1048576\], got 0"):
        opts(spm_vocab_size=0)
    with pytest.raises(ConfigError, match="--units: unknown 'bytes'"):
        opts(units="bytes")
    with pytest.raises(ConfigError, match=r"--max-len: must be in \[1, 1048576\], got 0"):
        opts(filter=FilterOptions(max_len=0))
    with pytest.raises(ConfigError, match="--min-len 9 is more than --max-len 5"):
        opts(filter=FilterOptions(max_len=5, min_len=9))
    with pytest.raises(ConfigError, match="--max-ratio: must be a finite number"):
        opts(filter=FilterOptions(max_ratio=math.nan))
    with pytest.raises(ConfigError, match="give both --valid-src and --valid-tgt"):
        opts(valid_src=tmp_path / "v")
    with pytest.raises(ConfigError, match=r"--min-freq: must be in \[1, 1000000000000\], got 0"):
        VocabOptions(tmp_path, min_freq=0)


@pytest.mark.parametrize(("override", "message"), [
    ("train.lr=-0.1", r"config.train.lr: must be in \(0, 1000\], got -0.1"),
    ("train.lr=.nan", "config.train.lr: must be a finite number, got nan"),
    ("train.batch_tokens=0", r"config.train.batch_tokens: must be in \[1, 16777216\], got 0"),
    ("train.label_smoothing=1.0", r"config.train.label_smoothing: must be in \[0, 1\)"),
    ("train.schedule=cosine", "config.train.schedule: unknown 'cosine'; valid: constant"),
    ("train.betas=[0.9]", "config.train.betas: expected a list of 2"),
    ("model.embed_dim=0", r"config.model.embed_dim: must be in \[1, 65536\], got 0"),
    ("model.max_src_len=-1", r"config.model.max_src_len: must be in \[1, 1048576\]"),
])
def test_config_values_are_checked(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_component_options_are_checked_when_the_component_is_resolved():
    from nmtkit.models.build import resolve
    from nmtkit.models.registry import DECODERS, ENCODERS


    cfg = load_config(None, ["model.decoder.hidden_size=0"])
    with pytest.raises(ConfigError,
                       match=r"model.decoder.hidden_size: must be in \[1, 1048576\], got 0"):
        resolve(DECODERS, cfg.model.decoder, "model.decoder")
    cfg = load_config(None, ["model.encoder.dropout=1.5"])
    with pytest.raises(ConfigError, match=r"model.encoder.dropout: must be in \[0, 1\)"):
        resolve(ENCODERS, cfg.model.encoder, "model.encoder")


def test_a_dotted_override_merges_into_the_default_component():
    cfg = load_config(None, ["model.decoder.hidden_size=256", "model.encoder.layers=2"])
    assert cfg.model.decoder == {"type": "rnn", "hidden_size": 256}
    assert cfg.model.encoder == {"type": "rnn", "layers": 2}
    # a new type replaces the default spec whole, and a preset's null stays null
    cfg = load_config(None, ["model.encoder={type: mean}"], preset="transformer-small")
    assert cfg.model.encoder == {"type": "mean"} and cfg.model.attention is None
