"""The compiled decoding loop: the fixed-shape loop's steps (:mod:`nmtkit.search.loop`,
:class:`~nmtkit.search.loop.Bucketed`) through torch.compile, and when to use it.

On CPU, inductor turns each step into C++ kernels (the matrix products stay oneDNN / MKL
calls); on CUDA into Triton kernels replayed as CUDA graphs. Each (rows, source,
capacity) bucket, strategy and precision compiles once; on CPU the compiled step is saved
in the user's cache and a later process loads it instead of compiling it again
(:mod:`nmtkit.search.saved_steps`). :class:`CompileStats` counts the graphs compiled and
loaded and the time they took.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import astuple, dataclass

import torch

from nmtkit.errors import NmtkitError
from nmtkit.search.constraints import not_compiled, rules_for
from nmtkit.search.loop import Runner
from nmtkit.search.options import COMPILE_MODES, SearchOptions
from nmtkit.search.saved_steps import SavedSteps, steps_dir, use_persistent_inductor_cache

# Graphs per step function (buckets of rows x source x capacity, per precision) and in all;
# past these torch.compile would quietly run the step eagerly.
RECOMPILE_LIMIT = 256
ACCUMULATED_LIMIT = 1024


@dataclass
class CompileStats:
    graphs: int = 0  # graphs compiled (one per bucket and strategy)
    seconds: float = 0.0  # wall time of the steps that compiled (tracing + code generation)
    loaded: int = 0  # graphs loaded from the cache of compiled steps instead
    load_seconds: float = 0.0  # wall time of the steps that loaded

    def __add__(self, other: CompileStats) -> CompileStats:
        return CompileStats(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def __sub__(self, other: CompileStats) -> CompileStats:
        return CompileStats(*(a - b for a, b in zip(astuple(self), astuple(other))))


_process = CompileStats()  # graphs compiled and loaded in this process (seconds unused)
_compiled: dict = {}  # (step function, cuda) -> its compiled version, shared by every runner


def _backend(graph, example_inputs):
    """Inductor, counting graphs; on CUDA each step replays as a CUDA graph (what
    mode="reduce-overhead" turns on)."""
    from torch._inductor.compile_fx import compile_fx

    _process.graphs += 1
    cuda = any(t.is_cuda for t in example_inputs if isinstance(t, torch.Tensor))
    return compile_fx(graph, example_inputs,
                      config_patches={"triton.cudagraphs": True} if cuda else {})


def _compile(fn, cuda: bool):
    """``fn`` compiled: on CPU each bucket's step saved to and loaded from the user's cache
    (:mod:`nmtkit.search.saved_steps`); on CUDA (CUDA graphs, not saved) torch.compile as
    it is."""
    if (fn, cuda) not in _compiled:
        use_persistent_inductor_cache()  # before torch._dynamo's import sets inductor's
        config = torch._dynamo.config
        for name, limit in (("recompile_limit", RECOMPILE_LIMIT),
                            ("cache_size_limit", RECOMPILE_LIMIT),
                            ("accumulated_recompile_limit", ACCUMULATED_LIMIT),
                            ("accumulated_cache_size_limit", ACCUMULATED_LIMIT)):
            if hasattr(config, name):
                setattr(config, name, max(getattr(config, name), limit))
        if cuda:
            _compiled[fn, cuda] = torch.compile(fn, backend=_backend, dynamic=False)
        else:
            _compiled[fn, cuda] = SavedSteps(fn, _backend, steps_dir(), counts=_process)
    return _compiled[fn, cuda]


class CompiledRunner:
    """Calls step functions through torch.compile (static shapes), counting the graphs it
    made compile and those it loaded from the cache. Graphs are kept per process, so a
    second runner (another Translator) reuses the buckets the first compiled."""

    def __init__(self, device: torch.device):
        self.stats = CompileStats()
        self.cuda = device.type == "cuda"

    def __call__(self, fn, *args):
        compiled = _compile(fn, self.cuda)
        graphs, loaded = _process.graphs, _process.loaded
        start = time.perf_counter()
        if self.cuda:
            torch.compiler.cudagraph_mark_step_begin()
        out = compiled(*args)
        if _process.graphs != graphs:
            self.stats.graphs += _process.graphs - graphs
            self.stats.seconds += time.perf_counter() - start
        elif _process.loaded != loaded:
            self.stats.loaded += _process.loaded - loaded
            self.stats.load_seconds += time.perf_counter() - start
        return out


def has_cpp_compiler() -> bool:
    """Whether inductor's CPU backend will find a C++ compiler."""
    return any(shutil.which(c) for c in (os.environ.get("CXX") or "g++", "c++", "clang++"))


