"""The trainer over long runs: early stopping (and its bookkeeping across a resume), step
checkpoints, resuming with changed options, fp16 with a gradient scaler, fine-tuning from a
model folder. In-process on a tiny data folder; validation results are faked where a test
needs them."""

from __future__ import annotations

import math

import pytest
import torch

import nmtkit.training.trainer as trainer_module
from nmtkit.api import PreprocessOptions, VocabOptions, build_vocab, preprocess
from nmtkit.config import Config, ModelConfig, TrainConfig
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.model_folder.checkpoints import read_index
from nmtkit.model_folder.tensors import load_tensors
from nmtkit.precision import resolve_precision
from nmtkit.training.trainer import Trainer
from nmtkit.training.validate import ValidResult
from tests.conftest import reversal_pairs, write_pairs
from tests.unit.test_trainer import (
    config,
    dropout_config,
    final_state,
    same,
    weights,
)


def fake_losses(monkeypatch, losses: dict[int, float], seen: dict | None = None):
    """Validation at step s reports loss ``losses[s]`` (and records the weights)."""
    def fake_validate(model, data, step, *args, **kwargs):
        if seen is not None:
            seen[step] = weights(model)
        return ValidResult(step, losses[step], math.exp(losses[step]), None, 0.0)

    monkeypatch.setattr(trainer_module, "validate", fake_validate)


LOSSES = {1: 3.0, 2: 2.0, 3: 2.5, 4: 2.2, 5: 1.0, 6: 0.5, 7: 0.4, 8: 0.3}


def test_early_stopping_ends_the_run_after_patience_validations_without_a_better_one(
        data_dir, tmp_path, monkeypatch):
    fake_losses(monkeypatch, LOSSES)
    result = Trainer(config(max_steps=8, valid_every=1, early_stopping=2), data_dir,
                     tmp_path / "m").run()
    assert result.steps == 4  # steps 3 and 4 did not beat step 2
    assert result.stopped_early == ("stopped early at step 4: valid loss has not beaten 2 "
                                    "(step 2) in 2 validations")
    assert result.best.step == 2
    # without early stopping the same run goes on to its limit
    plain = Trainer(config(max_steps=8, valid_every=1), data_dir, tmp_path / "plain").run()
    assert plain.steps == 8 and plain.stopped_early is None


def test_a_resumed_run_keeps_counting_early_stopping_patience(data_dir, tmp_path,
                                                             monkeypatch):
    """Cut after step 3 (one validation without improvement): the resumed run stops at
    step 4, as the uninterrupted one did."""
    fake_losses(monkeypatch, LOSSES)
    Trainer(config(max_steps=3, valid_every=1, early_stopping=2), data_dir,
            tmp_path / "m").run()
    assert load_tensors(tmp_path / "m" / "train_state.pt")["valid"]["bad"] == 1
    resumed = Trainer(config(max_steps=8, valid_every=1, early_stopping=2), data_dir,
                      tmp_path / "m").run()
    assert resumed.steps == 4 and resumed.stopped_early.startswith("stopped early at step 4")


def test_step_checkpoints_hold_the_weights_of_their_step(data_dir, tmp_path, monkeypatch):
    seen = {}
    losses = {1: 3.0, 2: 1.0, 3: 2.5, 4: 2.2, 5: 1.5, 6: 1.8}
    fake_losses(monkeypatch, losses, seen)
    Trainer(config(max_steps=6, valid_every=1, keep_last=2, keep_best=1), data_dir,
            tmp_path / "m").run()
    index = read_index(tmp_path / "m")
    assert [e["step"] for e in index["checkpoints"]] == [2, 5, 6]  # the best, the last 2
    for e in index["checkpoints"]:
        state = load_tensors(tmp_path / "m" / e["file"])["model"]
        assert same(state, seen[e["step"]])
        assert e["valid"]["loss"] == losses[e["step"]]
    assert sorted(p.name for p in (tmp_path / "m").glob("checkpoint-*.pt")) == [
        "checkpoint-2.pt", "checkpoint-5.pt", "checkpoint-6.pt"]


