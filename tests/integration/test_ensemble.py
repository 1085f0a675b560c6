"""translate --model-dir A --model-dir B: an ensemble decodes with the average of its
models' log-probabilities, gives the same lines whatever the batch, and refuses models
that do not share their tokenizer and vocabularies in one line."""

from __future__ import annotations

import pytest

from nmtkit import api
from nmtkit.search.options import SearchOptions
from nmtkit.translate.options import TranslateOptions
from tests.conftest import TINY_CONFIG, reversal_pairs, run_cli

LINES = [s for s, _ in reversal_pairs(30, seed=41, lo=1, hi=10)] + ["", "a"]


def translate(model_dirs, **options) -> list[list[str]]:
    search = {k: options.pop(k) for k in ("beam", "n_best") if k in options}
    opts = TranslateOptions(SearchOptions(max_len=20, **search), **options)
    with api.load_translator(model_dirs, opts) as translator:
        return [[text for text, _ in t.n_best] for t in translator.translate_lines(LINES)]


@pytest.mark.parametrize("beam", [1, 4])
def test_an_ensemble_of_a_model_with_itself_gives_the_model_s_lines(beam, tiny_model):
    n_best = min(beam, 2)
    alone = translate(tiny_model, beam=beam, n_best=n_best, precision="fp32")
    assert translate([tiny_model, tiny_model], beam=beam, n_best=n_best,
                     precision="fp32") == alone


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_an_ensemble_gives_the_same_lines_whatever_the_batch(precision, tiny_model,
                                                             tiny_transformer):
    models = [tiny_model, tiny_transformer]
    outputs = [translate(models, beam=4, batch_size=size, precision=precision, workers=1)
               for size in (1, 7, 64)]
    assert outputs[0] == outputs[1] == outputs[2]
    assert translate(models, beam=4, batch_size=5, precision=precision,
                     workers=2) == outputs[0]
    # The ensemble is neither of its models.
    assert outputs[0] != translate(tiny_model, beam=4, precision=precision)
    assert outputs[0] != translate(tiny_transformer, beam=4, precision=precision)


def test_the_cli_takes_several_model_dirs(tiny_model, tiny_transformer):
    text = "".join(line + "\n" for line in LINES)
    both = run_cli("translate", "-m", str(tiny_model), "-m", str(tiny_transformer),
                   "--precision", "fp32", input=text)
    assert both.stdout.count("\n") == len(LINES)
    expected = translate([tiny_model, tiny_transformer], beam=5, precision="fp32")
    assert both.stdout.splitlines() == [n[0] for n in expected]


def test_models_with_other_vocabularies_are_refused_in_one_line(tiny_model, tiny_corpus,
                                                                 tmp_path):
    c = tiny_corpus
    run_cli("preprocess", "--src", str(c / "train.src"), "--tgt", str(c / "train.tgt"),
            "--out", str(tmp_path / "data"), "--units", "char")
    run_cli("build-vocab", str(tmp_path / "data"))
    (tmp_path / "config.yaml").write_text(TINY_CONFIG.replace("max_steps: 30", "max_steps: 2"))
    run_cli("train", "-c", str(tmp_path / "config.yaml"), "-d", str(tmp_path / "data"),
            "-m", str(tmp_path / "other"), "train.valid_every=0")
    proc = run_cli("translate", "-m", str(tiny_model), "-m", str(tmp_path / "other"),
                   input="a b\n", check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"nmtkit: error: --model-dir {tmp_path / 'other'}: its target "
                           f"vocabulary differs from that of {tiny_model}; the models of an "
                           "ensemble must share their tokenizer and vocabularies\n")


def test_what_an_ensemble_cannot_do_is_refused_in_one_line(tiny_model):
    for args in (("--shortlist",), ("--output-format", "jsonl", "--jsonl-attention")):
        proc = run_cli("translate", "-m", str(tiny_model), "-m", str(tiny_model), *args,
                       input="a\n", check=False)
        assert proc.returncode == 2 and "not an ensemble" in proc.stderr
        assert len(proc.stderr.splitlines()) == 1
