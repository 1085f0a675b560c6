"""Deprecated: moved to :mod:`nmtkit.models.registry`; this path works for one more
release, with a DeprecationWarning."""

from nmtkit.moved import moved

__getattr__ = moved(__name__, "nmtkit.models.registry")
