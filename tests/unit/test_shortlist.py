"""Vocabulary shortlists: the lexical table, a batch's columns, and search over them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nmtkit.data.lexicon import build_lexicon
from nmtkit.data.vocab import PAD, SPECIALS
from nmtkit.model_folder import ModelFolder
from nmtkit.search.options import SearchOptions
from nmtkit.search.sequences import search_batch
from nmtkit.search.shortlist import Lexicon


class Pairs:
    """A stand-in for a data folder's training split, in vocabulary ids."""

    def __init__(self, pairs):
        self.pairs = [(np.array(s), np.array(t)) for s, t in pairs]

    def __len__(self):
        return len(self.pairs)

    def src_ids(self, i):
        return self.pairs[i][0]

    def tgt_ids(self, i):
        return self.pairs[i][1]


def test_the_lexicon_lists_the_most_associated_targets_first_and_the_most_frequent():
    # source 4 always comes with target 10; source 5 with 11 twice and 10 once;
    # target 12 is in every pair.
    data = Pairs([([4], [10, 12]), ([4, 5], [10, 11, 12]), ([5], [11, 12]), ([6], [12])])
    table = build_lexicon(data, n_src=7, n_tgt=13, per_piece=2, frequent=2)
    assert table.table[4].tolist() == [10, 12]  # dice 1.0, then 2*2/(2+4)
    assert table.table[5][0] == 11
    assert table.table[6].tolist() == [12, -1]  # one target only
    assert (table.table[PAD] == -1).all()
    assert table.frequent.tolist() == [12, 10]  # 4 pairs, then 2 (10 before 11: lower id)
    assert not np.isin(table.table, np.arange(len(SPECIALS))).any()


def test_a_batch_scores_the_union_of_its_lists_and_each_sentence_its_own():
    table = torch.full((8, 2), -1)
    table[4] = torch.tensor([9, 10])
    table[5] = torch.tensor([11, -1])
    lexicon = Lexicon(table, torch.tensor([12]))
    layer = torch.nn.Linear(3, 14)
    shortlist = lexicon.for_batch(torch.tensor([[4, 4, PAD], [5, 4, 5]]), layer)
    assert shortlist.ids.tolist() == [0, 1, 2, 3, 9, 10, 11, 12]  # specials keep their ids
    assert shortlist.allowed.tolist() == [[True] * 6 + [False, True], [True] * 8]
    x = torch.randn(2, 3)
    assert torch.allclose(shortlist.layer(x), layer(x)[:, shortlist.ids])
    log_probs = shortlist.log_probs(x, k=1)
    assert log_probs[0, 6] == float("-inf")
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(2))


@pytest.fixture(scope="module")
def loaded(tiny_model):
    return ModelFolder(tiny_model).load()


def _sources(loaded):
    lines = ["a b c", "d e f g h", "i j a", "b b c d e f"]
    return [loaded.src_vocab.encode(line.split()) for line in lines]


@pytest.mark.parametrize("beam", [1, 4])
def test_a_shortlist_of_the_whole_vocabulary_changes_nothing(loaded, beam):
    n_src, n_tgt = len(loaded.src_vocab), len(loaded.tgt_vocab)
    whole = Lexicon(torch.arange(n_tgt).expand(n_src, n_tgt).clone(), torch.zeros(0).long())
    opts = SearchOptions(beam=beam, max_len=20, n_best=min(beam, 2))
    plain = search_batch(loaded.model, _sources(loaded), opts)
    listed = search_batch(loaded.model, _sources(loaded), opts, lexicon=whole)
    assert [[h.tokens for h in hs] for hs in listed] == [[h.tokens for h in hs] for hs in plain]
    assert [h.score for hs in listed for h in hs] == pytest.approx(
        [h.score for hs in plain for h in hs], abs=1e-5)


@pytest.mark.parametrize("beam", [1, 4])
def test_each_sentence_says_only_what_its_list_allows_whatever_its_batch(loaded, beam):
    src_vocab, tgt_vocab = loaded.src_vocab, loaded.tgt_vocab
    # Each source symbol may produce only the same symbol on the target side.
    table = torch.full((len(src_vocab), 1), -1)
    for piece in "abcdefghij":
        table[src_vocab.encode([piece])[0], 0] = tgt_vocab.encode([piece])[0]
    lexicon = Lexicon(table, torch.zeros(0).long())
    opts = SearchOptions(beam=beam, max_len=20)
    sources = _sources(loaded)
    together = search_batch(loaded.model, sources, opts, lexicon=lexicon)
    assert sum(len(hyps[0].tokens) for hyps in together) >= len(sources)  # it says things
    for src, hyps in zip(sources, together):
        alone = search_batch(loaded.model, [src], opts, lexicon=lexicon)[0]
        assert hyps[0].tokens == alone[0].tokens
        allowed = set(table[src, 0].tolist()) | set(range(len(SPECIALS)))
        assert set(hyps[0].tokens) <= allowed
