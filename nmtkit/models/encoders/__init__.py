"""Built-in encoders; importing this package registers them."""

from nmtkit.models.encoders import rnn  # noqa: F401
