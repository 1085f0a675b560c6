"""``nmtkit import``: a Marian model in Hugging Face's format, made with the
``transformers`` library's own classes (random weights, tiny sentencepiece models), gives in
nmtkit the reference implementation's tokens, log-probabilities (within 1e-4) and greedy
and beam output, over several configurations; a configuration nmtkit does not reproduce is
refused in one line and nothing is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from nmtkit import api
from nmtkit.data.batching import pair_batch
from nmtkit.data.vocab import BOS, PAD
from nmtkit.errors import NmtkitError
from nmtkit.model_folder import ModelFolder
from nmtkit.model_folder.marian import import_marian
from nmtkit.translate.options import translate_options
from tests.conftest import needs_cpp_compiler, run_main
from tests.marian_models import SOURCES, TARGETS, MarianSpec, make_marian, reference

pytest.importorskip("transformers")

SPECS = {
    # OPUS-MT's usual layout: one vocabulary, one embedding table, swish
    "shared-swish": MarianSpec(eos_bias=4.0),
    # opus-mt-tc-big's: separate vocabularies, an output layer of its own; old weight file
    "separate-gelu": MarianSpec(shared=False, layers=(1, 3), activation="gelu",
                                scale_embedding=False, tie=False, seed=1,
                                weight_file="pytorch_model.bin", eos_bias=7.0),
    # a multi-target model: >>xxx<< tags; deeper encoder, relu, two heads
    "tags-relu": MarianSpec(layers=(3, 1), heads=2, activation="relu", seed=2,
                            tags=(">>deu<<", ">>fra<<"), eos_bias=5.0),
}
TOL = 1e-4


@pytest.fixture
def nmtkit(monkeypatch, capsys):
    """``nmtkit ARGS`` through the real entry point: (exit status, stdout, stderr)."""
    def run(*args: str, input: str = ""):
        return run_main(*args, input=input, monkeypatch=monkeypatch, capsys=capsys)
    return run


@pytest.fixture(scope="module", params=sorted(SPECS))
def pair(request, tmp_path_factory):
    """(Hugging Face folder, imported nmtkit folder, reference model, tokenizer)."""
    root = tmp_path_factory.mktemp(request.param)
    hf_dir = make_marian(root / "hf", SPECS[request.param])
    report = import_marian(hf_dir, root / "nmtkit")
    assert report.layers == SPECS[request.param].layers
    model, tokenizer = reference(hf_dir)
    return hf_dir, root / "nmtkit", model, tokenizer


def marian_ids(hf_dir: Path, side: str = "src") -> dict[str, int]:
    name = "target_vocab.json" if side == "tgt" and (hf_dir / "target_vocab.json").exists() \
        else "vocab.json"
    return json.loads((hf_dir / name).read_text())


def rows(loaded, hf_dir: Path, side: str) -> list[int]:
    """For each nmtkit id of ``side``, the Marian id it stands for (-1: <pad>, none)."""
    vocab = marian_ids(hf_dir, side)
    tokens = (loaded.src_vocab if side == "src" else loaded.tgt_vocab).tokens
    out = [vocab.get(t, -1) for t in tokens]
    out[PAD], out[BOS] = -1, vocab["<pad>"]
    return out


def sources(hf_dir: Path) -> list[str]:
    tags = [t for t in marian_ids(hf_dir) if t.startswith(">>")]
    return SOURCES + [f"{tag} {s}" for tag in tags for s in SOURCES[:3]]


def test_the_source_pieces_are_marian_tokenizer_s(pair):
    hf_dir, folder, _, tokenizer = pair
    loaded = ModelFolder.open(folder).load()
    to_marian = rows(loaded, hf_dir, "src")
    for line in sources(hf_dir):
        ours = loaded.src_vocab.encode(loaded.src_tokenizer.encode(line))
        theirs = tokenizer(line)["input_ids"]
        assert [to_marian[i] for i in ours] + [tokenizer.eos_token_id] == theirs, line


def test_log_probabilities_equal_the_reference_within_1e_4(pair):
    hf_dir, folder, model, tokenizer = pair
    loaded = ModelFolder.open(folder).load()
    srcs, tgts = sources(hf_dir)[: len(TARGETS)], TARGETS
    batch = tokenizer(srcs, text_target=tgts, return_tensors="pt", padding=True)
    with torch.no_grad():
        ref = model(**batch).logits.log_softmax(-1)
    b = pair_batch([loaded.src_vocab.encode(loaded.src_tokenizer.encode(s)) for s in srcs],
                   [loaded.tgt_vocab.encode(loaded.tgt_tokenizer.encode(t)) for t in tgts])
    with torch.no_grad():
        ours = loaded.model(b.src, b.src_lengths, b.tgt_in).scores.float().log_softmax(-1)
    to_marian = torch.tensor(rows(loaded, hf_dir, "tgt"))
    assert torch.equal(to_marian[b.tgt_out].masked_fill(b.tgt_out == PAD, -1)
                       [:, : batch["labels"].size(1)],
                       batch["labels"].masked_fill(batch["labels"] == model.config.pad_token_id,
                                                   -1)[:, : b.tgt_out.size(1)])
    assert torch.isneginf(ours[..., PAD]).all()  # <pad> is no entry of Marian's
    real = b.tgt_out != PAD
    columns = torch.arange(len(to_marian)) != PAD
    mine = ours[real][:, columns]
    theirs = ref[:, : b.tgt_out.size(1)][real][:, to_marian[columns]]
    assert (mine - theirs).abs().max() < TOL


def generate(model, tokenizer, lines, beam: int, max_len: int, length_penalty: float):
    batch = tokenizer(lines, return_tensors="pt", padding=True)
    pad = model.config.pad_token_id
    with torch.no_grad():
        out = model.generate(**batch, num_beams=beam, max_new_tokens=max_len, do_sample=False,
                             length_penalty=length_penalty, early_stopping=True,
                             bad_words_ids=[[pad]], output_scores=True,
                             return_dict_in_generate=True)
    ids = [[i for i in seq.tolist()[1:] if i not in (pad, model.config.eos_token_id)]
           for seq in out.sequences]
    return ids, (out.sequences_scores.tolist() if beam > 1 else None)


@pytest.mark.parametrize("beam,norm,penalty", [(1, "none", 1.0), (4, "none", 0.0),
                                               (4, "average", 1.0)])
def test_greedy_and_beam_output_are_the_reference_s(pair, beam, norm, penalty):
    """Beam search with Hugging Face's early_stopping=True (a line ends with k finished
    hypotheses, as nmtkit's): the same tokens, and the same scores within 1e-4."""
    hf_dir, folder, model, tokenizer = pair
    lines, max_len = sources(hf_dir), 20
    theirs, their_scores = generate(model, tokenizer, lines, beam, max_len, penalty)
    translator = api.load_translator(folder, translate_options(
        beam=beam, length_norm=norm, max_len=max_len, max_len_ratio=1000, precision="fp32",
        workers=1, compile="off"))
    got = translator.translate_lines(lines)
    vocab = marian_ids(hf_dir, "tgt")
    assert [[vocab[p] for p in t.pieces] for t in got] == theirs
    assert any(len(ids) < max_len - 1 for ids in theirs)  # some lines end by themselves
    if their_scores is not None:
        assert max(abs(t.score - s) for t, s in zip(got, their_scores)) < TOL
    texts = tokenizer.batch_decode([[0, *ids] for ids in theirs], skip_special_tokens=True)
    assert [t.text for t in got] == texts


