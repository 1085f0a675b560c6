"""Token-level cross-entropy with label smoothing, padding ignored."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nmtkit.data.vocab import PAD


def token_loss(logits: torch.Tensor, target: torch.Tensor, label_smoothing: float = 0.0,
               no_output: tuple[int, ...] = ()) -> torch.Tensor:
    """Summed loss over non-padding tokens. logits (batch, len, vocab); target (batch, len).

    ``no_output``: columns the model never gives probability (the decoder's ``no_output``;
    only ``(PAD,)`` is known): label smoothing spreads its mass over the other columns,
    as the log-probability of such a column is -inf.
    """
    logits, target = logits.reshape(-1, logits.size(-1)), target.reshape(-1)
    if no_output:
        if tuple(no_output) != (PAD,):
            raise ValueError(f"no_output {no_output}: only the padding column is supported")
        return F.cross_entropy(logits[:, PAD + 1 :], target - (PAD + 1), ignore_index=-1,
                               label_smoothing=label_smoothing, reduction="sum")
    return F.cross_entropy(logits, target, ignore_index=PAD, label_smoothing=label_smoothing,
                           reduction="sum")
