"""Bridges from the encoder's final states to the decoder's start state."""

from nmtkit.models.bridges import basic  # noqa: F401
