"""nmtkit export --format ctranslate2: CTranslate2 gives nmtkit's greedy output on the
exported model; an RNN is a one-line error."""

from __future__ import annotations

import pytest

from tests.conftest import reversal_pairs, run_cli

ctranslate2 = pytest.importorskip("ctranslate2")


def test_ctranslate2_gives_nmtkits_greedy_lines_on_the_exported_model(tiny_transformer,
                                                                     tmp_path):
    out = tmp_path / "ct2"
    done = run_cli("export", str(tiny_transformer), str(out))
    assert done.stdout == (f"exported {tiny_transformer} (2+2 layers, float32) to {out} for "
                           "CTranslate2\n")
    lines = [s for s, _ in reversal_pairs(60, seed=41, lo=1, hi=12)]
    ours = run_cli("translate", "-m", str(tiny_transformer), "--beam", "1",
                   input="".join(line + "\n" for line in lines)).stdout.splitlines()
    translator = ctranslate2.Translator(str(out), device="cpu")
    theirs = []
    for line in lines:  # word units: the pieces are the words
        words = line.split()
        # nmtkit's step limit (2 x source + 10, the end of sentence included)
        limit = int(len(words) * 2.0) + 10 - 1
        result = translator.translate_batch([words], beam_size=1, max_decoding_length=limit)
        theirs.append(" ".join(result[0].hypotheses[0]))
    assert theirs == ours
    assert any(ours)  # the model says something


def test_export_of_an_rnn_model_is_a_one_line_error(tiny_model, tmp_path):
    proc = run_cli("export", str(tiny_model), str(tmp_path / "ct2"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("nmtkit: error: export --format ctranslate2: Transformer "
                                  "models only")
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "ct2").exists()
