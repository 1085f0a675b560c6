"""An example nmtkit plugin: cosine attention (entry point ``nmtkit.attention: cosine``)."""

__version__ = "0.1.0"
