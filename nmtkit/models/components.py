"""Building registered components from ``{type: NAME, ...options}`` specs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nmtkit.config import from_dict, to_dict
from nmtkit.errors import ConfigError
from nmtkit.models.embeddings import Embeddings
from nmtkit.registry import ATTENTION, BRIDGES, Registry


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


@dataclass
class DecoderContext:
    """What the model gives a decoder to build itself: embeddings, sizes, and the
    attention and bridge specs (built by the decoder, which knows its own sizes)."""

    embed: Embeddings
    vocab_size: int
    memory_size: int
    enc_final_size: int | None
    enc_final_layers: int
    attention: dict | None
    bridge: dict | None
    tie_output: bool = False
    shared_vocab: bool = False  # source ids are target ids (shared embeddings)

    def build_attention(self, query_size: int):
        if self.attention is None:
            raise ConfigError("model.attention: this decoder needs an attention type")
        cls, cfg = resolve(ATTENTION, self.attention, "model.attention")
        return cls(cfg, query_size=query_size, memory_size=self.memory_size)

    def build_bridge(self, dec_size: int, dec_layers: int, n_states: int):
        from nmtkit.models.bridges.basic import BridgeShape

        cls, cfg = resolve(BRIDGES, self.bridge or {"type": "none"}, "model.bridge")
        shape = BridgeShape(self.enc_final_size, self.enc_final_layers, dec_size, dec_layers,
                            n_states)
        return cls(cfg, shape)
