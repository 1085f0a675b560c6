"""Search against a scripted decoder (known probabilities) and a real tiny model."""

import math
from dataclasses import dataclass

import pytest
import torch

from nmtkit.config import ModelConfig
from nmtkit.data.vocab import BOS, EOS
from nmtkit.models.interfaces import Decoder, DecoderState, EncoderOutput, StepOutput
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.search import SearchOptions, search
from nmtkit.search.sequences import search_sequences

A, B = 4, 5
EPS = 1e-4


@dataclass
class LastToken(DecoderState):
    last: torch.Tensor


class ScriptedDecoder(Decoder):
    """Next-token probabilities depend only on the previous token."""

    def __init__(self, rows: dict[int, dict[int, float]], vocab: int = 6):
        super().__init__()
        table = torch.full((vocab, vocab), EPS)
        for prev, probs in rows.items():
            for tok, p in probs.items():
                table[prev, tok] = p
        self.table = (table / table.sum(1, keepdim=True)).log()

    def start_state(self, enc):
        return LastToken(torch.full((enc.memory.size(0),), BOS))

    def step(self, prev, state, enc):
        return StepOutput(self.table[prev], LastToken(prev))


class ScriptedModel(torch.nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def encode(self, src, lengths):
        return EncoderOutput(torch.zeros(src.size(0), src.size(1), 1), src != 0)


TRAP = {BOS: {A: 0.6, B: 0.4}, A: {EOS: 0.4, A: 0.3, B: 0.3}, B: {EOS: 1.0}, EOS: {EOS: 1.0}}


def run(model, opts, n=1):
    src = torch.tensor([[7, 8, 9]] * n)
    return search(model, src, torch.tensor([3] * n), opts)


def test_greedy_takes_the_locally_best_token():
    [[hyp]] = run(ScriptedModel(ScriptedDecoder(TRAP)), SearchOptions(beam=1))
    assert hyp.tokens == [A]
    assert hyp.score == pytest.approx(math.log(0.6 * 0.4), abs=1e-2)


def test_beam_finds_the_better_sequence_and_returns_n_best():
    [hyps] = run(ScriptedModel(ScriptedDecoder(TRAP)),
                 SearchOptions(beam=2, n_best=2, length_penalty=0.0))
    assert [h.tokens for h in hyps] == [[B], [A]]
    assert hyps[0].score == pytest.approx(math.log(0.4), abs=1e-2)
    assert hyps[0].score >= hyps[1].score


def test_length_limits_are_enforced():
    never_ends = ScriptedModel(ScriptedDecoder({BOS: {A: 1.0}, A: {A: 1.0}}))
    opts = SearchOptions(beam=1, max_len=6)
    [[hyp]] = run(never_ends, opts)
    assert hyp.tokens == [A] * 5  # the sixth step is forced to EOS
    [[hyp]] = run(never_ends, SearchOptions(beam=3, max_len=6))
    assert hyp.tokens == [A] * 5
    ends_at_once = ScriptedModel(ScriptedDecoder({BOS: {EOS: 0.9, A: 0.1}, A: {EOS: 1.0}}))
    for beam in (1, 2):
        [[hyp]] = run(ends_at_once, SearchOptions(beam=beam, min_len=1))
        assert hyp.tokens == [A]


def test_n_best_cannot_exceed_beam():
    from nmtkit.errors import NmtkitError

    with pytest.raises(NmtkitError, match="cannot exceed"):
        run(ScriptedModel(ScriptedDecoder(TRAP)), SearchOptions(beam=2, n_best=3))


def random_model():
    torch.manual_seed(3)
    cfg = ModelConfig(embed_dim=16, encoder={"type": "rnn", "hidden_size": 16},
                      decoder={"type": "rnn", "hidden_size": 24})
    return Seq2Seq(cfg, 20, 20).eval()


@pytest.mark.parametrize("beam", [1, 4])
def test_output_does_not_depend_on_batching(beam):
    model = random_model()
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(4, 20, (int(n),), generator=g).tolist()
            for n in torch.randint(1, 12, (9,), generator=g)]
    opts = SearchOptions(beam=beam, max_len=15)
    alone = [search_sequences(model, [s], opts)[0][0].tokens for s in seqs]
    for batch_size in (3, 9):
        together = [h[0].tokens for h in search_sequences(model, seqs, opts, batch_size)]
        assert together == alone


def test_beam_is_not_worse_than_greedy_on_a_random_model():
    model = random_model()
    src = torch.tensor([[5, 6, 7, 8, 9]])
    lengths = torch.tensor([5])
    greedy = search(model, src, lengths, SearchOptions(beam=1, max_len=10))[0][0]
    beam = search(model, src, lengths, SearchOptions(beam=5, max_len=10, length_penalty=0))[0][0]
    assert beam.score >= greedy.score - 1e-4


