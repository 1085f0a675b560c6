"""nmtkit shortlist and translate --shortlist through the real command line."""

from __future__ import annotations

import shutil

import pytest

from nmtkit.model_folder.tensors import load_tensors
from tests.conftest import reversal_pairs, run_cli


@pytest.fixture(scope="module")
def listed_model(tiny_model, tmp_path_factory):
    """A copy of the tiny model with a shortlist."""
    model = tmp_path_factory.mktemp("sl") / "model"
    shutil.copytree(tiny_model, model)
    out = run_cli("shortlist", str(model), "--data", str(tiny_model.parent / "data"),
                  "--per-piece", "3", "--frequent", "2")
    assert out.stdout.startswith(f"wrote {model / 'shortlist.pt'}: up to 3 target pieces")
    return model


def test_shortlist_writes_a_table_of_the_models_vocabularies(listed_model):
    data = load_tensors(listed_model / "shortlist.pt")
    src_entries = len((listed_model / "vocab.src.tsv").read_text().splitlines())
    assert tuple(data["table"].shape) == (src_entries, 3)
    assert data["frequent"].numel() == 2


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_translate_with_a_shortlist_gives_a_line_for_each_line(listed_model, precision):
    lines = [s for s, _ in reversal_pairs(25, seed=31, lo=1, hi=9)] + [""]
    out = run_cli("translate", "-m", str(listed_model), "--shortlist", "--precision", precision,
                  "--batch-size", "8", input="".join(line + "\n" for line in lines))
    got = out.stdout.split("\n")[:-1]
    assert len(got) == len(lines) and got[-1] == "" and any(got)


def test_translate_shortlist_without_one_is_a_one_line_error(tiny_model):
    out = run_cli("translate", "-m", str(tiny_model), "--shortlist", input="a b\n", check=False)
    assert out.returncode == 2
    assert out.stderr == (f"nmtkit: error: --shortlist: {tiny_model} has no shortlist; make "
                          f"one with: nmtkit shortlist {tiny_model} --data DATA_DIR\n")


def test_shortlist_from_data_with_other_vocabularies_is_a_one_line_error(listed_model,
                                                                          tiny_model, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_model.parent / "data", data)
    vocab = data / "vocab.tgt.tsv"
    vocab.write_text(vocab.read_text() + "extra\t1\n")
    before = (listed_model / "shortlist.pt").read_bytes()
    out = run_cli("shortlist", str(listed_model), "--data", str(data), check=False)
    assert out.returncode == 2
    assert out.stderr.startswith(f"nmtkit: error: nmtkit shortlist {listed_model}: {vocab} "
                                 "is another vocabulary")
    assert out.stderr.count("\n") == 1
    assert (listed_model / "shortlist.pt").read_bytes() == before  # left as it was
