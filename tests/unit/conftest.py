"""Fixtures of the unit tests that train."""

import pytest

from nmtkit.api import PreprocessOptions, VocabOptions, build_vocab, preprocess


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory, tiny_corpus):
    c = tiny_corpus
    out = tmp_path_factory.mktemp("trainer") / "data"
    preprocess(PreprocessOptions(c / "train.src", c / "train.tgt", out, c / "valid.src",
                                 c / "valid.tgt", units="word"))
    build_vocab(VocabOptions(out))
    return out
