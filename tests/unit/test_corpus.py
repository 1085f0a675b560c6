import numpy as np
import pytest

from nmtkit.data.corpus import Corpus, CorpusWriter, PieceTable
from nmtkit.errors import DataError


def test_write_and_read(tmp_path):
    table = PieceTable()
    w = CorpusWriter(tmp_path / "train.src")
    sentences = [["a", "b"], ["b"], [], ["c", "a", "b"]]
    for s in sentences:
        w.add(table.ids(s, count=True))
    assert w.close() == 4
    corpus = Corpus(tmp_path / "train.src")
    assert isinstance(corpus.offsets, np.memmap)  # the ids are read sentence by sentence
    assert len(corpus) == 4
    assert corpus[2].tolist() == []
    assert corpus.lengths.tolist() == [2, 1, 0, 3]
    assert [table.pieces[i] for i in corpus[3]] == ["c", "a", "b"]
    assert table.counts == [2, 3, 1]


def test_piece_table_round_trip(tmp_path):
    table = PieceTable()
    table.ids(["x", "\u2581y", "x"], count=True)
    table.save(tmp_path / "pieces.tsv")
    loaded = PieceTable.load(tmp_path / "pieces.tsv")
    assert loaded.pieces == ["x", "\u2581y"] and loaded.counts == [2, 1]


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(DataError, match="missing; run nmtkit preprocess"):
        Corpus(tmp_path / "nothing")
