"""int8 weights for CPU translation, and the choice of precision (``--precision``).

int8: the model's linear layers (the output projection above all) and recurrent cells
swapped for the batch-invariant int8 layers of :mod:`nmtkit.models.int8` (weights per
output channel, activations per row), so an int8 line, like a float32 one, does not
depend on the batch it was translated in."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from nmtkit.errors import ConfigError
from nmtkit.model_folder.int8_check import TOLERANCE, read_check
from nmtkit.models.int8 import available, int8_layers, is_int8
from nmtkit.precision import resolve_precision
from nmtkit.translate.options import TranslateOptions


def int8_weights(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose linear layers and recurrent cells compute in int8 (the
    model itself if it computes in int8 already: translators may share one)."""
    if is_int8(model):
        return model
    if not available():
        raise ConfigError("--precision int8: this PyTorch has no int8 matrix product "
                          "(torch._int_mm); use --precision fp32")
    return int8_layers(model)


def _check_int8(opts: TranslateOptions, device: torch.device) -> str:
    if device.type != "cpu":
        raise ConfigError("--precision int8: for CPU translation (its kernels are CPU "
                          "only); on a GPU use bf16 or fp16")
    if opts.compile == "on":
        raise ConfigError("--precision int8 does not go through the compiled loop; use "
                          "--compile off or auto")
    return "int8"


def choose_precision(opts: TranslateOptions, model_dirs: list[Path | None],
                     device: torch.device) -> tuple[str, str]:
    """The precision to translate in and, for ``auto``, why (one line for stderr; "" for
    a precision asked by name). ``auto``: int8 on CPU where the model folder's int8 check
    (``int8_check.json``, written by training or ``nmtkit check-int8``) is for these
    weights and int8 lost at most its tolerance of BLEU there; float32 otherwise. Both are
    batch-invariant."""
    if opts.precision == "int8":
        return _check_int8(opts, device), ""
    if opts.precision != "auto":
        return resolve_precision(opts.precision, device, "--precision"), ""
    if device.type != "cpu":
        return "fp32", "fp32 (int8 is for CPU translation)"
    if opts.compile == "on":
        return "fp32", "fp32 (--compile on runs float32)"
    for path in model_dirs:  # an ensemble's: int8 where every model's check passed
        check = read_check(path) if path is not None else None
        if check is None:
            return "fp32", ("fp32 (int8 not checked for these weights; nmtkit check-int8 "
                            f"{path or 'MODEL_DIR'} --data DATA_DIR checks it)")
        if not check.passed:
            return "fp32", f"fp32 (int8 lost more than {TOLERANCE} BLEU: {check.summary()})"
    if len(model_dirs) > 1:
        return "int8", f"int8 (the int8 checks of all {len(model_dirs)} models passed)"
    return "int8", f"int8 ({check.summary()})"
