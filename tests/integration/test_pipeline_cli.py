"""The five commands end to end through the real CLI, on tiny data."""

import json
import subprocess
import sys

import pytest

from tests.conftest import run_cli, run_main, write_pairs


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


def _n_best_rows(stdout: str) -> dict[int, list[tuple[str, float]]]:
    rows: dict[int, list[tuple[str, float]]] = {}
    for line in stdout.splitlines():
        index, text, score = line.split(" ||| ")
        rows.setdefault(int(index), []).append((text, float(score)))
    return rows


def test_n_best_of_a_line_split_because_it_is_too_long(tiny_model):
    # 27 word pieces with a maximum of 12: parts of 12, 12 and 3, translated apart. Rank r
    # of the line is rank r of each part, joined, with the parts' scores summed.
    words = ("abcdefghi" * 3)
    parts = [words[:12], words[12:24], words[24:]]
    args = ("translate", "-m", str(tiny_model), "--beam", "3", "--n-best", "3")
    whole = run_cli(*args, input=" ".join(words) + "\n")
    apart = _n_best_rows(run_cli(*args, input="".join(" ".join(p) + "\n" for p in parts)).stdout)
    got = _n_best_rows(whole.stdout)
    assert list(got) == [0] and len(got[0]) == 3
    assert "translated in 3 parts and rejoined" in whole.stderr
    for rank, (text, score) in enumerate(got[0]):
        pieces = [apart[i][rank] for i in range(3)]
        assert text == " ".join(t for t, _ in pieces if t)
        assert score == pytest.approx(sum(s for _, s in pieces), abs=2e-4)  # printed to 1e-4
    assert len({text for text, _ in got[0]}) > 1  # the ranks differ: not one list repeated


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
    import torch
    import yaml

    from nmtkit.data.batching import ParallelData, token_batches
    from nmtkit.data.vocab import Vocab

    data = tiny_model.parent / "data"
    run_cli("train", "--preset", "transformer-small", "-d", str(data), "-m", str(tmp_path / "t"),
            "model.embed_dim=16", "model.encoder.heads=2", "model.decoder.heads=2",
            "model.encoder.layers=1", "model.decoder.layers=1", "model.encoder.ff_size=32",
            "model.decoder.ff_size=32", "train.max_steps=4", "train.accumulate=2",
            "train.batch_tokens=100", "train.valid_bleu=false")
    meta = json.loads((tmp_path / "t" / "meta.json").read_text())
    assert meta["steps"] == 4
    # The preset's architecture and training options, with the overrides on top.
    for side in ("encoder", "decoder"):
        assert meta["components"][side] == {
            "type": "transformer", "layers": 1, "heads": 2, "ff_size": 32, "dropout": 0.1,
            "attention_dropout": 0.1, "pre_norm": True, "positions": "sinusoidal",
            "max_positions": 1024, "scale_embeddings": True, "activation": "relu",
            **({"start": "bos"} if side == "decoder" else {})}
    config = yaml.safe_load((tmp_path / "t" / "config.yaml").read_text())
    assert {k: config["model"][k] for k in ("embed_dim", "tie_output", "init", "attention",
                                            "bridge")} == {
        "embed_dim": 16, "tie_output": True, "init": "xavier", "attention": None,
        "bridge": None}
    assert {k: config["train"][k] for k in ("schedule", "warmup_steps", "lr", "accumulate")} == {
        "schedule": "noam", "warmup_steps": 400, "lr": 2.0, "accumulate": 2}
    # Each of the 4 steps took 2 batches: training stopped 8 batches into the first epoch,
    # having trained on the target tokens of those 8 batches (the seeded epoch order).
    state = torch.load(tmp_path / "t" / "train_state.pt", weights_only=True)
    assert state["data"] == {"epoch": 0, "batch_in_epoch": 8}
    pairs = ParallelData(data, "train", Vocab.load(data / "vocab.src.tsv"),
                         Vocab.load(data / "vocab.tgt.tsv"))
    epoch0 = token_batches(pairs.src.lengths, pairs.tgt.lengths, 100,
                           torch.Generator().manual_seed(config["train"]["seed"]),
                           config["train"]["max_len"])
    assert len(epoch0) > 8
    assert meta["tgt_tokens"] == sum(int(pairs.tgt.lengths[b].sum()) + len(b)  # + EOS each
                                     for b in epoch0[:8])
    out = run_cli("translate", "-m", str(tmp_path / "t"), "--sample", "--seed", "3",
                  input="a b\nc\n").stdout
    assert out.count("\n") == 2


def test_translate_in_bfloat16(tiny_model, monkeypatch, capsys):
    """--precision bf16 runs the model's matrix products in bfloat16 (CPU autocast works with
    or without native support); fp32 keeps them in float32."""
    import torch

    dtypes = []

    def record(module, args, output):
        if isinstance(module, torch.nn.Linear):
            dtypes.append(output.dtype)

    outputs = {}
    hook = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        for precision in ("fp32", "bf16"):
            dtypes.clear()
            status, out, err = run_main("translate", "-m", str(tiny_model), "--precision",
                                        precision, "--compile", "off", input="a b c\n\nd\n",
                                        monkeypatch=monkeypatch, capsys=capsys)
            assert status == 0, err
            outputs[precision] = out, set(dtypes)
    finally:
        hook.remove()
    assert outputs["fp32"][1] == {torch.float32}
    assert outputs["bf16"][1] == {torch.bfloat16}
    for out, _ in outputs.values():
        lines = out.split("\n")
        assert len(lines) == 4 and lines[1] == "" and lines[3] == ""
    status, _, err = run_main("translate", "-m", str(tiny_model), "--precision", "fp8",
                              input="a\n", monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and "--precision: unknown 'fp8'" in err


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


def test_training_again_into_a_finished_model_folder_needs_overwrite(tiny_model, tmp_path):
    import shutil

    model = shutil.copytree(tiny_model, tmp_path / "m")
    args = ["train", "-c", str(tiny_model.parent / "config.yaml"), "-d",
            str(tiny_model.parent / "data"), "-m", str(model), "train.max_steps=3"]
    refused = run_cli(*args, check=False)
    assert refused.returncode == 2
    assert "training already reached its limit (step 30, " in refused.stderr
    run_cli(*args, "--overwrite")
    assert json.loads((model / "meta.json").read_text())["steps"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # nothing left beside it


def test_translate_with_int8_weights(tiny_model, monkeypatch, capsys):
    """--precision int8 computes the linear layers and recurrent cells with int8 weights,
    keeps one output line per input line, and refuses the compiled loop in one line."""
    import torch

    from nmtkit.models.int8 import Int8Cell, Int8Linear

    kinds = set()

    def record(module, args, output):
        kinds.add(type(module))

    hook = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        status, out, err = run_main("translate", "-m", str(tiny_model), "--precision", "int8",
                                    input="a b c\n\nd e\n", monkeypatch=monkeypatch,
                                    capsys=capsys)
    finally:
        hook.remove()
    assert status == 0, err
    assert {Int8Linear, Int8Cell} <= kinds  # the int8 versions ran
    assert torch.nn.Linear not in kinds and torch.nn.LSTMCell not in kinds
    lines = out.split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[3] == ""
    status, _, err = run_main("translate", "-m", str(tiny_model), "--precision", "int8",
                              "--compile", "on", input="a\n", monkeypatch=monkeypatch,
                              capsys=capsys)
    assert status == 2 and "--precision int8 does not go through the compiled loop" in err
