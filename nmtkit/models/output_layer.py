"""The output layer at decoding time, computed in column blocks.

On CPU, one matrix product of a step's rows with a large vocabulary ran at a fraction of
the throughput of the decoder's other products; the same product cut into blocks of 1,024
output columns, then concatenated, was faster, with the same lines, in float32 but not in
bfloat16 (autocast casts each block's weights), so float32 only (bench/output_blocks.py;
docs/benchmarks.md). Training (gradients on), GPUs, the compiled loop (inductor chooses its own
kernels) and small batches use the layer as it is.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

BLOCK = 1024  # output columns per block; 0 turns blocking off
MIN_ROWS = 64  # fewer rows: one product (blocks did not pay on 2 threads)


def project(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``layer(x)`` for x (rows, features)."""
    if (not BLOCK or type(layer) is not nn.Linear or layer.out_features <= 2 * BLOCK
            or x.dim() != 2 or x.size(0) < MIN_ROWS or x.device.type != "cpu"
            or x.dtype != torch.float32 or torch.is_autocast_enabled("cpu")
            or torch.is_grad_enabled() or torch.compiler.is_compiling()):
        return layer(x)
    weight, bias = layer.weight, layer.bias
    return torch.cat([F.linear(x, weight[i : i + BLOCK],
                               None if bias is None else bias[i : i + BLOCK])
                      for i in range(0, layer.out_features, BLOCK)], dim=1)
