import pytest
import torch

from nmtkit.config import ModelConfig
from nmtkit.data.vocab import BOS
from nmtkit.errors import ConfigError
from nmtkit.models.encoders.rnn import reverse_padded
from nmtkit.models.seq2seq import Seq2Seq


def tiny_model(**overrides):
    options = dict(embed_dim=12, embed_dropout=0.0,
                   encoder={"type": "rnn", "hidden_size": 10, "dropout": 0.0},
                   decoder={"type": "rnn", "hidden_size": 14, "dropout": 0.0})
    options.update(overrides)
    cfg = ModelConfig(**options)
    torch.manual_seed(0)
    return Seq2Seq(cfg, 30, 25).eval()


def batch():
    src = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    return src, torch.tensor([4, 2]), torch.tensor([[BOS, 4, 5], [BOS, 6, 0]])


def test_reverse_padded_keeps_padding_in_place():
    x = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])
    assert reverse_padded(x, torch.tensor([4, 2])).tolist() == [[4, 3, 2, 1], [6, 5, 0, 0]]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_encoder_shapes_and_final_states(cell, bidirectional):
    m = tiny_model(encoder={"type": "rnn", "cell": cell, "hidden_size": 10, "layers": 2,
                            "bidirectional": bidirectional})
    src, lengths, _ = batch()
    enc = m.encode(src, lengths)
    dirs = 2 if bidirectional else 1
    assert enc.memory.shape == (2, 4, 10 * dirs)
    assert len(enc.final) == (2 if cell == "lstm" else 1)
    assert enc.final[0].shape == (2, 2, 10 * dirs)
    assert enc.mask.tolist() == [[True] * 4, [True, True, False, False]]


def test_padding_does_not_change_the_encoding():
    m = tiny_model()
    src, lengths, _ = batch()
    alone = m.encode(src[1:, :2], lengths[1:])
    together = m.encode(src, lengths)
    assert torch.allclose(alone.memory[0], together.memory[1, :2], atol=1e-6)
    assert torch.allclose(alone.final[0][:, 0], together.final[0][:, 1], atol=1e-6)


def test_reversed_source_changes_the_encoding_but_not_the_alignment_of_positions():
    m = tiny_model(encoder={"type": "rnn", "hidden_size": 10, "bidirectional": False,
                            "reverse_source": True, "dropout": 0.0})
    src, lengths, _ = batch()
    enc = m.encode(src, lengths)
    assert enc.memory.shape == (2, 4, 10)
    assert torch.all(enc.memory[1, 2:] == 0)  # padding stays at the end


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("input_feeding", [True, False])
def test_teacher_forcing_equals_stepwise_decoding(cell, input_feeding):
    m = tiny_model(decoder={"type": "rnn", "cell": cell, "hidden_size": 14, "layers": 2,
                            "input_feeding": input_feeding, "dropout": 0.0})
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        forced = torch.log_softmax(m(src, lengths, tgt_in).scores, -1)
        enc = m.encode(src, lengths)
        state = m.decoder.start_state(enc)
        for t in range(tgt_in.size(1)):
            out = m.decoder.step(tgt_in[:, t], state, enc)
            assert torch.allclose(out.log_probs, forced[:, t], atol=1e-5)
            assert out.attention.shape == (2, 4)
            state = out.state


def test_reorder_state_selects_rows():
    m = tiny_model()
    src, lengths, _ = batch()
    state = m.decoder.start_state(m.encode(src, lengths))
    swapped = m.decoder.reorder_state(state, torch.tensor([1, 0, 1]))
    assert torch.equal(swapped.hidden[:, 0], state.hidden[:, 1])
    assert swapped.feed.shape[0] == 3 and swapped.hidden.shape[1] == 3


@pytest.mark.parametrize("bridge", ["none", "dense"])
def test_bridges(bridge):
    m = tiny_model(bridge={"type": bridge})
    src, lengths, _ = batch()
    state = m.decoder.start_state(m.encode(src, lengths))
    assert state.hidden.shape == (1, 2, 14)
    assert bool((state.hidden == 0).all()) == (bridge == "none")


def test_copy_bridge_needs_equal_sizes():
    with pytest.raises(ConfigError, match="bridge 'copy' needs"):
        tiny_model(bridge={"type": "copy"})
    m = tiny_model(bridge={"type": "copy"},
                   decoder={"type": "rnn", "hidden_size": 20, "dropout": 0.0})
    src, lengths, _ = batch()
    enc = m.encode(src, lengths)
    assert torch.equal(m.decoder.start_state(enc).hidden, enc.final[0])


def test_unknown_component_option_lists_valid_keys():
    with pytest.raises(ConfigError, match="encoder: unknown key hiden_size; valid keys: cell"):
        tiny_model(encoder={"type": "rnn", "hiden_size": 3})
    with pytest.raises(ConfigError, match="unknown encoder 'cnn'; valid names: .*rnn"):
        tiny_model(encoder={"type": "cnn"})


