"""The first LSTM cell of an input-feeding decoder with its embedding part as a table."""

import torch
from torch import nn

from nmtkit.models.input_table import InputTable


def parts(seed=0, vocab=11, dim=6, feed=5, hidden=5, batch=4):
    torch.manual_seed(seed)
    cell = nn.LSTMCell(dim + feed, hidden).eval()
    embedding = torch.randn(vocab, dim)
    tokens = torch.randint(0, vocab, (batch,))
    return (cell, embedding, tokens, torch.randn(batch, feed), torch.randn(batch, hidden),
            torch.randn(batch, hidden))


def test_the_table_gives_what_the_cell_gives():
    cell, embedding, tokens, feed, h, c = parts()
    table = InputTable()
    with torch.no_grad():
        assert table.usable(cell, embedding, feed)
        got = table.step(cell, embedding, tokens, feed, h, c)
        want = cell(torch.cat([embedding[tokens], feed], 1), (h, c))
    for g, w in zip(got, want):
        assert torch.allclose(g, w, atol=1e-6)


def test_the_table_is_remade_when_a_weight_changes_in_place():
    cell, embedding, tokens, feed, h, c = parts()
    table = InputTable()
    with torch.no_grad():
        table.step(cell, embedding, tokens, feed, h, c)
        cell.bias_ih.add_(1.0)  # as an optimizer step does
        embedding.mul_(2.0)
        got = table.step(cell, embedding, tokens, feed, h, c)
        want = cell(torch.cat([embedding[tokens], feed], 1), (h, c))
    assert torch.allclose(got[0], want[0], atol=1e-6)


def test_not_used_with_gradients_in_training_or_beyond_float32():
    cell, embedding, _, feed, _, _ = parts()
    table = InputTable()
    assert not table.usable(cell, embedding, feed)  # gradients on
    with torch.no_grad():
        assert not table.usable(cell, embedding, feed.bfloat16())
        cell.train()
        assert not table.usable(cell, embedding, feed)


def test_decoding_with_the_table_gives_the_lines_of_the_cell(monkeypatch):
    from nmtkit.config import ModelConfig
    from nmtkit.models.seq2seq import Seq2Seq
    from nmtkit.search import SearchOptions, search

    torch.manual_seed(1)
    model = Seq2Seq(ModelConfig(embed_dim=8, encoder={"type": "rnn", "hidden_size": 8},
                                decoder={"type": "rnn", "hidden_size": 12}), 20, 20).eval()
    src = torch.randint(4, 20, (6, 7))
    lengths = torch.full((6,), 7)
    opts = SearchOptions(beam=3, max_len=12)
    with_table = search(model, src, lengths, opts)
    assert model.decoder.input_table.key is not None  # it was used
    monkeypatch.setattr(InputTable, "usable", lambda *args: False)
    without = search(model, src, lengths, opts)
    assert [h[0].tokens for h in with_table] == [h[0].tokens for h in without]
