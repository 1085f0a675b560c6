"""train.subword_alpha through the command line: a training that samples its segmentations,
killed (SIGKILL) after a checkpoint in its second epoch and resumed, ends bit-identical to
an uninterrupted one; a data folder sampling cannot use is one line naming the option."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from nmtkit.model_folder.tensors import load_tensors
from tests.conftest import run_cli, run_main
from tests.integration.test_faults import ENV
from tests.subword_data import spm_data

CONFIG = """
model:
  embed_dim: 16
  embed_dropout: 0.2
  encoder: {type: rnn, hidden_size: 16, dropout: 0.2}
  decoder: {type: rnn, hidden_size: 16, dropout: 0.2}
train:
  batch_tokens: 100
  max_steps: 12
  valid_every: 4
  log_every: 1
  lr: 0.01
  precision: fp32
  valid_bleu: false
  check_int8: false
  subword_alpha: 0.2
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sampling")
    spm_data(folder, n=40)  # about 7 batches an epoch: 12 steps reach the second
    (folder / "config.yaml").write_text(CONFIG)
    return folder


def train_args(work) -> list[str]:
    return ["train", "-c", str(work / "config.yaml"), "-d", str(work / "data"),
            "--no-progress"]


def test_a_killed_and_resumed_sampling_training_ends_bit_identical(work, tmp_path):
    run_cli(*train_args(work), "-m", str(tmp_path / "whole"))
    code = textwrap.dedent("""
        import os, signal, sys
        from nmtkit.cli import main
        from nmtkit.training.trainer import Trainer
        real = Trainer._optimizer_step
        def step(self, group):
            if self.state.step == 10:  # after the checkpoint of step 8, in epoch 1
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, group)
        Trainer._optimizer_step = step
        sys.argv[0] = "nmtkit"
        main()
    """)
    killed = subprocess.run([sys.executable, "-c", code, *train_args(work), "-m",
                             str(tmp_path / "cut")], capture_output=True, env=ENV, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    saved = load_tensors(tmp_path / "cut" / "train_state.pt")
    assert saved["counters"]["step"] == 8 and saved["data"]["epoch"] == 1
    resumed = run_cli(*train_args(work), "-m", str(tmp_path / "cut"))
    assert "from step 8 " in resumed.stderr
    whole = load_tensors(tmp_path / "whole" / "train_state.pt")
    cut = load_tensors(tmp_path / "cut" / "train_state.pt")
    assert cut["counters"]["step"] == whole["counters"]["step"] == 12
    assert cut["counters"]["tgt_tokens"] == whole["counters"]["tgt_tokens"]
    assert cut["data"] == whole["data"]
    assert all(torch.equal(whole["model"][k], cut["model"][k]) for k in whole["model"])


def test_sampling_a_data_folder_of_words_is_one_line(tiny_model, work, tmp_path, monkeypatch,
                                                     capsys):
    data = tiny_model.parent / "data"  # word units
    status, _, err = run_main(*train_args(work)[:3], "-d", str(data), "-m",
                              str(tmp_path / "m"), monkeypatch=monkeypatch, capsys=capsys)
    assert status != 0
    assert err.strip().splitlines() == [
        f"nmtkit: error: train.subword_alpha samples sentencepiece segmentations, but {data} "
        "has word units; set train.subword_alpha=0, or preprocess with --units spm"]
    assert not (tmp_path / "m").exists()


def aligned_batch_tokens(data_dir, epochs: int, alpha: float = 0.2, seed: int = 1234) -> int:
    """A batch size in tokens whose first ``epochs`` epochs of sampled pairs make a multiple
    of 4 batches each, so that 1 process x 4 batches a step and 2 x 2 (which trims an
    epoch's batches to a multiple of 2) take the same batches."""
    from nmtkit.data.batching import token_batches
    from nmtkit.data.preprocess import load_manifest
    from nmtkit.data.sampling import SampledParallelData
    from nmtkit.data.vocab import Vocab

    vocabs = [Vocab.load(data_dir / f"vocab.{side}.tsv") for side in ("src", "tgt")]
    data = SampledParallelData(data_dir, *vocabs, load_manifest(data_dir).tokenizer, alpha,
                               seed, 100)
    for batch_tokens in range(60, 200, 2):
        counts = []
        for epoch in range(epochs):
            data.start_epoch(epoch)
            counts.append(len(token_batches(data.src_lengths, data.tgt_lengths, batch_tokens,
                                            torch.Generator().manual_seed(seed + epoch), 100)))
        if all(c % 4 == 0 for c in counts):
            return batch_tokens
    raise AssertionError("no batch size fits")


def test_two_torchrun_processes_sample_what_one_process_does(work, tmp_path):
    """Plain SGD, no dropout: 2 processes x 2 accumulated batches a step against 1
    accumulating 4, over more than one epoch of sampled segmentations: the same batches
    (the same target tokens) and weights within float32 rounding of the summed gradients."""
    from tests.integration.test_long_runs import DDP_OPTIONS, torchrun

    batch_tokens = aligned_batch_tokens(work / "data", epochs=4)
    options = [o for o in DDP_OPTIONS if "batch_tokens" not in o]
    common = ["-c", str(work / "config.yaml"), "-d", str(work / "data"), *options,
              f"train.batch_tokens={batch_tokens}"]
    run_cli("train", *common, "-m", str(tmp_path / "one"), "train.accumulate=4")
    torchrun(*common, "-m", str(tmp_path / "two"), "train.accumulate=2",
             script=["-m", "nmtkit", "train"])
    one = load_tensors(tmp_path / "one" / "train_state.pt")
    two = load_tensors(tmp_path / "two" / "train_state.pt")
    assert one["data"] == two["data"] and one["data"]["epoch"] >= 1
    assert one["counters"]["tgt_tokens"] == two["counters"]["tgt_tokens"]
    for k, w in one["model"].items():
        assert torch.allclose(w, two["model"][k], rtol=0, atol=1e-5), k
