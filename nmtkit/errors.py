"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class NmtkitError(Exception):
    """An error caused by the user's input or environment, not by a bug.

    The message is one line and names the file (and line) at fault where there is one.
    """


class ConfigError(NmtkitError):
    """A configuration value or key is invalid."""


class DataError(NmtkitError):
    """An input file is malformed."""
