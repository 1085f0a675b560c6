"""Compiled decoding steps kept on disk, so that a later process loads them instead of
compiling them again.

Each step function is compiled ahead of time per bucket (``torch.compile(...).aot_compile``:
tracing, AOTAutograd and inductor's C++ all done once) and saved under the user's cache
(:func:`steps_dir`), keyed by the torch version, the CPU's vector capability, the step
function, the shapes and dtypes of its tensors, the architecture of the modules it is given
(parameter names, shapes and dtypes: not their values, which the compiled step reads at
each call), the autocast state and the number of threads. A later process with the same
key loads the file. A loaded step checks its guards at every call, as torch.compile does;
one that does not load, or whose guards do not hold, is compiled again and saved over the
old file.

The saved files are code (pickled compiled functions), so they live only in the user's own
cache directory, written by the user's own processes -- never in a model folder, which may
come from elsewhere. Inductor's kernel cache, which the saved steps' C++ libraries come
from, moves beside them (unless ``TORCHINDUCTOR_CACHE_DIR`` is set) so that it survives a
reboot.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import os
import pickle
import weakref
from collections.abc import Callable
from pathlib import Path

import torch

ENV_DIR = "NMTKIT_CACHE_DIR"  # the cache directory (default: $XDG_CACHE_HOME/nmtkit)


def cache_dir() -> Path:
    """nmtkit's cache directory: ``$NMTKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/nmtkit``,
    else ``~/.cache/nmtkit``."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nmtkit"


def steps_dir() -> Path:
    """Where saved steps for this torch and this CPU go."""
    capability = torch.backends.cpu.get_cpu_capability()
    return cache_dir() / "compiled" / f"torch-{torch.__version__}-{capability}"


def use_persistent_inductor_cache() -> None:
    """Point inductor's kernel cache into nmtkit's cache directory, unless the user chose
    one (its default is under /tmp)."""
    if not os.environ.get("TORCHINDUCTOR_CACHE_DIR"):
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_dir() / "inductor")


_architectures: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _architecture(module: torch.nn.Module) -> str:
    if module not in _architectures:
        parts = [f"{name}:{tuple(t.shape)}:{t.dtype}"
                 for name, t in (*module.named_parameters(), *module.named_buffers())]
        _architectures[module] = f"{type(module).__qualname__}[{';'.join(parts)}]"
    return _architectures[module]


def signature(value) -> str:
    """What the compiled step for these arguments depends on, as a string: tensors' shapes,
    dtypes and devices; dataclasses and objects field by field; modules' architecture."""
    if isinstance(value, torch.Tensor):
        return f"T{tuple(value.shape)}{value.dtype}{value.device}"
    if isinstance(value, torch.nn.Module):
        return _architecture(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = (signature(getattr(value, f.name)) for f in dataclasses.fields(value))
        return f"{type(value).__qualname__}({','.join(fields)})"
    if isinstance(value, (list, tuple)):
        return f"[{','.join(signature(v) for v in value)}]"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    fields = (f"{k}={signature(v)}" for k, v in sorted(vars(value).items()))
    return f"{type(value).__qualname__}{{{','.join(fields)}}}"


def step_key(fn: Callable, args: tuple) -> str:
    # Inductor's C++ kernels are made for the number of threads, and a step's guards
    # check it: a worker with 1 thread and a process with 2 keep separate steps.
    autocast = torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")
    text = (f"{fn.__module__}.{fn.__qualname__}|{autocast}|threads {torch.get_num_threads()}|"
            f"{signature(args)}")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class SavedSteps:
    """``fn`` compiled per bucket through ``backend``, each bucket's step saved to and
    loaded from ``directory``; ``loaded`` counts the steps loaded (and so does the
    ``loaded`` field of ``counts``, where given). Call it as ``fn``.

    A step made or loaded ahead of time runs once on copies of its first arguments before
    it is used. One that fails there (torch 2.13's aot_compile made a step for the RNN
    decoder under bfloat16 autocast that fails on its first matrix product) is compiled
    the usual way, per process, and a marker file tells later processes to do the same.
    """

    def __init__(self, fn: Callable, backend: Callable, directory: Path, counts=None):
        self.fn, self.backend, self.directory, self.counts = fn, backend, directory, counts
        self.steps: dict[str, Callable] = {}
        self.loaded = 0

    def __call__(self, *args):
        key = step_key(self.fn, args)
        step = self.steps.get(key)
        if step is None:
            step = self.steps[key] = self._step(key, args)
        return step(*args)

    def path(self, key: str, suffix: str = ".bin") -> Path:
        return self.directory / f"{self.fn.__qualname__}-{key}{suffix}"

    def _step(self, key: str, args: tuple) -> Callable:
        if not self.path(key, ".plain").exists():
            step = self._load(key, args)
            if step is not None:
                self.loaded += 1
                if self.counts is not None:
                    self.counts.loaded += 1
                return step
            step = self._ahead_of_time(key, args)
            if step is not None:
                return step
        return torch.compile(self.fn, backend=self.backend, dynamic=False)

    def _load(self, key: str, args: tuple) -> Callable | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with open(path, "rb") as f:
                step = torch.compiler.load_compiled_function(
                    f, f_globals=vars(importlib.import_module(self.fn.__module__)))
        except Exception:  # noqa: BLE001 (another torch's file, a torn one: compile it again)
            return None
        # Guards that do not hold for these arguments: compile it again.
        return step if _runs(step, args) else None

    def _ahead_of_time(self, key: str, args: tuple) -> Callable | None:
        """The step compiled ahead of time and saved, or None where that fails."""
        try:
            step = torch.compile(self.fn, backend=self.backend, fullgraph=True,
                                 dynamic=False).aot_compile((args, {}))
        except Exception:  # noqa: BLE001 (an experimental API: any failure falls back)
            step = None  # e.g. a plugin decoder's graph break
        works = step is not None and _runs(step, args)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if works:
                step.save_compiled_function(str(self.path(key)))  # whole, then renamed
            else:
                self.path(key, ".plain").touch()
        except (OSError, RuntimeError, pickle.PicklingError):
            pass  # an unwritable cache, a step that does not serialize: this process only
        return step if works else None


def _runs(step: Callable, args: tuple) -> bool:
    """Whether ``step`` runs on copies of ``args`` (modules shared, not copied)."""
    memo = {id(a): a for a in args if isinstance(a, torch.nn.Module)}
    try:
        step(*copy.deepcopy(args, memo))
    except Exception:  # noqa: BLE001 (failed guards, a broken step: the usual compile, which
        return False  # raises again if the error is not the saved step's)
    return True
