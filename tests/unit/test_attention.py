import pytest
import torch

import nmtkit.models  # noqa: F401  (registers the built-ins)
from nmtkit.config import from_dict
from nmtkit.errors import ConfigError
from nmtkit.models.interfaces import masked_softmax
from nmtkit.models.registry import ATTENTION


def inputs(batch=3, src_len=6, d_query=8, d_memory=8):
    torch.manual_seed(0)
    memory = torch.randn(batch, src_len, d_memory)
    lengths = torch.tensor([6, 3, 1])[:batch]
    mask = torch.arange(src_len).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.randn(batch, d_query), memory, mask


ALL = ["dot", "general", "additive", "mlp", "scaled_dot", "multi_head"]


def build(name, query_size=8, memory_size=8, **options):
    cls = ATTENTION.get(name)
    options = {"heads": 2, **options} if name == "multi_head" else options
    return cls(from_dict(cls.Config, options), query_size=query_size, memory_size=memory_size)


@pytest.mark.parametrize("name", ALL)
def test_padding_gets_exactly_zero_weight_and_shapes(name):
    att = build(name)
    query, memory, mask = inputs()
    memory = memory.masked_fill(~mask.unsqueeze(2), 1e4)  # padding that would dominate
    context, weights = att(query, memory, mask, att.precompute(memory))
    assert context.shape == (3, 8) and weights.shape == (3, 6)
    assert torch.all(weights[~mask] == 0.0)
    assert torch.allclose(weights.sum(-1), torch.ones(3))
    assert torch.isfinite(context).all()
    if name != "multi_head":  # multi-head mixes projected values, not the memory itself
        assert torch.allclose(context, torch.bmm(weights.unsqueeze(1), memory).squeeze(1))


@pytest.mark.parametrize("name", ALL)
def test_k_queries_per_memory_row_equal_queries_against_copies(name):
    att = build(name, **({"coverage": True} if name in ("additive", "mlp") else {}))
    assert att.shares_memory
    _, memory, mask = inputs()
    k = 4
    query = torch.randn(3 * k, 8)
    coverage = torch.rand(3 * k, 6) if att.uses_coverage else None
    copies = torch.arange(3).repeat_interleave(k)  # row i * k + j: memory row i
    with torch.no_grad():
        shared = att(query, memory, mask, att.precompute(memory), coverage)
        copied = att(query, memory[copies], mask[copies], att.precompute(memory[copies]),
                     coverage)
    for got, want in zip(shared, copied):
        assert got.shape == want.shape and torch.allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("name", ["additive", "mlp"])
def test_coverage_changes_the_scores(name):
    att = build(name, coverage=True)
    assert att.uses_coverage and att.coverage_loss == 1.0
    with torch.no_grad():
        att.coverage_proj.weight.fill_(5.0)
    query, memory, mask = inputs()
    _, fresh = att(query, memory, mask)
    covered = torch.zeros(3, 6)
    covered[:, 0] = 1.0
    _, weights = att(query, memory, mask, coverage=covered)
    assert not torch.allclose(fresh, weights)
    assert torch.all(weights[~mask] == 0.0)
    assert not build(name).uses_coverage


def test_general_handles_different_sizes_and_dot_refuses_them():
    att = ATTENTION.get("general")(ATTENTION.get("general").Config(), query_size=5, memory_size=8)
    query, memory, mask = inputs(d_query=5)
    context, _ = att(query, memory, mask)
    assert context.shape == (3, 8)
    with pytest.raises(ConfigError, match="attention 'dot' needs"):
        ATTENTION.get("dot")(ATTENTION.get("dot").Config(), query_size=5, memory_size=8)


def test_masked_softmax_fully_masked_row_is_zero_not_nan():
    w = masked_softmax(torch.randn(2, 3), torch.tensor([[True, False, True], [False] * 3]))
    assert w[1].tolist() == [0.0, 0.0, 0.0] and w[0, 1] == 0.0
