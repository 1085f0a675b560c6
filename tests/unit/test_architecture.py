"""The dependency rule of docs/architecture.md, checked on every import of the package
(functions' own imports included): a module imports only from its own package and from
packages on lower floors, so the data path runs one way and there is no circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "nmtkit"

# Floors, from the ground up; a unit is a top-level module or package of nmtkit.
FLOORS = [
    ["version", "errors", "moved"],
    ["checks", "fileio", "device", "presets"],
    ["folders", "config"],
    ["precision", "data"],
    ["models"],
    ["search"],
    ["model_folder", "scoring"],
    ["translate", "training"],
    ["plots"],
    ["api", "nmtkit"],
    ["serve"],
    ["cli"],
    ["__main__"],
]
FLOOR = {unit: n for n, units in enumerate(FLOORS) for unit in units}
# Old import paths kept for one release (they only forward to the new ones).
SHIMS = {"translator", "registry"}


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "nmtkit"


def _is_unit(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def imports() -> list[tuple[str, str, str]]:
    """(file, importing unit, imported unit) for every import of an nmtkit module."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        here = unit_of(".".join(p for p in rel.parts if p != "__init__"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == "nmtkit":  # submodules by name; other names are the root's
                    names = [f"nmtkit.{a.name}" if _is_unit(a.name) else "nmtkit"
                             for a in node.names]
            else:
                continue
            found += [(str(rel), here, unit_of(n)) for n in names
                      if n == "nmtkit" or n.startswith("nmtkit.")]
    return found


def test_every_unit_has_a_floor():
    units = {unit_of(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
             for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()
                                               if (p / "__init__.py").is_file()}
    units = {"nmtkit" if u == "__init__" else u for u in units} - SHIMS
    assert units <= set(FLOOR), f"give these a floor in FLOORS: {sorted(units - set(FLOOR))}"


def test_no_import_runs_up_or_across_a_floor():
    wrong = [f"{file}: {here} (floor {FLOOR[here]}) imports {there} (floor {FLOOR[there]})"
             for file, here, there in imports()
             if here not in SHIMS and here != there and FLOOR[there] >= FLOOR[here]]
    assert not wrong, "\n".join(wrong)


def test_the_rule_is_the_one_the_docs_state():
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for n, units in enumerate(FLOORS):
        row = f"| {n} | " + ", ".join(f"`{u}`" for u in units) + " |"
        assert row in text, f"docs/architecture.md lacks the row {row}"


@pytest.mark.parametrize(("old", "name", "new"), [
    ("nmtkit.registry", "ATTENTION", "nmtkit.models.registry"),
    ("nmtkit.translator", "Translator", "nmtkit.translate.translator"),
])
def test_an_old_import_path_works_for_a_release_with_a_deprecation_warning(old, name, new):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; import from {new}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_the_model_folder_keeps_its_face():
    from nmtkit.model_folder import LoadedModel, ModelFolder
    from nmtkit.model_folder.folder import LoadedModel as Loaded
    from nmtkit.model_folder.folder import ModelFolder as Folder

    assert (ModelFolder, LoadedModel) == (Folder, Loaded)
