"""The server's HTTP API, on FastAPI:

- ``POST /translate`` and ``GET /languages``: LibreTranslate's API (JSON or form fields
  ``q`` (a string or a list), ``source``, ``target``, ``format``, ``alternatives``,
  ``api_key``), so LibreTranslate clients work unchanged;
- ``POST /v1/translate``: the native API: n-best with scores, word alignments, attention,
  beam and length penalty within the server's limits;
- ``GET /``: a page to translate with and see a line's attention as a heatmap
  (``page.html``: plain HTML and a little JavaScript);
- ``GET /v1/models``, ``GET /health`` (ready once the models are loaded), ``GET /metrics``
  (Prometheus), ``/docs`` and ``/openapi.json`` (the framework's).

Every refusal is one JSON object ``{"error": ...}`` naming the field or limit, never a
traceback; a request is answered with exactly one result per line, in order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from importlib import resources
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from nmtkit.errors import ConfigError
from nmtkit.serve.batcher import Batcher
from nmtkit.serve.errors import Refusal, bad_request, invalid, too_large
from nmtkit.serve.metrics import Metrics
from nmtkit.serve.models import RequestOptions, ServedModel
from nmtkit.serve.options import ServeOptions
from nmtkit.translate.output import attention_matrix

PAGE = (resources.files("nmtkit.serve") / "page.html").read_text(encoding="utf-8")


class TranslateRequest(BaseModel):
    """The native API's request."""

    q: list[str] = Field(description="The lines to translate.")
    model: str | None = Field(None, description="A model's name (default: the only one).")
    beam: int | None = Field(None, description="Beam size (1: greedy), up to the server's "
                             "--max-beam.")
    n_best: int | None = Field(None, description="How many translations per line, best "
                               "first (at most the beam).")
    length_penalty: float | None = Field(None, description="GNMT length penalty alpha.")
    alignments: bool = Field(False, description="Word alignments of each line, (source, "
                             "target) word positions.")
    attention: bool = Field(False, description="Each line's attention matrix (rows: "
                            "target pieces and </s>; columns: source pieces).")
    target: str | None = Field(None, description="The language to translate into, for a "
                               "model of several target languages (see /v1/models).")


class ErrorBody(BaseModel):
    """Every refusal: one message naming the field or the limit."""

    error: str


class Candidate(BaseModel):
    text: str
    score: float


class NativeTranslation(BaseModel):
    text: str
    score: float
    n_best: list[Candidate]
    alignment: list[list[int]] | None = Field(
        None, description="With alignments: (source word, target word) pairs.")
    source_pieces: list[str] | None = None
    target_pieces: list[str] | None = None
    attention: list[list[float]] | None = Field(
        None, description="With attention: rows the target pieces and </s>, columns the "
        "source pieces; null for an empty line or past the cell limit.")


class TranslateResponse(BaseModel):
    model: str
    translations: list[NativeTranslation]


class Language(BaseModel):
    code: str
    name: str
    targets: list[str]


class ModelInfo(BaseModel):
    name: str
    source: str | None
    target: str | None
    targets: list[str]  # every language it translates into (several: name one, target)


class Health(BaseModel):
    status: str
    models: list[str]


def _refusals(*codes: int) -> dict:
    return {code: {"model": ErrorBody} for code in codes}


# What any request may be answered besides its success: a body too large (413), an
# internal failure (500), a full queue (503, on the translating routes).
ANY = _refusals(413, 500)
TRANSLATING = _refusals(400, 401, 403, 404, 413, 422, 500, 503)

