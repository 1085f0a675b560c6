"""nmtkit serve: models behind an HTTP API (LibreTranslate's and nmtkit's own), lines of
concurrent requests translated together. Needs ``pip install "nmtkit[serve]"``.

The server's options come from :class:`nmtkit.serve.options.ServeOptions`, the
translation defaults from :class:`nmtkit.search.options.SearchOptions` and
:class:`nmtkit.translate.options.TranslateOptions`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from nmtkit.checks import cli_name
from nmtkit.cli.common import dataclass_options, with_options
from nmtkit.cli.paths import Reads, command
from nmtkit.search.options import SearchOptions, option_name
from nmtkit.serve.options import ServeOptions
from nmtkit.translate.options import TranslateOptions

PATHS = {"model_dir": Reads("model", "--model-dir", named=True),
         "api_keys": Reads("file", "--api-keys")}
# Translation options that are the server's to choose, not a request's default.
NOT_SERVED = ("search", "attention", "attention_layer", "output_format", "jsonl_attention",
              "chunk_size", "workers", "shortlist")


def register(app: typer.Typer) -> None:
    func = with_options(serve, dataclass_options(ServeOptions, cli_name,
                                                 skip=("api_keys", "cors_origins"))
                        + dataclass_options(SearchOptions, option_name)
                        + dataclass_options(TranslateOptions, cli_name, skip=NOT_SERVED))
    command(app, "serve", func=func, paths=PATHS,
            help="Serve models over HTTP: LibreTranslate's API (POST /translate, GET "
            "/languages), nmtkit's (POST /v1/translate), /health and /metrics; lines of "
            "concurrent requests are translated together. Needs the serve extra.")


def serve(
    model_dir: list[str] = typer.Option(
        ..., "--model-dir", "-m", metavar="[NAME=]MODEL_DIR",
        help="A model folder to serve, under NAME (default: SRC-TGT from the languages "
        "preprocess recorded, else the folder's name); repeat for several."),
    api_keys: Path | None = typer.Option(
        None, "--api-keys", help="File of API keys, one a line: a request without one "
        "gets 401, with a wrong one 403 (default: no keys needed)."),
    cors_origin: list[str] | None = typer.Option(
        None, "--cors-origin", metavar="ORIGIN",
        help="Let web pages from this origin call the API (repeat; default: none)."),
    **options,
):
    from nmtkit.cli.common import info, setup_logging

    setup_logging()
    search = {name: options.pop(name) for name in SearchOptions.__dataclass_fields__}
    served = {name: options.pop(name) for name in ServeOptions.__dataclass_fields__
              if name in options}
    opts = ServeOptions(**served, api_keys=api_keys, cors_origins=list(cors_origin or []))
    translate = TranslateOptions(SearchOptions(**search), workers=1, **options)
    try:
        from nmtkit.serve.run import load_models
        from nmtkit.serve.run import serve as run
    except ImportError as e:
        from nmtkit.errors import NmtkitError

        raise NmtkitError(f"nmtkit serve needs the serve extra ({e.name} is missing): pip "
                          "install 'nmtkit[serve]'") from None
    import torch

    models = load_models(model_dir, translate, threads=torch.get_num_threads())
    for m in models:
        into = m.into()
        pair = f"{m.src_lang}->{'/'.join(into)}" if m.src_lang and into else \
            "no languages recorded: /v1/translate only"
        what = f"an ensemble of {m.members} models from {m.path}" if m.members > 1 \
            else str(m.path)
        info(f"model {m.name}: {what} ({pair})"
             + (f"; precision {m.precision_note}" if m.precision_note else ""))
    run(models, opts, on_ready=lambda url: info(f"serving on {url} (Ctrl-C or SIGTERM "
                                                  "stops it)"))