def test_target_lang_puts_the_tag_before_each_line(tmp_path, nmtkit):
    hf_dir = make_marian(tmp_path / "hf", SPECS["tags-relu"])
    folder = import_marian(hf_dir, tmp_path / "nmtkit").out
    options = dict(beam=1, max_len=12, precision="fp32", workers=1, compile="off")
    plain = api.load_translator(folder, translate_options(**options))
    tagged = api.load_translator(folder, translate_options(target_lang="fra", **options))
    assert tagged.translate(SOURCES[:4]) == plain.translate([f">>fra<< {s}" for s in SOURCES[:4]])
    assert [t.source_pieces[0] for t in tagged.translate_lines(SOURCES[:4])] == [">>fra<<"] * 4
    code, _, err = nmtkit("translate", "-m", str(folder), "--target-lang", "ita", input="x\n")
    assert code == 2
    assert err.strip().splitlines()[-1] == ("nmtkit: error: --target-lang ita: not one of the "
                                            "model's target languages (deu, fra)")


def test_the_import_command_writes_a_folder_every_command_reads(tmp_path, nmtkit):
    hf_dir = make_marian(tmp_path / "hf", MarianSpec(seed=3))
    out = tmp_path / "nmtkit"
    code, stdout, err = nmtkit("import", str(hf_dir), str(out))
    assert code == 0, err
    assert "imported" in stdout and str(out) in stdout
    (tmp_path / "src.txt").write_text("\n".join(SOURCES) + "\n")
    (tmp_path / "tgt.txt").write_text("\n".join(TARGETS) + "\n")
    code, text, err = nmtkit("translate", "-m", str(out), "--input", str(tmp_path / "src.txt"),
                             "--precision", "fp32", "--beam", "2")
    assert code == 0, err
    assert len(text.splitlines()) == len(SOURCES)
    assert text.splitlines() == api.load_translator(out, translate_options(
        beam=2, precision="fp32")).translate(SOURCES)
    code, scores, err = nmtkit("score", "--model-dir", str(out), "--src",
                               str(tmp_path / "src.txt"), "--hyp", str(tmp_path / "tgt.txt"))
    assert code == 0, err
    rows = [line.split("\t") for line in scores.splitlines()[1:]]
    assert len(rows) == len(SOURCES) and all(float(r[1]) < 0 for r in rows)
    code, _, err = nmtkit("import", str(hf_dir), str(out))
    assert code == 2 and "already exists; pass --overwrite" in err


