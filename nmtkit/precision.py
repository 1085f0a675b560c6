"""Reduced precision: bfloat16 matrix products with float32 weights (and, in training,
float32 loss and optimizer), for training and for translation."""

from __future__ import annotations

import contextlib

import torch

from nmtkit.config import PRECISIONS
from nmtkit.errors import ConfigError


def native_bf16(device: torch.device) -> bool:
    """True where bfloat16 matrix products run natively (and so faster than float32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def resolve_precision(precision: str, device: torch.device, where: str = "train.precision") -> str:
    if precision not in PRECISIONS:
        raise ConfigError(f"{where}: unknown '{precision}'; valid: {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def autocast(precision: str, device: torch.device):
    """Context for the forward pass; a no-op for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
