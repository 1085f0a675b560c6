"""``nmtkit serve``: models behind an HTTP API (``pip install "nmtkit[serve]"``).

- ``options.py``: :class:`ServeOptions`, the one definition of the server's options and
  limits (the command line is built from it); no torch, no web framework.
- ``batcher.py``: lines of concurrent requests queued and translated together, each
  request getting its own lines back in order.
- ``models.py``: the served models, their names and languages, and a translator for each
  set of request options.
- ``app.py``: the FastAPI application: the LibreTranslate-compatible API, the native JSON
  API, health, Prometheus metrics; ``errors.py``: every refusal as one JSON line.
- ``run.py``: uvicorn, stopped gracefully by SIGTERM or Ctrl-C.
"""
