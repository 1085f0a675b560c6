"""Built-in decoders; importing this package registers them."""

from nmtkit.models.decoders import rnn, transformer  # noqa: F401
