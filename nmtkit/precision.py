"""Reduced precision: bfloat16 (or float16) matrix products with float32 weights (and, in
training, float32 loss and optimizer), for training and for translation. Training in
float16 also scales its loss with a gradient scaler (see the trainer)."""

from __future__ import annotations

import contextlib

import torch

from nmtkit.config import PRECISIONS
from nmtkit.errors import ConfigError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


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
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(f"{where} fp16: needs a CUDA GPU (float16 is slow or unsupported "
                          "on CPU, where recurrent layers have no float16 kernel); use bf16 "
                          "or fp32")
    return precision


def autocast(precision: str, device: torch.device):
    """Context for the forward pass; a no-op for fp32."""
    if precision in DTYPES:
        return torch.autocast(device.type, dtype=DTYPES[precision])
    return contextlib.nullcontext()
