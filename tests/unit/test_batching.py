import numpy as np
import torch

from nmtkit.data.batching import pad_sequences, token_batches
from nmtkit.data.vocab import PAD


def lengths(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 40, n), rng.integers(1, 40, n)


def test_every_sentence_once_and_budget_respected():
    src, tgt = lengths()
    batches = token_batches(src, tgt, 300, torch.Generator().manual_seed(1))
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(len(src)))
    for b in batches:
        cost = len(b) * max(int(src[b].max()), int(tgt[b].max()) + 1)
        assert cost <= 300 or len(b) == 1


def test_same_seed_same_batches_and_bucketing_reduces_padding():
    src, tgt = lengths()
    a = token_batches(src, tgt, 300, torch.Generator().manual_seed(3))
    b = token_batches(src, tgt, 300, torch.Generator().manual_seed(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b)
    padded = sum(len(x) * int(src[x].max()) for x in a)
    assert padded < 1.3 * src.sum()  # length bucketing keeps padding low


def test_max_len_skips_long_pairs():
    src, tgt = np.array([5, 50, 5]), np.array([5, 5, 60])
    batches = token_batches(src, tgt, 1000, max_len=10)
    assert np.concatenate(batches).tolist() == [0]


def test_pad_sequences():
    padded, lens = pad_sequences([[4, 5, 6], [7]])
    assert padded.tolist() == [[4, 5, 6], [7, PAD, PAD]]
    assert lens.tolist() == [3, 1]
