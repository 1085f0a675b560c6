"""Model interfaces, components and their assembly into a sequence-to-sequence model.

Importing this package registers the built-in components (the registry itself imports no
model code); outside packages register theirs through entry points.
"""

from nmtkit.models import attention, bridges, decoders, encoders  # noqa: F401
