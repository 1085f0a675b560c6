"""nmtkit/model_folder/int8_check.py: a record that is not this release's, or not for these
weights, is no record."""

import json

from nmtkit.model_folder.int8_check import CHECK_FILE, Int8Check, read_check, write_check
from nmtkit.model_folder.int8_check import weights_fingerprint as fingerprint


def make(folder, **changes) -> dict:
    (folder / "model.pt").write_bytes(b"weights")
    check = Int8Check(fp32_bleu=30.0, int8_bleu=29.9, lines=10, source="val", beam=5,
                      weights=fingerprint(folder), version="0.1.0")
    write_check(folder, check)
    doc = {**json.loads((folder / CHECK_FILE).read_text()), **changes}
    (folder / CHECK_FILE).write_text(json.dumps(doc))
    return doc


def test_a_record_for_these_weights_is_read(tmp_path):
    make(tmp_path)
    assert read_check(tmp_path).passed


def test_a_field_of_another_type_or_a_missing_field_is_no_record(tmp_path):
    make(tmp_path, int8_bleu="29.9")
    assert read_check(tmp_path) is None
    doc = make(tmp_path)
    del doc["beam"]
    (tmp_path / CHECK_FILE).write_text(json.dumps(doc))
    assert read_check(tmp_path) is None


def test_a_record_for_other_weights_is_no_record(tmp_path):
    make(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"trained on")
    assert read_check(tmp_path) is None