def test_tied_output_shares_the_embedding():
    m = tiny_model(decoder={"type": "rnn", "hidden_size": 12, "dropout": 0.0}, tie_output=True)
    assert m.decoder.generator.weight is m.tgt_embed.table.weight
    with pytest.raises(ConfigError, match="tie_output needs embed_dim"):
        tiny_model(tie_output=True)


@pytest.mark.parametrize("scheme", ["uniform", "xavier", "default"])
def test_initialisation_schemes_keep_padding_zero(scheme):
    m = tiny_model(init=scheme, init_scale=0.05)
    assert torch.all(m.src_embed.table.weight[0] == 0)
    assert torch.all(m.tgt_embed.table.weight[0] == 0)
    if scheme == "uniform":
        assert all(p.abs().max() <= 0.05 for p in m.parameters())
    if scheme == "xavier":
        assert torch.all(m.decoder.generator.bias == 0)


def test_unknown_initialisation():
    with pytest.raises(ConfigError, match="model.init: unknown 'zeros'"):
        tiny_model(init="zeros")


def test_bridges_that_need_final_states_say_so():
    from nmtkit.models.bridges.basic import BridgeShape, DenseBridge

    with pytest.raises(ConfigError, match="bridge 'dense' needs an encoder with final states"):
        DenseBridge(DenseBridge.Config(), BridgeShape(None, 0, 8, 1, 2))


def test_mean_encoder_averages_real_positions():
    m = tiny_model(encoder={"type": "mean"}, bridge={"type": "dense"})
    src, lengths, tgt_in = batch()
    enc = m.encode(src, lengths)
    emb = m.src_embed(src[1:, :2])
    assert torch.allclose(enc.final[0][0, 1], emb[0].mean(0), atol=1e-6)
    assert torch.all(enc.memory[1, 2:] == 0)
    assert m(src, lengths, tgt_in).scores.shape == (2, 3, 25)


def shared_model(**decoder):
    cfg = ModelConfig(embed_dim=12, embed_dropout=0.0, share_embeddings=True,
                      encoder={"type": "rnn", "hidden_size": 10, "dropout": 0.0},
                      decoder={"type": "rnn", "hidden_size": 14, "dropout": 0.0, **decoder})
    torch.manual_seed(0)
    return Seq2Seq(cfg, 30, 30).eval()


def test_copy_layer_gives_probabilities_that_sum_to_one():
    m = shared_model(copy=True)
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        scores = m(src, lengths, tgt_in).scores
        assert torch.allclose(scores.exp().sum(-1), torch.ones(2, 3), atol=1e-5)
        enc = m.encode(src, lengths)
        out = m.decoder.step(tgt_in[:, 0], m.decoder.start_state(enc), enc)
        assert torch.allclose(out.log_probs.exp().sum(-1), torch.ones(2), atol=1e-5)
        assert torch.allclose(out.log_probs, scores[:, 0], atol=1e-5)


def test_copy_layer_puts_mass_on_source_tokens():
    m = shared_model(copy=True)
    with torch.no_grad():
        m.decoder.copy_gate.bias.fill_(-30.0)  # always copy
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        probs = m(src, lengths, tgt_in).scores.exp()
    in_source = torch.zeros(2, 30, dtype=torch.bool)
    in_source.scatter_(1, src, True)
    in_source[:, 0] = False  # padding ids carry no weight
    assert torch.allclose((probs * in_source.unsqueeze(1)).sum(-1), torch.ones(2, 3), atol=1e-4)


def test_copy_needs_a_shared_vocabulary():
    with pytest.raises(ConfigError, match="copy needs one vocabulary"):
        tiny_model(decoder={"type": "rnn", "hidden_size": 14, "copy": True})


def test_coverage_loss_is_reported():
    m = tiny_model(attention={"type": "additive", "coverage": True, "coverage_loss": 0.5})
    src, lengths, tgt_in = batch()
    out = m(src, lengths, tgt_in)
    assert out.aux_loss is not None and out.aux_loss.item() > 0
    assert out.attention.shape == (2, 3, 4)


def test_scheduled_sampling_feeds_own_predictions():
    m = tiny_model()
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        gold = m(src, lengths, tgt_in, teacher_forcing=1.0).scores.log_softmax(-1)
        torch.manual_seed(0)
        own = m(src, lengths, tgt_in, teacher_forcing=0.0).scores.log_softmax(-1)
    assert torch.allclose(gold[:, 0], own[:, 0], atol=1e-5)  # the first input is always BOS
    predicted = gold[:, 0].argmax(-1)
    if not torch.equal(predicted, tgt_in[:, 1]):
        assert not torch.allclose(gold[:, 1], own[:, 1])
