"""nmtkit/training/trainer.py in-process on a tiny data folder: which weights the model
folder keeps, what counts against train.max_minutes, and gradient accumulation. Time and
validation results are faked where a test needs them; nothing sleeps."""

import json
import math

import numpy as np
import pytest
import torch

import nmtkit.training.trainer as trainer_module
from nmtkit.config import Config, ModelConfig, TrainConfig
from nmtkit.errors import NmtkitError
from nmtkit.model_folder import metrics_log
from nmtkit.training.trainer import TrainCallbacks, Trainer
from nmtkit.training.validate import ValidResult


def config(**train) -> Config:
    """A tiny model without dropout (so a forward pass is deterministic), trained in fp32."""
    model = ModelConfig(embed_dim=8, embed_dropout=0.0,
                        encoder={"type": "rnn", "hidden_size": 8, "dropout": 0.0},
                        decoder={"type": "rnn", "hidden_size": 8, "dropout": 0.0})
    options = dict(batch_tokens=100, log_every=1, valid_bleu=False, precision="fp32")
    return Config(model, TrainConfig(**{**options, **train}))


class Record(TrainCallbacks):
    def __init__(self):
        self.steps, self.valid = [], []

    def on_step(self, report):
        self.steps.append(report)

    def on_valid(self, result, is_best):
        self.valid.append((result.step, is_best))


def weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("metric, results, flags", [
    # (loss, BLEU, chrF) per validation; by loss the lowest is best
    ("loss", [(2.0, 5.0, 50.0), (1.0, 1.0, 10.0), (3.0, 9.0, 90.0)], [True, True, False]),
    # by BLEU the highest BLEU is best, whatever the loss and chrF
    ("bleu", [(1.0, 10.0, 50.0), (2.0, 30.0, 10.0), (0.5, 20.0, 90.0)], [True, True, False]),
    # by chrF likewise
    ("chrf", [(1.0, 40.0, 10.0), (2.0, 10.0, 30.0), (0.5, 50.0, 20.0)], [True, True, False]),
])
def test_the_model_folder_keeps_the_best_validated_weights(tmp_path, data_dir, monkeypatch,
                                                           metric, results, flags):
    """Validation gets worse at the last step: model.pt keeps step 2's weights while
    train_state.pt has the last ones."""
    seen = {}

    def fake_validate(model, data, step, *args, **kwargs):
        seen[step] = weights(model)
        loss, bleu, chrf = results[step - 1]
        return ValidResult(step, loss, math.exp(loss), bleu, 0.0, chrf)

    monkeypatch.setattr(trainer_module, "validate", fake_validate)
    record = Record()
    cfg = config(max_steps=3, valid_every=1, valid_bleu=metric != "loss", valid_metric=metric)
    result = Trainer(cfg, data_dir, tmp_path / "m", record).run()
    assert record.valid == [(1, flags[0]), (2, flags[1]), (3, flags[2])]
    assert not same(seen[2], seen[3])  # training moved on after the best step
    best = torch.load(tmp_path / "m" / "model.pt", weights_only=True)["model"]
    assert same(best, seen[2])
    last = torch.load(tmp_path / "m" / "train_state.pt", weights_only=True)["model"]
    assert same(last, seen[3])
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["steps"] == 3
    assert meta["best_valid"]["step"] == 2
    assert meta["best_valid"]["loss"] == results[1][0]
    assert meta["best_valid"]["bleu"] == results[1][1]
    assert (result.best.step, result.last.step) == (2, 3)


class FakeClock:
    """Stands in for the trainer's ``time`` module; only the test moves it."""

    def __init__(self):
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    monotonic = perf_counter = time


def slow_training(monkeypatch, trainer: Trainer, step_seconds: float, valid_seconds: float):
    """Fake time: each training forward pass takes ``step_seconds``, each validation
    ``valid_seconds``."""
    clock = FakeClock()
    monkeypatch.setattr(trainer_module, "time", clock)
    real_validate = trainer_module.validate

    def slow_validate(*args, **kwargs):
        clock.now += valid_seconds
        return real_validate(*args, **kwargs)

    def forward_pass(module, args):
        if module.training:
            clock.now += step_seconds

    monkeypatch.setattr(trainer_module, "validate", slow_validate)
    trainer.model.register_forward_pre_hook(forward_pass)


