"""Built-in encoders; importing this package registers them."""

from nmtkit.models.encoders import mean, rnn, transformer  # noqa: F401
