"""One generic registry of named components, one instance per kind.

Built-in components register with the ``@ENCODERS.register("name")`` decorator when the
models package (:mod:`nmtkit.models`) is imported; the registry imports no model code.
Outside packages register through Python entry points (groups ``nmtkit.encoders``,
``nmtkit.attention``, ``nmtkit.decoders``, ``nmtkit.bridges``), which are read lazily:
on the first failed lookup or listing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from nmtkit.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered component and where it came from."""

    name: str
    obj: T
    source: str  # "module:qualname" of the object
    distribution: str | None = None  # pip distribution that provided it (None: built in)
    version: str | None = None


def _source_of(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


class Registry(Generic[T]):
    """A name -> component map for one kind of component."""

    def __init__(self, kind: str, group: str):
        self.kind = kind
        self.group = group  # entry-point group read for outside components
        self._entries: dict[str, Entry[T]] = {}
        self._plugins_loaded = False
        self._loading_dist: tuple[str, str] | None = None

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``.

        Registering the same object twice is harmless; a different object under a taken
        name is an error that names both sources.
        """

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        source = _source_of(obj)
        old = self._entries.get(name)
        if old is not None:
            if old.obj is obj or old.source == source:
                return
            raise ConfigError(
                f"{self.kind} name '{name}' is registered twice: by {old.source}"
                f"{_dist_suffix(old.distribution)} and by {source}"
                f"{_dist_suffix(self._loading_dist[0] if self._loading_dist else None)}"
            )
        dist, version = self._loading_dist or (None, None)
        self._entries[name] = Entry(name, obj, source, dist, version)

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        if name not in self._entries:
            self._load_plugins()
        if name not in self._entries:
            valid = ", ".join(sorted(self._entries)) or "(none)"
            raise ConfigError(f"unknown {self.kind} '{name}'; valid names: {valid}")
        return self._entries[name]

    def entries(self) -> list[Entry[T]]:
        self._load_plugins()
        return [self._entries[k] for k in sorted(self._entries)]

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def __contains__(self, name: str) -> bool:
        try:
            self.entry(name)
        except ConfigError:
            return False
        return True

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            dist = getattr(ep, "dist", None)
            self._loading_dist = (
                (dist.metadata["Name"], dist.version) if dist is not None else ("?", "?")
            )
            try:
                obj = ep.load()
                # An entry point may name the component itself or a module that registers it.
                if not isinstance(obj, type(importlib)):
                    self.add(ep.name, obj)
            finally:
                self._loading_dist = None


def _dist_suffix(dist: str | None) -> str:
    return f" (package {dist})" if dist else ""


ENCODERS: Registry[Any] = Registry("encoder", "nmtkit.encoders")
ATTENTION: Registry[Any] = Registry("attention", "nmtkit.attention")
DECODERS: Registry[Any] = Registry("decoder", "nmtkit.decoders")
BRIDGES: Registry[Any] = Registry("bridge", "nmtkit.bridges")

# The registry of each component key of ``model`` in a config (``model.encoder``, ...), in
# the order ``nmtkit components`` lists them.
REGISTRIES: dict[str, Registry[Any]] = {"encoder": ENCODERS, "attention": ATTENTION,
                                        "decoder": DECODERS, "bridge": BRIDGES}