def test_sampling_is_seeded_and_follows_the_distribution():
    model = ScriptedModel(ScriptedDecoder(TRAP))
    opts = SearchOptions(sampling=True, seed=5)
    first = [h[0].tokens for h in run(model, opts, n=200)]
    again = [h[0].tokens for h in run(model, opts, n=200)]
    assert first == again
    share_b = sum(t[:1] == [B] for t in first) / len(first)
    assert 0.3 < share_b < 0.5  # P(B first) = 0.4
    greedy_like = run(model, SearchOptions(sampling=True, top_k=1, seed=1), n=20)
    assert all(h[0].tokens == [A] for h in greedy_like)
    nucleus = run(model, SearchOptions(sampling=True, top_p=0.5, seed=1), n=50)
    assert all(h[0].tokens[:1] == [A] for h in nucleus)  # 0.6 >= 0.5: only A survives


REPEATS = {BOS: {A: 1.0}, A: {A: 0.7, B: 0.2, EOS: 0.1}, B: {A: 0.5, EOS: 0.5}}


@pytest.mark.parametrize("beam", [1, 3])
def test_no_repeat_ngram_blocks_repeated_ngrams(beam):
    model = ScriptedModel(ScriptedDecoder(REPEATS))
    [[plain]] = [h[:1] for h in run(model, SearchOptions(beam=beam, max_len=8))]
    assert plain.tokens[:3] == [A, A, A]
    [[hyp]] = [h[:1] for h in run(model, SearchOptions(beam=beam, max_len=8,
                                                       no_repeat_ngram=2))]
    bigrams = list(zip(hyp.tokens, hyp.tokens[1:]))
    assert len(bigrams) == len(set(bigrams)) and hyp.tokens[0] == A
    if beam == 1:
        assert hyp.tokens == [A, A, B]  # A A is allowed once; the next A is blocked


@pytest.mark.parametrize("beam", [1, 2])
def test_min_length_as_a_ratio_of_the_source(beam):
    ends_at_once = ScriptedModel(ScriptedDecoder({BOS: {EOS: 0.9, A: 0.1},
                                                  A: {EOS: 0.9, A: 0.1}}))
    [[hyp]] = [h[:1] for h in run(ends_at_once, SearchOptions(beam=beam, min_len_ratio=1.0))]
    assert hyp.tokens == [A, A, A]  # the source has 3 tokens


def test_length_normalisation_choices():
    model = ScriptedModel(ScriptedDecoder(TRAP))
    [avg] = run(model, SearchOptions(beam=2, length_norm="average"))
    assert avg[0].tokens == [B] and avg[0].score == pytest.approx(math.log(0.4) / 2, abs=1e-2)
    from nmtkit.errors import NmtkitError

    with pytest.raises(NmtkitError, match="--length-norm: unknown 'x'"):
        run(model, SearchOptions(beam=2, length_norm="x"))


class CountingDecoder(ScriptedDecoder):
    def __init__(self, rows):
        super().__init__(rows)
        self.steps = 0

    def step(self, prev, state, enc):
        self.steps += 1
        return super().step(prev, state, enc)


# The best first step ends the sentence; two more steps end a second hypothesis (A B).
ENDS_FIRST = {BOS: {EOS: 0.6, A: 0.4}, A: {A: 0.5, B: 0.5}, B: {EOS: 1.0}}


@pytest.mark.parametrize("stop, n_best, steps", [("best", 1, 1), ("all", 1, 3),
                                                 ("best", 2, 3)])
def test_beam_stop_best_ends_a_line_once_its_best_candidate_ends(stop, n_best, steps):
    decoder = CountingDecoder(ENDS_FIRST)
    [hyps] = run(ScriptedModel(decoder), SearchOptions(beam=2, n_best=n_best, beam_stop=stop))
    assert decoder.steps == steps
    assert hyps[0].tokens == []  # log(0.6) beats log(0.2) / ((5 + 3) / 6)
    if n_best == 2:
        assert hyps[1].tokens == [A, B]


def random_table(seed: int, vocab: int = 6) -> dict[int, dict[int, float]]:
    g = torch.Generator().manual_seed(seed)
    probs = torch.rand(vocab, vocab, generator=g) ** 3  # peaked rows
    return {prev: {tok: float(probs[prev, tok]) for tok in range(2, vocab)}
            for prev in range(vocab)}


@pytest.mark.parametrize("norm, alpha", [("gnmt", 1.0), ("gnmt", 0.6), ("average", 1.0),
                                         ("none", 0.0)])
@pytest.mark.parametrize("n_best", [1, 2])
def test_beam_stop_bound_gives_the_lines_of_all_in_no_more_steps(norm, alpha, n_best):
    saved = 0
    for seed in range(12):
        results, steps = {}, {}
        for stop in ("bound", "all"):
            decoder = CountingDecoder(random_table(seed))
            opts = SearchOptions(beam=3, n_best=n_best, beam_stop=stop, length_norm=norm,
                                 length_penalty=alpha, max_len=12)
            [hyps] = run(ScriptedModel(decoder), opts)
            results[stop] = [(h.tokens, round(h.score, 5)) for h in hyps]
            steps[stop] = decoder.steps
        assert results["bound"] == results["all"]
        assert steps["bound"] <= steps["all"]
        saved += steps["all"] - steps["bound"]
    if norm == "none" or alpha < 1:  # a penalty that grows slowly leaves room to stop early
        assert saved > 0
