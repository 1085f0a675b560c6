"""What the command files share: logging set-up, stderr output, options built from a
dataclass."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import sys
import typing
from collections.abc import Callable


def setup_logging(quiet: bool = False) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING if quiet else logging.INFO,
                        format="nmtkit: %(message)s")


def warn(message: str) -> None:
    print(f"nmtkit: warning: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    print(f"nmtkit: {message}", file=sys.stderr, flush=True)


def dataclass_options(cls: type, flag: Callable[[str], str],
                      skip: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """Command-line options for the fields of the dataclass ``cls``, from their one
    definition: name (``flag(field)``), type, default and help (the field's metadata)."""

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
            default=field_option(cls, f.name, name)))
    return params


def field_option(cls: type, field: str, *names: str, help: str | None = None):
    """The command-line option of the dataclass field ``cls.field``: its default, help
    (unless given) and rule (range or choices), checked as the command line is parsed."""
    import typer

    from nmtkit.checks import option_check

    f = cls.__dataclass_fields__[field]
    rule, choices = f.metadata.get("range"), f.metadata.get("choices")
    check = option_check(names[0].split("/")[0], rule, choices) if rule or choices else None
    return typer.Option(f.default, *names, help=help or f.metadata.get("help", ""),
                        callback=check)


def number(default, *names: str, lo: float, hi: float, help: str, lo_open: bool = False,
           hi_open: bool = False):
    """A numeric command-line option that is not a dataclass field, with its range."""
    import typer

    from nmtkit.checks import Range, option_check

    return typer.Option(default, *names, help=help,
                        callback=option_check(names[0], Range(lo, hi, lo_open, hi_open)))


def with_options(command: Callable, options: list[inspect.Parameter]) -> Callable:
    """``command`` (whose last parameter is ``**options``) with ``options`` in its
    signature, where typer reads them."""
    own = [p for p in inspect.signature(command).parameters.values()
           if p.kind is not inspect.Parameter.VAR_KEYWORD]
    command.__signature__ = inspect.Signature(own + options)
    return command
