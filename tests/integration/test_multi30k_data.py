"""Slow: preprocess and build-vocab on the real Multi30k files (skipped when absent)."""

import json

import pytest

from tests.conftest import MULTI30K, run_cli

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not (MULTI30K / "train.en").exists(), reason="no ../shared/data/multi30k")
def test_preprocess_multi30k(tmp_path):
    run_cli("preprocess", "--src", str(MULTI30K / "train.en"), "--tgt",
            str(MULTI30K / "train.de"), "--valid-src", str(MULTI30K / "val.en"),
            "--valid-tgt", str(MULTI30K / "val.de"), "--out", str(tmp_path / "d"),
            "--spm-vocab-size", "8000")
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["inputs"]["train"]["lines"] == 29000
    train = manifest["splits"]["train"]
    assert train["kept"] + sum(train["dropped"].values()) == 29000
    assert train["kept"] > 28900
    assert manifest["splits"]["valid"]["kept"] == 1014
    out = run_cli("build-vocab", str(tmp_path / "d")).stdout
    assert "separate vocabularies" in out
