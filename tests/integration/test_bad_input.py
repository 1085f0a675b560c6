"""Every class of bad input the README promises to handle, through the real entry point:
one line ``nmtkit: error: ...`` naming the file (and line) or the option, exit status 2,
and nothing written, changed or deleted.

These run ``nmtkit.cli.main`` in-process (see ``run_main``); ``test_errors_cli.py`` and
``test_faults.py`` run the same paths in separate processes.
"""

from __future__ import annotations

import json
import pickle
import random
import shutil
from pathlib import Path

import pytest
import torch

from tests.conftest import run_main, write_pairs

CUDA = torch.cuda.is_available()


@pytest.fixture
def cli(monkeypatch, capsys):
    def run(*args, input=b""):
        return run_main(*map(str, args), input=input, monkeypatch=monkeypatch, capsys=capsys)

    return run


def one_line_error(result) -> str:
    status, _, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith("nmtkit: error: "), err
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(Path(folder).rglob("*"))}


@pytest.fixture
def model(tiny_model, tmp_path) -> Path:
    """A private copy of the tiny trained model, free to damage."""
    return Path(shutil.copytree(tiny_model, tmp_path / "model"))


@pytest.fixture
def data(tiny_model, tmp_path) -> Path:
    """A private copy of the tiny model's data folder, free to damage."""
    return Path(shutil.copytree(tiny_model.parent / "data", tmp_path / "data"))


# -- translate: options ------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--batch-size", "-5"], "--batch-size: must be in [1, 65536], got -5"),
    (["--chunk-size", "0"], "--chunk-size: must be in [1, 1048576], got 0"),
    (["--max-len", "0"], "--max-len: must be in [1, 65536], got 0"),
    (["--length-penalty", "nan"], "--length-penalty: must be a finite number, got nan"),
    (["--beam", "0"], "--beam: must be in [1, 512], got 0"),
    (["--sample", "--temperature", "-1"], "--temperature: must be in (0, 1000]"),
    (["--sample", "--top-k", "-3"], "--top-k: must be in [0, 16777216], got -3"),
    (["--sample", "--top-p", "1.5"], r"--top-p: must be in (0, 1], got 1.5"),
    (["--beam", "2", "--n-best", "3"], "--n-best (3) cannot exceed --beam (2)"),
    (["--precision", "fp8"], "--precision: unknown 'fp8'; valid: auto, fp32, bf16"),
    (["--beam", "many"], "Invalid value for '--beam'"),
    (["--threads", "-1"], "--threads: must be in [0, 4096], got -1"),
])
def test_translate_rejects_bad_options_before_loading_the_model(cli, tiny_model, args, message):
    msg = one_line_error(cli("translate", "-m", tiny_model, *args, input="a b\n"))
    assert message in msg