LT_TRANSLATE_SCHEMA = {"requestBody": {"content": {
    "application/json": {"schema": {
        "type": "object", "required": ["q", "source", "target"],
        "properties": {"q": {"oneOf": [{"type": "string"},
                                       {"type": "array", "items": {"type": "string"}}]},
                       "source": {"type": "string"}, "target": {"type": "string"},
                       "format": {"type": "string", "enum": ["text"]},
                       "alternatives": {"type": "integer", "minimum": 0},
                       "api_key": {"type": "string"}}}},
    "application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["q", "source", "target"],
        "properties": {"q": {"type": "string"}, "source": {"type": "string"},
                       "target": {"type": "string"}, "format": {"type": "string"},
                       "alternatives": {"type": "integer"},
                       "api_key": {"type": "string"}}}}}, "required": True}}


LT_ANSWER = {"type": "object", "required": ["translatedText"], "properties": {
    "translatedText": {"oneOf": [{"type": "string"},
                                 {"type": "array", "items": {"type": "string"}}]},
    "alternatives": {"type": "array"},
    "detectedLanguage": {"type": "object", "properties": {
        "confidence": {"type": "number"}, "language": {"type": "string"}}}}}


class Server:
    """The models, their batchers, the limits and the metrics of one application."""

    def __init__(self, models: Sequence[ServedModel], opts: ServeOptions,
                 keys: set[str] | None = None):
        self.models = {m.name: m for m in models}
        self.opts, self.keys, self.metrics = opts, keys, Metrics()
        self.in_flight = 0  # translation requests being handled (the event loop counts)
        self.batchers = {
            m.name: Batcher(m.translate, opts.max_batch, opts.max_wait_ms / 1000,
                            opts.max_queue, self.metrics.batch.observe,
                            lambda: self.in_flight)
            for m in models}
        self.metrics.queue.set_function(lambda: sum(b.waiting for b in self.batchers.values()))

    def close(self) -> None:
        for name, batcher in self.batchers.items():
            batcher.close()
            self.models[name].close()

    # -- checks -----------------------------------------------------------------------
    def check_key(self, given: str | None) -> None:
        if self.keys is None:
            return
        if not given:
            raise Refusal(401, "unauthorized", "an API key is needed (api_key, or the "
                          "header Authorization: Bearer KEY)")
        if given not in self.keys:
            raise Refusal(403, "forbidden", "this API key is not valid")

    def check_lines(self, lines: list[str], field: str) -> None:
        limit = self.opts.max_lines
        if len(lines) > limit:
            raise too_large(f"{field}: {len(lines)} lines is more than this server takes "
                            f"per request ({limit}, --max-lines)")
        for i, line in enumerate(lines):
            if len(line) > self.opts.max_chars:
                raise too_large(f"{field}[{i}]: {len(line)} characters is more than this "
                                f"server takes per line ({self.opts.max_chars}, --max-chars)")

    def request_options(self, beam, n_best, length_penalty, attention,
                        target_lang: str | None = None) -> RequestOptions:
        """The request's search options, checked against the server's limits and as
        ``nmtkit translate`` checks them."""
        if beam is not None and not 1 <= beam <= self.opts.max_beam:
            raise invalid(f"beam: {beam} is outside 1..{self.opts.max_beam} (--max-beam)")
        request = RequestOptions(beam, n_best, length_penalty, attention, target_lang)
        try:
            request.search(next(iter(self.models.values())).options.search)
        except ConfigError as e:
            raise invalid(str(e).replace("--n-best", "n_best").replace("--beam", "beam")
                          .replace("--length-penalty", "length_penalty")) from None
        return request

    async def translate(self, model: ServedModel, lines: list[str], request: RequestOptions):
        future = self.batchers[model.name].submit(lines, request)
        results = await asyncio.wrap_future(future)
        self.metrics.lines.inc(len(lines))
        self.metrics.pieces.inc(sum(len(t.source_pieces) for t in results))
        return results

    # -- LibreTranslate ---------------------------------------------------------------
    def find_model(self, source: str, target: str) -> tuple[ServedModel, str]:
        """The model translating ``source`` into ``target``; ``auto`` takes the one model
        that translates into ``target``."""
        into = [m for m in self.models.values() if m.translates_into(target)]
        if source == "auto":
            if len(into) != 1:
                raise bad_request(f"source: auto needs exactly one model translating into "
                                  f"{target!r}, and this server has {len(into)}; name the "
                                  "source language")
            return into[0], into[0].src_lang
        for m in into:
            if m.src_lang == source:
                return m, source
        pairs = ", ".join(f"{m.src_lang}->{t}" for m in self.models.values() if m.src_lang
                          for t in m.into()) or "none"
        raise bad_request(f"no model translates {source!r} into {target!r} (this server: "
                          f"{pairs}; see GET /languages)")


