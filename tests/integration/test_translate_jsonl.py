"""nmtkit translate --output-format jsonl: one JSON object per input line, in order, with
the same translations as the plain output."""

from __future__ import annotations

import json

import pytest

from tests.conftest import reversal_pairs, run_main

LINES = [s for s, _ in reversal_pairs(12, seed=31, lo=1, hi=9)]
LINES[2:2] = ["", "   "]  # an empty and a whitespace-only line
LINES.append("a " * 30)  # longer than the tiny model's 12 pieces: split and rejoined


def _translate(monkeypatch, capsys, model, *args):
    status, out, err = run_main("translate", "-m", str(model), "--workers", "1", *args,
                                input="".join(line + "\n" for line in LINES),
                                monkeypatch=monkeypatch, capsys=capsys)
    assert status == 0, err
    return out


@pytest.mark.parametrize("beam", [1, 3])
def test_jsonl_has_one_object_per_line_with_the_plain_texts(tiny_model, monkeypatch, capsys,
                                                            beam):
    plain = _translate(monkeypatch, capsys, tiny_model, "--beam", str(beam))
    out = _translate(monkeypatch, capsys, tiny_model, "--beam", str(beam), "--n-best",
                     str(beam), "--output-format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(LINES) and [r["line"] for r in rows] == list(range(1, len(LINES) + 1))
    assert [r["translation"] for r in rows] == plain.splitlines()
    for row, line in zip(rows, LINES, strict=True):
        assert row["n_best"][0] == {"translation": row["translation"], "score": row["score"]}
        if line.strip():
            assert len(row["n_best"]) == beam and row["source_pieces"] == line.split()[:30]
            assert " ".join(row["pieces"]) == row["translation"]  # word units
            scores = [h["score"] for h in row["n_best"]]
            assert scores == sorted(scores, reverse=True)
        else:
            assert row == {"line": row["line"], "translation": "", "score": 0.0,
                           "n_best": [{"translation": "", "score": 0.0}],
                           "source_pieces": [], "pieces": []}


def test_an_unknown_output_format_is_refused_before_loading(tiny_model, monkeypatch, capsys):
    status, out, err = run_main("translate", "-m", str(tiny_model), "--output-format", "xml",
                                input="a\n", monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and out == ""
    assert "--output-format: unknown 'xml'; valid: text, jsonl" in err
