"""The path rules, walked over every command from its own declarations
(``nmtkit/cli/paths.py``), so that a new command or option cannot skip them:

- every path option of every command declares whether it is read or written;
- every output is refused, before any work and with one line, when it is a foreign folder,
  a folder of another kind, one of the command's inputs, a parent of an input, or inside an
  input folder, and nothing anywhere changes;
- every command that reads a model folder refuses one whose files changed since training.
"""

from __future__ import annotations

import importlib.util
import shutil
import typing
from pathlib import Path

import pytest
import typer

from nmtkit.cli import app
from nmtkit.cli.paths import Reads, Writes
from tests.conftest import TINY_CONFIG, run_main
from tests.marian_models import MarianSpec, make_marian

COMMANDS = typer.main.get_command(app).commands


def element_type(param) -> type:
    """A parameter's type, without ``| None`` and ``list[...]``."""
    t = param.type_descriptor.annotation
    while typing.get_args(t):
        t = next(a for a in typing.get_args(t) if a is not type(None))
    return t


def roles(name: str) -> dict:
    return COMMANDS[name].callback.paths


def test_every_path_option_of_every_command_declares_what_it_is():
    for name, cmd in COMMANDS.items():
        declared = getattr(cmd.callback, "paths", None)
        assert declared is not None, f"nmtkit {name} is not registered through cli.paths.command"
        # a path option is typed Path, or given as NAME=PATH (declared named)
        paths = {p.name: p for p in cmd.params if element_type(p) is Path
                 or getattr(declared.get(p.name), "named", False)}
        assert sorted(declared) == sorted(paths), \
            f"nmtkit {name}: path options {sorted(paths)}, declared {sorted(declared)}"
        for pname, role in declared.items():
            p = paths[pname]
            names = p.opts if p.param_type_name == "option" else [pname.upper()]
            assert role.flag in names, f"nmtkit {name} {pname}: flag {role.flag} not in {names}"


@pytest.fixture(scope="module")
def world(tiny_model, tmp_path_factory) -> dict[str, Path]:
    """Inputs of every kind, in one folder the tests snapshot."""
    root = tmp_path_factory.mktemp("world")
    model = Path(shutil.copytree(tiny_model, root / "model"))
    data = Path(shutil.copytree(tiny_model.parent / "data", root / "data"))
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("train.src", "train.tgt", "valid.src", "valid.tgt"):
        (corpus / name).write_text("a b c\nd e\n", encoding="utf-8")
    (root / "config.yaml").write_text(TINY_CONFIG)
    # (transformers, of the test extra, makes it; without it only import goes unwalked,
    # which test_every_command_is_walked reports)
    marian = make_marian(root / "marian", MarianSpec(d_model=8, heads=2, ffn=8)) \
        if importlib.util.find_spec("transformers") else None
    return {"root": root, "model": model, "data": data, "corpus": corpus,
            "config": root / "config.yaml", "out": root / "new", "marian": marian}


def invocations(w: dict[str, Path]) -> dict[str, list[dict]]:
    """For each command, ways to run it (parameter -> value) that use each of its path
    options; outputs go to new paths under ``w["out"]``."""
    c, out = w["corpus"], w["out"]
    return {
        "preprocess": [{"src": c / "train.src", "tgt": c / "train.tgt",
                        "valid_src": c / "valid.src", "valid_tgt": c / "valid.tgt",
                        "out": out / "data", "units": "word"},
                       {"src": c / "train.src", "tgt": c / "train.tgt",
                        "from_model": w["model"], "out": out / "data"}],
        "build-vocab": [{"data_dir": w["data"], "from_model": w["model"]}],
        "train": [{"config": w["config"], "data": w["data"], "model_dir": out / "model"},
                  {"data": w["data"], "init_from": w["model"], "model_dir": out / "model"}],
        "average": [{"model_dir": w["model"], "out": out / "avg", "last": 1}],
        "shortlist": [{"model_dir": w["model"], "data": w["data"]}],
        "check-int8": [{"model_dir": w["model"], "data": w["data"]},
                       {"model_dir": w["model"], "src": c / "valid.src", "ref": c / "valid.tgt"}],
        "export": [{"model_dir": w["model"], "out": out / "ct2"}],
        "import": [{"model": w["marian"], "out": out / "imported"}] if w["marian"] else [],
        "plot": [{"model_dir": w["model"], "output": out / "curves.png"}],
        "score": [{"ref": c / "valid.tgt", "hyp": [c / "valid.src"]},
                  {"model_dir": w["model"], "src": c / "valid.src", "hyp": [c / "valid.tgt"]}],
        "translate": [{"model_dir": w["model"], "input": c / "valid.src",
                       "output": out / "hyp.txt", "alignments": out / "al.txt",
                       "attention_plots": out / "plots"}],
        "components": [{}],
        # no outputs; every model folder is opened before the server starts
        "serve": [{"model_dir": [w["model"]], "api_keys": c / "valid.src"}],
    }


