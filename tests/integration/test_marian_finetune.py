"""An imported Marian model is an ordinary model folder: ``train --init-from`` fine-tunes it
(on data encoded with its own sentencepiece models and vocabulary, ``>>xxx<<`` tags kept
whole), a run killed between checkpoints resumes to bit-identical weights, and the result
translates the same lines whatever the batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from nmtkit import api
from nmtkit.data.build_vocab import VocabOptions
from nmtkit.data.preprocess import PreprocessOptions
from nmtkit.model_folder.marian import import_marian
from nmtkit.model_folder.tensors import load_tensors
from nmtkit.translate.options import translate_options
from tests.conftest import run_cli, write_pairs
from tests.marian_models import SOURCES, TARGETS, MarianSpec, make_marian

pytest.importorskip("transformers")

EXACT = ["train.max_steps=12", "train.valid_every=4", "train.precision=fp32",
         "train.batch_tokens=300", "train.check_int8=false", "train.lr=0.0003"]
KILL_AT_STEP_6 = """
    import os, signal, sys
    from nmtkit.cli import main
    from nmtkit.training.trainer import Trainer
    real = Trainer._optimizer_step
    def step(self, group):
        if self.state.step == 6:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, group)
    Trainer._optimizer_step = step
    sys.argv[0] = "nmtkit"
    main()
"""


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, Path]:
    """(the imported model folder, a data folder encoded as it encodes)."""
    root = tmp_path_factory.mktemp("finetune")
    hf_dir = make_marian(root / "hf", MarianSpec(tags=(">>deu<<", ">>fra<<"), seed=5))
    model = import_marian(hf_dir, root / "imported").out
    pairs = [(f">>deu<< {s}", t) for s, t in zip(SOURCES, TARGETS)] * 4
    src, tgt = write_pairs(root / "text", "train", pairs)
    vsrc, vtgt = write_pairs(root / "text", "valid", pairs[:4])
    data = root / "data"
    api.preprocess(PreprocessOptions(src=src, tgt=tgt, valid_src=vsrc, valid_tgt=vtgt,
                                     out=data, from_model=model))
    api.build_vocab(VocabOptions(data_dir=data, from_model=model))
    return model, data


def _train(model: Path, data: Path, out: Path) -> list[str]:
    return ["train", "-d", str(data), "-m", str(out), "--init-from", str(model),
            "--no-progress", *EXACT]


def test_the_data_keeps_the_target_tag_whole(imported):
    _, data = imported
    pieces = (data / "pieces.src.tsv").read_text(encoding="utf-8").split("\n")
    assert any(line.split("\t")[0] == ">>deu<<" for line in pieces)


def test_a_fine_tuned_import_resumes_bit_identical_after_a_kill(imported, tmp_path):
    model, data = imported
    run_cli(*_train(model, data, tmp_path / "whole"))
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(KILL_AT_STEP_6),
                             *_train(model, data, tmp_path / "cut")],
                            capture_output=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                            check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    resumed = run_cli(*_train(model, data, tmp_path / "cut"))
    assert "resuming" in resumed.stderr and "from step 4 " in resumed.stderr
    whole = load_tensors(tmp_path / "whole" / "train_state.pt")
    cut = load_tensors(tmp_path / "cut" / "train_state.pt")
    assert cut["counters"]["step"] == 12
    assert whole["model"].keys() == cut["model"].keys()
    assert all(torch.equal(whole["model"][k], cut["model"][k]) for k in whole["model"])
    before = load_tensors(model / "model.pt")["model"]
    assert not torch.equal(before["decoder.generator.bias"],
                           whole["model"]["decoder.generator.bias"])  # it did train

    lines = [f">>deu<< {s}" for s in SOURCES] * 3
    outputs = {}
    for batch in (1, 7, 64):
        translator = api.load_translator(tmp_path / "whole", translate_options(
            beam=4, precision="fp32", batch_size=batch, workers=1, compile="off"))
        outputs[batch] = translator.translate(lines)
    assert outputs[1] == outputs[7] == outputs[64]


def test_preprocess_from_a_multi_target_model_tags_each_line_with_its_own_tag(imported,
                                                                             tmp_path):
    from nmtkit.errors import ConfigError

    model, _ = imported
    src, tgt = write_pairs(tmp_path / "text", "train", list(zip(SOURCES, TARGETS)))
    api.preprocess(PreprocessOptions(src=src, tgt=tgt, valid_src=src, valid_tgt=tgt,
                                     out=tmp_path / "data", from_model=model,
                                     src_lang="eng", tgt_lang="deu"))
    valid = (tmp_path / "data" / "valid.src.txt").read_text(encoding="utf-8").splitlines()
    assert valid[0] == f">>deu<< {SOURCES[0]}"
    with pytest.raises(ConfigError, match=r"--tgt-lang ita: not one of the target languages "
                                          r"of the model of --from-model \(deu, fra\)"):
        api.preprocess(PreprocessOptions(src=src, tgt=tgt, out=tmp_path / "other",
                                         from_model=model, src_lang="eng", tgt_lang="ita"))
    assert not (tmp_path / "other").exists()
