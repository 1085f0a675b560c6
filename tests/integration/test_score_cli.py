"""nmtkit score beyond corpus scores: per sentence, and systems compared with paired
significance tests (sacrebleu's implementation)."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import run_main

WORDS = ["the", "a", "man", "woman", "dog", "cat", "runs", "sits", "on", "under", "red",
         "blue", "big", "small", "house", "park"]


def _texts(tmp_path, n: int = 60):
    """A reference, a close system (one word in 8 changed) and a worse one (one in 3)."""
    rng = random.Random(3)
    ref = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))) for _ in range(n)]

    def noisy(every: int) -> list[str]:
        return [" ".join(w if rng.randrange(every) else rng.choice(WORDS) for w in line.split())
                for line in ref]

    paths = {}
    for name, lines in (("ref", ref), ("close", noisy(8)), ("worse", noisy(3))):
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return paths


def _score(monkeypatch, capsys, *args):
    status, out, err = run_main("score", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert status == 0, err
    return out


def test_paired_bootstrap_is_stable_with_a_seed_and_a_system_is_not_significant_against_itself(
        tmp_path, monkeypatch, capsys):
    p = _texts(tmp_path)
    args = ("--ref", str(p["ref"]), "--hyp", str(p["close"]), "--hyp", str(p["worse"]),
            "--hyp", str(p["close"]), "--paired-bootstrap", "--metrics", "bleu,chrf",
            "--samples", "300", "--json")
    first = _score(monkeypatch, capsys, *args, "--seed", "7")
    assert _score(monkeypatch, capsys, *args, "--seed", "7") == first  # the same seed
    other = _score(monkeypatch, capsys, *args, "--seed", "8")
    results = [json.loads(line) for line in first.splitlines()]
    assert [r["metric"] for r in results] == ["bleu", "chrf"]
    for r in results:
        baseline, worse, itself = r["systems"]
        assert baseline["p_value"] is None and baseline["ci"] > 0
        assert worse["score"] < baseline["score"] and worse["significant"] is True
        assert itself["p_value"] == 1.0 and itself["significant"] is False
        assert "bs:300" in r["signature"] and "seed:7" in r["signature"]
    # Another seed draws other resamples: the intervals move, the scores do not.
    moved = [json.loads(line) for line in other.splitlines()]
    assert [s["score"] for s in moved[0]["systems"]] == \
        [s["score"] for s in results[0]["systems"]]
    assert [s["mean"] for s in moved[0]["systems"]] != [s["mean"] for s in results[0]["systems"]]


def test_paired_randomisation_and_the_table(tmp_path, monkeypatch, capsys):
    p = _texts(tmp_path)
    common = ("--ref", str(p["ref"]), "--hyp", str(p["close"]), "--hyp", str(p["worse"]),
              "--metrics", "bleu", "--samples", "200")
    ar = json.loads(_score(monkeypatch, capsys, *common, "--paired-ar", "--json"))
    assert ar["test"] == "ar" and 0 < ar["systems"][1]["p_value"] <= 1
    table = _score(monkeypatch, capsys, *common, "--paired-bootstrap").splitlines()
    assert table[0].startswith("BLEU, paired bootstrap")
    assert table[2].startswith(f"{p['close']} (baseline)")
    assert table[3].startswith(str(p["worse"])) and table[3].endswith(" significant")


def test_sentence_scores_one_line_per_hypothesis(tmp_path, monkeypatch, capsys):
    p = _texts(tmp_path, n=12)
    out = _score(monkeypatch, capsys, "--ref", str(p["ref"]), "--hyp", str(p["ref"]),
                 "--sentence").splitlines()
    assert out[0] == "line\tbleu\tchrf\tter" and len(out) == 13
    assert all(line.split("\t")[1:] == ["100.00", "100.00", "0.00"] for line in out[1:])
    rows = [json.loads(line) for line in _score(
        monkeypatch, capsys, "--ref", str(p["ref"]), "--hyp", str(p["close"]), "--hyp",
        str(p["worse"]), "--sentence", "--metrics", "bleu", "--json").splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 13))
    assert all(set(r["systems"]) == {str(p["close"]), str(p["worse"])} for r in rows)


@pytest.mark.parametrize("args,message", [
    (("--paired-bootstrap",), "--paired-bootstrap: needs at least two --hyp files"),
    (("--hyp", "{ref}", "--paired-ar", "--seed", "0"), "--seed: must be in [1, 4294967295], got 0"),
    (("--hyp", "{ref}", "--paired-ar", "--samples", "-1"), "--samples: must be in [0, 100000]"),
    (("--hyp", "{ref}", "--paired-ar", "--sentence"), "--sentence and --paired-*: choose one"),
    (("--hyp", "{short}", "--paired-ar"), "{short} has 59 lines but {ref} has 60"),
])
def test_bad_score_options_are_one_line_errors(tmp_path, monkeypatch, capsys, args, message):
    p = _texts(tmp_path)
    short = tmp_path / "short.txt"
    short.write_text("".join(p["ref"].read_text().splitlines(keepends=True)[:59]))
    names = {"ref": p["ref"], "short": short}
    status, out, err = run_main("score", "--ref", str(p["ref"]), "--hyp", str(p["close"]),
                                *(a.format(**names) for a in args),
                                monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message.format(**names) in err


def test_scoring_pairs_with_a_model_gives_one_row_per_pair(tiny_model, tmp_path, monkeypatch,
                                                           capsys):
    src, hyp = tmp_path / "src.txt", tmp_path / "hyp.txt"
    src.write_text("a b c\n\nd e\nf\n")
    hyp.write_text("c b a\nx\ne d\n\n")
    status, out, err = run_main("score", "-m", str(tiny_model), "--src", str(src), "--hyp",
                                str(hyp), "--json", monkeypatch=monkeypatch, capsys=capsys)
    assert status == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert [r["pieces"] for r in rows] == [4, 2, 3, 1]  # pieces and the end of sentence
    assert rows[1]["logprob"] is None  # an empty source is not scored
    for r in (rows[0], rows[2], rows[3]):
        assert r["logprob"] < 0 and r["avg_logprob"] == pytest.approx(r["logprob"] / r["pieces"])
    assert f"{src}:2: not scored (empty source)" in err
    assert "corpus: 3 pairs scored, 8 pieces" in err
    status, table, _ = run_main("score", "-m", str(tiny_model), "--src", str(src),
                                input=hyp.read_text(), monkeypatch=monkeypatch, capsys=capsys)
    assert table.splitlines()[0] == "line\tlogprob\tpieces\tavg_logprob\tperplexity"
    assert len(table.splitlines()) == 5


@pytest.mark.parametrize("args,message", [
    (("--src", "{src}"), "--model-dir: needed to score pairs with a model"),
    (("-m", "{model}"), "--src: needed to score pairs with a model"),
    (("-m", "{model}", "--src", "{src}", "--ref", "{src}"), "--ref and several --hyp are for"),
    (("-m", "{model}", "--src", "{src}", "--hyp", "{short}"),
     "{short} has 1 lines but {src} has 2"),
    ((), "--ref: needed (or --model-dir with --src"),
    (("-m", "{model}", "--src", "{src}", "--sentence"), "--sentence and --paired-* are for"),
    (("--ref", "{src}", "--device", "cuda"), "--device: only with --model-dir"),
])
def test_bad_model_scoring_options_are_one_line_errors(tiny_model, tmp_path, monkeypatch, capsys,
                                                       args, message):
    src, short = tmp_path / "src.txt", tmp_path / "short.txt"
    src.write_text("a b\nc\n")
    short.write_text("b a\n")
    names = {"src": src, "short": short, "model": tiny_model}
    status, out, err = run_main("score", *(a.format(**names) for a in args), input="b a\nc\n",
                                monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message.format(**names) in err
