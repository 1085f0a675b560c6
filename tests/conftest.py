"""Shared fixtures: tiny generated corpora, a tiny trained model, and a CLI runner."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MULTI30K = REPO.parent / "shared" / "data" / "multi30k"


def _has_cpp_compiler() -> bool:
    from nmtkit.search.compiled import has_cpp_compiler

    return has_cpp_compiler()


# torch.compile on CPU builds C++ kernels.
needs_cpp_compiler = pytest.mark.skipif(not _has_cpp_compiler(),
                                        reason="torch.compile on CPU needs a C++ compiler")

@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory):
    """nmtkit's cache (saved compiled steps, inductor's kernels) in a folder of this test
    session, never the user's."""
    os.environ["NMTKIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("nmtkit-cache"))


TINY_CONFIG = """
model:
  embed_dim: 16
  encoder: {type: rnn, hidden_size: 16}
  decoder: {type: rnn, hidden_size: 32}
  max_src_len: 12
train:
  batch_tokens: 200
  max_steps: 30
  valid_every: 15
  log_every: 10
  lr: 0.01
"""


def run_cli(*args: str, input: str | bytes | None = None, cwd: Path | None = None,
            check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m nmtkit ARGS`` as a user would; text in and out.

    ``env`` is merged into the environment (e.g. ``{"PYTHONPATH": ...}``).
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    if isinstance(input, str):
        input = input.encode("utf-8")
    proc = subprocess.run([sys.executable, "-m", "nmtkit", *args], input=input,
                          capture_output=True, cwd=cwd, env=env, check=False)
    proc.stdout = proc.stdout.decode("utf-8")
    proc.stderr = proc.stderr.decode("utf-8")
    if check and proc.returncode != 0:
        raise AssertionError(f"nmtkit {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def run_main(*args: str, input: bytes | str = b"", monkeypatch=None, capsys=None):
    """Run the real command-line entry point (``nmtkit.cli.main``) in this process: the same
    parsing, checks and one-line error handling as ``nmtkit ARGS``, without the seconds a
    fresh interpreter takes to import torch. Returns (exit status, stdout, stderr)."""
    import io
    import signal

    from nmtkit.cli import main

    if isinstance(input, str):
        input = input.encode("utf-8")
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)}
    monkeypatch.setattr(sys, "argv", ["nmtkit", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(input)))
    capsys.readouterr()
    try:
        main()
        status = 0
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    out = capsys.readouterr()
    return status, out.out, out.err


def write_pairs(folder: Path, name: str, pairs: list[tuple[str, str]]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    src, tgt = folder / f"{name}.src", folder / f"{name}.tgt"
    src.write_text("".join(s + "\n" for s, _ in pairs), encoding="utf-8")
    tgt.write_text("".join(t + "\n" for _, t in pairs), encoding="utf-8")
    return src, tgt


def reversal_pairs(n: int, seed: int, symbols: str = "abcdefghij", lo: int = 3, hi: int = 8
                   ) -> list[tuple[str, str]]:
    """Sequences of symbols and their reversals: a task an attentional model learns fast."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        seq = [rng.choice(symbols) for _ in range(rng.randint(lo, hi))]
        pairs.append((" ".join(seq), " ".join(reversed(seq))))
    return pairs


def train_toy_rnn(folder: Path, train: list[tuple[str, str]], valid: list[tuple[str, str]],
                  steps: int, decoder_hidden: int, **preprocess) -> Path:
    """A word-unit attentional LSTM trained on the pairs through the library API (what the
    system tests learn their toy tasks with); returns the model folder. ``preprocess``:
    more options of the data folder (``more=[LangPair(...)]``, languages)."""
    from nmtkit import api
    from nmtkit.config import Config, from_dict

    src, tgt = write_pairs(folder, "train", train)
    vsrc, vtgt = write_pairs(folder, "valid", valid)
    api.preprocess(api.PreprocessOptions(src=src, tgt=tgt, valid_src=vsrc, valid_tgt=vtgt,
                                         out=folder / "data", units="word", **preprocess))
    api.build_vocab(api.VocabOptions(folder / "data"))
    config = {
        "model": {
            "embed_dim": 32, "embed_dropout": 0.0,
            "encoder": {"type": "rnn", "hidden_size": 64, "dropout": 0.0},
            "decoder": {"type": "rnn", "hidden_size": decoder_hidden, "dropout": 0.0},
        },
        "train": {"batch_tokens": 1200, "max_steps": steps, "lr": 0.005, "valid_every": 0,
                  "valid_bleu": False, "label_smoothing": 0.0, "seed": 3},
    }
    result = api.train(from_dict(Config, config), folder / "data", folder / "model")
    assert result.steps == steps
    return folder / "model"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_pairs(folder, "train", reversal_pairs(300, seed=1))
    write_pairs(folder, "valid", reversal_pairs(20, seed=2))
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_corpus) -> Path:
    """A model folder trained for a few steps through the real CLI (word units)."""
    work = tmp_path_factory.mktemp("tiny")
    c = tiny_corpus
    run_cli("preprocess", "--src", str(c / "train.src"), "--tgt", str(c / "train.tgt"),
            "--valid-src", str(c / "valid.src"), "--valid-tgt", str(c / "valid.tgt"),
            "--out", str(work / "data"), "--units", "word", "--src-lang", "en",
            "--tgt-lang", "de")
    run_cli("build-vocab", str(work / "data"))
    (work / "config.yaml").write_text(TINY_CONFIG)
    run_cli("train", "--config", str(work / "config.yaml"), "--data", str(work / "data"),
            "--model-dir", str(work / "model"))
    return work / "model"


@pytest.fixture(scope="session")
def tiny_transformer(tmp_path_factory, tiny_model):
    """A tiny Transformer trained for a few steps on the tiny model's data folder."""
    out = tmp_path_factory.mktemp("tt") / "model"
    run_cli("train", "--preset", "transformer-small", "-d", str(tiny_model.parent / "data"),
            "-m", str(out), "model.embed_dim=16", "model.encoder.heads=2",
            "model.decoder.heads=2", "model.encoder.layers=2", "model.decoder.layers=2",
            "model.encoder.ff_size=32", "model.decoder.ff_size=32", "train.max_steps=40",
            "train.batch_tokens=200", "train.warmup_steps=10", "train.valid_bleu=false")
    return out
