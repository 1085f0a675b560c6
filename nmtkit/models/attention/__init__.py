"""Built-in attention types; importing this package registers them."""

from nmtkit.models.attention import luong  # noqa: F401
