"""Compiled decoding steps saved to the cache and loaded by a later process
(nmtkit/search/saved_steps.py)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import torch

from nmtkit.search import saved_steps
from nmtkit.search.saved_steps import SavedSteps, signature, step_key
from tests.conftest import needs_cpp_compiler


@dataclass
class State:
    h: torch.Tensor


class Cell(torch.nn.Module):
    def __init__(self, size: int = 8):
        super().__init__()
        self.linear = torch.nn.Linear(size, size)


def step(cell: Cell, x: torch.Tensor, state: State):
    h = torch.tanh(cell.linear(x) + state.h)
    return h.sum(-1), State(h)


class CountingBackend:
    """Inductor, counting the graphs it compiles."""

    def __init__(self):
        self.graphs = 0

    def __call__(self, graph, example_inputs):
        from torch._inductor.compile_fx import compile_fx

        self.graphs += 1
        return compile_fx(graph, example_inputs)


def _args(rows: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, 8, generator=g), State(torch.randn(rows, 8, generator=g))


def test_the_key_follows_shapes_and_architecture_not_weights():
    torch.manual_seed(0)
    a, b, wide = Cell(), Cell(), Cell(16)
    x, s = _args(4)
    assert not torch.equal(a.linear.weight, b.linear.weight)
    assert step_key(step, (a, x, s)) == step_key(step, (b, *_args(4, seed=1)))
    assert step_key(step, (a, x, s)) != step_key(step, (a, *_args(5)))
    assert step_key(step, (a, x, s)) != step_key(step, (wide, x, s))
    assert step_key(step, (a, x, s)) != step_key(step, (a, x.double(), s))
    assert "State(T(4, 8)torch.float32cpu)" in signature((x, s))
    plain = step_key(step, (a, x, s))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert step_key(step, (a, x, s)) != plain  # bf16 steps are other graphs


@needs_cpp_compiler
@torch.inference_mode()
def test_a_saved_step_is_loaded_and_a_torn_or_mismatched_file_compiled_again(tmp_path):
    cell = Cell().eval()
    x, s = _args(4)
    want = step(cell, x, s)[0]
    backend = CountingBackend()
    first = SavedSteps(step, backend, tmp_path)
    key = step_key(step, (cell, x, s))
    tmp_path.joinpath(first.path(key).name).write_bytes(b"torn")  # a file cut short
    torch.testing.assert_close(first(cell, x, s)[0], want)
    assert (first.loaded, backend.graphs) == (0, 1)  # the torn file was compiled again

    later = SavedSteps(step, backend, tmp_path)  # a later process: the same key
    other = Cell().eval()  # other weights, the same architecture
    torch.testing.assert_close(later(other, x, s)[0], step(other, x, s)[0])
    assert (later.loaded, backend.graphs) == (1, 1)  # loaded, nothing compiled

    # A file whose guards do not hold for its key's arguments (here: another bucket's
    # step under this bucket's name) is compiled again, not used.
    x5, s5 = _args(5)
    shutil.copy(first.path(key), first.path(step_key(step, (cell, x5, s5))))
    mismatched = SavedSteps(step, backend, tmp_path)
    torch.testing.assert_close(mismatched(cell, x5, s5)[0], step(cell, x5, s5)[0])
    assert (mismatched.loaded, backend.graphs) == (0, 2)


@needs_cpp_compiler
@torch.inference_mode()
def test_a_step_that_fails_ahead_of_time_is_compiled_as_usual_from_then_on(tmp_path,
                                                                          monkeypatch):
    cell = Cell().eval()
    x, s = _args(3)
    monkeypatch.setattr(saved_steps, "_runs", lambda step, args: False)  # its trial fails
    first = SavedSteps(step, CountingBackend(), tmp_path)
    torch.testing.assert_close(first(cell, x, s)[0], step(cell, x, s)[0])
    key = step_key(step, (cell, x, s))
    assert first.path(key, ".plain").exists() and not first.path(key).exists()

    def no_trial(step, args):
        raise AssertionError("a later process tried the ahead-of-time step again")

    monkeypatch.setattr(saved_steps, "_runs", no_trial)
    later = SavedSteps(step, CountingBackend(), tmp_path)
    torch.testing.assert_close(later(cell, x, s)[0], step(cell, x, s)[0])
    assert later.loaded == 0
