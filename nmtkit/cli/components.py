"""nmtkit components: the registered encoders, attention types, decoders and bridges."""

from __future__ import annotations

from typing import Any

import typer

from nmtkit.cli.paths import command

HEADER = ("KIND", "NAME", "PACKAGE", "OPTIONS (name=default)")


def register(app: typer.Typer) -> None:
    command(app, "components", func=components, paths={},
            help="List components, built-in and from plugins, with their options.")


def components(
    kind: str | None = typer.Option(
        None, "--kind", "-k", help="Only this kind: encoder, attention, decoder, bridge."),
    json_out: bool = typer.Option(False, "--json", help="One JSON list for machines."),
):
    import json

    from nmtkit.models.catalog import list_components

    infos = list_components(kind)
    if json_out:
        typer.echo(json.dumps([info.to_dict() for info in infos], indent=2, default=str))
        return
    rows = [(i.kind, i.name, i.package, _options_text(i.options)) for i in infos]
    for line in _table([HEADER, *rows]):
        typer.echo(line)


def _options_text(options) -> str:
    """``name=default, ...`` with YAML spellings; ``-`` when there are none."""
    parts = [f"{o.name}=<required>" if o.required else f"{o.name}={_yaml_value(o.default)}"
             for o in options]
    return ", ".join(parts) or "-"


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Plain text columns separated by two spaces: the same on a terminal and in a pipe."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip()
            for row in rows]