def _edit_config(folder: Path, **changes) -> None:
    path = folder / "config.json"
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))


REFUSED = {
    "activation": (lambda f: _edit_config(f, activation_function="tanh"),
                   "activation_function 'tanh'"),
    "start": (lambda f: _edit_config(f, decoder_start_token_id=0),
              "decoder_start_token_id 0 is not pad_token_id"),
    "pre-norm": (lambda f: _edit_config(f, normalize_before=True),
                 "normalize_before is True; Marian's Transformer has False"),
    "model type": (lambda f: _edit_config(f, model_type="bart"),
                   "model_type is 'bart', not 'marian'"),
    "vocab size": (lambda f: _edit_config(f, vocab_size=7), "vocab_size 7 but vocab.json has"),
    "heads": (lambda f: _edit_config(f, encoder_attention_heads=5),
              "encoder_attention_heads 5 does not divide d_model 32"),
}


@pytest.fixture(scope="module")
def good_marian(tmp_path_factory) -> Path:
    return make_marian(tmp_path_factory.mktemp("refused") / "hf", MarianSpec(seed=4))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_configuration_nmtkit_does_not_reproduce_is_refused_in_one_line(
        good_marian, tmp_path, nmtkit, name):
    hf_dir = Path(shutil.copytree(good_marian, tmp_path / "hf"))
    change, message = REFUSED[name]
    change(hf_dir)
    out = tmp_path / "nmtkit"
    code, _, err = nmtkit("import", str(hf_dir), str(out))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert "nmtkit does not convert this model" in err
    assert not out.exists()


def test_weights_it_would_not_use_are_refused(good_marian, tmp_path):
    from safetensors.torch import load_file, save_file

    hf_dir = Path(shutil.copytree(good_marian, tmp_path / "hf"))
    weights = load_file(str(hf_dir / "model.safetensors"))
    weights["model.encoder.layernorm_embedding.weight"] = torch.ones(32)
    save_file(weights, str(hf_dir / "model.safetensors"))
    with pytest.raises(NmtkitError, match="weights nmtkit's Marian does not use: "
                                          "encoder.layernorm_embedding.weight"):
        import_marian(hf_dir, tmp_path / "nmtkit")
    assert not (tmp_path / "nmtkit").exists()


