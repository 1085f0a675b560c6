"""The decoding rules (nmtkit/search/constraints.py): each rule's eager and fixed forms
agree, :func:`rules_for` lists them in the order they apply, and a rule without a fixed
form keeps the search out of the compiled loop by itself."""

from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch

from nmtkit.data.vocab import EOS
from nmtkit.errors import NmtkitError
from nmtkit.search import SearchOptions, search
from nmtkit.search.compiled import unsupported
from nmtkit.search.constraints import (
    NEG_INF,
    MaxLength,
    MinLength,
    NoRepeatNgram,
    StepView,
    apply_rules,
    apply_rules_fixed,
    rules_for,
)
from nmtkit.search.loop import call
from tests.unit.test_search_loop import PluginModel, sources

CPU = torch.device("cpu")


def log_probs(seed: int = 0) -> torch.Tensor:
    """Random log-probabilities with ties and -inf entries."""
    g = torch.Generator().manual_seed(seed)
    out = torch.log_softmax(torch.randn(8, 12, generator=g), -1)
    out[:, 5] = out[:, 6]  # ties
    out[0, EOS] = NEG_INF
    out[1, 7:] = NEG_INF
    out[2] = NEG_INF  # a row with nothing left
    return out


LIMITS = torch.tensor([1, 3, 3, 5, 9, 2, 4, 4])
MINS = torch.tensor([0, 2, 4, 1, 0, 3, 4, 9])  # rows 2, 5, 7: the limit wins over the minimum


@pytest.mark.parametrize("rule", [MinLength(), MaxLength()], ids=lambda r: type(r).__name__)
def test_each_rule_with_a_fixed_form_gives_the_eager_values(rule):
    assert rule.compiles
    for seed in range(3):
        before = log_probs(seed=seed)
        scores = before.clone()
        for step in range(10):
            want = rule.apply(scores, StepView(step, LIMITS, MINS))
            got = rule.apply_fixed(scores, StepView(torch.tensor(step), LIMITS, MINS))
            assert torch.equal(want, got)
            assert torch.equal(scores, before)  # the input is left as it was


def test_the_rules_apply_min_length_then_ngrams_then_max_length():
    assert [type(r) for r in rules_for(SearchOptions())] == [MinLength, MaxLength]
    rules = rules_for(SearchOptions(no_repeat_ngram=3))
    assert [type(r) for r in rules] == [MinLength, NoRepeatNgram, MaxLength]
    assert rules[1].n == 3 and [r.needs_history for r in rules] == [False, True, False]
    # The limit wins over the minimum: row 0 must end now though it may not end yet.
    scores = log_probs()[3:5]
    limits, mins = torch.tensor([3, 9]), torch.tensor([5, 5])
    history = torch.tensor([[4, 5, 4], [6, 7, 6]])
    for out in (apply_rules(rules, scores, StepView(2, limits, mins, history)),
                apply_rules_fixed(rules_for(SearchOptions()), scores,
                                  StepView(torch.tensor(2), limits, mins))):
        assert out[0, EOS] == 0 and (out[0, torch.arange(12) != EOS] == NEG_INF).all()
        assert out[1, EOS] == NEG_INF


def test_ngram_blocking_forbids_what_would_repeat_an_ngram():
    rule = NoRepeatNgram(2)
    assert not rule.compiles and rule.option == "--no-repeat-ngram"
    scores = log_probs()[3:5]
    history = torch.tensor([[4, 5, 4, 0], [6, 7, 8, 0]])  # row 0 ends "4": "4 5" was seen
    out = rule.apply(scores, StepView(3, LIMITS[:2], MINS[:2], history))
    assert out[0, 5] == NEG_INF and torch.equal(out[0, :5], scores[0, :5])
    assert torch.equal(out[1], scores[1])
    assert rule.apply(scores, StepView(1, LIMITS[:2], MINS[:2], history)) is scores


@dataclass(frozen=True)
class NoNine:
    """A rule from outside: token 9 forbidden, with no form for the compiled loop."""

    needs_history: ClassVar[bool] = False
    compiles: ClassVar[bool] = False
    option: ClassVar[str] = "--no-nine"

    def apply(self, log_probs, view):
        return log_probs.index_fill(1, torch.tensor([9]), NEG_INF)

    def apply_fixed(self, log_probs, view):
        raise AssertionError("not called")


def test_a_new_rule_needs_only_its_class_and_rules_for(monkeypatch):
    def with_nine(opts):
        min_length, *rest = rules_for(opts)
        return (min_length, NoNine(), *rest)

    monkeypatch.setattr("nmtkit.search.compiled.rules_for", with_nine)
    monkeypatch.setattr("nmtkit.search.loop.rules_for", with_nine)
    m, opts = PluginModel(), SearchOptions(beam=2, max_len=12)
    assert unsupported(m.decoder, opts, CPU) == "--no-nine"
    src, lengths = sources(4, seed=1)
    with pytest.raises(NmtkitError, match="does not support --no-nine"):
        search(m, src, lengths, opts, call)
    hyps = search(m, src, lengths, opts)
    assert all(9 not in h.tokens for line in hyps for h in line)
    monkeypatch.undo()
    assert unsupported(m.decoder, opts, CPU) is None
    assert any(9 in h.tokens for line in search(m, src, lengths, opts) for h in line)
