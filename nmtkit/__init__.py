"""nmtkit: neural machine translation with the classic encoder-decoder family."""

__version__ = "0.1.0"

# Version of the on-disk formats (data folder and model folder). Bump when an old
# folder can no longer be read; readers refuse folders with a newer version.
FORMAT_VERSION = 1
