"""Running the server: the models loaded before it listens, uvicorn, and a graceful stop.

SIGTERM or Ctrl-C stops it accepting; requests in flight are answered, the batchers finish
what is queued, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from nmtkit.checks import split_named
from nmtkit.errors import NmtkitError
from nmtkit.serve.models import ServedModel
from nmtkit.serve.options import ServeOptions
from nmtkit.translate.options import TranslateOptions


def load_models(specs: Sequence[str], options: TranslateOptions,
                threads: int | None = None) -> list[ServedModel]:
    """The models of ``--model-dir [NAME=]PATH`` options, each under a distinct name (one
    NAME given to several folders: their ensemble); with ``threads``, each translating in
    a process of its own (CPU)."""
    groups: list[tuple[str | None, list[str]]] = []  # in the order given
    for spec in specs:
        name, path = split_named(spec)
        same = next((paths for n, paths in groups if name is not None and n == name), None)
        if same is not None:
            same.append(path)
        else:
            groups.append((name, [path]))
    models: list[ServedModel] = []
    for name, paths in groups:
        model = ServedModel.load([Path(p) for p in paths], name, options, threads)
        if any(m.name == model.name for m in models):
            raise NmtkitError(f"--model-dir {paths[0]}: a second model named {model.name!r}; "
                              "name each: --model-dir NAME=PATH (one NAME for several "
                              "folders serves their ensemble)")
        models.append(model)
    return models


def read_keys(path: Path | None) -> set[str] | None:
    if path is None:
        return None
    from nmtkit.fileio import read_lines

    keys = {line.strip() for line in read_lines(path) if line.strip()}
    if not keys:
        raise NmtkitError(f"{path}: no API keys in it (one a line)")
    return keys


def serve(models: Sequence[ServedModel], opts: ServeOptions,
          on_ready: Callable[[str], None] = lambda url: None) -> None:
    """Serve ``models`` until SIGTERM or Ctrl-C."""
    from nmtkit.serve.app import Server, create_app

    server = Server(models, opts, read_keys(opts.api_keys))
    app = create_app(server)
    if opts.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=opts.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["*"])
    config = uvicorn.Config(app, host=opts.host, port=opts.port, log_level="warning",
                            lifespan="off", timeout_graceful_shutdown=30)
    web = Graceful(config)
    web.on_ready = on_ready
    try:
        web.run()
    except SystemExit:  # uvicorn's answer to an address it cannot bind
        raise NmtkitError(f"--host {opts.host} --port {opts.port}: cannot listen there (in "
                          "use, or not an address of this machine)") from None
    finally:
        server.close()


class Graceful(uvicorn.Server):
    """uvicorn's server, stopped by SIGTERM or SIGINT without re-raising the signal (so
    the process exits 0 after a graceful stop), saying where it listens once it does."""

    on_ready: Callable[[str], None]

    @contextlib.contextmanager
    def capture_signals(self):
        handlers = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT,
                                                                     signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _stop(self, sig, frame) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        for server in self.servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                self.on_ready(f"http://{host}:{port}" if ":" not in host
                              else f"http://[{host}]:{port}")
                return