def counted(function, calls: list):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return wrapper


def test_max_minutes_counts_training_time_not_validation_time(tmp_path, data_dir, monkeypatch):
    """Each training forward pass "takes" 10 s and each validation 1000 s: a one-minute
    budget is spent after 6 steps, however long validating took."""
    record = Record()
    trainer = Trainer(config(max_minutes=1.0, valid_every=1), data_dir, tmp_path / "m", record)
    validations = []
    monkeypatch.setattr(trainer_module, "validate", counted(trainer_module.validate, validations))
    slow_training(monkeypatch, trainer, step_seconds=10.0, valid_seconds=1000.0)
    result = trainer.run()
    assert result.steps == 6
    assert len(validations) == 6  # validation ran after every step, 6000 s in all
    assert [r.elapsed for r in record.steps] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert result.seconds == pytest.approx(60.0)
    assert result.tokens_per_sec == pytest.approx(result.tgt_tokens / 60.0)
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["train_seconds"] == pytest.approx(60.0)


def test_tokens_per_second_of_a_log_window_with_a_validation_inside(tmp_path, data_dir,
                                                                    monkeypatch):
    """Two 10 s steps logged together, validated after each: the window's speed is its
    tokens over 20 s."""
    record = Record()
    trainer = Trainer(config(max_steps=2, log_every=2, valid_every=1), data_dir, tmp_path / "m",
                      record)
    slow_training(monkeypatch, trainer, step_seconds=10.0, valid_seconds=1000.0)
    result = trainer.run()
    assert [r.step for r in record.steps] == [2]
    assert record.steps[0].tokens_per_sec == pytest.approx(result.tgt_tokens / 20.0)


def test_gradient_accumulation_normalises_by_the_target_tokens_of_the_whole_group(
        tmp_path, data_dir, monkeypatch):
    """Two batches accumulated into one step make the same update as one batch holding both
    (the group's summed loss over the group's target tokens, not a mean of per-batch
    means): plain SGD with lr 1, so the update is the gradient itself."""
    small, large = np.array([0]), np.arange(1, 8)  # 1 and 7 sentences: unequal token counts
    runs = {}
    for name, batches, accumulate in (("accumulated", [small, large], 2),
                                      ("combined", [np.concatenate([small, large])], 1)):
        monkeypatch.setattr(trainer_module, "token_batches",
                            lambda *a, batches=batches, **k: [b.copy() for b in batches])
        record = Record()
        trainer = Trainer(config(max_steps=1, accumulate=accumulate, optimizer="sgd", lr=1.0,
                                 clip_norm=0.0, valid_every=0), data_dir, tmp_path / name,
                          record)
        before = weights(trainer.model)
        result = trainer.run()
        after = weights(trainer.model)
        runs[name] = before, {k: after[k] - before[k] for k in after}, record.steps, result
    (start_a, update_a, steps_a, result_a), (start_c, update_c, steps_c, result_c) = (
        runs["accumulated"], runs["combined"])
    assert same(start_a, start_c)  # the same seeded initialisation
    assert result_a.steps == result_c.steps == 1
    assert result_a.tgt_tokens == result_c.tgt_tokens
    assert any(u.abs().max() > 1e-4 for u in update_a.values())  # a real update
    for key in update_a:
        assert torch.allclose(update_a[key], update_c[key], rtol=1e-4, atol=1e-7), key
    # The reported loss is per target token of the group too.
    assert steps_a[0].loss == pytest.approx(steps_c[0].loss, rel=1e-5)


def dropout_config(**train) -> Config:
    """With dropout, so a resumed run must also restore the random generators."""
    model = ModelConfig(embed_dim=8, embed_dropout=0.2,
                        encoder={"type": "rnn", "hidden_size": 8, "dropout": 0.3},
                        decoder={"type": "rnn", "hidden_size": 8, "dropout": 0.3})
    options = dict(batch_tokens=60, log_every=1, valid_bleu=False, precision="fp32",
                   valid_every=3)
    return Config(model, TrainConfig(**{**options, **train}))


def final_state(model_dir) -> dict:
    from nmtkit.model_folder.tensors import load_tensors

    return load_tensors(model_dir / "train_state.pt")


