import pytest
import torch

from nmtkit.config import ModelConfig
from nmtkit.data.vocab import BOS, EOS, PAD
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.models.decoders.transformer import TransformerDecoderState
from nmtkit.models.positions import LearnedPositions, SinusoidalPositions
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.search import SearchOptions, search

SRC_VOCAB, TGT_VOCAB = 30, 25


def transformer(**options):
    spec = {"type": "transformer", "layers": 2, "heads": 2, "ff_size": 32, "dropout": 0.0,
            "attention_dropout": 0.0}
    spec.update(options)
    return spec


def tiny_model(encoder=None, decoder=None, **overrides):
    options = dict(embed_dim=16, embed_dropout=0.0, init="xavier",
                   encoder=encoder or transformer(), decoder=decoder or transformer(),
                   attention=None, bridge=None)
    options.update(overrides)
    torch.manual_seed(0)
    return Seq2Seq(ModelConfig(**options), SRC_VOCAB, TGT_VOCAB).eval()


def batch():
    src = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    tgt_in = torch.tensor([[BOS, 4, 5, 6, 7], [BOS, 6, 8, 0, 0]])
    return src, torch.tensor([4, 2]), tgt_in


def stepwise_matches_forced(m):
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        out = m(src, lengths, tgt_in)
        forced = torch.log_softmax(out.scores, -1)
        enc = m.encode(src, lengths)
        state = m.decoder.start_state(enc)
        for t in range(tgt_in.size(1)):
            assert state.position == t
            step = m.decoder.step(tgt_in[:, t], state, enc)
            assert torch.allclose(step.log_probs, forced[:, t], atol=1e-5)
            assert torch.allclose(step.attention, out.attention[:, t], atol=1e-5)
            state = step.state


def test_shapes():
    m = tiny_model()
    src, lengths, tgt_in = batch()
    enc = m.encode(src, lengths)
    assert enc.memory.shape == (2, 4, 16) and enc.final is None
    assert m.encoder.output_size == 16 and m.encoder.final_size is None
    out = m(src, lengths, tgt_in)
    assert out.scores.shape == (2, 5, TGT_VOCAB)
    assert out.attention.shape == (2, 5, 4)
    enc = m.decoder.prepare(enc)
    assert len(enc.cache) == 2 and enc.cache[0][0].shape == (2, 2, 4, 8)  # cross keys
    state = m.decoder.start_state(enc)
    assert isinstance(state, TransformerDecoderState)
    assert state.self_keys[0].shape == (2, 2, 0, 8)
    step = m.decoder.step(tgt_in[:, 0], state, enc)
    assert step.log_probs.shape == (2, TGT_VOCAB) and step.attention.shape == (2, 4)
    assert step.state.self_values[1].shape == (2, 2, 1, 8)


@pytest.mark.parametrize("pre_norm", [True, False])
def test_padding_does_not_change_the_encoding(pre_norm):
    m = tiny_model(encoder=transformer(pre_norm=pre_norm))
    src, lengths, _ = batch()
    with torch.no_grad():
        alone = m.encode(src[1:, :2], lengths[1:])
        together = m.encode(src, lengths)
    assert torch.allclose(alone.memory[0], together.memory[1, :2], atol=1e-6)
    assert torch.all(together.memory[1, 2:] == 0)


def test_padding_gets_zero_cross_attention():
    m = tiny_model()
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        out = m(src, lengths, tgt_in)
        enc = m.encode(src, lengths)
        step = m.decoder.step(tgt_in[:, 0], m.decoder.start_state(enc), enc)
    assert torch.all(out.attention[1, :, 2:] == 0)
    assert torch.all(step.attention[1, 2:] == 0)
    assert torch.allclose(out.attention.sum(-1), torch.ones(2, 5), atol=1e-6)


@pytest.mark.parametrize("pre_norm", [True, False])
@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_teacher_forcing_equals_stepwise_decoding(pre_norm, positions):
    spec = transformer(pre_norm=pre_norm, positions=positions, max_positions=16)
    stepwise_matches_forced(tiny_model(encoder=spec, decoder=spec))


def test_target_padding_does_not_change_earlier_positions():
    m = tiny_model()
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        full = m(src, lengths, tgt_in).scores
        short = m(src, lengths, tgt_in[:, :3]).scores
    assert torch.allclose(full[:, :3], short, atol=1e-5)


