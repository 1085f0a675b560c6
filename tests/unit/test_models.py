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
    options = {"type": "rnn", "hidden_size": 10, "bidirectional": False, "dropout": 0.0}
    reversing = tiny_model(encoder={**options, "reverse_source": True})
    plain = tiny_model(encoder=options)  # the same weights: reverse_source adds none
    src, lengths, _ = batch()  # [[5, 6, 7, 8], [9, 10, pad, pad]]
    backwards = torch.tensor([[8, 7, 6, 5], [10, 9, 0, 0]])
    with torch.no_grad():
        enc = reversing.encode(src, lengths)
        forwards = plain.encode(src, lengths)
        read_backwards = plain.encode(backwards, lengths)
        last_alone = reversing.encode(torch.tensor([[8], [10]]), torch.tensor([1, 1]))
    assert enc.memory.shape == (2, 4, 10)
    assert torch.equal(enc.mask, forwards.mask)
    assert torch.all(enc.memory[1, 2:] == 0)  # padding stays at the end
    # It reads the source backwards: its final state is the plain encoder's on the
    # reversed sentence, and its memory differs from the plain encoder's.
    assert torch.allclose(enc.final[0], read_backwards.final[0], atol=1e-6)
    assert not torch.allclose(enc.memory, forwards.memory, atol=1e-3)
    # ... and memory position i belongs to source token i again: the plain encoder's
    # memory of the reversed sentence, put back in source order.
    in_source_order = read_backwards.memory[[[0], [1]], [[3, 2, 1, 0], [1, 0, 2, 3]]]
    assert torch.allclose(enc.memory, in_source_order, atol=1e-6)
    # The last source token is read first, so its memory has seen that token alone.
    assert torch.allclose(enc.memory[0, 3], last_alone.memory[0, 0], atol=1e-6)
    assert torch.allclose(enc.memory[1, 1], last_alone.memory[1, 0], atol=1e-6)


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
    """aux_loss = weight * sum over real target steps t and source positions i of
    min(a_t,i, c_t,i), with c_t the sum of the earlier steps' attention (See et al., 2017)."""
    m = tiny_model(attention={"type": "additive", "coverage": True, "coverage_loss": 0.5})
    src, lengths, tgt_in = batch()  # the second target ends in padding
    with torch.no_grad():
        out = m(src, lengths, tgt_in)
    assert out.attention.shape == (2, 3, 4)
    a = out.attention.double()
    coverage = torch.cumsum(a, dim=1) - a  # attention of the steps before each step
    real = (tgt_in != 0).unsqueeze(-1)
    expected = 0.5 * torch.minimum(a, coverage).masked_fill(~real, 0).sum()
    assert expected > 0
    assert out.aux_loss.item() == pytest.approx(expected.item(), rel=1e-5)
    # The padded step would add to it: the loss leaves it out.
    assert torch.minimum(a, coverage)[1, 2].sum() > 1e-3
    without = tiny_model(attention={"type": "additive", "coverage": True, "coverage_loss": 0.0})
    assert without(src, lengths, tgt_in).aux_loss is None


def test_scheduled_sampling_feeds_own_predictions():
    m = tiny_model(init_scale=0.5)  # weights large enough for inputs to matter
    src, lengths, _ = batch()
    with torch.no_grad():
        enc = m.encode(src, lengths)
        first = m.decoder.step(torch.full((2,), BOS), m.decoder.start_state(enc), enc)
        predicted = first.log_probs.argmax(-1)
        # Gold inputs that are never the model's first prediction.
        gold_next = torch.where(predicted == 4, 5, 4)
        tgt_in = torch.stack([torch.full((2,), BOS), gold_next, gold_next + 2], dim=1)
        forced = m(src, lengths, tgt_in, teacher_forcing=1.0).scores.log_softmax(-1)
        own = m(src, lengths, tgt_in, teacher_forcing=0.0).scores.log_softmax(-1)
        # With teacher_forcing=0 every input after BOS is the previous step's argmax:
        # greedy decoding step by step.
        state, prev = m.decoder.start_state(enc), torch.full((2,), BOS)
        for t in range(tgt_in.size(1)):
            step = m.decoder.step(prev, state, enc)
            assert torch.allclose(own[:, t], step.log_probs, atol=1e-5)
            state, prev = step.state, step.log_probs.argmax(-1)
    assert torch.allclose(forced[:, 0], own[:, 0], atol=1e-5)  # the first input is always BOS
    for row in range(2):  # the gold input of step 1 is not the prediction: the scores differ
        assert (forced[row, 1] - own[row, 1]).abs().max() > 0.05


def test_the_output_layer_in_column_blocks_gives_the_layers_outputs(monkeypatch):
    from types import SimpleNamespace

    from nmtkit.models import output_layer
    from nmtkit.models.output_layer import BLOCK, project

    calls = []

    def linear(x, weight, bias):
        calls.append(weight.size(0))
        return torch.nn.functional.linear(x, weight, bias)

    monkeypatch.setattr(output_layer, "F", SimpleNamespace(linear=linear))
    layer = torch.nn.Linear(16, 2 * BLOCK + 300)
    x = torch.randn(70, 16)
    with torch.no_grad():
        blocked = project(layer, x)
        assert calls == [BLOCK, BLOCK, 300]
        assert blocked.shape == (70, 2 * BLOCK + 300)
        assert torch.allclose(blocked, layer(x), atol=1e-6)
    # Training keeps one product (and its gradient); so do small batches.
    assert type(project(layer, x).grad_fn).__name__ == "AddmmBackward0"
    with torch.no_grad():
        assert torch.equal(project(layer, x[:8]), layer(x[:8]))
