"""The generated reference pages are what the code makes today: a new option, default,
range or config field changes them, and this fails until they are made again with
``.venv/bin/python -m nmtkit.cli.reference docs/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from nmtkit.cli.reference import PAGES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_generated_page_is_up_to_date(name):
    assert (DOCS / name).read_text(encoding="utf-8") == PAGES[name](), \
        f"docs/{name} is stale: run .venv/bin/python -m nmtkit.cli.reference docs/"


def test_every_command_and_option_is_on_the_page():
    import typer

    from nmtkit.cli import app

    page = PAGES["cli.md"]()
    for name, cmd in typer.main.get_command(app).commands.items():
        assert f"## nmtkit {name}\n" in page
        for p in cmd.params:
            if p.param_type_name == "option":
                assert f"`{p.opts[0]}" in page, f"{name} {p.opts[0]}"