def argv(command: str, values: dict) -> list[str]:
    """The command line for ``values`` (parameter -> value; True for a flag)."""
    params = {p.name: p for p in COMMANDS[command].params}
    positional, options = [], []
    for pname, value in values.items():
        p = params[pname]
        items = value if isinstance(value, list) else [value]
        if p.param_type_name == "argument":
            positional += map(str, items)
        elif value is True:
            options.append(p.opts[0])
        else:
            for v in items:
                options += [p.opts[0], str(v)]
    return [command, *positional, *options]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(Path(folder).rglob("*"))}


def test_every_command_is_walked(world):
    assert sorted(invocations(world)) == sorted(COMMANDS)
    for name, ways in invocations(world).items():
        used = {p for way in ways for p in way}
        assert set(roles(name)) <= used, f"nmtkit {name}: no invocation uses " \
            f"{sorted(set(roles(name)) - used)}"


def outputs(w) -> list[tuple[str, str, dict]]:
    return [(name, pname, way) for name, ways in invocations(w).items() for way in ways
            for pname, role in roles(name).items() if isinstance(role, Writes) and pname in way]


def hostile_places(w: dict[str, Path], command: str, way: dict, pname: str
                   ) -> list[tuple[str, Path]]:
    """Where an output must not go: (case, path)."""
    role = roles(command)[pname]
    foreign = w["root"] / "foreign"
    foreign.mkdir(exist_ok=True)
    (foreign / "notes.txt").write_text("the user's own\n")
    other = w["data"] if role.kind in ("model", "ctranslate2", "plots") else w["model"]
    places = [("a foreign folder", foreign), ("a folder of another kind", other)]
    for iname, irole in roles(command).items():
        if not isinstance(irole, Reads) or iname not in way:
            continue
        value = way[iname][0] if isinstance(way[iname], list) else way[iname]
        places.append((f"the input {irole.flag}", value))
        places.append((f"a parent of the input {irole.flag}", value.parent))
        if irole.kind in ("model", "data"):
            places.append((f"inside the input {irole.flag}", value / "vocab.tgt.tsv"))
    return places


def test_no_output_lands_on_a_foreign_folder_another_kind_or_an_input(
        world, monkeypatch, capsys):
    """Every declared output of every command, each hostile place: one line, exit 2, and
    not a byte changed anywhere (the inputs included)."""
    tried = 0
    for command, pname, way in outputs(world):
        for case, place in hostile_places(world, command, way, pname):
            values = dict(way, **{pname: place})
            if "overwrite" in {p.name for p in COMMANDS[command].params}:
                values["overwrite"] = True  # the rule holds even when replacing is asked
            before = snapshot(world["root"])
            status, _, err = run_main(*argv(command, values), monkeypatch=monkeypatch,
                                      capsys=capsys)
            lines = err.strip().splitlines()
            where = f"nmtkit {command} with {roles(command)[pname].flag} on {case}"
            assert status == 2, f"{where}: exit {status}\n{err}"
            assert len(lines) == 1 and lines[0].startswith("nmtkit: error: "), f"{where}\n{err}"
            assert snapshot(world["root"]) == before, f"{where}: files changed"
            tried += 1
    assert tried >= 40


def test_every_command_that_reads_a_model_folder_refuses_one_changed_since_training(
        world, monkeypatch, capsys):
    """A model folder whose target vocabulary was shuffled (same pieces, other ids) is
    refused by every command that reads a model folder, naming the file: none of them can
    launder it into a new folder with fresh checksums."""
    damaged = Path(shutil.copytree(world["model"], world["root"] / "damaged"))
    vocab = damaged / "vocab.tgt.tsv"
    lines = vocab.read_text(encoding="utf-8").splitlines()
    vocab.write_text("\n".join(lines[:4] + lines[4:][::-1]) + "\n", encoding="utf-8")
    tried = []
    for command, ways in invocations(world).items():
        for way in ways:
            for pname, role in roles(command).items():
                if not (isinstance(role, Reads) and role.kind == "model" and pname in way):
                    continue
                before = snapshot(world["root"])
                status, _, err = run_main(*argv(command, dict(way, **{pname: damaged})),
                                          monkeypatch=monkeypatch, capsys=capsys)
                assert status == 2, f"nmtkit {command} {role.flag}: exit {status}\n{err}"
                assert err.strip() == (f"nmtkit: error: {vocab}: changed since the model was "
                                       "trained (its sha256 differs from the one in "
                                       "meta.json); put back the file the model was trained "
                                       "with"), f"nmtkit {command} {role.flag}\n{err}"
                assert snapshot(world["root"]) == before
                tried.append(f"{command} {role.flag}")
    assert len(set(tried)) == len({(c, p) for c, ways in invocations(world).items() for w in ways
                              for p, r in roles(c).items()
                              if isinstance(r, Reads) and r.kind == "model" and p in w})
    assert len(tried) >= 9, tried
