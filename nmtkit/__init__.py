"""nmtkit: neural machine translation with the classic encoder-decoder family.

The package's face: ``from nmtkit import Translator`` (:class:`nmtkit.translate.translator.
Translator`; ``Translator.load(model_dir, beam=5, ...)``). It is imported on first use, so
``import nmtkit`` (and ``nmtkit --help``) does not import torch.
"""

from nmtkit.version import FORMAT_VERSION, __version__

__all__ = ["FORMAT_VERSION", "Translator", "__version__"]


def __getattr__(name: str):
    if name == "Translator":
        from nmtkit.translate.translator import Translator

        return Translator
    raise AttributeError(f"module 'nmtkit' has no attribute {name!r}")
