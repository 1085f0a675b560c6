"""What each command reads and writes, declared beside its options, and the one check of
its outputs that runs before any work.

Every path option of every command has a role here: :class:`Reads` (a file, a data folder
or a model folder the command reads) or :class:`Writes` (a file or a folder of some kind it
writes). :func:`command` registers a command with its roles; before the command runs, each
output is claimed through :mod:`nmtkit.folders` against all of the command's inputs and its
other outputs, and each model folder it reads is opened through
:meth:`nmtkit.model_folder.ModelFolder.open`. ``tests/integration/test_path_rules.py``
fails for a path option without a role, and proves the rules for every path it declares.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer


@dataclass(frozen=True)
class Reads:
    """An input: ``file``, ``data`` (a data folder) or ``model`` (a model folder);
    ``named``: given as ``NAME=PATH`` or ``PATH`` (serve's models)."""

    kind: str
    flag: str
    named: bool = False


@dataclass(frozen=True)
class Writes:
    """An output: ``file``, or a folder of a kind of :data:`nmtkit.folders.MARKERS` or
    :data:`nmtkit.folders.FRESH_ONLY`. ``resume``: an existing folder of that kind is
    continued rather than replaced (train's model folder)."""

    kind: str
    flag: str
    resume: bool = False


Role = Reads | Writes


def check_paths(roles: dict[str, Role], values: dict) -> None:
    """Before a command runs: every model folder it reads is opened (checked whole and
    unchanged since training), and every output is claimed against its inputs and other
    outputs. Raises a one-line NmtkitError naming the file or option."""
    from nmtkit.checks import split_named
    from nmtkit.folders import claim_file, claim_folder
    from nmtkit.model_folder import ModelFolder

    def given(name):
        value = values.get(name)
        value = list(value) if isinstance(value, (list, tuple)) else \
            ([] if value is None else [value])
        if getattr(roles[name], "named", False):
            value = [split_named(str(v))[1] for v in value]
        return [Path(v) for v in value]

    inputs = [p for name, role in roles.items() if isinstance(role, Reads) for p in given(name)]
    outputs = [(name, role, p) for name, role in roles.items() if isinstance(role, Writes)
               for p in given(name)]
    for name, role in roles.items():
        if isinstance(role, Reads) and role.kind == "model":
            for path in given(name):
                ModelFolder.open(path)
    for name, role, path in outputs:
        others = inputs + [p for n, _, p in outputs if n != name]
        if role.kind == "file":
            claim_file(path, role.flag, others)
        else:
            claim_folder(path, role.kind, role.flag, others,
                         overwrite=bool(values.get("overwrite")), resume=role.resume)


def command(app: typer.Typer, name: str, *, func: Callable, paths: dict[str, Role],
            help: str) -> None:
    """Register ``func`` as ``nmtkit NAME``, its outputs claimed before it runs."""

    @functools.wraps(func)
    def run(**values):
        check_paths(paths, values)
        return func(**values)

    run.paths = paths
    app.command(name, help=help)(run)