def test_an_imported_model_exports_to_ctranslate2_with_the_same_greedy_output(pair, tmp_path):
    ctranslate2 = pytest.importorskip("ctranslate2")
    from nmtkit.model_folder.export import export

    hf_dir, folder, _, _ = pair
    export(folder, tmp_path / "ct2")
    lines, max_len = sources(hf_dir), 20
    ours = api.load_translator(folder, translate_options(
        beam=1, max_len=max_len, max_len_ratio=1000, precision="fp32", workers=1,
        compile="off")).translate_lines(lines)
    loaded = ModelFolder.open(folder).load()
    translator = ctranslate2.Translator(str(tmp_path / "ct2"), device="cpu")
    pieces = [loaded.src_tokenizer.encode(line) for line in lines]
    # nmtkit's step limit counts the end of sentence, CTranslate2's does not; nmtkit's
    # minimum length is 0, CTranslate2's 1 unless given
    results = translator.translate_batch(pieces, beam_size=1, max_decoding_length=max_len - 1,
                                         min_decoding_length=0)
    assert [r.hypotheses[0] for r in results] == [t.pieces for t in ours]


@pytest.mark.parametrize("beam", [1, 4])
def test_an_imported_model_decodes_batch_invariant_in_int8(tmp_path, beam):
    """An import is an ordinary folder for int8 too: the same lines at batch 1, 7 and 64."""
    folder = import_marian(make_marian(tmp_path / "hf", MarianSpec(seed=7, eos_bias=4.0)),
                           tmp_path / "nmtkit").out
    lines = SOURCES + ["", SOURCES[0]]
    int8 = [[t.text for t in api.load_translator(folder, translate_options(
        beam=beam, max_len=16, precision="int8", batch_size=size, compile="off",
    )).translate_lines(lines)] for size in (1, 7, 64)]
    assert int8[0] == int8[1] == int8[2]
    assert int8[0][-2] == "" and int8[0][-1] == int8[0][0] and any(int8[0])


@needs_cpp_compiler
def test_an_imported_model_s_compiled_greedy_loop_gives_the_eager_lines(tmp_path):
    folder = import_marian(make_marian(tmp_path / "hf", MarianSpec(seed=7, eos_bias=4.0)),
                           tmp_path / "nmtkit").out
    lines = SOURCES + ["", SOURCES[0]]
    eager, compiled = ([t.text for t in api.load_translator(folder, translate_options(
        beam=1, max_len=16, precision="fp32", compile=mode, batch_size=7,
    )).translate_lines(lines)] for mode in ("off", "on"))
    assert compiled == eager and any(eager)


def test_an_imported_model_shows_its_attention_and_alignments(tmp_path, nmtkit):
    """translate --jsonl-attention and --alignments of an imported model: a row per target
    piece and </s>, a column per source piece; the </s> the model reads after the source
    has no column, so a row's weights sum to at most 1 (the rest is that </s>'s share);
    one Pharaoh line per input line, the JSON's."""
    hf_dir = make_marian(tmp_path / "hf", MarianSpec(seed=8, eos_bias=5.0))
    folder = import_marian(hf_dir, tmp_path / "nmtkit").out
    lines = SOURCES[:4] + [""]
    (tmp_path / "src.txt").write_text("\n".join(lines) + "\n")
    pharaoh = tmp_path / "align.txt"
    code, out, err = nmtkit("translate", "-m", str(folder), "--input", str(tmp_path / "src.txt"),
                            "--precision", "fp32", "--output-format", "jsonl",
                            "--jsonl-attention", "--alignments", str(pharaoh),
                            "--alignment-units", "piece")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    links = pharaoh.read_text().split("\n")
    assert len(rows) == len(lines) == len(links) - 1
    assert rows[-1]["attention"] is None and links[-2] == ""
    for row, link in zip(rows[:-1], links):
        att = row["attention"]
        assert len(att) == len(row["pieces"]) + 1
        assert {len(r) for r in att} == {len(row["source_pieces"])}
        assert all(0 < sum(r) < 1 + 1e-3 for r in att)
        assert row["alignment"] == link
    shares = [1 - sum(r) for row in rows[:-1] for r in row["attention"]]
    assert max(shares) > 0.005  # the share of the </s> after the source, left out
