"""nmtkit/precision.py: what ``auto`` resolves to, and what bf16 changes. The hardware
checks are monkeypatched, so every case runs on any machine."""

import pytest
import torch

from nmtkit.errors import ConfigError
from nmtkit.precision import autocast, resolve_precision

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def cpu_bf16(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: native)


def cuda_bf16(monkeypatch, native: bool, emulated: bool | None = None) -> None:
    """A GPU that does bfloat16 natively, or (``emulated``) only through emulation."""
    emulated = native if emulated is None else emulated

    def is_bf16_supported(including_emulation: bool = True) -> bool:
        return native or (including_emulation and emulated)

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_on_a_cpu_is_bf16_only_where_the_cpu_has_it_natively(monkeypatch, native,
                                                                   expected):
    cpu_bf16(monkeypatch, native)
    cuda_bf16(monkeypatch, not native)  # a GPU beside it does not count
    assert resolve_precision("auto", CPU) == expected


@pytest.mark.parametrize("error", [RuntimeError, AttributeError])
def test_auto_on_a_cpu_whose_check_fails_is_fp32(monkeypatch, error):
    def check():
        raise error("no oneDNN in this build")

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", check)
    assert resolve_precision("auto", CPU) == "fp32"


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_on_cuda_follows_the_gpu_not_the_cpu(monkeypatch, native, expected):
    cuda_bf16(monkeypatch, native)
    cpu_bf16(monkeypatch, not native)
    assert resolve_precision("auto", CUDA) == expected
    assert resolve_precision("auto", torch.device("cuda:1")) == expected


def test_auto_on_a_gpu_that_only_emulates_bf16_is_fp32(monkeypatch):
    cuda_bf16(monkeypatch, native=False, emulated=True)
    assert resolve_precision("auto", CUDA) == "fp32"


def test_auto_on_other_devices_is_fp32(monkeypatch):
    cpu_bf16(monkeypatch, True)
    cuda_bf16(monkeypatch, True)
    assert resolve_precision("auto", torch.device("meta")) == "fp32"


def test_an_explicit_precision_is_kept_whatever_the_hardware(monkeypatch):
    cpu_bf16(monkeypatch, False)
    assert resolve_precision("bf16", CPU) == "bf16"
    cpu_bf16(monkeypatch, True)
    assert resolve_precision("fp32", CPU) == "fp32"
    with pytest.raises(ConfigError,
                       match="train.precision: unknown 'fp8'; valid: auto, fp32, bf16, fp16"):
        resolve_precision("fp8", CPU)
    with pytest.raises(ConfigError, match="--precision fp16: needs a CUDA GPU"):
        resolve_precision("fp16", CPU, "--precision")


def test_bf16_runs_matrix_products_in_bfloat16_and_fp32_does_not():
    layer = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with autocast("bf16", CPU):
        assert layer(x).dtype == torch.bfloat16
    assert layer.weight.dtype == torch.float32  # weights stay float32
    with autocast("fp32", CPU):
        assert layer(x).dtype == torch.float32
