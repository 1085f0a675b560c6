"""Ranges and choices of config and option values, declared beside each field.

    hidden_size: int = ranged(256, lo=1)
    dropout: float = ranged(0.2, lo=0, hi=1, hi_open=True)
    precision: str = one_of("auto", ("auto", "fp32", "bf16"))

:func:`check_fields` checks a dataclass instance against these declarations (and every
float field, declared or not, must be finite), naming the value as the caller spells it:
``config.train.lr`` for a config, ``--beam`` for a command-line option. Plugin components
declare their own fields the same way and get the same checks.

Every number has both bounds, an upper one too: a value that sizes an allocation (a beam,
a batch, a layer) can never ask for more memory than any machine has. A command-line
option carries its rule in the callback that checks it while the command line is parsed
(:func:`option_check`), so that the tests can walk every option of every command.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nmtkit.errors import ConfigError

SEED_MAX = 2**32 - 1  # what numpy and torch generators take
COUNT_MAX = 10**12  # steps, epochs, minutes, counts: "no practical limit", still finite


@dataclass(frozen=True)
class Range:
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself is not allowed
    hi_open: bool = False

    def describe(self) -> str:
        if self.lo is not None and self.hi is not None:
            left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
            return f"in {left}{_num(self.lo)}, {_num(self.hi)}{right}"
        if self.lo is not None:
            return f"{'greater than' if self.lo_open else 'at least'} {_num(self.lo)}"
        return f"{'less than' if self.hi_open else 'at most'} {_num(self.hi)}"

    def holds(self, value: float) -> bool:
        if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
            return False
        return not (self.hi is not None
                    and (value > self.hi or (self.hi_open and value == self.hi)))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def ranged(default: Any, lo: float | None = None, hi: float | None = None, *,
           lo_open: bool = False, hi_open: bool = False, help: str = "") -> Any:
    """A dataclass field whose value must lie in the given range (``help``: what it means,
    for a command line built from the dataclass)."""
    return dataclasses.field(default=default, metadata={
        "range": Range(lo, hi, lo_open, hi_open), "help": help})


def one_of(default: str, choices: tuple[str, ...], help: str = "") -> Any:
    """A dataclass field whose value must be one of ``choices``."""
    return dataclasses.field(default=default,
                             metadata={"choices": tuple(choices), "help": help})


def option(default: Any, help: str) -> Any:
    """A dataclass field with no rule beyond its type, described by ``help``."""
    return dataclasses.field(default=default, metadata={"help": help})


def check_value(name: str, value: Any, rule: Range | None = None,
                choices: tuple[str, ...] | None = None) -> None:
    """Raise ConfigError naming ``name`` when ``value`` breaks the rule."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number, got {value}")
    if isinstance(value, (tuple, list)):
        for v in value:
            check_value(name, v, rule)
    if rule is not None and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and not rule.holds(value):
        raise ConfigError(f"{name}: must be {rule.describe()}, got {value}")
    if choices is not None and value not in choices:
        raise ConfigError(f"{name}: unknown '{value}'; valid: {', '.join(choices)}")


def check_fields(obj: Any, name: Callable[[str], str]) -> None:
    """Check every field of the dataclass instance ``obj`` against its declaration."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None or dataclasses.is_dataclass(value):
            continue
        check_value(name(f.name), value, f.metadata.get("range"), f.metadata.get("choices"))


def option_check(flag: str, rule: Range | None = None,
                 choices: tuple[str, ...] | None = None) -> Callable[[Any], Any]:
    """The callback of the command-line option ``flag``: checks its value against ``rule``
    (and ``choices``) as the command line is parsed; ``.flag``, ``.rule`` and ``.choices``
    say what it checks."""

    def check(value: Any) -> Any:
        if value is not None:
            check_value(flag, value, rule, choices)
        return value

    check.flag, check.rule, check.choices = flag, rule, choices
    return check


def cli_name(field_name: str) -> str:
    """``length_penalty`` -> ``--length-penalty``."""
    return "--" + field_name.replace("_", "-")


LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")


def check_language(flag: str, code: str | None) -> None:
    """``code`` is a language code as BCP 47 and LibreTranslate spell them (``en``,
    ``pt-BR``, ``zh_Hant``), or None; else a ConfigError naming ``flag``."""
    if code is not None and not LANGUAGE_CODE.fullmatch(code):
        raise ConfigError(f"{flag}: {code!r} is not a language code (two or three letters, "
                          "optionally a region or script: en, pt-BR, zh_Hant)")


def split_named(spec: str) -> tuple[str | None, str]:
    """An option value ``NAME=PATH`` as (NAME, PATH), or ``PATH`` as (None, PATH); a name
    holds no ``/``, so a path with ``=`` in it stays whole."""
    name, sep, path = spec.partition("=")
    return (name, path) if sep and name and "/" not in name else (None, spec)
