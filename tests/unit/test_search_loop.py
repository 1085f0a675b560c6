"""The one search loop: its fixed-shape row policy (what the compiled loop runs) against
the eager one, and when the compiled loop is used."""

from dataclasses import dataclass

import pytest
import torch

from nmtkit.config import ModelConfig
from nmtkit.data.vocab import PAD
from nmtkit.errors import NmtkitError
from nmtkit.models.interfaces import Decoder, DecoderState, EncoderOutput, StepOutput
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.search import SearchOptions, search
from nmtkit.search.compiled import AUTO_AFTER_LINES, CompiledRunner, compile_after
from nmtkit.search.constraints import StepView, apply_rules, apply_rules_fixed, rules_for
from nmtkit.search.loop import call, row_bucket, source_bucket
from tests.conftest import needs_cpp_compiler

SRC_VOCAB, TGT_VOCAB = 30, 25
CPU = torch.device("cpu")


def model(kind: str):
    if kind == "rnn":
        options = dict(encoder={"type": "rnn", "hidden_size": 16, "bidirectional": True},
                       decoder={"type": "rnn", "hidden_size": 16, "dropout": 0.0})
    else:
        layer = {"type": "transformer", "layers": 2, "heads": 2, "ff_size": 32,
                 "dropout": 0.0, "attention_dropout": 0.0}
        options = dict(encoder=layer, decoder=layer, attention=None, bridge=None)
    torch.manual_seed(0)
    return Seq2Seq(ModelConfig(embed_dim=16, embed_dropout=0.0, **options),
                   SRC_VOCAB, TGT_VOCAB).eval()


def sources(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 9, (n,), generator=g)
    src = torch.zeros(n, int(lengths.max()), dtype=torch.long)
    for i, length in enumerate(lengths.tolist()):
        src[i, :length] = torch.randint(4, SRC_VOCAB, (length,), generator=g)
    return src, lengths


def test_buckets():
    assert [row_bucket(n) for n in (1, 2, 3, 5, 64, 65)] == [1, 2, 4, 8, 64, 128]
    assert [source_bucket(n) for n in (1, 16, 17, 64, 65, 200)] == [16, 16, 32, 64, 128, 256]


def test_branch_free_constraints_equal_the_eager_ones():
    torch.manual_seed(0)
    log_probs = torch.log_softmax(torch.randn(6, 10), -1)
    limits = torch.tensor([1, 3, 3, 5, 9, 2])
    mins = torch.tensor([0, 2, 4, 1, 0, 3])  # row 2: the limit wins over the minimum
    rules = rules_for(SearchOptions())
    for step in range(5):
        want = apply_rules(rules, log_probs, StepView(step, limits, mins))
        got = apply_rules_fixed(rules, log_probs, StepView(torch.tensor(step), limits, mins))
        assert torch.equal(want, got)


@pytest.mark.parametrize("kind", ["rnn", "transformer"])
@pytest.mark.parametrize("opts", [
    SearchOptions(beam=1, max_len_ratio=1.0),
    SearchOptions(beam=3, n_best=3, max_len_ratio=1.5),
    SearchOptions(beam=4, length_norm="average", min_len_ratio=0.5, max_len=12),
    SearchOptions(beam=2, length_norm="none", min_len=3),
], ids=["greedy", "beam-nbest", "beam-average-min", "beam-none"])
def test_fixed_shapes_give_the_eager_results(kind, opts):
    # 11 sentences: rows padded to 16, shrinking as they finish; an untrained model runs
    # most of them to their length limits.
    m = model(kind)
    src, lengths = sources(11)
    with torch.no_grad():
        want = search(m, src, lengths, opts)
        got = search(m, src, lengths, opts, call)
    for w_hyps, g_hyps in zip(want, got):
        assert [h.tokens for h in w_hyps] == [h.tokens for h in g_hyps]
        for w, g in zip(w_hyps, g_hyps):
            assert g.score == pytest.approx(w.score, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "transformer"])
