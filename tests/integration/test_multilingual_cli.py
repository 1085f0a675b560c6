"""Several language pairs in one data folder, through the real CLI: the repeated options
matched in order, the target tags on the sources and in the tokenizer, the model folder
recording them, translate --target-lang, and one-line refusals of what does not match."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TINY_CONFIG, reversal_pairs, run_main, write_pairs


@pytest.fixture
def nmtkit(monkeypatch, capsys):
    def run(*args: str, input: str = ""):
        return run_main(*args, input=input, monkeypatch=monkeypatch, capsys=capsys)
    return run


def test_two_target_languages_are_tagged_recorded_and_chosen(tmp_path, nmtkit):
    pairs = reversal_pairs(200, seed=31)
    rev = write_pairs(tmp_path, "rev", pairs)
    copy = write_pairs(tmp_path, "copy", [(s, s) for s, _ in pairs])
    data, model = tmp_path / "data", tmp_path / "model"
    code, out, err = nmtkit(
        "preprocess", "--units", "word", "--out", str(data),
        "--src", str(rev[0]), "--tgt", str(rev[1]), "--src-lang", "sym", "--tgt-lang", "rev",
        "--valid-src", str(rev[0]), "--valid-tgt", str(rev[1]),
        "--src", str(copy[0]), "--tgt", str(copy[1]), "--src-lang", "sym", "--tgt-lang", "cp",
        "--valid-src", str(copy[0]), "--valid-tgt", str(copy[1]))
    assert code == 0, err
    assert "train: 400 pairs read, 400 kept" in out
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["tokenizer"]["target_tags"] == {"cp": "<2cp>", "rev": "<2rev>"}
    assert manifest["languages"] == {"src": "sym"}
    valid = (data / "valid.src.txt").read_text().splitlines()
    assert valid[0] == f"<2rev> {pairs[0][0]}" and valid[200] == f"<2cp> {pairs[0][0]}"
    assert nmtkit("build-vocab", str(data))[0] == 0
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    code, _, err = nmtkit("train", "-c", str(tmp_path / "config.yaml"), "-d", str(data),
                          "-m", str(model), "--no-progress", "train.max_steps=4",
                          "train.check_int8=false")
    assert code == 0, err
    assert json.loads((model / "tokenizer.json").read_text())["target_tags"] == \
        {"cp": "<2cp>", "rev": "<2rev>"}
    for lang in ("rev", "cp"):
        code, out, err = nmtkit("translate", "-m", str(model), "--target-lang", lang,
                                "--output-format", "jsonl", input="a b c\n\nd\n")
        assert code == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == 3
        assert lines[0]["source_pieces"] == [f"<2{lang}>", "a", "b", "c"]
        assert lines[1]["source_pieces"] == []  # an empty line stays empty
    code, _, err = nmtkit("translate", "-m", str(model), "--target-lang", "de", input="a\n")
    assert code == 2 and err.strip().splitlines()[-1] == (
        "nmtkit: error: --target-lang de: not one of the model's target languages (cp, rev)")


@pytest.mark.parametrize("extra,message", [
    (["--tgt-lang", "de"], "--tgt-lang: given 1 times for 2 --src; give it 0 or 2 times"),
    (["--valid-src", "X"], "--valid-src: given 1 times for 2 --src"),
    ([], "--src-lang and --tgt-lang: give them for each --src/--tgt pair"),
])
def test_repeated_options_that_do_not_match_are_one_line(tmp_path, nmtkit, extra, message):
    src, tgt = write_pairs(tmp_path, "a", reversal_pairs(10, seed=1))
    code, _, err = nmtkit("preprocess", "--units", "word", "--out", str(tmp_path / "data"),
                          "--src", str(src), "--tgt", str(tgt), "--src", str(src),
                          "--tgt", str(tgt), *extra)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "data").exists()


def test_target_lang_for_a_model_of_one_target_is_refused(tiny_model, nmtkit):
    code, _, err = nmtkit("translate", "-m", str(tiny_model), "--target-lang", "fr",
                          input="a\n")
    assert code == 2 and "translates into one language (it has no target-language tags)" in err
