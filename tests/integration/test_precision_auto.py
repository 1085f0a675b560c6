"""--precision auto (the default): int8 where the model folder's int8 check is for these
weights and passed, float32 otherwise, said on stderr; the check is written by training and
by nmtkit check-int8."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from nmtkit.model_folder.int8_check import CHECK_FILE, TOLERANCE, read_check, write_check
from tests.conftest import run_cli

LINES = "a b c\n\nd e\n"


def note(stderr: str) -> str:
    [line] = [s for s in stderr.splitlines() if s.startswith("nmtkit: precision: ")]
    return line.removeprefix("nmtkit: precision: ")


@pytest.fixture
def model(tiny_model, tmp_path):
    return shutil.copytree(tiny_model, tmp_path / "m")


def test_training_records_the_int8_check_and_auto_then_translates_in_int8(model, tiny_model):
    check = read_check(model)
    valid = (tiny_model.parent / "data" / "valid.src.txt").read_text().splitlines()
    assert check is not None and check.lines == len(valid) > 0 and check.beam == 5
    assert check.source == f"the validation set of {tiny_model.parent / 'data'}"
    write_check(model, dataclasses.replace(check, int8_bleu=check.fp32_bleu))  # passed
    auto = run_cli("translate", "-m", str(model), input=LINES)
    assert note(auto.stderr).startswith("int8 (int8 BLEU ")
    int8 = run_cli("translate", "-m", str(model), "--precision", "int8", input=LINES)
    assert auto.stdout == int8.stdout and auto.stdout.count("\n") == 3


def test_without_a_check_auto_is_fp32_and_says_how_to_check(model):
    (model / CHECK_FILE).unlink()
    auto = run_cli("translate", "-m", str(model), input=LINES)
    assert note(auto.stderr).startswith("fp32 (int8 not checked for these weights; "
                                        f"nmtkit check-int8 {model} --data")
    fp32 = run_cli("translate", "-m", str(model), "--precision", "fp32", input=LINES)
    assert auto.stdout == fp32.stdout and fp32.stderr == ""  # a named precision says nothing


def test_a_failed_check_or_one_for_other_weights_means_fp32(model):
    check = read_check(model)
    write_check(model, dataclasses.replace(check, int8_bleu=check.fp32_bleu - TOLERANCE - 0.1))
    assert note(run_cli("translate", "-m", str(model), input=LINES).stderr).startswith(
        f"fp32 (int8 lost more than {TOLERANCE} BLEU")
    write_check(model, dataclasses.replace(check, weights="sha256:" + "0" * 64))
    assert read_check(model) is None  # made with other weights: not this model's check
    assert "int8 not checked" in note(run_cli("translate", "-m", str(model),
                                               input=LINES).stderr)


def test_check_int8_writes_the_record_from_a_data_folder_or_files(model, tiny_corpus):
    (model / CHECK_FILE).unlink()
    proc = run_cli("check-int8", str(model), "--src", str(tiny_corpus / "valid.src"),
                   "--ref", str(tiny_corpus / "valid.tgt"))
    assert "translate --precision auto now uses" in proc.stdout
    doc = json.loads((model / CHECK_FILE).read_text())
    assert doc["source"] == str(tiny_corpus / "valid.src") and doc["beam"] == 5
    assert read_check(model) is not None
    bad = run_cli("check-int8", str(model), "--src", str(tiny_corpus / "valid.src"),
                  check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("nmtkit: error: check-int8: --src "
                                                         "and --ref go together")


def test_check_int8_reads_the_validation_set_of_a_data_folder(model, tiny_model):
    (model / CHECK_FILE).unlink()
    proc = run_cli("check-int8", str(model), "--data", str(tiny_model.parent / "data"))
    assert f"the validation set of {tiny_model.parent / 'data'}" in proc.stdout
    assert read_check(model) is not None


def test_a_served_model_is_quantized_once_for_every_request_s_translator(model):
    pytest.importorskip("fastapi")
    from nmtkit.models.int8 import is_int8
    from nmtkit.serve.models import RequestOptions, ServedModel
    from nmtkit.translate.options import translate_options

    served = ServedModel.load(model, None, translate_options(precision="auto"))
    assert served.options.precision == "int8"  # chosen once, from the folder's check
    assert served.precision_note.startswith("int8 (int8 BLEU ")
    one, two = served.translator(RequestOptions()), served.translator(RequestOptions(beam=2))
    assert one is not two and one.loaded.model is two.loaded.model
    assert is_int8(one.loaded.model) and one.loaded.model is served.loaded.model
