"""meta.json read as a typed Meta (nmtkit/model_folder/meta.py)."""

import json

import pytest

from nmtkit.errors import NmtkitError
from nmtkit.model_folder.meta import load_meta


def write(folder, doc):
    folder.mkdir(exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(doc))
    return folder


def test_a_folder_of_an_older_release_gets_the_stand_ins_of_missing_keys(tmp_path):
    meta = load_meta(write(tmp_path / "m", {"format_version": 1}))
    assert (meta.steps, meta.epoch, meta.tgt_tokens, meta.train_seconds) == (0, 0, 0, 0.0)
    assert meta.fingerprints == {} and meta.plugins == {} and meta.corpus_history == []
    assert meta.corpus is None and meta.best_valid is None and meta.averaged is None


def test_fields_are_typed_and_the_document_is_kept_whole(tmp_path):
    doc = {"format_version": 1, "steps": 60, "train_seconds": 12, "later_key": [1],
           "fingerprints": {"vocab.src.tsv": "ab"}, "corpus": {"data_dir": "d"}}
    meta = load_meta(write(tmp_path / "m", doc))
    assert meta.steps == 60 and meta.train_seconds == 12.0
    assert meta.fingerprints == {"vocab.src.tsv": "ab"} and meta.corpus == {"data_dir": "d"}
    assert meta.doc == doc  # a later release's keys survive a rewrite


@pytest.mark.parametrize("key,value", [("fingerprints", ["a"]), ("steps", "60"),
                                       ("steps", True), ("plugins", 3),
                                       ("corpus_history", {})])
def test_a_field_of_the_wrong_type_is_one_line_naming_it(tmp_path, key, value):
    folder = write(tmp_path / "m", {"format_version": 1, key: value})
    with pytest.raises(NmtkitError, match=rf"meta.json: damaged \({key}\); "):
        load_meta(folder)


def test_no_folder_and_no_meta_json_are_told_apart(tmp_path):
    with pytest.raises(NmtkitError, match="no such model folder"):
        load_meta(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NmtkitError, match=r"not a model folder \(no meta.json\)"):
        load_meta(tmp_path / "empty")
