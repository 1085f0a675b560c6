"""The five commands end to end through the real CLI, on tiny data."""

import json
import subprocess
import sys

import pytest

from tests.conftest import run_cli, write_pairs


def test_help_lists_the_five_commands_without_importing_torch():
    out = run_cli("--help").stdout
    for cmd in ("preprocess", "build-vocab", "train", "translate", "score"):
        assert cmd in out
    probe = "import sys, nmtkit.cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_model_folder_holds_everything_translate_needs(tiny_model):
    names = {p.name for p in tiny_model.iterdir()}
    assert {"config.yaml", "meta.json", "vocab.src.tsv", "vocab.tgt.tsv", "tokenizer.json",
            "model.pt", "train_state.pt"} <= names
    meta = json.loads((tiny_model / "meta.json").read_text())
    assert meta["format_version"] == 1 and meta["steps"] == 30
    assert meta["components"]["encoder"]["type"] == "rnn"
    assert "best_valid" in meta


@pytest.mark.parametrize("beam", ["1", "3"])
def test_translate_keeps_one_line_per_line(tiny_model, beam):
    lines = ["a b c", "", "   \t ", "j i h g", " ".join("abcdefghij" * 3), "b"]
    proc = run_cli("translate", "--model-dir", str(tiny_model), "--beam", beam,
                   "--batch-size", "2", "--chunk-size", "4", input="\n".join(lines) + "\n")
    out = proc.stdout.split("\n")
    assert out[-1] == "" and len(out) - 1 == len(lines)
    assert out[1] == "" and out[2] == ""  # empty and whitespace-only lines stay empty
    assert out[4] != ""  # the over-long line is split, translated and rejoined
    assert "line 5: 30 pieces is more than the model's maximum of 12" in proc.stderr


def test_translate_without_final_newline_and_files(tiny_model, tmp_path):
    (tmp_path / "in.txt").write_text("a b\nc d")
    run_cli("translate", "-m", str(tiny_model), "-i", str(tmp_path / "in.txt"),
            "-o", str(tmp_path / "out.txt"), "--beam", "2")
    assert len((tmp_path / "out.txt").read_text().split("\n")) == 3  # two lines, two newlines


def test_n_best_output(tiny_model):
    out = run_cli("translate", "-m", str(tiny_model), "--beam", "3", "--n-best", "2",
                  input="a b c\nd e\n").stdout.splitlines()
    assert len(out) == 4
    assert [line.split(" ||| ")[0] for line in out] == ["0", "0", "1", "1"]


def test_score_plain_and_json(tmp_path):
    (tmp_path / "ref.txt").write_text("a b c d\ne f g h\n")
    plain = run_cli("score", "--ref", str(tmp_path / "ref.txt"), input="a b c d\ne f g h\n")
    assert plain.stdout.startswith("BLEU = 100.00")
    assert "chrF2" in plain.stdout and "TER" in plain.stdout
    result = json.loads(run_cli("score", "--ref", str(tmp_path / "ref.txt"), "--json",
                                input="a b c d\ne f g x\n").stdout)
    assert set(result) == {"bleu", "chrf", "ter"}
    assert 0 < result["bleu"]["score"] < 100 and "version" in result["bleu"]["signature"]


@pytest.mark.parametrize("units", ["char", "spm"])
def test_other_units(tmp_path, tiny_corpus, units):
    c = tiny_corpus
    run_cli("preprocess", "--src", str(c / "train.src"), "--tgt", str(c / "train.tgt"),
            "--out", str(tmp_path / "data"), "--units", units, "--spm-vocab-size", "30",
            "--spm-model-type", "bpe", "--separate")
    vocab = run_cli("build-vocab", str(tmp_path / "data"), "--min-freq", "2").stdout
    assert "separate vocabularies" in vocab
    run_cli("train", "--data", str(tmp_path / "data"), "--model-dir", str(tmp_path / "m"),
            "model.embed_dim=8", "model.encoder={type: rnn, hidden_size: 8}",
            "model.decoder={type: rnn, hidden_size: 8, cell: gru}", "train.max_steps=3",
            "train.batch_tokens=100")
    out = run_cli("translate", "-m", str(tmp_path / "m"), input="a b\n\nc\n").stdout
    assert out.count("\n") == 3


