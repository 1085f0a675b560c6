"""Search over the decoder interface: one loop (:mod:`~nmtkit.search.loop`), strategies
(:mod:`~nmtkit.search.strategies`), constraints, options, the compiled runner, and
batching many sequences (:mod:`~nmtkit.search.sequences`).

``search`` and ``search_sequences`` are imported on first use, so that reading the
options (:mod:`~nmtkit.search.options`) does not import torch.
"""

from nmtkit.search.options import Hypothesis, SearchOptions  # noqa: F401


def __getattr__(name: str):
    if name == "search":
        from nmtkit.search.loop import search

        return search
    if name == "search_sequences":
        from nmtkit.search.sequences import search_sequences

        return search_sequences
    raise AttributeError(f"module 'nmtkit.search' has no attribute {name!r}")
