"""Attention heatmaps: PNG files whose size grows with the sentence lengths, labels in any
script drawn with a font that has them or a clean placeholder, never a warning."""

import warnings

import pytest
import torch

pytest.importorskip("matplotlib")  # the plots extra; the test extra installs it

from PIL import Image

from nmtkit.plots.attention import file_label, plot_attention
from nmtkit.plots.fonts import DEFAULT, LAST_RESORT, label_fonts


def heatmap(path, src_len, tgt_len, source=None, target=None):
    torch.manual_seed(0)
    weights = torch.softmax(torch.randn(tgt_len, src_len), -1)
    source = source or [f"▁s{i}" for i in range(src_len)]
    target = target or [f"▁t{i}" for i in range(tgt_len - 1)] + ["</s>"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning in matplotlib
        plot_attention(path, source, target, weights, "line 1")
    with Image.open(path) as png:
        assert png.format == "PNG"
        colors = png.getcolors(maxcolors=1 << 16)
        assert colors is None or len(colors) > 2  # not blank
        return png.size


def test_the_png_grows_with_the_source_and_the_target_length(tmp_path):
    small = heatmap(tmp_path / "small.png", 10, 10)
    wide = heatmap(tmp_path / "wide.png", 40, 10)
    tall = heatmap(tmp_path / "tall.png", 10, 40)
    # 30 pixels a piece, labels as large as a short sentence's
    assert wide[0] - small[0] >= 30 * 30 and abs(wide[1] - small[1]) < 40
    assert tall[1] - small[1] >= 30 * 30 and abs(tall[0] - small[0]) < 40
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically


def test_latin_greek_and_cyrillic_labels_need_no_other_font():
    fonts = label_fonts(["▁Hund", "▁σκύλος", "▁собака", "</s>"])
    assert fonts.families == (DEFAULT,) and fonts.missing == ""


def test_characters_dejavu_sans_lacks_come_from_an_installed_font_that_has_them():
    fonts = label_fonts(["▁a\u02ef"])  # a modifier letter in DejaVu Serif, not in Sans
    assert fonts.families[0] == DEFAULT and len(fonts.families) == 2
    assert fonts.missing == ""


def test_characters_no_font_has_fall_back_cleanly(tmp_path):
    fonts = label_fonts(["▁狗", "▁犬"])
    assert set(fonts.missing) <= {"狗", "犬"}  # unless a CJK font is installed
    if fonts.missing:
        assert fonts.families[-1] == LAST_RESORT or fonts.replace
        assert fonts.clean("▁狗") in ("▁狗", "▁\u25a1")
    # drawn without a missing-glyph warning either way
    heatmap(tmp_path / "cjk.png", 3, 3, source=["▁狗", "▁犬", "."], target=["▁dog", ".", "</s>"])


def test_file_labels():
    assert file_label("layer 2, head 3") == "layer2-head3"
    assert file_label("layer 1") == "layer1"


def test_a_line_past_the_side_limit_is_drawn_downsampled_with_one_warning(tmp_path):
    from nmtkit.plots.attention import MAX_SIDE, AttentionPlots
    from nmtkit.translate.attention_blocks import BlockMap
    from nmtkit.translate.attention_maps import AttentionMap
    from nmtkit.translate.translator import Translation

    torch.manual_seed(0)
    segments = 25  # of 12 source pieces and 4 target pieces (and </s>)
    blocks = BlockMap.join([torch.softmax(torch.randn(5, 12), -1) for _ in range(segments)])
    rows, cols = blocks.rows, blocks.cols
    steps = -(-rows // MAX_SIDE), -(-cols // MAX_SIDE)
    assert min(steps) > 1  # both sides over the limit
    source = [f"▁s{i}" for i in range(cols)]
    target = [f"▁t{i}" for i in range(rows - 1)]
    t = Translation(" ".join(target), 0.0, [(" ".join(target), 0.0)], segments, source, target,
                    AttentionMap(source, [*target, "</s>"], blocks, [("layer 1, head 1", blocks)]))
    said = []
    AttentionPlots(tmp_path, said.append)(6, t)
    assert said == [f"line 7: attention of {rows} x {cols} pieces is over the {MAX_SIDE}-piece "
                    f"side of --attention-plots; drawn downsampled, a square for {steps[0]} x "
                    f"{steps[1]} pieces"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line-000007-layer1-head1.png",
                                                          "line-000007.png"]
    with Image.open(tmp_path / "line-000007.png") as png:
        width, height = png.size
    # 30 pixels a square, and labels: far from the 30 a piece of the full map
    squares = -(-cols // steps[1]), -(-rows // steps[0])
    assert 30 * squares[0] <= width < 30 * squares[0] + 600 < 30 * cols
    assert 30 * squares[1] <= height < 30 * squares[1] + 600 < 30 * rows


def test_the_squares_of_a_downsampled_axis_are_labelled_with_their_pieces_positions():
    from nmtkit.plots.attention import spans

    pieces = ["▁a", "▁b", "▁c", "▁d", "▁e"]
    assert spans(pieces, 1) == pieces
    assert spans(pieces, 2) == ["0-1", "2-3", "4"]
    assert spans(pieces, 5) == ["0-4"]
