import numpy as np
import pytest
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


def per_sentence_packing(chunk, cost, batch_tokens):
    """The packing rule one sentence at a time (how nmtkit packed before the binary search):
    the batches of a resumed run from an older state must be the same."""
    batches, cur, longest = [], [], 0
    for i in chunk:
        c = int(cost[i])
        if cur and max(longest, c) * (len(cur) + 1) > batch_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(int(i))
        longest = max(longest, c)
    return batches + ([cur] if cur else [])


@pytest.mark.parametrize("seed", range(5))
def test_batches_are_those_of_the_per_sentence_rule(seed):
    rng = np.random.default_rng(seed)
    src = rng.integers(1, 60, size=3000)
    tgt = rng.integers(1, 60, size=3000)
    budget = int(rng.integers(20, 400))  # some sentences alone exceed it
    got = token_batches(src, tgt, budget, torch.Generator().manual_seed(seed), pool_batches=7)
    # the same shuffle and pools, packed one sentence at a time
    cost = np.maximum(src, tgt + 1)
    gen = torch.Generator().manual_seed(seed)
    keep = np.arange(len(src))[torch.randperm(len(src), generator=gen).numpy()]
    pool = max(1, 7 * budget // max(1, int(cost[keep].mean())))
    want = []
    for start in range(0, len(keep), pool):
        chunk = keep[start:start + pool]
        chunk = chunk[np.lexsort((src[chunk], cost[chunk]))]
        want += per_sentence_packing(chunk, cost, budget)
    want = [want[i] for i in torch.randperm(len(want), generator=gen).numpy()]
    assert [b.tolist() for b in got] == want