def test_resuming_with_a_changed_batch_size_warns_and_trains_on(data_dir, tmp_path, caplog):
    Trainer(dropout_config(max_steps=3), data_dir, tmp_path / "m").run()
    with caplog.at_level("WARNING"):
        trainer = Trainer(dropout_config(max_steps=6, batch_tokens=120), data_dir,
                          tmp_path / "m")
    assert "config.train.batch_tokens changed from 60 to 120" in caplog.text
    before = trainer.state.tgt_tokens
    result = trainer.run()
    assert result.steps == 6
    # the later steps took the bigger batches
    assert (result.tgt_tokens - before) / 3 > before / 3


def fp16_transformer(**train) -> Config:
    stack = {"type": "transformer", "layers": 1, "heads": 2, "ff_size": 16, "dropout": 0.1}
    model = ModelConfig(embed_dim=8, init="xavier", encoder=dict(stack), decoder=dict(stack),
                        attention=None, bridge=None)
    return Config(model, TrainConfig(batch_tokens=60, log_every=1, valid_bleu=False,
                                     precision="fp16", valid_every=3, **train))


def test_fp16_is_refused_on_cpu():
    with pytest.raises(ConfigError, match="train.precision fp16: needs a CUDA GPU"):
        resolve_precision("fp16", torch.device("cpu"))


def test_fp16_trains_with_a_gradient_scaler_and_resumes_bit_identical(data_dir, tmp_path,
                                                                      monkeypatch):
    """The CUDA path's loss scaling, run on CPU (whose autocast has float16 for the
    Transformer's layers) with the CPU guard lifted."""
    monkeypatch.setattr(trainer_module, "resolve_precision", lambda precision, device: precision)
    Trainer(fp16_transformer(max_steps=6), data_dir, tmp_path / "whole").run()
    Trainer(fp16_transformer(max_steps=3), data_dir, tmp_path / "cut").run()
    Trainer(fp16_transformer(max_steps=6), data_dir, tmp_path / "cut").run()
    whole, cut = final_state(tmp_path / "whole"), final_state(tmp_path / "cut")
    assert whole["scaler"]["scale"] > 1.0  # the loss was scaled
    assert whole["scaler"] == cut["scaler"]
    assert same(whole["model"], cut["model"])
    assert all(torch.isfinite(w).all() for w in whole["model"].values())


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir):
    folder = tmp_path_factory.mktemp("parent") / "model"
    Trainer(config(max_steps=3, valid_every=3), data_dir, folder).run()
    return folder


def new_data(folder, tiny_corpus, from_model=None, symbols="abcdefghij"):
    write_pairs(folder, "train", reversal_pairs(100, seed=7, symbols=symbols))
    out = folder / "data"
    preprocess(PreprocessOptions(folder / "train.src", folder / "train.tgt", out,
                                 tiny_corpus / "valid.src", tiny_corpus / "valid.tgt",
                                 units="word", from_model=from_model))
    build_vocab(VocabOptions(out, from_model=from_model))
    return out


def test_fine_tuning_starts_from_the_model_weights_with_a_new_optimizer(
        trained, tmp_path, tiny_corpus):
    data = new_data(tmp_path, tiny_corpus, from_model=trained)
    assert (data / "vocab.tgt.tsv").read_bytes() == (trained / "vocab.tgt.tsv").read_bytes()
    tuner = Trainer(config(max_steps=2), data, tmp_path / "tuned", init=trained)
    parent = load_tensors(trained / "model.pt")["model"]
    assert same(weights(tuner.model), parent)
    assert tuner.state.step == 0 and not tuner.optimizer.state  # a new optimizer
    assert tuner.run().steps == 2


def test_fine_tuning_on_data_with_another_vocabulary_is_a_one_line_error(
        trained, tmp_path, tiny_corpus):
    data = new_data(tmp_path, tiny_corpus, symbols="klmnopqrst")  # its own vocabulary
    with pytest.raises(NmtkitError, match=r"vocab.src.tsv is another vocabulary than the "
                                          r"model's vocab.src.tsv; encode the new data with "
                                          r"the model's own: nmtkit preprocess ... "
                                          r"--from-model"):
        Trainer(config(max_steps=2), data, tmp_path / "tuned", init=trained)


def test_fine_tuning_with_another_model_shape_names_the_misfit(trained, tmp_path,
                                                               tiny_corpus):
    data = new_data(tmp_path, tiny_corpus, from_model=trained)
    wider = config(max_steps=2)
    wider.model.decoder["hidden_size"] = 16
    with pytest.raises(NmtkitError, match=r"model.pt: the weights do not fit .*decoder"):
        Trainer(wider, data, tmp_path / "tuned", init=trained)
