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
    restored = Schedule(opt, TrainConfig(schedule="reduce_on_plateau"), 1)
    restored.load_state_dict(schedule.state_dict())
    assert restored.scale == 0.5 and restored.best == 2.0


def test_teacher_forcing_decays_linearly():
    cfg = TrainConfig(teacher_forcing=0.5, teacher_forcing_steps=100)
    assert [teacher_forcing_ratio(s, cfg) for s in (0, 50, 100, 200)] == [1.0, 0.75, 0.5, 0.5]
    assert teacher_forcing_ratio(0, TrainConfig(teacher_forcing=0.8)) == 0.8


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_build_and_take_overrides(name):
    from nmtkit.models.seq2seq import Seq2Seq

    cfg = load_config(None, ["train.max_steps=5"], preset=name)
    assert cfg.train.max_steps == 5
    model = Seq2Seq(cfg.model, 50, 50)
    assert model.n_parameters() > 0 and math.isfinite(cfg.train.lr)


def test_preset_merge_replaces_a_component_whose_type_changes(tmp_path):
    cfg = load_config(None, ["model.encoder={type: mean}"], preset="luong2015")
    assert cfg.model.encoder == {"type": "mean"}
    (tmp_path / "c.yaml").write_text("model:\n  decoder: {hidden_size: 128}\n")
    cfg = load_config(tmp_path / "c.yaml", [], preset="luong2015")
    assert cfg.model.decoder["hidden_size"] == 128 and cfg.model.decoder["layers"] == 2
    with pytest.raises(ConfigError, match="unknown preset 'gnmt'; valid: bahdanau2015"):
        load_config(None, [], preset="gnmt")
