"""Building registered components from ``{type: NAME, ...options}`` specs."""

from __future__ import annotations

import dataclasses
from typing import Any

from nmtkit.config import from_dict, to_dict
from nmtkit.errors import ConfigError
from nmtkit.models.registry import Registry


def resolve(registry: Registry, spec: dict | None, where: str) -> tuple[type, Any]:
    """The registered class named by ``spec['type']`` and its validated Config."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigError(f"{where}: expected a mapping with a 'type' key, e.g. "
                          f"{{type: {registry.names()[0] if registry.names() else 'NAME'}}}")
    options = {k: v for k, v in spec.items() if k != "type"}
    cls = registry.get(spec["type"])
    config_cls = getattr(cls, "Config", None)
    if config_cls is None or not dataclasses.is_dataclass(config_cls):
        raise ConfigError(f"{where}: {registry.kind} '{spec['type']}' has no Config dataclass")
    return cls, from_dict(config_cls, options, f"{where}")


def resolved_spec(name: str, cfg: Any) -> dict:
    """The spec with every default filled in, as saved in the model folder."""
    return {"type": name, **to_dict(cfg)}
