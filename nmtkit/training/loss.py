"""Token-level cross-entropy with label smoothing, padding ignored."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nmtkit.data.vocab import PAD


def token_loss(logits: torch.Tensor, target: torch.Tensor, label_smoothing: float = 0.0
               ) -> torch.Tensor:
    """Summed loss over non-padding tokens. logits (batch, len, vocab); target (batch, len)."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1),
                           ignore_index=PAD, label_smoothing=label_smoothing, reduction="sum")
