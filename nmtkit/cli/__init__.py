"""The command line: one typer app, one thin file per command.

Commands import the library inside their functions, so ``nmtkit --help`` answers without
importing torch.
"""

from __future__ import annotations

import sys

import typer

from nmtkit.cli import build_vocab, components, preprocess, score, train, translate

app = typer.Typer(
    name="nmtkit",
    help="Neural machine translation: preprocess -> build-vocab -> train -> translate -> score.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for module in (preprocess, build_vocab, train, translate, score, components):
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


def _interrupted(signum, frame) -> None:
    # Ctrl-C: leave quietly with the shell's status for SIGINT; atomic writers clean up
    # their temporary files as the exit unwinds.
    sys.exit(130)


def main() -> None:
    """Entry point: one-line errors with status 2, status 130 on Ctrl-C."""
    import signal

    from nmtkit.errors import NmtkitError

    signal.signal(signal.SIGINT, _interrupted)
    try:
        app()
    except NmtkitError as e:
        print(f"nmtkit: error: {e}", file=sys.stderr)
        sys.exit(2)
