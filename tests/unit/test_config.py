import pytest

from nmtkit.config import Config, apply_overrides, from_dict, load_config, to_dict
from nmtkit.errors import ConfigError


def test_defaults_round_trip():
    cfg = Config()
    assert from_dict(Config, to_dict(cfg)) == cfg


def test_unknown_key_is_rejected_with_valid_keys_listed():
    with pytest.raises(ConfigError) as e:
        from_dict(Config, {"train": {"lr": 0.1, "learning_rate": 0.1}})
    msg = str(e.value)
    assert "config.train: unknown key learning_rate" in msg
    assert "valid keys:" in msg and "batch_tokens" in msg


def test_types_are_checked():
    with pytest.raises(ConfigError, match="config.train.max_steps: expected an integer"):
        from_dict(Config, {"train": {"max_steps": "many"}})
    assert from_dict(Config, {"train": {"lr": 1}}).train.lr == 1.0


def test_dotted_overrides_parse_yaml_values():
    data = apply_overrides({}, ["train.lr=0.0005", "model.encoder={type: rnn, cell: gru}",
                                "train.valid_bleu=false"])
    cfg = from_dict(Config, data)
    assert cfg.train.lr == 0.0005
    assert cfg.model.encoder == {"type": "rnn", "cell": "gru"}
    assert cfg.train.valid_bleu is False


def test_override_without_equals_sign():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_overrides({}, ["train.lr"])


def test_yaml_error_names_file_and_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("train:\n  lr: [0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: invalid YAML"):
        load_config(p)


def test_exponent_numbers_without_a_dot_are_numbers(tmp_path):
    """YAML 1.1 (PyYAML) reads 1e-4 as a string; a float option takes it as the number."""
    (tmp_path / "c.yaml").write_text("train:\n  lr: 5e-4\n")
    assert load_config(tmp_path / "c.yaml").train.lr == 5e-4
    assert load_config(None, ["train.lr=1E-3"]).train.lr == 1e-3
    with pytest.raises(ConfigError, match="config.train.lr: expected a number, got 'fast'"):
        load_config(None, ["train.lr=fast"])