@pytest.mark.skipif(CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("command", ["translate", "train"])
def test_a_missing_cuda_is_one_line(cli, tiny_model, tmp_path, command):
    args = (["-m", tiny_model] if command == "translate"
            else ["-d", tiny_model.parent / "data", "-m", tmp_path / "new"])
    msg = one_line_error(cli(command, *args, "--device", "cuda", input="a\n"))
    assert "--device cuda: this PyTorch build has no CUDA" in msg
    assert not (tmp_path / "new").exists()
    msg = one_line_error(cli(command, *args, "--device", "tpu", input="a\n"))
    assert "--device: unknown device 'tpu'; valid: cpu, cuda, cuda:N" in msg


# -- translate: files --------------------------------------------------------------------

def test_translate_input_and_output_files(cli, tiny_model, tmp_path):
    msg = one_line_error(cli("translate", "-m", tiny_model, "-i", tmp_path / "nope.txt"))
    assert msg.endswith("nope.txt: cannot read input file: No such file or directory")
    msg = one_line_error(cli("translate", "-m", tiny_model, "-i", tmp_path))
    assert f"{tmp_path}: is a folder, not a input file" in msg
    (tmp_path / "in.txt").write_text("a b\n")
    msg = one_line_error(cli("translate", "-m", tiny_model, "-i", tmp_path / "in.txt",
                             "-o", tmp_path))
    assert f"--output {tmp_path} is a folder" in msg
    msg = one_line_error(cli("translate", "-m", tiny_model, "-i", tmp_path / "in.txt",
                             "-o", tmp_path / "no" / "out.txt"))
    assert "the folder" in msg and "does not exist" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_translate_model_dir_that_is_a_file_or_missing(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file, not a model folder" in one_line_error(
        cli("translate", "-m", tmp_path / "file", input="a\n"))
    assert "no such model folder" in one_line_error(
        cli("translate", "-m", tmp_path / "nope", input="a\n"))
    assert "not a model folder (no meta.json)" in one_line_error(
        cli("translate", "-m", tmp_path, input="a\n"))


# -- model folders: damaged, edited, hostile, newer --------------------------------------

def _translate(cli, model):
    return one_line_error(cli("translate", "-m", model, input="a b c\n"))


def test_damaged_json_files_of_a_model_folder(cli, model):
    (model / "meta.json").write_text('{"format_version": 1, "steps": ')
    assert "meta.json: damaged model folder metadata (not valid JSON" in _translate(cli, model)
    (model / "meta.json").write_bytes(b"\xff\xfe\x00binary")
    assert "meta.json: damaged model folder metadata" in _translate(cli, model)
    (model / "meta.json").write_text("[1, 2]")
    assert "meta.json: damaged (expected a JSON object)" in _translate(cli, model)


def test_damaged_tokenizer_json(cli, model):
    meta = json.loads((model / "meta.json").read_text())
    meta["fingerprints"].pop("tokenizer.json")  # as in a folder whose fingerprint is lost
    (model / "meta.json").write_text(json.dumps(meta))
    (model / "tokenizer.json").write_text('{"units": "bytes"}')
    assert "tokenizer.json: damaged tokenizer spec" in _translate(cli, model)
    (model / "tokenizer.json").write_text("{")
    assert "tokenizer.json: damaged tokenizer spec (not valid JSON" in _translate(cli, model)


def test_a_vocabulary_edited_or_permuted_next_to_its_weights_is_detected(cli, model):
    lines = (model / "vocab.tgt.tsv").read_text().splitlines(keepends=True)
    swapped = lines[:4] + [lines[5], lines[4]] + lines[6:]  # same size, two ids swapped
    (model / "vocab.tgt.tsv").write_text("".join(swapped))
    msg = _translate(cli, model)
    assert "vocab.tgt.tsv: changed since the model was trained" in msg
    assert "put back the file the model was trained with" in msg


def test_a_vocabulary_that_does_not_fit_the_weights_says_which_tensor(cli, model):
    meta = json.loads((model / "meta.json").read_text())
    meta.pop("fingerprints")  # a folder from before fingerprints: the shapes still tell
    (model / "meta.json").write_text(json.dumps(meta))
    with open(model / "vocab.tgt.tsv", "a") as f:
        f.write("extra1\t1\nextra2\t1\n")
    msg = _translate(cli, model)
    assert "model.pt: the weights do not fit config.yaml and the vocabularies" in msg
    assert "vocab.tgt.tsv" in msg and "has shape [" in msg and "in the file but [" in msg


def test_a_config_that_does_not_fit_the_weights_says_which_tensor(cli, model):
    config = (model / "config.yaml").read_text().replace("hidden_size: 32", "hidden_size: 48")
    (model / "config.yaml").write_text(config)
    msg = _translate(cli, model)
    assert "do not fit config.yaml" in msg and "decoder." in msg
    assert "in the file but [" in msg and "in the model the config builds" in msg


def test_damaged_vocabulary_names_the_line(cli, model):
    meta = json.loads((model / "meta.json").read_text())
    meta.pop("fingerprints")
    (model / "meta.json").write_text(json.dumps(meta))
    with open(model / "vocab.src.tsv", "a") as f:
        f.write("no tab here\n")
    n = len((model / "vocab.src.tsv").read_text().splitlines())
    assert f"vocab.src.tsv:{n}: damaged vocabulary" in _translate(cli, model)


def test_weights_that_are_all_nan_are_refused(cli, model):
    payload = torch.load(model / "model.pt", weights_only=True)
    payload["model"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                        for k, v in payload["model"].items()}
    torch.save(payload, model / "model.pt")
    msg = _translate(cli, model)
    assert "model.pt:" in msg and "weights are NaN or infinite" in msg


def test_weights_of_another_dtype_than_training_writes_are_refused(cli, model):
    payload = torch.load(model / "model.pt", weights_only=True)
    payload["model"] = {k: v.double() if v.is_floating_point() else v
                        for k, v in payload["model"].items()}
    torch.save(payload, model / "model.pt")
    msg = _translate(cli, model)
    assert "model.pt: the weights do not fit" in msg and "is float64 in the file but float32 " \
        "in the model" in msg


def test_a_non_finite_step_checkpoint_is_not_averaged(cli, model, tmp_path):
    path = model / json.loads((model / "checkpoints.json").read_text())["checkpoints"][0]["file"]
    payload = torch.load(path, weights_only=True)
    payload["model"] = {k: torch.full_like(v, float("inf")) if v.is_floating_point() else v
                        for k, v in payload["model"].items()}
    torch.save(payload, path)
    msg = one_line_error(cli("average", model, "--last", "2", "-o", tmp_path / "avg"))
    assert f"{path.name}:" in msg and "weights are NaN or infinite" in msg
    assert not (tmp_path / "avg").exists()


@pytest.mark.parametrize("damage", ["truncated", "random", "empty", "not a dict"])
def test_damaged_weights_file(cli, model, damage):
    path = model / "model.pt"
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "random":
        path.write_bytes(random.Random(0).randbytes(len(raw)))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        torch.save([1, 2, 3], path)
    assert "model.pt: not a valid nmtkit tensor file" in _translate(cli, model)


class WritesAFile:
    """A pickle payload that creates a file when unpickled."""

    target = ""

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickle_payload_is_refused_without_running(cli, model, tmp_path):
    marker = tmp_path / "pwned"
    WritesAFile.target = str(marker)
    torch.save({"format_version": 1, "model": {"x": WritesAFile()}}, model / "model.pt")
    assert "model.pt: not a valid nmtkit tensor file" in _translate(cli, model)
    with open(model / "model.pt", "wb") as f:  # a plain pickle too, not torch's zip format
        pickle.dump({"model": WritesAFile()}, f)
    assert "model.pt: not a valid nmtkit tensor file" in _translate(cli, model)
    assert not marker.exists()


def test_a_model_folder_from_a_newer_nmtkit(cli, model):
    meta = json.loads((model / "meta.json").read_text())
    meta["format_version"] = 99
    (model / "meta.json").write_text(json.dumps(meta))
    msg = _translate(cli, model)
    assert "meta.json: made by a newer nmtkit (format 99" in msg and "upgrade nmtkit" in msg
    meta["format_version"] = 1
    (model / "meta.json").write_text(json.dumps(meta))
    payload = torch.load(model / "model.pt", weights_only=True)
    payload["format_version"] = 99
    torch.save(payload, model / "model.pt")
    assert "model.pt: made by a newer nmtkit (format 99" in _translate(cli, model)


def test_a_model_folder_of_an_older_release_still_loads(cli, model):
    """Folders made before fingerprints were recorded load without the check."""
    meta = json.loads((model / "meta.json").read_text())
    meta.pop("fingerprints")
    (model / "meta.json").write_text(json.dumps(meta))
    status, out, err = cli("translate", "-m", model, input="a b\n\n")
    assert status == 0 and out.count("\n") == 2, err


def test_an_unknown_component_in_a_model_folder(cli, model):
    config = (model / "config.yaml").read_text().replace("type: general", "type: telepathy")
    (model / "config.yaml").write_text(config)
    meta = json.loads((model / "meta.json").read_text())
    meta.pop("fingerprints")
    (model / "meta.json").write_text(json.dumps(meta))
    assert "unknown attention 'telepathy'; valid names:" in _translate(cli, model)


# -- train -------------------------------------------------------------------------------

def _train(cli, data, model_dir, *args):
    return cli("train", "-d", data, "-m", model_dir, "train.max_steps=2",
               "model.embed_dim=8", "model.encoder.hidden_size=8",
               "model.decoder.hidden_size=8", *args)


@pytest.mark.parametrize(("args", "message"), [
    (["train.lr=-0.001"], "config.train.lr: must be in (0, 1000], got -0.001"),
    (["model.decoder.hidden_size=0"], "config.model.decoder.hidden_size: must be in [1, 1048576]"),
    (["model.encoder.layers=0"], "config.model.encoder.layers: must be in [1, 1000], got 0"),
    (["model.decoder={type: lstm}"], "unknown decoder 'lstm'; valid names:"),
    (["model.attention.scale=2"], "config.model.attention: unknown key scale"),
    (["train.learning_rate=0.1"], "unknown key learning_rate; valid keys:"),
    (["model.attention={type: dot}", "model.decoder.hidden_size=12"],
     "attention 'dot' needs the decoder hidden size (12) to equal the encoder output"),
])
def test_train_rejects_bad_config_values_before_writing_anything(cli, data, tmp_path, args,
                                                                 message):
    msg = one_line_error(_train(cli, data, tmp_path / "m", *args))
    assert message in msg
    assert not (tmp_path / "m").exists()


def test_train_with_a_binary_or_missing_config_file(cli, data, tmp_path):
    (tmp_path / "c.yaml").write_bytes(bytes(range(256)) * 4)
    msg = one_line_error(cli("train", "-c", tmp_path / "c.yaml", "-d", data, "-m", tmp_path / "m"))
    assert "c.yaml:2: not a YAML config (invalid UTF-8 at byte 128)" in msg  # 10 is "\n"
    (tmp_path / "c.yaml").write_bytes(b"model:\n  embed_dim: 8\x00\x01\n")
    msg = one_line_error(cli("train", "-c", tmp_path / "c.yaml", "-d", data, "-m", tmp_path / "m"))
    assert "c.yaml:2: invalid YAML: unacceptable character #x0000" in msg
    msg = one_line_error(cli("train", "-c", tmp_path / "none.yaml", "-d", data,
                             "-m", tmp_path / "m"))
    assert "none.yaml: cannot read config: No such file or directory" in msg
    assert not (tmp_path / "m").exists()


def test_train_model_dir_that_is_a_file_a_foreign_folder_or_the_data(cli, data, tmp_path):
    (tmp_path / "file").write_text("mine")
    assert "--model-dir" in one_line_error(_train(cli, data, tmp_path / "file"))
    assert (tmp_path / "file").read_text() == "mine"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    for extra in ([], ["--overwrite"]):
        msg = one_line_error(_train(cli, data, foreign, *extra))
        assert "is not a model folder made by nmtkit train" in msg
    assert (foreign / "thesis.tex").read_text() == "mine"
    before = snapshot(data)
    assert "holds the input" in one_line_error(_train(cli, data, data, "--overwrite"))
    assert snapshot(data) == before


def test_train_refuses_an_existing_model_folder(cli, model, data):
    before = snapshot(model)
    msg = one_line_error(_train(cli, data, model))
    # Its training state would resume, but only with the same model.
    assert "resuming needs the same model" in msg and "--overwrite" in msg
    (model / "train_state.pt").rename(model.parent / "state")  # no state: nothing to resume
    msg = one_line_error(_train(cli, data, model))
    assert "already holds a model (30 steps trained) but no training state" in msg
    assert "--overwrite" in msg
    (model.parent / "state").rename(model / "train_state.pt")
    assert snapshot(model) == before


def test_train_overwrite_keeps_files_that_are_not_nmtkit_s(cli, model, data):
    (model / "notes.txt").write_text("mine")
    msg = one_line_error(_train(cli, data, model, "--overwrite"))
    assert "holds notes.txt, which nmtkit did not write" in msg
    assert (model / "notes.txt").read_text() == "mine"


# -- data folders: damaged ---------------------------------------------------------------

def test_damaged_manifest(cli, data, tmp_path):
    (data / "manifest.json").write_text("{ not json")
    msg = one_line_error(_train(cli, data, tmp_path / "m"))
    assert "manifest.json: damaged data folder manifest (not valid JSON" in msg
    (data / "manifest.json").write_text('{"format_version": 1}')
    msg = one_line_error(_train(cli, data, tmp_path / "m"))
    assert "manifest.json: damaged (no tokenizer, splits, pieces); run nmtkit preprocess" in msg
    assert not (tmp_path / "m").exists()


def test_a_piece_id_out_of_range_in_a_data_folder(cli, data, tmp_path):
    ids = bytearray((data / "train.src.ids").read_bytes())
    ids[-4:] = (10**6).to_bytes(4, "little")
    (data / "train.src.ids").write_bytes(bytes(ids))
    msg = one_line_error(_train(cli, data, tmp_path / "m"))
    assert "train.src.ids: damaged (piece id 1000000 is outside the piece table" in msg
    assert not (tmp_path / "m").exists()


def test_truncated_corpus_files(cli, data, tmp_path):
    raw = (data / "train.tgt.idx").read_bytes()
    (data / "train.tgt.idx").write_bytes(raw[:-3])
    assert "train.tgt.idx: damaged" in one_line_error(_train(cli, data, tmp_path / "m"))
    (data / "train.tgt.idx").write_bytes(raw)
    ids = (data / "train.tgt.ids").read_bytes()
    (data / "train.tgt.ids").write_bytes(ids[:-4])
    assert "train.tgt.ids:" in one_line_error(_train(cli, data, tmp_path / "m"))


def test_train_on_a_folder_that_is_not_a_data_folder(cli, tmp_path):
    assert "no such data folder" in one_line_error(_train(cli, tmp_path / "x", tmp_path / "m"))
    assert "not a data folder (no manifest.json)" in one_line_error(
        _train(cli, tmp_path, tmp_path / "m"))
    assert "not a data folder" in one_line_error(cli("build-vocab", tmp_path))


# -- preprocess --------------------------------------------------------------------------

def _preprocess(cli, src, tgt, out, *args):
    return cli("preprocess", "--src", src, "--tgt", tgt, "--out", out, "--units", "word", *args)


def test_preprocess_out_that_holds_the_inputs_is_refused(cli, tmp_path, monkeypatch):
    src, tgt = write_pairs(tmp_path / "corpus", "train", [("a b", "b a")] * 5)
    before = snapshot(tmp_path)
    for out in (tmp_path / "corpus", tmp_path):
        msg = one_line_error(_preprocess(cli, src, tgt, out, "--overwrite"))
        assert f"--out {out} holds the input" in msg
    monkeypatch.chdir(tmp_path / "corpus")
    msg = one_line_error(_preprocess(cli, "train.src", "train.tgt", ".", "--overwrite"))
    assert "holds the input" in msg
    assert snapshot(tmp_path) == before


def test_preprocess_overwrite_replaces_only_a_data_folder(cli, tmp_path):
    src, tgt = write_pairs(tmp_path / "corpus", "train", [("a b", "b a")] * 5)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("mine")
    msg = one_line_error(_preprocess(cli, src, tgt, mine, "--overwrite"))
    assert "is not a data folder made by nmtkit preprocess" in msg
    assert (mine / "thesis.tex").read_text() == "mine"
    status, _, err = _preprocess(cli, src, tgt, tmp_path / "d")
    assert status == 0, err
    (tmp_path / "d" / "notes.txt").write_text("mine")
    msg = one_line_error(_preprocess(cli, src, tgt, tmp_path / "d", "--overwrite"))
    assert "holds notes.txt, which nmtkit did not write" in msg
    (tmp_path / "d" / "notes.txt").unlink()
    status, _, err = _preprocess(cli, src, tgt, tmp_path / "d", "--overwrite")
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "d", "mine"]


