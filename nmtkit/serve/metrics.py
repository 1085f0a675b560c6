"""The server's Prometheus metrics (``GET /metrics``), in a registry of its own: requests
by route and status, refusals by kind, latency, batch sizes, lines waiting, lines and
source pieces translated."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        r = self.registry = CollectorRegistry()
        self.requests = Counter("nmtkit_requests", "Requests answered, by route and status.",
                                ["route", "status"], registry=r)
        self.errors = Counter("nmtkit_errors", "Requests refused or failed, by kind.",
                              ["kind"], registry=r)
        self.latency = Histogram("nmtkit_request_seconds", "Seconds from request to "
                                 "response, by route.", ["route"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.batch = Histogram("nmtkit_batch_lines", "Lines translated together in a "
                               "batch.", buckets=BATCH_BUCKETS, registry=r)
        self.queue = Gauge("nmtkit_queue_lines", "Lines waiting or being translated.",
                           registry=r)
        self.lines = Counter("nmtkit_lines_translated", "Lines translated.", registry=r)
        self.pieces = Counter("nmtkit_source_pieces_translated", "Source pieces "
                              "translated.", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
