"""The command line: one typer app, one thin file per command.

Commands import the library inside their functions, so ``nmtkit --help`` answers without
importing torch.
"""

from __future__ import annotations

import os
import sys

import typer

from nmtkit.cli import (
    average,
    build_vocab,
    check_int8,
    components,
    export,
    import_model,
    plot,
    preprocess,
    score,
    serve,
    shortlist,
    train,
    translate,
)

app = typer.Typer(
    name="nmtkit",
    help="Neural machine translation: preprocess -> build-vocab -> train -> translate -> score.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for module in (preprocess, build_vocab, train, average, shortlist, check_int8, translate, score,
               plot, export, import_model, serve, components):
    module.register(app)

# Exit statuses: 2 for a user error (bad input, option or file), 128 + N for signal N.
EXIT_ERROR, EXIT_SIGINT, EXIT_SIGTERM = 2, 130, 143
OUT_OF_MEMORY = ("out of memory; a smaller --batch-size (translate, score) or "
                 "train.batch_tokens (train) lowers what a command needs")
_flags = {"debug": False}


def _debug_env() -> bool:
    return os.environ.get("NMTKIT_DEBUG", "") not in ("", "0")


def _version(value: bool):
    if value:
        from nmtkit.version import __version__

        typer.echo(f"nmtkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug",
                               help="Show the traceback behind an error (or set NMTKIT_DEBUG=1)."),
):
    _flags["debug"] = debug or _debug_env()


def _exit_on_signal(status: int):
    def handler(signum, frame) -> None:
        # Leave quietly with the shell's status for the signal; atomic writers remove
        # their temporaries as the exit unwinds.
        sys.exit(status)

    return handler


def describe_os_error(e: OSError) -> str:
    """One line: the file (as the user named it) and the system's reason."""
    import errno

    from nmtkit.fileio import user_path

    reason = e.strerror or str(e)
    filename = e.filename
    if e.filename2 is not None and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        filename = e.filename2  # a copy (shutil's) names its source first, its target second
    if filename is not None:
        return f"{user_path(filename)}: {reason}"
    return reason


def _fail(message: str, stdout_broken: bool = False) -> None:
    if _flags["debug"]:
        import traceback

        traceback.print_exc()
    if stdout_broken:
        # Python flushes stdout again on exit: send what is left to /dev/null, so that
        # the error stays one line.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    print(f"nmtkit: error: {message}", file=sys.stderr, flush=True)
    sys.exit(EXIT_ERROR)


def main() -> None:
    """Entry point: one-line errors with status 2, 130 on Ctrl-C, 143 on SIGTERM."""
    import signal

    from nmtkit.errors import NmtkitError

    _flags["debug"] = _debug_env()  # until the options are parsed
    signal.signal(signal.SIGINT, _exit_on_signal(EXIT_SIGINT))
    signal.signal(signal.SIGTERM, _exit_on_signal(EXIT_SIGTERM))
    try:
        status = app(standalone_mode=False)
    except NmtkitError as e:
        _fail(str(e))
    except OSError as e:
        _fail(describe_os_error(e), stdout_broken=e.filename == "<stdout>")
    except typer.Abort:
        sys.exit(EXIT_SIGINT)
    except MemoryError:
        _fail(OUT_OF_MEMORY)
    except Exception as e:
        if isinstance(e, RuntimeError) and "can't allocate memory" in str(e):  # torch's
            _fail(OUT_OF_MEMORY)
        # click's usage errors (typer vendors click, so match by shape, not by class)
        if type(e).__name__ == "NoArgsIsHelpError":  # the help is printed already
            sys.exit(EXIT_ERROR)
        if getattr(e, "exit_code", None) == EXIT_ERROR and hasattr(e, "format_message"):
            ctx = getattr(e, "ctx", None)
            _fail(f"{e.format_message()} (see {ctx.command_path if ctx else 'nmtkit'} --help)")
        raise
    sys.exit(status or 0)