@pytest.mark.parametrize("units", ["word", "char", "spm"])
def test_empty_corpora_are_refused(cli, tmp_path, units):
    (tmp_path / "a").write_text("")
    (tmp_path / "b").write_text("")
    msg = one_line_error(cli("preprocess", "--src", tmp_path / "a", "--tgt", tmp_path / "b",
                             "--out", tmp_path / "d", "--units", units))
    assert str(tmp_path / "a") in msg and str(tmp_path / "b") in msg
    assert "empty" in msg or "no pair has text on both sides" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_corpus_emptied_by_the_filter_names_the_filter(cli, tmp_path):
    src, tgt = write_pairs(tmp_path, "train", [("a b c d e f", "x")] * 4 + [("", "y")])
    msg = one_line_error(_preprocess(cli, src, tgt, tmp_path / "d", "--max-ratio", "2"))
    assert "no train pair is left of 5 (1 empty on a side, 4 --max-ratio 2)" in msg
    msg = one_line_error(_preprocess(cli, src, tgt, tmp_path / "d", "--max-len", "3"))
    assert "4 --max-len 3" in msg
    assert not (tmp_path / "d").exists()


def test_a_byte_order_mark_does_not_glue_to_the_first_word(cli, tmp_path):
    (tmp_path / "a").write_bytes("\ufeffhello world\nhello\n".encode())
    (tmp_path / "b").write_bytes("\ufeffhallo welt\nhallo\n".encode())
    status, _, err = cli("preprocess", "--src", tmp_path / "a", "--tgt", tmp_path / "b",
                         "--out", tmp_path / "d", "--units", "word", "--max-ratio", "0")
    assert status == 0, err
    pieces = (tmp_path / "d" / "pieces.src.tsv").read_text().split()
    assert "hello" in pieces and not any("\ufeff" in p for p in pieces)