@pytest.mark.parametrize("fixed", [False, True], ids=["eager", "fixed-shape"])
def test_beams_sharing_the_encoder_output_give_the_results_of_copies(kind, fixed,
                                                                      monkeypatch):
    m = model(kind)
    assert m.decoder.shares_source
    src, lengths = sources(7, seed=2)
    opts = SearchOptions(beam=3, n_best=2, max_len_ratio=1.5)
    runner = call if fixed else None
    rows = []  # (hypothesis rows, encoder output rows) of each step
    step = m.decoder.step

    def counted(prev, state, enc):
        rows.append((prev.size(0), enc.memory.size(0)))
        return step(prev, state, enc)

    monkeypatch.setattr(m.decoder, "step", counted)
    with torch.no_grad():
        want = search(m, src, lengths, opts, runner)
        assert all(hyps == 3 * sentences for hyps, sentences in rows)
        rows.clear()
        monkeypatch.setattr(type(m.decoder), "shares_source", False)
        got = search(m, src, lengths, opts, runner)
        assert all(hyps == sentences for hyps, sentences in rows)
    for w_hyps, g_hyps in zip(want, got):
        assert [h.tokens for h in w_hyps] == [h.tokens for h in g_hyps]
        assert [h.score for h in g_hyps] == pytest.approx([h.score for h in w_hyps], abs=1e-5)


def test_growing_and_fixed_capacity_transformer_states_step_alike():
    m = model("transformer")
    src, lengths = sources(3)
    tokens = torch.randint(4, TGT_VOCAB, (3, 7))
    with torch.no_grad():
        enc = m.encode(src, lengths)
        growing = m.decoder.start_state(enc)
        fixed = m.decoder.start_state(enc, capacity=2)
        for t in range(7):
            if t == fixed.self_keys[0].size(2):
                fixed = m.decoder.grow_state(fixed, 2 * t)
            a = m.decoder.step(tokens[:, t], growing, enc)
            b = m.decoder.step(tokens[:, t], fixed, enc)
            assert torch.allclose(a.log_probs, b.log_probs, atol=1e-5)
            growing, fixed = a.state, b.state
    assert fixed.self_keys[0].size(2) == 8 and growing.self_keys[0].size(2) == 7


@needs_cpp_compiler
def test_when_the_compiled_loop_is_used():
    rnn, transformer = model("rnn").decoder, model("transformer").decoder
    beam = SearchOptions(beam=5)
    assert compile_after("off", transformer, beam, CPU, "bf16") is None
    assert compile_after("on", rnn, beam, CPU, "fp32") == 0
    # auto: where it was measured faster, once the input is long enough to repay it
    assert compile_after("auto", transformer, beam, CPU, "bf16") == AUTO_AFTER_LINES
    assert compile_after("auto", rnn, beam, CPU, "bf16") == AUTO_AFTER_LINES
    assert compile_after("auto", transformer, beam, CPU, "fp32") is None
    assert compile_after("auto", rnn, beam, torch.device("cuda"), "bf16") is None
    assert compile_after("auto", transformer, SearchOptions(sampling=True), CPU, "bf16") is None
    for opts in (SearchOptions(sampling=True), SearchOptions(no_repeat_ngram=2)):
        with pytest.raises(NmtkitError, match="--compile on"):
            compile_after("on", rnn, opts, CPU, "fp32")
    with pytest.raises(NmtkitError, match="valid: auto, on, off"):
        compile_after("sometimes", rnn, beam, CPU, "fp32")


def test_without_a_cpp_compiler_cpu_decoding_stays_eager(monkeypatch):
    monkeypatch.setattr("nmtkit.search.compiled.shutil.which", lambda name: None)
    rnn = model("rnn").decoder
    assert compile_after("auto", rnn, SearchOptions(), CPU, "bf16") is None
    with pytest.raises(NmtkitError, match="without a C\\+\\+ compiler"):
        compile_after("on", rnn, SearchOptions(), CPU, "fp32")


# A decoder from outside nmtkit, written against the interface only: its state grows
# with the output (every token so far), so the fixed-shape loop must give it a capacity
# and grow it.
@dataclass
class Growing(DecoderState):
    tokens: torch.Tensor  # (batch, steps so far)


@dataclass
class Fixed(DecoderState):
    tokens: torch.Tensor  # (batch, capacity), PAD where unused
    length: torch.Tensor  # (batch,) steps so far


