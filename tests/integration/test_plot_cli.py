"""nmtkit plot: a model folder's training curves as a PNG (matplotlib, the plots extra)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import run_main

pytest.importorskip("matplotlib")  # the plots extra; the test extra installs it


def test_plot_draws_the_training_curves_into_a_png(tiny_model, tmp_path, monkeypatch, capsys):
    from PIL import Image

    out = tmp_path / "curves.png"
    status, _, err = run_main("plot", str(tiny_model), "-o", str(out),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 0, err
    # The tiny model logs every 10 of its 30 steps and validates at 15 and 30.
    assert "3 training and 2 validation records" in err
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size == (800, 900)
        colors = png.getcolors(maxcolors=1 << 16)  # None: more colours than that
        assert colors is None or len(colors) > 2  # not blank


def test_plot_without_matplotlib_says_what_to_install(tiny_model, tmp_path, monkeypatch,
                                                      capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    out = tmp_path / "curves.png"
    status, _, err = run_main("plot", str(tiny_model), "-o", str(out),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and not out.exists()
    assert err == "nmtkit: error: plotting needs matplotlib: pip install 'nmtkit[plots]'\n"


def test_plot_of_a_folder_without_a_training_log(tiny_model, tmp_path, monkeypatch, capsys):
    status, _, err = run_main("plot", str(tmp_path), "-o", str(tmp_path / "c.png"),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and err == f"nmtkit: error: {tmp_path}: not a model folder (no " \
                                  "meta.json)\n"
    model = Path(shutil.copytree(tiny_model, tmp_path / "m"))
    (model / "metrics.jsonl").unlink()
    status, _, err = run_main("plot", str(model), "-o", str(tmp_path / "c.png"),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and err.count("\n") == 1
    assert f"{model / 'metrics.jsonl'}: no training log" in err


GOOD_LOG = (
    b'{"step": 10, "epoch": 0, "loss": 2.5, "lr": 0.01, "tokens_per_sec": 1287.6, '
    b'"elapsed": 1.37}\n'
    b'{"step": 15, "valid_loss": 2.4, "valid_ppl": 11.5, "valid_bleu": 0.5, '
    b'"valid_chrf": 2.7}\n'
    b'{"step": 20, "epoch": 1, "loss": 2.4, "lr": 0.01, "tokens_per_sec": 9398.5, '
    b'"elapsed": 1.57}\n'
)

# A damaged or foreign metrics.jsonl: the bytes, and the line and reason the one error names.
DAMAGED_LOGS = {
    "a line that is not JSON": (GOOD_LOG + b"hello there\n" + GOOD_LOG,
                                ":4: damaged training log: not JSON (Expecting value, "
                                "column 1); nmtkit train writes one JSON object per line"),
    "a JSON array": (b"[1, 2]\n" + GOOD_LOG,
                     ":1: damaged training log: an array, not a JSON object"),
    "an object without a step": (GOOD_LOG + b'{"loss": 2.0}\n',
                                 ':4: damaged training log: no whole-number "step"'),
    "a figure that is not a number": (b'{"step": 3, "loss": "low"}\n' + GOOD_LOG,
                                      ':1: damaged training log: "loss" is "low", not a '
                                      "number"),
    "binary bytes": (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
                     ":1: damaged training log: invalid UTF-8 at byte 0"),
    "invalid UTF-8": (GOOD_LOG + b'{"step": 30, "loss": "\xff"}\n',
                      ":4: damaged training log: invalid UTF-8 at byte 22"),
    "an empty file": (b"", ": no training or validation records yet"),
}


@pytest.fixture
def model_copy(tiny_model, tmp_path) -> Path:
    """A copy of the tiny model folder, whose training log a test replaces."""
    shutil.copytree(tiny_model, tmp_path / "m",
                    ignore=shutil.ignore_patterns("checkpoint-*", "train_state.pt"))
    return tmp_path / "m"


@pytest.mark.parametrize("content, said", list(DAMAGED_LOGS.values()), ids=list(DAMAGED_LOGS))
def test_a_damaged_training_log_is_one_line_naming_file_and_line(model_copy, tmp_path,
                                                                 monkeypatch, capsys, content,
                                                                 said):
    (model_copy / "metrics.jsonl").write_bytes(content)
    out = tmp_path / "curves.png"
    status, _, err = run_main("plot", str(model_copy), "-o", str(out),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and not out.exists()
    assert err == f"nmtkit: error: {model_copy / 'metrics.jsonl'}{said}\n"


def test_a_last_line_cut_short_is_skipped_with_a_warning(model_copy, tmp_path, monkeypatch,
                                                         capsys):
    """A run killed while appending a line leaves it cut short: the curves are drawn from
    the whole lines."""
    (model_copy / "metrics.jsonl").write_bytes(GOOD_LOG + b'{"step": 30, "valid_lo')
    out = tmp_path / "curves.png"
    status, _, err = run_main("plot", str(model_copy), "-o", str(out),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 0 and out.is_file()
    assert err == (f"nmtkit: warning: {model_copy / 'metrics.jsonl'}:4: the last line is cut "
                   "short (a run killed while writing it?); skipped\n"
                   f"nmtkit: wrote {out}: 2 training and 1 validation records\n")