def unsupported(decoder, opts: SearchOptions, device: torch.device) -> str | None:
    """Why this search cannot run compiled, or None."""
    if opts.sampling:
        return "sampling"
    rule = not_compiled(rules_for(opts))
    if rule is not None:
        return rule.option
    if not getattr(decoder, "fixed_shape_state", False):
        return f"the {type(decoder).__name__} decoder (its state changes shape each step)"
    if device.type == "cpu" and not has_cpp_compiler():
        return "a CPU without a C++ compiler (install g++ or set CXX)"
    return None


def compile_after(mode: str, decoder, opts: SearchOptions, device: torch.device,
                  precision: str) -> int | None:
    """After how many input lines to switch to the compiled loop (None: never), for
    ``--compile mode``.

    on: from the first line. auto: only where bench/translate_speed.py measured the compiled
    loop faster than the eager one (:func:`measured_faster`), and only once the input has
    shown itself long enough to repay the compilation (:data:`AUTO_AFTER_LINES`); the lines
    before are translated eagerly. The CUDA path has not been measured, so auto leaves it
    off.
    """
    if mode not in COMPILE_MODES:
        raise NmtkitError(f"--compile: unknown '{mode}'; valid: {', '.join(COMPILE_MODES)}")
    if mode == "off":
        return None
    why_not = unsupported(decoder, opts, device)
    if mode == "on":
        if why_not:
            raise NmtkitError(f"--compile on: the compiled decoding loop does not support "
                              f"{why_not}; use --compile auto or off")
        return 0
    if why_not or device.type != "cpu" or not measured_faster(decoder, precision):
        return None
    return AUTO_AFTER_LINES


# Where the compiled loop was measured faster than the eager one on CPU (docs/benchmarks.md,
# "Decoding speed"): in bfloat16. In float32 the step is bound by its matrix products,
# which compilation leaves to the same kernels, and the fixed shapes cost more than
# compilation wins back.
FASTER_PRECISIONS = ("bf16",)
# Compilation costs seconds to minutes a process and saves a little per line: it pays
# after tens of thousands of lines (docs/benchmarks.md, "Decoding speed").
AUTO_AFTER_LINES = 20_000


def measured_faster(decoder, precision: str) -> bool:
    return getattr(decoder, "fixed_shape_state", False) and precision in FASTER_PRECISIONS


class CompileSwitch:
    """Whether a translator's next batches go through the compiled loop: from the line
    :func:`compile_after` names on, one :class:`CompiledRunner` for the rest of the run."""

    def __init__(self, mode: str, decoder, opts: SearchOptions, device: torch.device,
                 precision: str):
        self.after = compile_after(mode, decoder, opts, device, precision)
        self.device = device
        self.runner: Runner | None = None  # a CompiledRunner once switched

    def runner_at(self, lines_done: int) -> Runner | None:
        """The runner for batches after ``lines_done`` lines (None: the eager loop)."""
        if self.runner is None and self.after is not None and lines_done >= self.after:
            self.runner = CompiledRunner(self.device)
        return self.runner

    @property
    def stats(self) -> CompileStats:
        return getattr(self.runner, "stats", None) or CompileStats()
