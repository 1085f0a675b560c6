"""Attention maps (every layer and head of a teacher-forced pass), their views, segments
joined, and hard alignments from them."""

import pytest
import torch

from nmtkit.config import ModelConfig
from nmtkit.data.units import CharTokenizer, WordTokenizer, space_marked_words
from nmtkit.models.registry import ATTENTION
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.translate.alignment import pharaoh, piece_links, word_links
from nmtkit.translate.attention_blocks import BlockMap
from nmtkit.translate.attention_maps import attention_layers, attention_maps, select_views
from tests.unit.test_models import batch
from tests.unit.test_models import tiny_model as rnn_model
from tests.unit.test_transformer import batch as tf_batch
from tests.unit.test_transformer import tiny_model as tf_model
from tests.unit.test_transformer import transformer

OPTIONS = {"additive": {"coverage": True}, "multi_head": {"heads": 2}}


@pytest.mark.parametrize("name", ATTENTION.names())
@pytest.mark.parametrize("copy", [False, True])
def test_rnn_maps_are_one_layer_of_the_attention_types_heads(name, copy):
    """Every registered attention type, in a plain or a copying decoder."""
    attention = {"type": name, **OPTIONS.get(name, {})}
    heads = attention.get("heads", 1)
    # decoder size 20: the bidirectional encoder's output size, as dot products need; a
    # copying decoder needs one vocabulary for both sides
    cfg = ModelConfig(embed_dim=12, embed_dropout=0.0, share_embeddings=copy,
                      attention=attention,
                      encoder={"type": "rnn", "hidden_size": 10, "dropout": 0.0},
                      decoder={"type": "rnn", "hidden_size": 20, "dropout": 0.0, "copy": copy})
    torch.manual_seed(0)
    model = Seq2Seq(cfg, 30, 30 if copy else 25).eval()
    src, lengths, tgt_in = batch()
    with torch.no_grad():
        enc = model.encode(src, lengths)
        maps = model.decoder.attention_maps(tgt_in, enc)
        forced = model.decoder(tgt_in, model.encode(src, lengths)).attention
    assert maps.shape == (2, 1, heads, 3, 4)
    # the heads' average is the attention the decoder uses
    assert torch.allclose(maps.mean(2)[:, 0], forced, atol=1e-6)
    assert torch.all(maps[1, ..., 2:] == 0)  # padding
    assert torch.allclose(maps.sum(-1), torch.ones(2, 1, heads, 3), atol=1e-5)


def test_transformer_maps_are_every_layers_cross_attention_per_head():
    model = tf_model(decoder=transformer(layers=3, heads=4))
    src, lengths, tgt_in = tf_batch()
    with torch.no_grad():
        maps = model.decoder.attention_maps(tgt_in, model.encode(src, lengths))
        forced = model(src, lengths, tgt_in).attention
    assert maps.shape == (2, 3, 4, 5, 4)
    assert torch.allclose(maps[:, -1].mean(1), forced, atol=1e-6)
    assert not torch.allclose(maps[:, 0], maps[:, -1])  # the layers differ
    assert torch.all(maps[1, ..., 2:] == 0)


def test_maps_per_pair_have_a_row_per_target_piece_and_the_end_and_a_column_per_source():
    model = tf_model()
    sources, targets = [[5, 6, 7], [], [8, 9, 10, 11, 12], [5]], [[4, 5], [4], [], [6, 7, 8]]
    with torch.no_grad():
        out = attention_maps(model, sources, targets, "all", batch_size=2)
    assert out[1] is None  # an empty source
    for (mean, views), s, t in zip((out[0], out[2], out[3]), (sources[0], sources[2], sources[3]),
                                   (targets[0], targets[2], targets[3])):
        assert mean.shape == (len(t) + 1, len(s)) and mean.dtype == torch.float32
        assert len(views) == 2 * 2 and all(v.shape == mean.shape for _, v in views)
        assert torch.allclose(mean, (views[2][1] + views[3][1]) / 2, atol=1e-6)
    # batched with other pairs or alone, a pair's map is the same
    with torch.no_grad():
        alone = attention_maps(model, sources[2:3], targets[2:3], "mean")[0][0]
    assert torch.allclose(alone, out[2][0], atol=1e-5)


