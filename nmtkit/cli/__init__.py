"""The command line: one typer app, one thin file per command.

Commands import the library inside their functions, so ``nmtkit --help`` answers without
importing torch.
"""

from __future__ import annotations

import sys

import typer

from nmtkit.cli import build_vocab, preprocess, score, train, translate

app = typer.Typer(
    name="nmtkit",
    help="Neural machine translation: preprocess -> build-vocab -> train -> translate -> score.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for module in (preprocess, build_vocab, train, translate, score):
    module.register(app)


def _version(value: bool):
    if value:
        from nmtkit import __version__

        typer.echo(f"nmtkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    pass


def main() -> None:
    """Entry point: one-line errors, status 2 for bad input, 130 on Ctrl-C."""
    import click

    from nmtkit.errors import NmtkitError

    try:
        rv = app(standalone_mode=False)
    except NmtkitError as e:
        print(f"nmtkit: error: {e}", file=sys.stderr)
        sys.exit(2)
    except click.exceptions.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
