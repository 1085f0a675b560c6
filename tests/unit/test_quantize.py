"""nmtkit/translate/quantize.py: int8 weights change the layers, not what the model computes."""

import torch
from torch.ao.nn.quantized.dynamic import LSTM, Linear

from nmtkit.config import ModelConfig
from nmtkit.models.seq2seq import Seq2Seq
from nmtkit.translate.quantize import int8_weights


def test_int8_weights_replace_linear_and_recurrent_layers_and_keep_the_scores_close():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(embed_dim=16, embed_dropout=0.0,
                                encoder={"type": "rnn", "hidden_size": 16, "dropout": 0.0},
                                decoder={"type": "rnn", "hidden_size": 32, "dropout": 0.0}),
                    20, 30).eval()
    quantized = int8_weights(model)
    kinds = {type(m) for m in quantized.modules()}
    assert {Linear, LSTM} <= kinds  # int8 versions
    assert torch.nn.Linear not in kinds and torch.nn.LSTM not in kinds
    assert any(type(m) is torch.nn.Linear for m in model.modules())  # the original is kept
    src = torch.randint(4, 20, (3, 7))
    lengths = torch.tensor([7, 5, 2])
    tgt = torch.randint(4, 30, (3, 6))
    with torch.no_grad():
        a = torch.log_softmax(model(src, lengths, tgt).scores, -1)
        b = torch.log_softmax(quantized(src, lengths, tgt).scores, -1)
    assert not torch.equal(a, b)  # computed differently ...
    assert (a - b).abs().max() < 0.05  # ... to within int8 rounding