def test_a_chosen_layer_gives_the_mean_map_and_the_heads():
    model = tf_model(decoder=transformer(layers=3, heads=2))
    assert attention_layers(model) == 3
    assert attention_layers(rnn_model()) == 1
    sources, targets = [[5, 6, 7], [8, 9]], [[4, 5], [6, 7, 8]]
    with torch.no_grad():
        last = attention_maps(model, sources, targets, "layers")
        first = attention_maps(model, sources, targets, "heads", layer=1)
    for (mean_last, layers), (mean_first, heads) in zip(last, first):
        assert torch.allclose(mean_last, layers[2][1]) and torch.allclose(mean_first, layers[0][1])
        assert not torch.allclose(mean_first, mean_last)
        assert [label for label, _ in heads] == ["layer 1, head 1", "layer 1, head 2"]
        assert torch.allclose(mean_first, (heads[0][1] + heads[1][1]) / 2, atol=1e-6)


def test_views_select_heads_layers_or_both():
    maps = torch.rand(3, 2, 4, 5)  # layers, heads, rows, columns
    assert select_views(maps, "mean") == []
    heads = select_views(maps, "heads")
    assert [label for label, _ in heads] == ["layer 3, head 1", "layer 3, head 2"]
    assert torch.equal(heads[1][1], maps[2, 1])
    assert torch.equal(select_views(maps, "heads", layer=2)[0][1], maps[1, 0])
    layers = select_views(maps, "layers")
    assert [label for label, _ in layers] == ["layer 1", "layer 2", "layer 3"]
    assert torch.allclose(layers[0][1], maps[0].mean(0))
    assert len(select_views(maps, "all")) == 6


def test_segments_join_block_diagonally_without_their_inner_end_rows():
    a = torch.arange(1, 7, dtype=torch.float).view(3, 2)  # 2 pieces + end, 2 source pieces
    b = torch.arange(7, 13, dtype=torch.float).view(2, 3)  # 1 piece + end, 3 source pieces
    blocks = BlockMap.join([a, b])
    assert (blocks.rows, blocks.cols) == (4, 5) and blocks.cells == 20
    joined = blocks.dense()
    assert joined.shape == (4, 5)
    assert torch.equal(joined[:2, :2], a[:2]) and torch.equal(joined[2:, 2:], b)
    assert joined[:2, 2:].abs().sum() == 0 and joined[2:, :2].abs().sum() == 0
    assert torch.equal(BlockMap.join([a]).dense(), a)


def test_each_target_piece_links_to_the_source_piece_it_attends_to_most():
    attention = torch.tensor([[0.1, 0.8, 0.1],
                              [0.7, 0.2, 0.1],
                              [0.2, 0.2, 0.6],
                              [0.9, 0.0, 0.1]])  # the end-of-sentence row links nowhere
    links = piece_links(attention)
    assert links == [(0, 1), (1, 0), (2, 2)]
    assert pharaoh(links) == "0-1 1-0 2-2"
    assert piece_links(torch.ones(1, 3) / 3) == []  # an empty translation


def test_word_links_merge_pieces_into_words():
    src = ["▁The", "▁do", "g", "▁", "."]  # The dog .
    tgt = ["▁Der", "▁Hu", "nd", "."]  # Der Hund.
    assert space_marked_words(src) == [0, 1, 1, 2, 2]
    assert space_marked_words(tgt) == [0, 1, 1, 1]
    links = [(0, 0), (1, 1), (2, 2), (4, 3)]
    assert word_links(links, space_marked_words(src), space_marked_words(tgt)) == \
        [(0, 0), (1, 1), (2, 1)]
    assert WordTokenizer().word_ids(["a", "b", "c"]) == [0, 1, 2]
    chars = CharTokenizer()
    assert chars.word_ids(chars.encode("ab c")) == [0, 0, 1, 1]
