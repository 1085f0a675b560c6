"""What ``nmtkit serve`` is asked for: where to listen, how requests are batched, and the
limits every request is checked against. One definition for the library and the command
line (``nmtkit serve`` builds its options from these fields); no torch here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nmtkit.checks import check_fields, cli_name, option, ranged


@dataclass
class ServeOptions:
    """Checked when made: a bad value is a ConfigError naming the option."""

    host: str = option("127.0.0.1", "Address to listen on (loopback by default; 0.0.0.0: "
                       "every interface).")
    port: int = ranged(8080, 0, 65535, help="Port to listen on (0: any free port).")
    max_batch: int = ranged(64, 1, 1 << 16, help="Lines translated together at most; 1 "
                            "turns batching across requests off.")
    max_wait_ms: float = ranged(5.0, 0, 10_000, help="How long a batch waits for one more "
                                "request, in milliseconds (and 8 times that at most in all).")
    max_queue: int = ranged(4096, 1, 1 << 24, help="Lines waiting at most; a request "
                            "that would pass it is answered 503 with Retry-After.")
    max_lines: int = ranged(256, 1, 1 << 20, help="Lines per request at most (413 past it).")
    max_chars: int = ranged(5000, 1, 1 << 24, help="Characters per line at most (413 past "
                            "it).")
    max_body: int = ranged(1 << 20, 1, 1 << 30, help="Bytes per request body at most (413 "
                           "past it).")
    max_beam: int = ranged(16, 1, 512, help="The largest beam a request may ask for.")
    # A file of API keys, one a line: requests without one get 401, with a wrong one 403.
    api_keys: Path | None = None
    cors_origins: list[str] = field(default_factory=list)  # none: no CORS headers

    def __post_init__(self):
        check_fields(self, cli_name)
