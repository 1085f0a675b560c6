import math

import pytest
import torch

from nmtkit.config import TrainConfig, load_config
from nmtkit.errors import ConfigError
from nmtkit.presets import PRESETS
from nmtkit.training.optim import Schedule, lr_factor, teacher_forcing_ratio


def test_noam_and_inverse_sqrt_warm_up_then_decay():
    cfg = TrainConfig(schedule="noam", warmup_steps=100, lr=2.0)
    rates = [lr_factor(s, cfg, 256) for s in (1, 50, 100, 400)]
    assert rates[0] < rates[1] < rates[2] and rates[3] == pytest.approx(rates[2] / 2)
    cfg = TrainConfig(schedule="inverse_sqrt", warmup_steps=100)
    assert lr_factor(100, cfg, 1) == 1.0 and lr_factor(400, cfg, 1) == 0.5
    assert lr_factor(50, TrainConfig(warmup_steps=100), 1) == 0.5
    with pytest.raises(ConfigError, match="train.schedule: unknown 'cosine'"):
        lr_factor(1, TrainConfig(schedule="cosine"), 1)


def test_reduce_on_plateau_halves_after_patience():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = Schedule(opt, TrainConfig(schedule="reduce_on_plateau", lr=1.0,
                                         plateau_factor=0.5, plateau_patience=1), 1)
    for loss in (3.0, 2.0, 2.5, 2.4):
        schedule.on_validation(loss)
    schedule.set(10)
    assert opt.param_groups[0]["lr"] == 0.5
    assert schedule.state_dict() == {"scale": 0.5, "best": 2.0, "bad": 0}  # saved with the model


def test_teacher_forcing_decays_linearly():
    cfg = TrainConfig(teacher_forcing=0.5, teacher_forcing_steps=100)
    assert [teacher_forcing_ratio(s, cfg) for s in (0, 50, 100, 200)] == [1.0, 0.75, 0.5, 0.5]
    assert teacher_forcing_ratio(0, TrainConfig(teacher_forcing=0.8)) == 0.8


def _modules(module, cls) -> list:
    return [m for m in module.modules() if isinstance(m, cls)]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_build_and_take_overrides(name):
    """The model a preset builds has the preset's layers, and an override changes only
    what it names (sizes are overridden small, to build fast)."""
    from torch import nn

    from nmtkit.models.registry import ATTENTION, BRIDGES
    from nmtkit.models.seq2seq import Seq2Seq

    spec = PRESETS[name]
    enc, dec = spec["model"]["encoder"], spec["model"]["decoder"]
    recurrent = dec["type"] == "rnn"
    overrides = ["train.max_steps=5", "model.embed_dim=32"]
    if recurrent:
        overrides += ["model.encoder.hidden_size=24", "model.decoder.hidden_size=24"]
    else:
        overrides += ["model.decoder.ff_size=40"]
    cfg = load_config(None, overrides, preset=name)
    assert cfg.train.max_steps == 5
    for key, value in spec["train"].items():  # the rest of the preset's training options
        assert getattr(cfg.train, key) == (tuple(value) if isinstance(value, list) else value)
    model = Seq2Seq(cfg.model, 50, 60)
    assert {tuple(e.weight.shape) for e in _modules(model, nn.Embedding)} == {(50, 32), (60, 32)}
    if spec["model"]["init"] == "uniform":
        assert all(p.abs().max() <= cfg.model.init_scale for p in model.parameters())
    else:  # xavier: every vector starts at zero
        assert all(not p.any() for p in model.parameters() if p.dim() == 1)
    cells = {"gru": (nn.GRU, nn.GRUCell), "lstm": (nn.LSTM, nn.LSTMCell)}
    if recurrent:
        (rnn,) = _modules(model.encoder, nn.RNNBase)
        assert type(rnn) is cells[enc["cell"]][0]
        assert (rnn.hidden_size, rnn.num_layers, rnn.bidirectional) == (
            24, enc.get("layers", 1), enc["bidirectional"])
        dec_cells = _modules(model.decoder, nn.RNNCellBase)
        assert len(dec_cells) == dec.get("layers", 1)
        assert all(type(c) is cells[dec["cell"]][1] and c.hidden_size == 24 for c in dec_cells)
        assert len(_modules(model.decoder, ATTENTION.get(spec["model"]["attention"]["type"]))) == 1
        assert len(_modules(model, BRIDGES.get(spec["model"]["bridge"]["type"]))) == 1
        assert model.decoder.generator.weight.shape == (60, 24)
    else:
        for side, stack, attentions, ff_size in ((model.encoder, enc, 1, enc["ff_size"]),
                                                 (model.decoder, dec, 2, 40)):
            multi_head = [m for m in side.modules() if isinstance(getattr(m, "heads", None), int)]
            assert len(multi_head) == attentions * stack["layers"]
            assert all(m.heads == stack["heads"] for m in multi_head)
            ff_inner = [m for m in _modules(side, nn.Linear) if m.weight.shape == (ff_size, 32)]
            assert len(ff_inner) == stack["layers"]
            norms = [m for m in side.modules() if hasattr(m, "pre_norm")]
            assert norms and all(m.pre_norm is stack["pre_norm"] for m in norms)
        assert model.decoder.generator.weight is model.tgt_embed.table.weight  # tied
        assert "attention" not in model.components and "bridge" not in model.components
    assert math.isfinite(cfg.train.lr)


def test_preset_merge_replaces_a_component_whose_type_changes(tmp_path):
    cfg = load_config(None, ["model.encoder={type: mean}"], preset="luong2015")
    assert cfg.model.encoder == {"type": "mean"}
    (tmp_path / "c.yaml").write_text("model:\n  decoder: {hidden_size: 128}\n")
    cfg = load_config(tmp_path / "c.yaml", [], preset="luong2015")
    assert cfg.model.decoder["hidden_size"] == 128 and cfg.model.decoder["layers"] == 2
    with pytest.raises(ConfigError, match="unknown preset 'gnmt'; valid: bahdanau2015"):
        load_config(None, [], preset="gnmt")