def test_a_resumed_run_ends_bit_identical_to_an_uninterrupted_one(data_dir, tmp_path):
    Trainer(dropout_config(max_steps=10), data_dir, tmp_path / "whole").run()
    first = Trainer(dropout_config(max_steps=4), data_dir, tmp_path / "cut").run()
    assert first.steps == 4
    resumed = Trainer(dropout_config(max_steps=10), data_dir, tmp_path / "cut")
    assert resumed.state.step == 4  # picked up where the first run stopped
    assert resumed.run().steps == 10
    whole, cut = final_state(tmp_path / "whole"), final_state(tmp_path / "cut")
    assert same(whole["model"], cut["model"])
    assert whole["counters"]["tgt_tokens"] == cut["counters"]["tgt_tokens"]
    assert whole["data"] == cut["data"]
    # The metrics log tells one history: the same training lines, step by step.
    def steps(folder):
        return [(r["step"], r["loss"]) for r in metrics_log.read(folder) if "loss" in r]
    assert steps(tmp_path / "whole") == steps(tmp_path / "cut")
    assert [s for s, _ in steps(tmp_path / "cut")] == list(range(1, 11))
    adam_whole, adam_cut = whole["optimizer"]["state"], cut["optimizer"]["state"]
    assert all(torch.equal(adam_whole[k]["exp_avg_sq"], adam_cut[k]["exp_avg_sq"])
               for k in adam_whole)
    # Without the random generators' state the dropout masks differ and so do the weights.
    Trainer(dropout_config(max_steps=4), data_dir, tmp_path / "no_rng").run()
    redo = Trainer(dropout_config(max_steps=10), data_dir, tmp_path / "no_rng")
    torch.manual_seed(12345)
    assert not same(whole["model"], (redo.run(), final_state(tmp_path / "no_rng"))[1]["model"])


def test_resuming_names_changed_options_and_refuses_another_model(data_dir, tmp_path, caplog):
    Trainer(dropout_config(max_steps=2), data_dir, tmp_path / "m").run()
    with pytest.raises(NmtkitError, match="training already reached its limit"):
        Trainer(dropout_config(max_steps=2), data_dir, tmp_path / "m")
    other = dropout_config(max_steps=4)
    other.model.decoder["hidden_size"] = 16
    with pytest.raises(NmtkitError, match="resuming needs the same model, but "
                                          "config.model.decoder.hidden_size was 8"):
        Trainer(other, data_dir, tmp_path / "m")
    with caplog.at_level("WARNING"):
        resumed = Trainer(dropout_config(max_steps=4, lr=0.01), data_dir, tmp_path / "m")
    assert resumed.state.step == 2
    assert "config.train.lr changed from 0.001 to 0.01" in caplog.text
    assert "config.train.max_steps changed from 2 to 4" in caplog.text


def test_a_second_interrupt_exits_at_once():
    import signal

    from nmtkit.training.interrupts import StopRequests

    with StopRequests() as stops:
        assert signal.getsignal(signal.SIGTERM) == stops.handle
        stops.handle(signal.SIGTERM)  # the first: recorded, the loop saves and stops
        assert stops.status == 143
        with pytest.raises(SystemExit) as second:
            stops.handle(signal.SIGINT)
        assert second.value.code == 130
    assert signal.getsignal(signal.SIGTERM) != stops.handle  # the old handler is back


def test_an_interrupted_run_stops_after_a_checkpoint(data_dir, tmp_path):
    import signal

    class InterruptAtStep3(Record):
        def on_step(self, report):
            super().on_step(report)
            if report.step == 3:
                trainer.stops.handle(signal.SIGINT)

    trainer = Trainer(dropout_config(max_steps=50, valid_every=100), data_dir, tmp_path / "m",
                      InterruptAtStep3())
    result = trainer.run()
    # The step under way when the signal came (4) finishes; then a checkpoint, and stop.
    assert result.interrupted == 130 and result.steps == 4
    assert final_state(tmp_path / "m")["counters"]["step"] == 4


