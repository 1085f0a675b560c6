"""A real outside package (examples/plugin) extends nmtkit through an entry point.

The plugin is installed with pip, offline, into a temporary folder that only the commands
given ``PYTHONPATH`` see: listed by ``nmtkit components``, trained with, translated with,
recorded in meta.json, and named in the error where it is missing.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, run_cli

PLUGIN = "nmtkit-plugin-example"
LINES = ["a b c", "d e f g", "h", "j i"]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> dict:
    """Environment that puts examples/plugin, installed for real, on the path."""
    work = tmp_path_factory.mktemp("plugin")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = shutil.copytree(REPO / "examples" / "plugin", work / "src",
                             ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = work / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--quiet", "--target", str(target),
         str(source)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    path = os.pathsep.join(filter(None, (str(target), os.environ.get("PYTHONPATH"))))
    return {"PYTHONPATH": path}


@pytest.fixture(scope="module")
def cosine_model(plugin_env, tiny_model, tmp_path_factory):
    """A tiny model with the plugin's cosine attention, trained for a few steps."""
    model_dir = tmp_path_factory.mktemp("cosine") / "model"
    run_cli("train", "-d", str(tiny_model.parent / "data"), "-m", str(model_dir),
            "model.embed_dim=16", "model.encoder={type: rnn, hidden_size: 16}",
            "model.decoder={type: rnn, hidden_size: 32}", "model.max_src_len=12",
            "model.attention={type: cosine, init_temperature: 5.0}", "train.max_steps=4",
            "train.batch_tokens=200", "train.valid_every=0", "train.log_every=2",
            "train.valid_bleu=false", env=plugin_env)
    return model_dir


def test_components_lists_the_plugin(plugin_env):
    infos = json.loads(run_cli("components", "--json", env=plugin_env).stdout)
    cosine = next(i for i in infos if i["kind"] == "attention" and i["name"] == "cosine")
    assert cosine["distribution"] == PLUGIN and cosine["version"] == "0.1.0"
    assert cosine["source"] == "nmtkit_plugin_example.attention:CosineAttention"
    assert cosine["options"][0]["name"] == "init_temperature"
    table = run_cli("components", "--kind", "attention", env=plugin_env).stdout.splitlines()
    row = next(line for line in table if line.split()[1] == "cosine")
    assert f"{PLUGIN} 0.1.0" in row and "init_temperature=10.0" in row
    assert "cosine" not in run_cli("components", "--kind", "attention").stdout


def test_train_and_translate_with_the_plugin(cosine_model, plugin_env):
    meta = json.loads((cosine_model / "meta.json").read_text())
    assert meta["plugins"] == {"attention:cosine": {"distribution": PLUGIN,
                                                    "version": "0.1.0"}}
    assert meta["components"]["attention"] == {"type": "cosine", "init_temperature": 5.0}
    out = run_cli("translate", "-m", str(cosine_model), "--beam", "2",
                  input="\n".join(LINES) + "\n", env=plugin_env).stdout
    assert out.count("\n") == len(LINES)


def test_translate_without_the_plugin_names_the_package(cosine_model):
    proc = run_cli("translate", "-m", str(cosine_model), input="a b\n", check=False)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmtkit: error: "), proc.stderr
    assert f"comes from the package {PLUGIN} 0.1.0, which is not installed" in lines[0]
    assert lines[0].endswith(f"pip install {PLUGIN}")


def test_cosine_attention_masks_padding(plugin_env, monkeypatch):
    import torch

    monkeypatch.syspath_prepend(plugin_env["PYTHONPATH"].split(os.pathsep)[0])
    from nmtkit_plugin_example.attention import CosineAttention

    att = CosineAttention(CosineAttention.Config(init_temperature=5.0), query_size=6,
                          memory_size=8)
    torch.manual_seed(0)
    memory, query = torch.randn(2, 5, 8), torch.randn(2, 6)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    context, weights = att(query, memory, mask, att.precompute(memory))
    assert context.shape == (2, 8) and torch.all(weights[~mask] == 0.0)
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    assert att.temperature.item() == 5.0
