"""The library surface the command line calls: one function per pipeline stage."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from nmtkit.config import Config, load_config
from nmtkit.data.build_vocab import VocabOptions, VocabReport, build_vocab
from nmtkit.data.preprocess import PreprocessOptions, PreprocessReport, preprocess
from nmtkit.errors import DataError
from nmtkit.metrics import METRICS, Score, corpus_scores

__all__ = [
    "PreprocessOptions",
    "PreprocessReport",
    "VocabOptions",
    "VocabReport",
    "build_vocab",
    "load_config",
    "load_translator",
    "preprocess",
    "score",
    "train",
]


def train(config: Config, data_dir: Path, model_dir: Path, callbacks=None, device: str = "cpu",
          overwrite: bool = False, init_from: Path | None = None):
    """Train a model (from the weights in the model folder ``init_from``, to fine-tune);
    resumes the training saved in ``model_dir``; refuses to replace an existing model
    folder unless ``overwrite``."""
    from nmtkit.training.trainer import train as _train

    init = Path(init_from) if init_from is not None else None
    return _train(config, Path(data_dir), Path(model_dir), callbacks, device, overwrite, init)


def fine_tune_config(model_dir: Path, config_path: Path | None, overrides: list[str],
                     preset: str | None = None) -> Config:
    """The config for fine-tuning the model in ``model_dir``: its model section, with the
    training options (and any model changes) of ``config_path`` and ``overrides``."""
    from nmtkit.model_folder import ModelFolder

    folder = ModelFolder(Path(model_dir))
    folder.meta()  # a model folder of a format we read
    return load_config(config_path, overrides, preset,
                       base_model=folder.config_dict()["model"])


def load_translator(model_dir: Path, options, on_warning=None):
    """A :class:`nmtkit.translator.Translator` for the model in ``model_dir``."""
    from nmtkit.device import resolve_device
    from nmtkit.model_folder import ModelFolder
    from nmtkit.translator import Translator

    loaded = ModelFolder(Path(model_dir)).load(resolve_device(options.device))
    return Translator(loaded, options, on_warning)


def score(hyps: Iterable[str], refs: list[str], metrics=METRICS, hyp_name: str = "hypotheses",
          ref_name: str = "references") -> list[Score]:
    hyps = list(hyps)
    if len(hyps) != len(refs):
        raise DataError(f"{hyp_name} has {len(hyps)} lines but {ref_name} has {len(refs)}; "
                        "they must have the same number of lines")
    return corpus_scores(hyps, refs, metrics)