def nan_losses(monkeypatch, bad_calls: set[int]):
    """token_loss gives NaN on the listed calls (1-based), the real loss otherwise."""
    import nmtkit.training.step as step_module

    real, calls = step_module.token_loss, []

    def loss(*args, **kw):
        calls.append(1)
        value = real(*args, **kw)
        return value * float("nan") if len(calls) in bad_calls else value

    monkeypatch.setattr(step_module, "token_loss", loss)


def test_a_nan_loss_skips_its_update_with_a_warning(data_dir, tmp_path, monkeypatch, caplog):
    Trainer(config(max_steps=3), data_dir, tmp_path / "clean").run()
    nan_losses(monkeypatch, {2})  # the second batch's loss is NaN
    with caplog.at_level("WARNING"):
        result = Trainer(config(max_steps=3), data_dir, tmp_path / "nan").run()
    assert "step 2: the loss or its gradient is NaN or infinite; update skipped" in caplog.text
    assert result.steps == 3  # three good updates, from batches 1, 3 and 4
    weights_nan = final_state(tmp_path / "nan")["model"]
    assert all(torch.isfinite(w).all() for w in weights_nan.values())
    assert not same(weights_nan, final_state(tmp_path / "clean")["model"])


def test_nan_losses_in_a_row_stop_training_and_keep_the_checkpoint(data_dir, tmp_path,
                                                                  monkeypatch):
    Trainer(config(max_steps=2, valid_every=2), data_dir, tmp_path / "m").run()
    before = (tmp_path / "m" / "train_state.pt").read_bytes()
    nan_losses(monkeypatch, {1, 2, 3})
    with pytest.raises(NmtkitError, match=r"NaN or infinite 3 times in a row \(up to step 3\); "
                                          r"the checkpoint of step 2 in .* is intact"):
        Trainer(config(max_steps=6, valid_every=2, max_nonfinite=3), data_dir,
                tmp_path / "m").run()
    assert (tmp_path / "m" / "train_state.pt").read_bytes() == before


def test_the_metrics_log_drops_what_a_resumed_run_redoes(tmp_path):
    for step in (1, 2, 3):
        metrics_log.append(tmp_path, {"step": step, "loss": 1.0 / step})
    metrics_log.append(tmp_path, {"step": 2, "valid_loss": 0.7})
    with open(tmp_path / metrics_log.NAME, "a") as f:
        f.write('{"step": 4, "lo')  # a killed run's half line
    metrics_log.keep_until(tmp_path, 2)
    assert metrics_log.read(tmp_path) == [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5},
                                          {"step": 2, "valid_loss": 0.7}]
    assert (tmp_path / metrics_log.NAME).read_text().endswith("}\n")


def test_resuming_on_another_training_corpus_says_so_and_records_it(tmp_path, data_dir,
                                                                     caplog):
    """Same tokenizer and vocabularies, other training pairs: the run goes on, with a
    warning naming both data folders, from the start of its epoch, and meta.json records
    the new corpus (and the old one in its history)."""
    from nmtkit.api import PreprocessOptions, VocabOptions, build_vocab, preprocess
    from tests.conftest import reversal_pairs, write_pairs

    Trainer(config(max_steps=3, valid_every=3), data_dir, tmp_path / "m").run()
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["corpus"]["data_dir"] == str(data_dir)
    src, tgt = write_pairs(tmp_path, "other", reversal_pairs(200, seed=9))
    other = tmp_path / "other-data"
    preprocess(PreprocessOptions(src, tgt, other, from_model=tmp_path / "m"))
    build_vocab(VocabOptions(other, from_model=tmp_path / "m"))
    with caplog.at_level("WARNING"):
        result = Trainer(config(max_steps=5, valid_every=5), other, tmp_path / "m").run()
    assert result.steps == 5
    warned = [r.getMessage() for r in caplog.records if "another training corpus" in
              r.getMessage()]
    assert len(warned) == 1 and str(other) in warned[0] and str(data_dir) in warned[0]
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["corpus"]["data_dir"] == str(other)
    assert [c["data_dir"] for c in meta["corpus_history"]] == [str(data_dir)]
    caplog.clear()
    with caplog.at_level("WARNING"):  # the same corpus again: nothing to say
        Trainer(config(max_steps=6, valid_every=6), other, tmp_path / "m").run()
    assert not [r for r in caplog.records if "another training corpus" in r.getMessage()]
