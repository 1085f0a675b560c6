"""The ``--device`` option: checked before any work starts."""

from __future__ import annotations

import re

import torch

from nmtkit.errors import ConfigError

_DEVICE = re.compile(r"cpu|cuda(?::(\d+))?")


def resolve_device(name: str, where: str = "--device") -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N`` as a torch device; a device this machine does not
    have is one line saying so, not a CUDA traceback at the first tensor."""
    m = _DEVICE.fullmatch(str(name))
    if not m:
        raise ConfigError(f"{where}: unknown device '{name}'; valid: cpu, cuda, cuda:N")
    if name == "cpu":
        return torch.device("cpu")
    if torch.version.cuda is None:
        raise ConfigError(f"{where} {name}: this PyTorch build has no CUDA (torch "
                          f"{torch.__version__}); use --device cpu or install a CUDA build")
    if not torch.cuda.is_available():
        raise ConfigError(f"{where} {name}: no CUDA GPU is visible; use --device cpu")
    index = int(m.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise ConfigError(f"{where} {name}: this machine has {torch.cuda.device_count()} "
                          f"CUDA GPU(s), numbered from 0")
    return torch.device(name)
