"""nmtkit translate --alignments, --attention-plots and --jsonl-attention: what the model
attended to, beside unchanged translations."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from nmtkit.translate.alignment import pharaoh, piece_links
from tests.conftest import reversal_pairs, run_main

LINES = [s for s, _ in reversal_pairs(6, seed=41, lo=1, hi=9)]
LINES[2:2] = ["", "   "]  # an empty and a whitespace-only line
LINES.append("a b " * 10)  # longer than the tiny models' 12 pieces: split and rejoined
INPUT = "".join(line + "\n" for line in LINES)


def _translate(monkeypatch, capsys, model, *args, status=0, workers=1):
    code, out, err = run_main("translate", "-m", str(model), "--workers", str(workers),
                              *args, input=INPUT, monkeypatch=monkeypatch, capsys=capsys)
    assert code == status, err
    return out, err


def _links(line: str) -> list[tuple[int, int]]:
    return [(int(i), int(j)) for i, j in (link.split("-") for link in line.split())]


@pytest.mark.parametrize("model", ["tiny_model", "tiny_transformer"])
def test_alignments_and_jsonl_attention_describe_each_line(model, request, tmp_path,
                                                           monkeypatch, capsys):
    split = model == "tiny_model"  # its max_src_len is 12
    model = request.getfixturevalue(model)
    plain, _ = _translate(monkeypatch, capsys, model)
    words, pieces = tmp_path / "words.al", tmp_path / "pieces.al"
    # two worker processes, batches of 3: the maps come back from the workers, in order
    text, _ = _translate(monkeypatch, capsys, model, "--alignments", str(words),
                         "--batch-size", "3", workers=2)
    assert text == plain  # the translations are unchanged, byte for byte
    out, err = _translate(monkeypatch, capsys, model, "--alignments", str(pieces),
                        "--alignment-units", "piece", "--output-format", "jsonl",
                        "--jsonl-attention")
    rows = [json.loads(line) for line in out.splitlines()]
    word_lines = words.read_text(encoding="utf-8").split("\n")
    piece_lines = pieces.read_text(encoding="utf-8").split("\n")
    assert word_lines[-1] == piece_lines[-1] == ""  # each line ends with a newline
    assert len(rows) == len(word_lines) - 1 == len(piece_lines) - 1 == len(LINES)
    for row, line, w, p in zip(rows, LINES, word_lines, piece_lines):
        if not line.strip():
            assert w == p == "" and row["attention"] is row["alignment"] is None
            continue
        n_src, n_tgt = len(row["source_pieces"]), len(row["pieces"])
        att = row["attention"]  # a row per target piece and </s>, a column per source piece
        assert len(att) == n_tgt + 1 and {len(r) for r in att} == {n_src}
        assert all(abs(sum(r) - 1) < 1e-2 for r in att)
        assert row["alignment"] == p and row["word_alignment"] == w
        links = _links(p)
        assert len(links) == n_tgt  # one link per target piece
        assert all(0 <= i < n_src and 0 <= j < n_tgt for i, j in links)
        # word units: words are pieces
        assert _links(w) == links and len(line.split()) == n_src
    # The long line's two segments (12 and 8 pieces), translated on their own: each row
    # attends within one segment, the first segment's rows first.
    assert ("translated in 2 parts" in err) == split
    if not split:
        return
    blocks = [0 if sum(r[12:]) == 0 else 1 if sum(r[:12]) == 0 else None
              for r in rows[-1]["attention"]]
    assert blocks == sorted(blocks) and blocks[0] == 0 and blocks[-1] == 1


def test_attention_plots_one_png_per_line_and_per_head_and_layer(tiny_transformer, tmp_path,
                                                                  monkeypatch, capsys):
    from PIL import Image

    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    _, err = _translate(monkeypatch, capsys, tiny_transformer, "--attention-plots", str(plots),
                        "--attention-view", "all")
    real = [n for n, line in enumerate(LINES, 1) if line.strip()]
    views = ["", "-layer1-head1", "-layer1-head2", "-layer2-head1", "-layer2-head2"]
    assert sorted(p.name for p in plots.iterdir()) == sorted(
        f"line-{n:06d}{v}.png" for n in real for v in views)
    assert f"wrote {len(real) * len(views)} attention plots into {plots}" in err
    sizes = {}
    for n in real:
        with Image.open(plots / f"line-{n:06d}.png") as png:
            assert png.format == "PNG"
            sizes[n] = png.size
    # the longest line (20 words, two segments) makes the largest image
    longest = max(real, key=lambda n: len(LINES[n - 1].split()))
    shortest = min(real, key=lambda n: len(LINES[n - 1].split()))
    assert sizes[longest][0] > sizes[shortest][0] + 200


def test_attention_layer_chooses_the_layer_alignments_and_maps_come_from(tiny_transformer,
                                                                         monkeypatch, capsys):
    jsonl = ("--output-format", "jsonl", "--jsonl-attention")
    last, _ = _translate(monkeypatch, capsys, tiny_transformer, *jsonl)
    # layer 1 of 2, computed in two worker processes
    first, _ = _translate(monkeypatch, capsys, tiny_transformer, *jsonl, "--attention-layer",
                          "1", "--batch-size", "3", workers=2)
    last = [json.loads(line) for line in last.splitlines()]
    first = [json.loads(line) for line in first.splitlines()]
    assert [r["translation"] for r in first] == [r["translation"] for r in last]
    rows = [(a, b) for a, b in zip(first, last) if b["attention"] is not None]
    longer = [(a, b) for a, b in rows if len(b["source_pieces"]) > 1]  # one piece: [[1.0], ...]
    assert longer and all(a["attention"] != b["attention"] for a, b in longer)
    for row, _ in rows:  # the alignment is the chosen layer's
        assert row["alignment"] == pharaoh(piece_links(torch.tensor(row["attention"])))
    _, err = _translate(monkeypatch, capsys, tiny_transformer, *jsonl, "--attention-layer",
                        "3", status=2)
    assert err == "nmtkit: error: --attention-layer 3: this model's decoder has 2 layers of " \
                  "attention\n"


@pytest.mark.parametrize("args,message", [
    (["--jsonl-attention"], "--jsonl-attention: for --output-format jsonl"),
    (["--attention-view", "heads"], "--attention-view: for --attention-plots"),
    (["--attention-plots", "P", "--attention-view", "some"],
     "--attention-view: expected one of mean, heads, layers, all, got 'some'"),
    (["--alignments", "A", "--alignment-units", "char"],
     "--alignment-units: expected word or piece, got 'char'"),
    (["--alignment-units", "piece"], "--alignment-units: for --alignments"),
    (["--alignments", "A", "--output", "A"],
     "--output {A} is also {A}, which this command reads or writes; give another file"),
    (["--attention-layer", "1"],
     "--attention-layer: for --alignments, --attention-plots or --jsonl-attention"),
    (["--alignments", "A", "--attention-layer", "-1"],
     "--attention-layer: must be in [0, 1000], got -1"),
])
def test_attention_options_are_checked_before_loading(tiny_model, tmp_path, monkeypatch,
                                                      capsys, args, message):
    args = [str(tmp_path / a) if a in ("P", "A") else a for a in args]
    _, err = _translate(monkeypatch, capsys, tiny_model, *args, status=2)
    assert err == f"nmtkit: error: {message.format(A=tmp_path / 'A')}\n"
    assert list(tmp_path.iterdir()) == []


def test_attention_plots_refuse_a_folder_with_files(tiny_model, tmp_path, monkeypatch, capsys):
    (tmp_path / "keep.png").write_bytes(b"mine")
    _, err = _translate(monkeypatch, capsys, tiny_model, "--attention-plots", str(tmp_path),
                        status=2)
    assert "the folder is not empty; give a new or empty one" in err
    assert (tmp_path / "keep.png").read_bytes() == b"mine"


def test_attention_plots_without_matplotlib_say_what_to_install(tiny_model, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    _, err = _translate(monkeypatch, capsys, tiny_model, "--attention-plots",
                        str(tmp_path / "p"), status=2)
    assert err == "nmtkit: error: plotting needs matplotlib: pip install 'nmtkit[plots]'\n"
