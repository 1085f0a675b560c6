"""The library surface the command line calls: one function per pipeline stage."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from nmtkit.config import Config, load_config
from nmtkit.data import build_vocab as _vocab
from nmtkit.data import preprocess as _preprocess
from nmtkit.data.build_vocab import VocabOptions, VocabReport
from nmtkit.data.preprocess import PreprocessOptions, PreprocessReport
from nmtkit.errors import DataError
from nmtkit.scoring.metrics import METRICS, Score, corpus_scores, sentence_scores

__all__ = [
    "PreprocessOptions",
    "PreprocessReport",
    "VocabOptions",
    "VocabReport",
    "build_vocab",
    "check_int8",
    "compare",
    "load_config",
    "load_translator",
    "preprocess",
    "score",
    "score_pairs",
    "score_sentences",
    "train",
]


def _open_model(model_dir):
    """A model folder read to make something new is opened (checked) first."""
    from nmtkit.model_folder import ModelFolder

    return None if model_dir is None else ModelFolder.open(Path(model_dir))


def preprocess(opts: PreprocessOptions, on_progress=None) -> PreprocessReport:
    """The data folder ``opts.out`` (:func:`nmtkit.data.preprocess.preprocess`), encoded with
    the tokenizer of ``opts.from_model`` where given, once that folder is checked."""
    folder = _open_model(opts.from_model)
    spec = None if folder is None else folder.tokenizer_spec()
    return _preprocess.preprocess(opts, on_progress, spec)


def build_vocab(opts: VocabOptions) -> VocabReport:
    """The vocabularies of a data folder (:func:`nmtkit.data.build_vocab.build_vocab`), or
    those of ``opts.from_model`` once that folder is checked."""
    _open_model(opts.from_model)
    return _vocab.build_vocab(opts)


def train(config: Config, data_dir: Path, model_dir: Path, callbacks=None, device: str = "cpu",
          overwrite: bool = False, init_from: Path | None = None):
    """Train a model (from the weights in the model folder ``init_from``, to fine-tune);
    resumes the training saved in ``model_dir``; refuses to replace an existing model
    folder unless ``overwrite``."""
    from nmtkit.training.distributed import env_rank
    from nmtkit.training.trainer import train as _train
    from nmtkit.translate.int8_check import has_validation_text

    init = Path(init_from) if init_from is not None else None
    result = _train(config, Path(data_dir), Path(model_dir), callbacks, device, overwrite, init)
    if (config.train.check_int8 and not result.interrupted and env_rank() == 0
            and has_validation_text(Path(data_dir))):
        # One process: a fork after training's threads ran could hang (translate/workers.py).
        result.int8_check = check_int8(model_dir, data_dir, workers=1)
    return result


def check_int8(model_dir: Path, data_dir: Path | None = None, src: Path | None = None,
               ref: Path | None = None, workers: int = 0):
    """Translate validation text in float32 and in int8, and record in ``model_dir`` how
    their BLEU compares (what ``--precision auto`` reads): the validation set of the data
    folder ``data_dir``, or the files ``src`` and ``ref``."""
    from nmtkit.fileio import read_lines
    from nmtkit.translate.int8_check import check_int8 as _check
    from nmtkit.translate.int8_check import validation_text

    if data_dir is not None:
        sources, refs = validation_text(Path(data_dir))
        name = f"the validation set of {data_dir}"
    else:
        sources, refs = read_lines(Path(src)), read_lines(Path(ref))
        name = str(src)
    return _check(Path(model_dir), sources, refs, name, workers=workers)


def fine_tune_config(model_dir: Path, config_path: Path | None, overrides: list[str],
                     preset: str | None = None) -> Config:
    """The config for fine-tuning the model in ``model_dir``: its model section, with the
    training options (and any model changes) of ``config_path`` and ``overrides``."""
    from nmtkit.config import to_dict
    from nmtkit.model_folder import ModelFolder
    from nmtkit.training.fine_tune import check_shape_kept

    folder = ModelFolder.open(Path(model_dir))
    source = folder.config_dict()["model"]
    config = load_config(config_path, overrides, preset, base_model=source)
    check_shape_kept(Path(model_dir), to_dict(load_config(None, [], base_model=source).model),
                     to_dict(config.model))
    return config


def load_translator(model_dir: Path | list[Path], options, on_warning=None):
    """A :class:`nmtkit.translate.translator.Translator` for the model in ``model_dir``,
    or the ensemble of the models in a list of folders."""
    from nmtkit.device import resolve_device
    from nmtkit.model_folder.ensemble import load_models
    from nmtkit.translate.translator import Translator

    loaded = load_models(model_dir, resolve_device(options.device))
    return Translator(loaded, options, on_warning)


def _same_length(hyps: list[str], refs: list[str], hyp_name: str, ref_name: str) -> None:
    if len(hyps) != len(refs):
        raise DataError(f"{hyp_name} has {len(hyps)} lines but {ref_name} has {len(refs)}; "
                        "they must have the same number of lines")


def score(hyps: Iterable[str], refs: list[str], metrics=METRICS, hyp_name: str = "hypotheses",
          ref_name: str = "references") -> list[Score]:
    """Corpus scores of ``hyps`` against ``refs``."""
    hyps = list(hyps)
    _same_length(hyps, refs, hyp_name, ref_name)
    return corpus_scores(hyps, refs, metrics)


def score_sentences(hyps: Iterable[str], refs: list[str], metrics=METRICS,
                    hyp_name: str = "hypotheses", ref_name: str = "references"
                    ) -> list[dict[str, float]]:
    """Each line's scores against its reference line (BLEU with effective order)."""
    hyps = list(hyps)
    _same_length(hyps, refs, hyp_name, ref_name)
    return sentence_scores(hyps, refs, metrics)


def compare(systems: list[tuple[str, list[str]]], refs: list[str], metrics=METRICS,
            test: str = "bootstrap", samples: int = 0, seed: int = 12345,
            ref_name: str = "references"):
    """Paired significance test of each system after the first against the first, per
    metric (:func:`nmtkit.scoring.significance.paired_test`)."""
    from nmtkit.scoring.significance import paired_test

    for name, hyps in systems:
        _same_length(hyps, refs, name, ref_name)
    return paired_test(systems, refs, list(metrics), test, samples, seed)


def score_pairs(model_dir: Path, sources: list[str], targets: list[str], batch_size: int = 64,
                device: str = "cpu", src_name: str = "sources", tgt_name: str = "targets",
                on_skip=None):
    """Each pair's log-probability under the model in ``model_dir``
    (:func:`nmtkit.scoring.pairs.score_pairs`), and the corpus totals."""
    from nmtkit.device import resolve_device
    from nmtkit.model_folder import ModelFolder
    from nmtkit.scoring.pairs import corpus_score
    from nmtkit.scoring.pairs import score_pairs as run

    _same_length(targets, sources, tgt_name, src_name)
    where = resolve_device(device)
    loaded = ModelFolder.open(Path(model_dir)).load(where)
    scores = run(loaded, sources, targets, batch_size, where, on_skip)
    return scores, corpus_score(scores)