def test_preprocess_missing_or_folder_inputs(cli, tmp_path):
    msg = one_line_error(_preprocess(cli, tmp_path / "x", tmp_path / "y", tmp_path / "d"))
    assert "x: cannot read input file: No such file or directory" in msg
    msg = one_line_error(_preprocess(cli, tmp_path, tmp_path, tmp_path / "d"))
    assert "is a folder, not a input file" in msg


def test_mismatched_and_invalid_utf8_parallel_files(cli, tmp_path):
    (tmp_path / "a").write_bytes(b"x\ny\nz\n")
    (tmp_path / "b").write_bytes(b"x\ny\n")
    msg = one_line_error(_preprocess(cli, tmp_path / "a", tmp_path / "b", tmp_path / "d"))
    assert "a has 3 lines but" in msg and "b has 2" in msg
    (tmp_path / "b").write_bytes(b"x\n\xc3\x28\nz\n")
    assert "b:2: invalid UTF-8" in one_line_error(
        _preprocess(cli, tmp_path / "a", tmp_path / "b", tmp_path / "d"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


# -- score -------------------------------------------------------------------------------

def test_score_on_empty_missing_and_folder_files(cli, tmp_path):
    (tmp_path / "ref").write_text("")
    (tmp_path / "hyp").write_text("")
    msg = one_line_error(cli("score", "--ref", tmp_path / "ref", "--hyp", tmp_path / "hyp"))
    assert "are both empty; nothing to score" in msg
    assert "cannot read" in one_line_error(cli("score", "--ref", tmp_path / "nope", input="a\n"))
    assert "is a folder" in one_line_error(cli("score", "--ref", tmp_path, input="a\n"))
    assert "--metrics: unknown meteor" in one_line_error(
        cli("score", "--ref", tmp_path / "ref", "--metrics", "meteor", input=""))


def test_debug_shows_the_traceback_behind_the_one_line(cli, tmp_path, monkeypatch):
    status, _, err = cli("--debug", "translate", "-m", tmp_path / "nope", input="a\n")
    assert status == 2 and "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].endswith("nope: no such model folder")
    monkeypatch.setenv("NMTKIT_DEBUG", "1")
    assert "Traceback" in cli("translate", "-m", tmp_path / "nope", input="a\n")[2]
    monkeypatch.delenv("NMTKIT_DEBUG")
    assert "nope: no such model folder" in one_line_error(
        cli("translate", "-m", tmp_path / "nope", input="a\n"))


def test_the_one_line_check_rejects_a_traceback_and_a_zero_status():
    """Every case above goes through one_line_error; it must fail on what it guards."""
    with pytest.raises(AssertionError):
        one_line_error((2, "", "Traceback (most recent call last):\n  File x\nError\n"))
    with pytest.raises(AssertionError):
        one_line_error((0, "", "nmtkit: error: x\n"))


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError(
    "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory")])
def test_running_out_of_memory_is_one_line(cli, tiny_model, monkeypatch, error):
    """In the main process too (the worker processes report theirs, test_workers.py)."""
    import nmtkit.api

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(nmtkit.api, "load_translator", fail)
    msg = one_line_error(cli("translate", "-m", tiny_model, input="a b\n"))
    assert msg.startswith("nmtkit: error: out of memory; a smaller --batch-size")
