from dataclasses import dataclass

import pytest

from nmtkit.errors import ConfigError
from nmtkit.models import registry as reg


def make_registry():
    return reg.Registry("widget", "nmtkit.test-widgets-none")


def test_lookup_and_failed_lookup_lists_valid_names():
    r = make_registry()

    @r.register("alpha")
    class Alpha:
        pass

    @r.register("beta")
    class Beta:
        pass

    assert r.get("alpha") is Alpha
    with pytest.raises(ConfigError, match=r"unknown widget 'gamma'; valid names: alpha, beta"):
        r.get("gamma")


def test_registering_the_same_object_twice_is_harmless():
    r = make_registry()

    class A:
        pass

    r.add("a", A)
    r.add("a", A)
    assert r.names() == ["a"]


def test_a_real_clash_names_both_sources():
    r = make_registry()

    class First:
        pass

    class Second:
        pass

    r.add("x", First)
    with pytest.raises(ConfigError) as e:
        r.add("x", Second)
    assert "First" in str(e.value) and "Second" in str(e.value)


def test_entry_points_are_read_lazily(monkeypatch):
    r = make_registry()
    loaded = []

    @dataclass
    class FakeDist:
        metadata: dict
        version: str

    class Plugin:
        pass

    class FakeEntryPoint:
        name = "plugged"
        dist = FakeDist({"Name": "nmtkit-fake-plugin"}, "1.2.3")

        def load(self):
            loaded.append(True)
            return Plugin

    monkeypatch.setattr(reg, "entry_points", lambda group: [FakeEntryPoint()])
    r.add("builtin", int)
    assert r.get("builtin") is int and not loaded  # a hit reads no entry points
    entry = r.entry("plugged")
    assert entry.obj is Plugin and entry.distribution == "nmtkit-fake-plugin"
    assert entry.version == "1.2.3"


def test_builtins_are_registered():
    import nmtkit.models  # noqa: F401  (registers the built-ins)
    assert "rnn" in reg.ENCODERS.names()
    assert {"dot", "general"} <= set(reg.ATTENTION.names())
    assert "rnn" in reg.DECODERS.names()
    assert {"none", "copy", "dense"} <= set(reg.BRIDGES.names())
