"""What the command files share: logging set-up, stderr output, output checks, options
built from a dataclass."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import sys
import typing
from collections.abc import Callable
from pathlib import Path


def setup_logging(quiet: bool = False) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING if quiet else logging.INFO,
                        format="nmtkit: %(message)s")


def warn(message: str) -> None:
    print(f"nmtkit: warning: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    print(f"nmtkit: {message}", file=sys.stderr, flush=True)


def check_output_file(path: Path, option: str) -> None:
    """An output file can be written where the user asked (before any work is done)."""
    from nmtkit.errors import NmtkitError

    path = Path(path)
    if path.is_dir():
        raise NmtkitError(f"{option} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise NmtkitError(f"{option} {path}: the folder {path.parent} does not exist")


def dataclass_options(cls: type, flag: Callable[[str], str],
                      skip: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """Command-line options for the fields of the dataclass ``cls``, from their one
    definition: name (``flag(field)``), type, default and help (the field's metadata)."""
    import typer

    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        name = flag(f.name)
        if hints[f.name] is bool:
            name = f"{name}/--no-{name[2:]}"
        params.append(inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[f.name],
            default=typer.Option(f.default, name, help=f.metadata.get("help", ""))))
    return params


def with_options(command: Callable, options: list[inspect.Parameter]) -> Callable:
    """``command`` (whose last parameter is ``**options``) with ``options`` in its
    signature, where typer reads them."""
    own = [p for p in inspect.signature(command).parameters.values()
           if p.kind is not inspect.Parameter.VAR_KEYWORD]
    command.__signature__ = inspect.Signature(own + options)
    return command