class RepeatShyDecoder(Decoder):
    """Log-probabilities of a fixed table of the previous token, less 0.7 for every
    earlier use of each token; EOS only where the length limit forces it."""

    fixed_shape_state = True

    def __init__(self, vocab: int = TGT_VOCAB):
        super().__init__()
        g = torch.Generator().manual_seed(5)
        self.table = torch.randn(vocab, vocab, generator=g) * 2
        self.table[:, :4] = -1e4  # no PAD, UNK, BOS; EOS only at the length limit
        self.vocab = vocab

    def start_state(self, enc, capacity=None):
        n = enc.memory.size(0)
        if capacity is None:
            return Growing(torch.zeros(n, 0, dtype=torch.long))
        return Fixed(torch.full((n, capacity), PAD), torch.zeros(n, dtype=torch.long))

    def grow_state(self, state, capacity):
        extra = capacity - state.tokens.size(1)
        return Fixed(torch.nn.functional.pad(state.tokens, (0, extra), value=PAD), state.length)

    def step(self, prev, state, enc):
        if isinstance(state, Growing):
            tokens = torch.cat([state.tokens, prev.unsqueeze(1)], 1)
            new = Growing(tokens)
        else:
            tokens = state.tokens.scatter(1, state.length.unsqueeze(1), prev.unsqueeze(1))
            new = Fixed(tokens, state.length + 1)
        seen = torch.nn.functional.one_hot(tokens, self.vocab).sum(1).float()
        scores = self.table[prev] - 0.7 * seen
        return StepOutput(torch.log_softmax(scores, -1), new)


class PluginModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = RepeatShyDecoder()

    def encode(self, src, lengths):
        return EncoderOutput(torch.zeros(src.size(0), src.size(1), 1), src != PAD)


def _same(want, got):
    for w_hyps, g_hyps in zip(want, got, strict=True):
        assert [h.tokens for h in w_hyps] == [h.tokens for h in g_hyps]
        assert [h.score for h in g_hyps] == pytest.approx([h.score for h in w_hyps], abs=1e-5)


@pytest.mark.parametrize("beam", [1, 3])
def test_a_plugin_decoder_runs_in_the_fixed_shape_loop(beam):
    m = PluginModel()
    src, lengths = sources(5, seed=3)
    opts = SearchOptions(beam=beam, n_best=beam, max_len=20)  # 20 steps: capacity 16, grown
    want = search(m, src, lengths, opts)
    assert any(len(h[0].tokens) > 16 for h in want)  # the state had to grow
    _same(want, search(m, src, lengths, opts, call))


@needs_cpp_compiler
def test_a_plugin_decoder_runs_in_the_compiled_loop():
    m = PluginModel()
    src, lengths = sources(3, seed=4)
    opts = SearchOptions(beam=3, n_best=2, max_len=20)
    runner = CompiledRunner(CPU)
    _same(search(m, src, lengths, opts), search(m, src, lengths, opts, runner))
    assert runner.stats.graphs >= 2  # compiled: the first capacity and the grown one
    graphs = runner.stats.graphs
    search(m, src, lengths, opts, runner)  # new strategy and rule objects, the same buckets
    assert runner.stats.graphs == graphs


@pytest.mark.parametrize(("protocol", "classes"), [
    ("strategies.Strategy", ("strategies.Greedy", "strategies.Beam")),
    ("loop.RowPolicy", ("loop.Shrinking", "loop.Bucketed")),
])
def test_the_strategies_and_row_policies_keep_their_protocols(protocol, classes):
    """Each method the protocol names exists with the protocol's parameters."""
    import importlib
    import inspect

    def get(name):
        module, attr = name.split(".")
        return getattr(importlib.import_module(f"nmtkit.search.{module}"), attr)

    proto = get(protocol)
    methods = [m for m in vars(proto) if not m.startswith("_") and callable(vars(proto)[m])]
    assert methods
    for cls in map(get, classes):
        for m in methods:
            want = list(inspect.signature(getattr(proto, m)).parameters)
            have = list(inspect.signature(getattr(cls, m)).parameters)
            assert have == want, f"{cls.__name__}.{m}{have} is not {protocol}.{m}{want}"