async def form_or_json(request: Request) -> dict:
    """A request body as LibreTranslate takes it: JSON, or form fields."""
    body = await request.body()
    if not body:
        return {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise invalid("body: not valid JSON") from None
        if not isinstance(data, dict):
            raise invalid("body: expected a JSON object")
        return data
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise invalid("body: not valid form fields (UTF-8, URL-encoded)") from None
    return {k: v if k == "q" and len(v) > 1 else v[0] for k, v in fields.items()}


def _text(data: dict, name: str) -> str:
    """The string field ``name`` of a LibreTranslate request."""
    value = data.get(name)
    if value is None:
        raise invalid(f"{name}: missing")
    if not isinstance(value, str):
        raise invalid(f"{name}: expected a string")
    return value


def create_app(server: Server) -> FastAPI:
    app = FastAPI(title="nmtkit", description="Neural machine translation: nmtkit's native "
                  "API and LibreTranslate's.")
    app.state.server = server
    metrics = server.metrics

    @app.exception_handler(Refusal)
    async def refused(request: Request, e: Refusal):
        metrics.errors.labels(e.kind).inc()
        return JSONResponse({"error": e.message}, e.status, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, e: RequestValidationError):
        metrics.errors.labels("invalid").inc()
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        metrics.errors.labels("http").inc()
        return JSONResponse({"error": str(e.detail)}, e.status_code, headers=e.headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, e: Exception):
        metrics.errors.labels("internal").inc()
        return JSONResponse({"error": f"internal error ({type(e).__name__}); the server "
                                      "goes on"}, 500)

    @app.middleware("http")
    async def timed(request: Request, call_next):
        start = time.perf_counter()
        translating = request.url.path in ("/translate", "/v1/translate")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > server.opts.max_body):
            metrics.errors.labels("too_large").inc()
            return JSONResponse({"error": f"body: more than this server takes "
                                          f"({server.opts.max_body} bytes, --max-body)"}, 413)
        server.in_flight += translating
        try:
            response = await call_next(request)
        finally:
            server.in_flight -= translating
        route = request.scope.get("route")
        path = getattr(route, "path", "other")
        metrics.requests.labels(path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - start)
        return response

    @app.get("/", include_in_schema=False)
    async def page():
        """A page to translate with and see each line's attention."""
        return HTMLResponse(PAGE)

    @app.get("/v1/models", response_model=list[ModelInfo], responses=ANY)
    async def models():
        """The models served, with their languages where known."""
        return [{"name": m.name, "source": m.src_lang,
                 "target": m.tgt_lang if not m.targets else None, "targets": m.into()}
                for m in server.models.values()]

    @app.get("/health", response_model=Health, responses=ANY)
    async def health():
        """Ready: the models are loaded."""
        return {"status": "ready", "models": list(server.models)}

    @app.get("/metrics", responses={200: {"content": {"text/plain": {}}}, **ANY})
    async def prometheus():
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/languages", response_model=list[Language], responses=ANY)
    async def languages():
        """LibreTranslate's list: each source language and the targets it translates into."""
        found: dict[str, list[str]] = {}
        for m in server.models.values():
            if m.src_lang:
                found.setdefault(m.src_lang, []).extend(m.into())
        return [{"code": code, "name": code, "targets": sorted(set(targets))}
                for code, targets in sorted(found.items())]

    @app.post("/translate", openapi_extra=LT_TRANSLATE_SCHEMA, responses={
        200: {"content": {"application/json": {"schema": LT_ANSWER}}}, **TRANSLATING})
    async def libretranslate(request: Request):
        """LibreTranslate's translate: ``q`` a string or a list of strings."""
        data = await form_or_json(request)
        server.check_key(data.get("api_key") if isinstance(data.get("api_key"), str)
                         else _bearer(request))
        q = data.get("q")
        if q is None:
            raise invalid("q: missing")
        one = isinstance(q, str)
        if not one and not (isinstance(q, list) and all(isinstance(x, str) for x in q)):
            raise invalid("q: expected a string or a list of strings")
        lines = [q] if one else q
        source, target = _text(data, "source"), _text(data, "target")
        fmt = data.get("format", "text")
        if fmt != "text":
            raise invalid(f"format: {fmt!r}; this server translates text only")
        alternatives = data.get("alternatives", 0)
        try:
            alternatives = int(alternatives)
        except (TypeError, ValueError):
            raise invalid("alternatives: expected an integer") from None
        if not 0 <= alternatives < server.opts.max_beam:
            raise invalid(f"alternatives: {alternatives} is outside "
                          f"0..{server.opts.max_beam - 1}")
        server.check_lines(lines, "q")
        model, detected = server.find_model(source, target)
        n_best = alternatives + 1
        beam = max(n_best, model.options.search.beam) if alternatives else None
        options = server.request_options(beam, n_best if alternatives else None, None, False,
                                         target if model.targets else None)
        results = await server.translate(model, lines, options)
        texts = [t.text for t in results]
        answer: dict = {"translatedText": texts[0] if one else texts}
        if alternatives:
            alts = [[c.text for c in t.n_best[1:]] for t in results]
            answer["alternatives"] = alts[0] if one else alts
        if source == "auto":
            answer["detectedLanguage"] = {"confidence": 100.0, "language": detected}
        return answer

    @app.post("/v1/translate", response_model=TranslateResponse,
              response_model_exclude_unset=True, responses=TRANSLATING)
    async def native(body: TranslateRequest, request: Request):
        """Translate ``q``: each line's best translation and score, the n best, and where
        asked, word alignments and attention."""
        server.check_key(_bearer(request))
        if body.model is None:
            if len(server.models) != 1:
                raise invalid(f"model: needed, one of {', '.join(server.models)}")
            model = next(iter(server.models.values()))
        elif body.model not in server.models:
            raise Refusal(404, "not_found", f"model: no model {body.model!r} (this server: "
                          f"{', '.join(server.models)})")
        else:
            model = server.models[body.model]
        server.check_lines(body.q, "q")
        if (body.alignments or body.attention) and model.members > 1:
            raise invalid(f"alignments, attention: not for {model.name}, an ensemble of "
                          f"{model.members} models")
        if body.target is not None and not model.translates_into(body.target):
            raise invalid(f"target: {model.name} does not translate into {body.target!r} "
                          f"(it translates into {', '.join(model.into()) or 'one language'})")
        options = server.request_options(body.beam, body.n_best, body.length_penalty,
                                         body.alignments or body.attention,
                                         body.target if model.targets else None)
        results = await server.translate(model, body.q, options)
        return {"model": model.name, "translations": [
            _native(t, body.alignments, body.attention) for t in results]}

    return app


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def _native(t, alignments: bool, attention: bool) -> dict:
    out = {"text": t.text, "score": t.score,
           "n_best": [{"text": c.text, "score": c.score} for c in t.n_best]}
    if alignments:
        out["alignment"] = t.word_alignment or []
    if attention:
        out["source_pieces"] = t.source_pieces
        out["target_pieces"] = t.pieces
        # null past the cell limit of --jsonl-attention: memory per line stays bounded
        out["attention"] = None if t.attention is None else \
            attention_matrix(t.attention.mean, 0, None)
    return out
