"""Built-in attention types; importing this package registers them."""

from nmtkit.models.attention import additive, luong, scaled  # noqa: F401
