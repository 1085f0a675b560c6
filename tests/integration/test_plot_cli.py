"""nmtkit plot: a model folder's training curves as a PNG (matplotlib, the plots extra)."""

from __future__ import annotations

import sys

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


def test_plot_of_a_folder_without_a_training_log(tmp_path, monkeypatch, capsys):
    status, _, err = run_main("plot", str(tmp_path), "-o", str(tmp_path / "c.png"),
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and err.count("\n") == 1
    assert f"{tmp_path / 'metrics.jsonl'}: no training log" in err