def test_reorder_state_selects_rows():
    m = tiny_model()
    src, lengths, tgt_in = batch()
    enc = m.encode(src, lengths)
    state = m.decoder.step(tgt_in[:, 0], m.decoder.start_state(enc), enc).state
    index = torch.tensor([1, 0, 1])
    swapped = m.decoder.reorder_state(state, index)
    for name in ("self_keys", "self_values"):
        for old, new in zip(getattr(state, name), getattr(swapped, name)):
            assert new.shape[0] == 3
            assert torch.equal(new, old.index_select(0, index))
    assert swapped.position == 1


def test_tied_output_shares_the_embedding():
    m = tiny_model(tie_output=True)
    assert m.decoder.generator.weight is m.tgt_embed.table.weight


def test_configuration_errors():
    with pytest.raises(ConfigError, match="encoder output size \\(20\\) to equal"):
        tiny_model(encoder={"type": "rnn", "hidden_size": 10, "bidirectional": True})
    with pytest.raises(ConfigError, match="model.encoder.heads \\(3\\) must divide"):
        tiny_model(encoder=transformer(heads=3))
    with pytest.raises(ConfigError, match="model.decoder.positions: unknown 'rotary'"):
        tiny_model(decoder=transformer(positions="rotary"))
    with pytest.raises(ConfigError, match=r"model.decoder.layers: must be in \[1, 1000\], got 0"):
        tiny_model(decoder=transformer(layers=0))
    with pytest.raises(ConfigError, match="unknown key hidden_size"):
        tiny_model(decoder=transformer(hidden_size=16))
    m = tiny_model()
    src, lengths, tgt_in = batch()
    with pytest.raises(ConfigError, match="scheduled sampling"):
        m(src, lengths, tgt_in, teacher_forcing=0.5)


def test_positions_use_the_offset():
    x = torch.zeros(2, 3, 6)
    for pos in (SinusoidalPositions(6), LearnedPositions(6, 8)):
        full = pos(x)
        assert torch.equal(pos(x[:, :1], 2), full[:, 2:3])
        assert torch.equal(pos(x[:, :1], torch.tensor([2, 0])),
                           torch.stack([full[0, 2:3], full[1, 0:1]]))
    assert torch.equal(SinusoidalPositions(6)(x)[0, 0], torch.tensor([0.0, 1.0] * 3))
    with pytest.raises(NmtkitError, match="max_positions=8"):
        LearnedPositions(6, 8)(x, 6)


def test_layer_norms_survive_xavier_and_uniform_initialisation():
    for init in ("xavier", "uniform"):
        m = tiny_model(init=init)
        src, lengths, _ = batch()
        with torch.no_grad():
            memory = m.encode(src, lengths).memory
        assert memory[0].std() > 0.5  # pre-norm's final layer norm has gain ~1, not 0


def train_and_search(m):
    torch.manual_seed(1)
    src = torch.randint(4, SRC_VOCAB, (4, 6))
    src[2, 4:] = PAD
    lengths = (src != PAD).sum(1)
    tgt = torch.randint(4, TGT_VOCAB, (4, 5))
    tgt_in = torch.cat([torch.full((4, 1), BOS), tgt[:, :-1]], 1)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        scores = m(src, lengths, tgt_in).scores
        loss = torch.nn.functional.cross_entropy(scores.reshape(-1, TGT_VOCAB), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5
    m.eval()
    for beam in (1, 3):
        opts = SearchOptions(beam=beam, max_len=8, length_penalty=0.0)
        hyps = search(m, src, lengths, opts)
        assert len(hyps) == 4 and all(len(h) == 1 for h in hyps)
        for i, [best] in enumerate(hyps):  # the score is the hypothesis' log-probability
            assert all(0 < t < TGT_VOCAB and t != EOS for t in best.tokens)
            out = torch.tensor(best.tokens + [EOS])
            with torch.no_grad():
                scores = m(src[i : i + 1, : lengths[i]], lengths[i : i + 1],
                           torch.cat([torch.tensor([BOS]), out[:-1]]).unsqueeze(0)).scores
            log_probs = torch.log_softmax(scores[0], -1).gather(1, out.unsqueeze(1))
            if len(out) == opts.max_len:  # EOS was forced at the length limit
                log_probs = log_probs[:-1]
            assert abs(log_probs.sum().item() - best.score) < 1e-4


def test_transformer_seq2seq_trains_and_searches():
    train_and_search(tiny_model(encoder=transformer(dropout=0.1),
                                decoder=transformer(dropout=0.1)))


def test_rnn_encoder_with_transformer_decoder():
    m = tiny_model(encoder={"type": "rnn", "hidden_size": 8, "bidirectional": True,
                            "dropout": 0.0})
    stepwise_matches_forced(m)
    train_and_search(m)
