"""What components are registered: built-in and from plugins, with their options.

The library side of ``nmtkit components``: plain data, no printing.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from nmtkit.errors import ConfigError
from nmtkit.models.registry import REGISTRIES, Entry

_MISSING = object()


@dataclass(frozen=True)
class Option:
    """One field of a component's ``Config`` dataclass."""

    name: str
    type: str  # the annotation as written, e.g. "int", "float | None"
    default: Any  # None where the field has no default (see ``required``)
    required: bool = False


@dataclass(frozen=True)
class ComponentInfo:
    """One registered component."""

    kind: str  # the registry's kind: encoder, attention, decoder, bridge
    name: str
    distribution: str | None  # pip distribution that provided it; None: built in
    version: str | None
    source: str  # "module:qualname"
    options: list[Option]

    @property
    def package(self) -> str:
        """``built-in`` or ``DIST VERSION``."""
        if self.distribution is None:
            return "built-in"
        return f"{self.distribution} {self.version or '?'}".strip()

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["options"] = [dataclasses.asdict(o) for o in self.options]
        return data


def list_components(kind: str | None = None) -> list[ComponentInfo]:
    """Every registered component (of ``kind`` if given), sorted by kind then name.

    ``kind`` is a registry kind (``encoder``) or the last part of its entry-point group
    (``encoders``).
    """
    plurals = [registry.group.rsplit(".", 1)[-1] for registry in REGISTRIES.values()]
    if kind is not None and kind not in kinds() + plurals:
        raise ConfigError(f"unknown component kind '{kind}'; valid kinds: {', '.join(kinds())}")
    import nmtkit.models  # noqa: F401  (registers the built-ins)

    infos = []
    for plural, registry in zip(plurals, REGISTRIES.values()):
        if kind is not None and kind not in (plural, registry.kind):
            continue
        infos += [component_info(registry.kind, entry) for entry in registry.entries()]
    return infos


def kinds() -> list[str]:
    """The component kinds, e.g. ``["encoder", "attention", ...]``."""
    return [registry.kind for registry in REGISTRIES.values()]


def component_info(kind: str, entry: Entry) -> ComponentInfo:
    return ComponentInfo(kind, entry.name, entry.distribution, entry.version, entry.source,
                         config_options(getattr(entry.obj, "Config", None)))


def config_options(config_cls: Any) -> list[Option]:
    """The fields of a ``Config`` dataclass as options; [] when there is none."""
    if config_cls is None or not dataclasses.is_dataclass(config_cls):
        return []
    try:
        hints = typing.get_type_hints(config_cls)
    except Exception:  # noqa: BLE001 -- a plugin's odd annotation must not break listing
        hints = {}
    return [_option(f, hints.get(f.name, f.type)) for f in dataclasses.fields(config_cls)]


def _option(f: dataclasses.Field, tp: Any) -> Option:
    default = _MISSING
    if f.default is not dataclasses.MISSING:
        default = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    if default is _MISSING:
        return Option(f.name, _type_name(tp), None, required=True)
    return Option(f.name, _type_name(tp), default)


def _type_name(tp: Any) -> str:
    if isinstance(tp, str):
        return tp
    if isinstance(tp, type) and typing.get_origin(tp) is None:
        return tp.__name__
    return str(tp).replace("typing.", "")
