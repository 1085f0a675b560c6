"""The release and the version of the on-disk formats (data folder and model folder)."""

__version__ = "0.1.0"

# Bump when an old folder can no longer be read; readers refuse folders with a newer version.
FORMAT_VERSION = 1
