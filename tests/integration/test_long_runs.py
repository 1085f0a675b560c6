"""Long runs through the real CLI: step checkpoints and `nmtkit average`, early stopping
in the summary, the progress figures and TensorBoard files, fine-tuning with --init-from
on data encoded --from-model, and training under torchrun (2 CPU processes with gloo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nmtkit.model_folder.checkpoints import read_index
from nmtkit.model_folder.tensors import load_tensors
from tests.conftest import reversal_pairs, run_cli, run_main, write_pairs


def test_average_writes_the_mean_of_the_chosen_checkpoints(tiny_model, tmp_path):
    index = read_index(tiny_model)["checkpoints"]
    assert [e["step"] for e in index] == [15, 30]  # valid_every 15, max_steps 30
    out = run_cli("average", str(tiny_model), "--last", "2", "-o", str(tmp_path / "avg"))
    assert out.stdout.strip() == f"averaged 2 checkpoints (last: steps 15, 30) into " \
                                 f"{tmp_path / 'avg'}"
    a, b = (load_tensors(tiny_model / e["file"])["model"] for e in index)
    avg = load_tensors(tmp_path / "avg" / "model.pt")["model"]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    for k in a:
        assert torch.equal(avg[k], ((a[k].double() + b[k].double()) / 2).to(a[k].dtype)), k
    # it translates like any model folder: one line out per line in
    lines = run_cli("translate", "--model-dir", str(tmp_path / "avg"),
                    input="a b c\n\nd e f g\n").stdout
    assert len(lines.splitlines()) == 3
    # the best one alone is that checkpoint's weights
    run_cli("average", str(tiny_model), "--best", "1", "-o", str(tmp_path / "best"))
    best = read_index(tiny_model)
    assert best["metric"] == "bleu"
    top = max(index, key=lambda e: (e["valid"]["bleu"], -e["step"]))
    assert all(torch.equal(load_tensors(tmp_path / "best" / "model.pt")["model"][k],
                           load_tensors(tiny_model / top["file"])["model"][k]) for k in a)


@pytest.mark.parametrize("args, message", [
    (["--last", "3"], "holds 2 step checkpoints, fewer than 3; train with a higher "
                      "train.keep_last"),
    ([], "give one of --last N or --best N"),
    (["--last", "1", "--best", "1"], "give one of --last N or --best N"),
])
def test_average_refuses_what_it_cannot_do_in_one_line(tiny_model, tmp_path, args, message,
                                                       monkeypatch, capsys):
    status, _, err = run_main("average", str(tiny_model), *args, "-o", str(tmp_path / "avg"),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "avg").exists()


def test_tensorboard_events_hold_the_training_figures(tiny_model):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(tiny_model / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/tokens_per_sec", "valid/loss",
            "valid/bleu", "valid/chrf"} <= tags
    assert [e.step for e in events.Scalars("train/loss")] == [10, 20, 30]
    assert [e.step for e in events.Scalars("valid/loss")] == [15, 30]


def test_early_stopping_is_stated_in_the_summary_and_log_lines_show_the_figures(
        tiny_model, tmp_path):
    """A learning rate too small to move the loss: two validations without a better loss
    stop the run at step 3 of 50."""
    data = tiny_model.parent / "data"
    proc = run_cli("train", "--config", str(tiny_model.parent / "config.yaml"), "--data",
                   str(data), "--model-dir", str(tmp_path / "m"), "train.lr=1e-30",
                   "train.max_steps=50", "train.valid_every=1", "train.log_every=1",
                   "train.valid_metric=loss", "train.early_stopping=2")
    assert "; stopped early at step 3: valid loss has not beaten" in proc.stdout
    assert "(step 1) in 2 validations" in proc.stdout
    step_line = next(line for line in proc.stderr.splitlines() if "step 1 epoch" in line)
    for figure in ("loss ", "ppl ", "lr 1.00e-30", "tok/s", "elapsed ", "eta "):
        assert figure in step_line


def test_fine_tuning_from_the_cli(tiny_model, tmp_path):
    write_pairs(tmp_path, "in", reversal_pairs(80, seed=11))
    common = ["--src", str(tmp_path / "in.src"), "--tgt", str(tmp_path / "in.tgt")]
    run_cli("preprocess", *common, "--out", str(tmp_path / "data"), "--from-model",
            str(tiny_model))
    run_cli("build-vocab", str(tmp_path / "data"), "--from-model", str(tiny_model))
    proc = run_cli("train", "--data", str(tmp_path / "data"), "--model-dir",
                   str(tmp_path / "tuned"), "--init-from", str(tiny_model),
                   "train.max_steps=2", "train.batch_tokens=200")
    assert proc.stdout.startswith("trained 2 steps")
    # the model section came from the parent
    assert (tmp_path / "tuned" / "vocab.tgt.tsv").read_bytes() == \
        (tiny_model / "vocab.tgt.tsv").read_bytes()
    # data made with its own vocabulary: one line saying what differs and what to do
    run_cli("preprocess", *common, "--out", str(tmp_path / "own"), "--units", "char")
    run_cli("build-vocab", str(tmp_path / "own"))
    bad = run_cli("train", "--data", str(tmp_path / "own"), "--model-dir",
                  str(tmp_path / "bad"), "--init-from", str(tiny_model), "train.max_steps=2",
                  check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "the model reads word units but" in bad.stderr and "--from-model" in bad.stderr


@pytest.mark.parametrize("changes, said", [
    (["model.decoder.hidden_size=64"],
     "model.decoder.hidden_size=64: the weights of {m} have 32 (decoder.cells.0.weight_ih is "
     "[128, 48] there but [256, 80] with this change); fine-tuning keeps the shape of the "
     "weights: drop this change, or train a new model without --init-from"),
    # a change that keeps the shapes (dropout) is not named with one that does not
    (["model.encoder.dropout=0.5", "model.decoder.layers=2"],
     "model.decoder.layers=2: the weights of {m} have 1 (decoder.cells.1.weight_ih is absent "
     "there but [128, 32] with this change); fine-tuning keeps the shape of the weights: "
     "drop this change, or train a new model without --init-from"),
], ids=["hidden_size", "layers"])
def test_a_fine_tuning_change_that_does_not_fit_the_weights_is_named(tiny_model, tmp_path,
                                                                     monkeypatch, capsys,
                                                                     changes, said):
    status, _, err = run_main("train", "--init-from", str(tiny_model), "-d",
                              str(tiny_model.parent / "data"), "-m", str(tmp_path / "new"),
                              *changes, monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and not (tmp_path / "new").exists()
    assert err == f"nmtkit: error: {said.format(m=tiny_model)}\n"


DDP_OPTIONS = ["train.max_steps=6", "train.batch_tokens=50", "train.optimizer=sgd",
               "train.lr=0.5", "train.valid_every=3", "train.valid_bleu=false",
               "train.log_every=1", "model.embed_dropout=0", "model.encoder.dropout=0",
               "model.decoder.dropout=0", "train.precision=fp32"]


def torchrun(*args: str, script: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", "2", *script, *args]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_two_processes_under_torchrun_match_one_with_the_same_global_batch(tiny_model,
                                                                          tmp_path):
    """Plain SGD, no dropout: 2 processes x 2 accumulated batches per step against 1
    process accumulating 4 take the same steps on the same batches; their weights agree
    within float32 rounding of the summed gradients (atol 1e-5). The 2-process run is cut
    at step 3 and resumed under torchrun, through the console script's path."""
    data, config = tiny_model.parent / "data", tiny_model.parent / "config.yaml"
    common = ["train", "--config", str(config), "--data", str(data)]
    run_cli(*common, "--model-dir", str(tmp_path / "one"), *DDP_OPTIONS, "train.accumulate=4")
    cut = [o.replace("max_steps=6", "max_steps=3") for o in DDP_OPTIONS]
    first = torchrun(*common[1:], "--model-dir", str(tmp_path / "two"), *cut,
                     "train.accumulate=2", script=["-m", "nmtkit", "train"])
    assert first.stdout.count("trained 3 steps") == 1  # only rank 0 reports
    script = str(Path(sys.executable).parent / "nmtkit")
    second = torchrun(*common[1:], "--model-dir", str(tmp_path / "two"), *DDP_OPTIONS,
                      "train.accumulate=2", script=[script, "train"])
    assert "resuming" in second.stderr and second.stdout.count("trained 6 steps") == 1
    one = load_tensors(tmp_path / "one" / "train_state.pt")
    two = load_tensors(tmp_path / "two" / "train_state.pt")
    assert one["counters"]["tgt_tokens"] == two["counters"]["tgt_tokens"]
    assert one["data"] == two["data"] and one["data"]["epoch"] == 0  # all 24 batches from epoch 0
    start = load_tensors(tiny_model / "train_state.pt")["model"]
    for k, w in one["model"].items():
        assert torch.allclose(w, two["model"][k], rtol=0, atol=1e-5), k
    assert any(not torch.equal(one["model"][k], start[k]) for k in start)
    # rank 0 alone wrote the log: one line per step
    steps = [line for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
             if '"loss"' in line]
    assert len(steps) == 6
