"""Every refusal of the server as one JSON object ``{"error": "..."}`` (the shape
LibreTranslate answers with), with its status and the kind counted in the metrics."""

from __future__ import annotations


class Refusal(Exception):
    """A request refused: ``status`` (4xx, 503), ``kind`` (for the metrics), a message
    naming the field or limit, and headers (``Retry-After``)."""

    def __init__(self, status: int, kind: str, message: str,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.headers = headers or {}


def invalid(message: str) -> Refusal:
    return Refusal(422, "invalid", message)


def bad_request(message: str) -> Refusal:
    return Refusal(400, "bad_request", message)


def too_large(message: str) -> Refusal:
    return Refusal(413, "too_large", message)


def busy(message: str) -> Refusal:
    return Refusal(503, "busy", message, {"Retry-After": "1"})
