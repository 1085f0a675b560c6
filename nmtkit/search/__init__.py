"""Search strategies over the decoder interface (start_state / step / reorder_state)."""

from nmtkit.search.common import Hypothesis, SearchOptions, search  # noqa: F401
