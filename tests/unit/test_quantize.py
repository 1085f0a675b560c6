"""nmtkit/models/int8.py and translate/quantize.py: int8 layers change how the model
computes, not what it computes, and a row's result never depends on the other rows."""

import pytest
import torch

from nmtkit.config import ModelConfig
from nmtkit.models.int8 import Int8Cell, Int8Linear, quantize_rows
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.translate.quantize import int8_weights


def small_model(cell: str = "lstm") -> Seq2Seq:
    torch.manual_seed(0)
    return Seq2Seq(ModelConfig(embed_dim=16, embed_dropout=0.0,
                               encoder={"type": "rnn", "hidden_size": 16, "dropout": 0.0,
                                        "cell": cell},
                               decoder={"type": "rnn", "hidden_size": 32, "dropout": 0.0,
                                        "cell": cell}),
                   20, 30).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_int8_weights_replace_linear_layers_and_cells_and_keep_the_scores_close(cell):
    model = small_model(cell)
    quantized = int8_weights(model)
    kinds = {type(m) for m in quantized.modules()}
    assert {Int8Linear, Int8Cell} <= kinds
    assert not kinds & {torch.nn.Linear, torch.nn.LSTMCell, torch.nn.GRUCell}
    assert any(type(m) is torch.nn.Linear for m in model.modules())  # the original is kept
    src = torch.randint(4, 20, (3, 7))
    lengths = torch.tensor([7, 5, 2])
    tgt = torch.randint(4, 30, (3, 6))
    with torch.no_grad():
        a = torch.log_softmax(model(src, lengths, tgt).scores, -1)
        b = torch.log_softmax(quantized(src, lengths, tgt).scores, -1)
    assert not torch.equal(a, b)  # computed differently ...
    assert (a - b).abs().max() < 0.05  # ... to within int8 rounding


def test_an_int8_row_does_not_depend_on_the_rows_beside_it():
    torch.manual_seed(1)
    layer = Int8Linear(torch.randn(300, 64), torch.randn(300))
    x = torch.randn(70, 64) * torch.rand(70, 1) * 10  # rows of very different magnitudes
    together = layer(x)
    for rows in (slice(0, 1), slice(3, 10), slice(5, 69)):
        assert torch.equal(layer(x[rows]), together[rows])
    assert torch.equal(layer(x.view(7, 10, 64)).view(70, 300), together)


def test_int8_products_are_exact_and_close_to_float():
    torch.manual_seed(2)
    w, x = torch.randn(50, 40), torch.randn(9, 40)
    layer = Int8Linear(w, None)
    q, scale = quantize_rows(x)
    exact = (q.double() @ layer.weight_t.double()) * scale.double() * layer.scale.double()
    assert torch.allclose(layer(x).double(), exact, rtol=1e-6, atol=1e-6)  # int32 sums
    assert (layer(x) - x @ w.t()).abs().max() < 0.05 * (x @ w.t()).abs().max()


def test_a_zero_row_quantizes_to_zeros():
    q, scale = quantize_rows(torch.zeros(2, 5))
    assert not q.any() and (scale > 0).all()


def test_shortlist_rows_of_an_int8_layer_are_its_own_columns():
    layer = Int8Linear(torch.randn(30, 8), torch.randn(30))
    ids = torch.tensor([0, 3, 29])
    x = torch.randn(4, 8)
    assert torch.equal(layer.rows(ids)(x), layer(x)[:, ids])
    assert layer.weight_t.size(1) == 30  # the layer itself is unchanged
