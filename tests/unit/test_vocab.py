import pytest

from nmtkit.data.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocab
from nmtkit.errors import DataError


def test_specials_are_fixed():
    assert (PAD, UNK, BOS, EOS) == (0, 1, 2, 3)
    assert SPECIALS == ("<pad>", "<unk>", "<s>", "</s>")


def test_build_orders_by_count_then_piece_and_applies_limits():
    counts = {"b": 5, "a": 5, "c": 2, "d": 1}
    v = Vocab.build(counts)
    assert v.tokens[4:] == ["a", "b", "c", "d"]
    assert Vocab.build(counts, min_freq=2).tokens[4:] == ["a", "b", "c"]
    assert Vocab.build(counts, max_size=6).tokens[4:] == ["a", "b"]


def test_encode_decode():
    v = Vocab.build({"x": 3, "y": 2})
    ids = v.encode(["x", "zzz", "y"])
    assert ids == [4, UNK, 5]
    assert v.decode([BOS, 4, 5, EOS, 4]) == ["x", "y"]


def test_save_load_and_bad_line(tmp_path):
    v = Vocab.build({"x": 3})
    v.save(tmp_path / "v.tsv")
    assert Vocab.load(tmp_path / "v.tsv").tokens == v.tokens
    (tmp_path / "bad.tsv").write_text("<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\nbroken\n")
    with pytest.raises(DataError, match=r"bad.tsv:5: damaged vocabulary: expected TOKEN<TAB>COUNT"):
        Vocab.load(tmp_path / "bad.tsv")