def test_preprocess_reports_drops(tmp_path):
    pairs = [("a b", "b a"), ("", "x"), ("a " * 30, "b"), ("c", "c d e f g")] * 3
    src, tgt = write_pairs(tmp_path, "train", pairs)
    out = run_cli("preprocess", "--src", str(src), "--tgt", str(tgt), "--out",
                  str(tmp_path / "d"), "--units", "word", "--max-len", "20").stdout
    assert "12 pairs read, 3 kept, dropped: empty 3, too_long 3, ratio 3" in out
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["splits"]["train"]["dropped"]["ratio"] == 3
    assert manifest["inputs"]["train"]["lines"] == 12


def test_training_is_deterministic(tmp_path, tiny_model):
    data = tiny_model.parent / "data"
    config = tiny_model.parent / "config.yaml"
    run_cli("train", "-c", str(config), "-d", str(data), "-m", str(tmp_path / "again"))
    import torch

    a = torch.load(tiny_model / "model.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "again" / "model.pt", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_translate_output_starts_before_the_input_ends(tiny_model):
    """A full chunk is translated and flushed while stdin is still open."""
    import os
    import select

    proc = subprocess.Popen(
        [sys.executable, "-m", "nmtkit", "translate", "-m", str(tiny_model), "--beam", "2",
         "--chunk-size", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        proc.stdin.write(b"a b c\nd e\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 120)  # a bound, not a sleep
        assert ready, "no output for a whole chunk while the input was still open"
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        assert first.endswith(b"\n") and second.endswith(b"\n")
        proc.stdin.write(b"f\n")
        proc.stdin.close()
        rest = proc.stdout.read()
        assert rest.count(b"\n") == 1
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
        proc.wait()


def test_gradient_accumulation_and_a_preset_from_the_command_line(tmp_path, tiny_model):
    data = tiny_model.parent / "data"
    run_cli("train", "--preset", "transformer-small", "-d", str(data), "-m", str(tmp_path / "t"),
            "model.embed_dim=16", "model.encoder.heads=2", "model.decoder.heads=2",
            "model.encoder.layers=1", "model.decoder.layers=1", "model.encoder.ff_size=32",
            "model.decoder.ff_size=32", "train.max_steps=4", "train.accumulate=2",
            "train.batch_tokens=100", "train.valid_bleu=false")
    meta = json.loads((tmp_path / "t" / "meta.json").read_text())
    assert meta["components"]["decoder"]["type"] == "transformer" and meta["steps"] == 4
    out = run_cli("translate", "-m", str(tmp_path / "t"), "--sample", "--seed", "3",
                  input="a b\nc\n").stdout
    assert out.count("\n") == 2


def test_translate_in_bfloat16(tiny_model):
    out = run_cli("translate", "-m", str(tiny_model), "--precision", "bf16",
                  input="a b c\n\nd\n").stdout
    assert out.count("\n") == 3
    bad = run_cli("translate", "-m", str(tiny_model), "--precision", "fp8", input="a\n",
                  check=False)
    assert bad.returncode == 2 and "--precision: unknown 'fp8'" in bad.stderr


def test_a_dotted_override_without_a_config_merges_into_the_default_component(tiny_model,
                                                                               tmp_path):
    """The README's own example: `nmtkit train --data D --model-dir M
    model.decoder.hidden_size=256` (here 12), no --config."""
    run_cli("train", "--data", str(tiny_model.parent / "data"), "--model-dir",
            str(tmp_path / "m"), "model.decoder.hidden_size=12", "model.embed_dim=8",
            "model.encoder.hidden_size=8", "train.max_steps=2", "train.valid_bleu=false")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["components"]["decoder"]["type"] == "rnn"
    assert meta["components"]["decoder"]["hidden_size"] == 12
    assert meta["components"]["decoder"]["cell"] == "lstm"  # the default's other options


def test_training_again_into_a_model_folder_needs_overwrite(tiny_model, tmp_path):
    import shutil

    model = shutil.copytree(tiny_model, tmp_path / "m")
    args = ["train", "-c", str(tiny_model.parent / "config.yaml"), "-d",
            str(tiny_model.parent / "data"), "-m", str(model), "train.max_steps=3"]
    refused = run_cli(*args, check=False)
    assert refused.returncode == 2 and "already holds a model (30 steps trained)" in refused.stderr
    run_cli(*args, "--overwrite")
    assert json.loads((model / "meta.json").read_text())["steps"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # nothing left beside it
