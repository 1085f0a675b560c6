"""Bad input: a one-line error naming the file (and line), non-zero exit, nothing written."""

from tests.conftest import run_cli


def one_line_error(proc) -> str:
    assert proc.returncode != 0
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


def test_translate_bad_input_and_missing_model(tiny_model, tmp_path):
    proc = run_cli("translate", "-m", str(tiny_model), input=b"a b\n\xff\n", check=False)
    assert "<stdin>:2: invalid UTF-8" in one_line_error(proc)
    proc = run_cli("translate", "-m", str(tmp_path), input="a\n", check=False)
    assert "not a model folder" in one_line_error(proc)


def test_translate_output_file_is_not_half_written(tiny_model, tmp_path):
    (tmp_path / "in.txt").write_bytes(b"a b\nc d\n\xff\n")
    proc = run_cli("translate", "-m", str(tiny_model), "-i", str(tmp_path / "in.txt"),
                   "-o", str(tmp_path / "out.txt"), "--chunk-size", "1", check=False)
    assert "in.txt:3: invalid UTF-8" in one_line_error(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


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
