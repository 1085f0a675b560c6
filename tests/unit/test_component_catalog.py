"""Listing registered components, and recording / checking plugins in model folders."""

from dataclasses import dataclass, field

import pytest

from nmtkit.config import Config
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.model_folder import ModelFolder, plugin_provenance
from nmtkit.model_folder.meta import parse_meta
from nmtkit.models import registry as reg
from nmtkit.models.catalog import Option, config_options, list_components


@dataclass
class FakeDist:
    metadata: dict
    version: str


@dataclass
class FakeOptions:
    width: int = 4
    sharp: bool = False
    tags: list = field(default_factory=lambda: ["x"])


class FakeAttention:
    """A component from an outside package."""

    Config = FakeOptions


class FakeEntryPoint:
    name = "fake_att"
    dist = FakeDist({"Name": "nmtkit-fake-plugin"}, "1.2.3")

    def load(self):
        return FakeAttention


@pytest.fixture
def fake_plugin(monkeypatch):
    """``fake_att`` from nmtkit-fake-plugin 1.2.3 in the attention group, for one test."""
    import nmtkit.models  # noqa: F401  (registers the built-ins)
    monkeypatch.setattr(reg.ATTENTION, "_entries", dict(reg.ATTENTION._entries))
    monkeypatch.setattr(reg.ATTENTION, "_plugins_loaded", False)
    monkeypatch.setattr(reg, "entry_points", lambda group: (
        [FakeEntryPoint()] if group == "nmtkit.attention" else []))


def by_name(infos):
    return {(i.kind, i.name): i for i in infos}


def test_builtins_are_listed_with_options_and_defaults():
    infos = by_name(list_components())
    rnn = infos["encoder", "rnn"]
    assert rnn.distribution is None and rnn.version is None and rnn.package == "built-in"
    assert rnn.source == "nmtkit.models.encoders.rnn:RNNEncoder"
    assert Option("hidden_size", "int", 256) in rnn.options
    assert Option("bidirectional", "bool", True) in rnn.options
    assert infos["attention", "dot"].options == []
    assert Option("bias", "bool", True) in infos["bridge", "dense"].options
    assert {"encoder", "attention", "decoder", "bridge"} == {kind for kind, _ in infos}


def test_kind_filter_accepts_kind_or_group_and_rejects_unknown():
    assert {i.kind for i in list_components("attention")} == {"attention"}
    assert {i.kind for i in list_components("encoders")} == {"encoder"}
    with pytest.raises(ConfigError, match="unknown component kind 'widget'; valid kinds: "
                                          "encoder, attention"):
        list_components("widget")


def test_config_options_defaults_factories_and_required():
    @dataclass
    class Opts:
        needed: int
        ratio: float | None = None
        names: list = field(default_factory=list)

    assert config_options(Opts) == [Option("needed", "int", None, required=True),
                                    Option("ratio", "float | None", None),
                                    Option("names", "list", [])]
    assert config_options(None) == []


def test_a_plugin_appears_with_its_distribution(fake_plugin):
    info = by_name(list_components("attention"))["attention", "fake_att"]
    assert info.distribution == "nmtkit-fake-plugin" and info.version == "1.2.3"
    assert info.package == "nmtkit-fake-plugin 1.2.3"
    assert info.source.endswith(":FakeAttention")
    assert info.options == [Option("width", "int", 4), Option("sharp", "bool", False),
                            Option("tags", "list", ["x"])]
    assert info.to_dict()["options"][0] == {"name": "width", "type": "int", "default": 4,
                                            "required": False}


def test_plugin_provenance_records_only_plugins(fake_plugin):
    components = {"encoder": {"type": "rnn"}, "decoder": {"type": "rnn"},
                  "attention": {"type": "fake_att", "width": 4}, "bridge": {"type": "none"}}
    assert plugin_provenance(components) == {
        "attention:fake_att": {"distribution": "nmtkit-fake-plugin", "version": "1.2.3"}}
    assert plugin_provenance({**components, "attention": {"type": "dot"}}) == {}


def test_loading_without_the_plugin_names_the_package(tmp_path):
    config = Config()
    config.model.attention = {"type": "gone_att"}
    folder = ModelFolder(tmp_path / "model")
    meta = parse_meta({"format_version": 1, "plugins": {
        "attention:gone_att": {"distribution": "nmtkit-gone", "version": "0.3"}}},
        folder.path / "meta.json")
    with pytest.raises(NmtkitError) as e:
        folder.check_components(config, meta)
    assert str(e.value) == (f"{folder.path}: attention 'gone_att' comes from the package "
                            "nmtkit-gone 0.3, which is not installed; pip install nmtkit-gone")
    with pytest.raises(NmtkitError, match=r"unknown attention 'gone_att'; valid names: .*dot"):
        folder.check_components(config, parse_meta({"format_version": 1, "plugins": {}},
                                                   folder.path / "meta.json"))
    config.model.attention = {"type": "general"}
    folder.check_components(config, meta)  # all registered: no error
