"""Bad input in a separate process: a one-line error naming the file (and line), exit status
2, nothing written (test_bad_input.py has every case, run in-process)."""

from tests.conftest import run_cli


def one_line_error(proc) -> str:
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmtkit: error: "), proc.stderr
    return lines[0]


def test_line_count_mismatch_names_both_files(tmp_path):
    (tmp_path / "a.en").write_text("x\ny\nz\n")
    (tmp_path / "a.de").write_text("x\ny\n")
    proc = run_cli("preprocess", "--src", str(tmp_path / "a.en"), "--tgt",
                   str(tmp_path / "a.de"), "--out", str(tmp_path / "d"), check=False)
    msg = one_line_error(proc)
    assert "a.en has 3 lines but" in msg and "a.de has 2" in msg
    assert not (tmp_path / "d").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.de", "a.en"]


def test_invalid_utf8_names_file_and_line(tmp_path):
    (tmp_path / "a.en").write_bytes(b"good\n\xc3\x28 bad\n")
    (tmp_path / "a.de").write_text("gut\nschlecht\n")
    proc = run_cli("preprocess", "--src", str(tmp_path / "a.en"), "--tgt",
                   str(tmp_path / "a.de"), "--out", str(tmp_path / "d"), "--units", "word",
                   check=False)
    assert "a.en:2: invalid UTF-8" in one_line_error(proc)
    assert not (tmp_path / "d").exists()


def test_existing_output_folder_is_not_overwritten_silently(tmp_path, tiny_corpus):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    proc = run_cli("preprocess", "--src", str(tiny_corpus / "train.src"), "--tgt",
                   str(tiny_corpus / "train.tgt"), "--out", str(tmp_path / "d"), check=False)
    assert "already exists; pass --overwrite" in one_line_error(proc)


def test_unknown_config_key_lists_valid_keys(tiny_model, tmp_path):
    proc = run_cli("train", "-d", str(tiny_model.parent / "data"), "-m", str(tmp_path / "m"),
                   "train.learning_rate=0.1", check=False)
    assert "unknown key learning_rate; valid keys:" in one_line_error(proc)


def test_train_before_build_vocab(tmp_path, tiny_corpus):
    run_cli("preprocess", "--src", str(tiny_corpus / "train.src"), "--tgt",
            str(tiny_corpus / "train.tgt"), "--out", str(tmp_path / "d"), "--units", "word")
    proc = run_cli("train", "-d", str(tmp_path / "d"), "-m", str(tmp_path / "m"), check=False)
    assert "no vocabulary; run nmtkit build-vocab" in one_line_error(proc)


def test_translate_invalid_utf8_is_replaced_with_a_warning_and_keeps_the_line(tiny_model):
    proc = run_cli("translate", "-m", str(tiny_model), "--precision", "fp32",
                   input=b"a b\n\xff c\nd\n")
    assert proc.stdout.count("\n") == 3
    assert proc.stderr.strip() == ("nmtkit: warning: <stdin>:2: invalid UTF-8 at byte 0; "
                                   "bad bytes replaced by U+FFFD")


def test_translate_missing_model(tmp_path):
    proc = run_cli("translate", "-m", str(tmp_path), input="a\n", check=False)
    assert "not a model folder" in one_line_error(proc)


def test_score_line_count_mismatch(tmp_path):
    (tmp_path / "ref.txt").write_text("a\nb\n")
    proc = run_cli("score", "--ref", str(tmp_path / "ref.txt"), input="a\n", check=False)
    assert "<stdin> has 1 lines but" in one_line_error(proc)


def test_translate_compile_choices(tiny_model):
    proc = run_cli("translate", "-m", str(tiny_model), "--compile", "maybe", input="a\n",
                   check=False)
    assert "--compile: unknown 'maybe'; valid: auto, on, off" in one_line_error(proc)
    proc = run_cli("translate", "-m", str(tiny_model), "--compile", "on", "--sample",
                   input="a\n", check=False)
    assert "the compiled decoding loop does not support sampling" in one_line_error(proc)
