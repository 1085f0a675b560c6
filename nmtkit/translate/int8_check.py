"""Check int8 against float32 on validation text and record the result in the model folder
(:mod:`nmtkit.model_folder.int8_check`), for ``translate --precision auto``."""

from __future__ import annotations

from pathlib import Path

import torch

from nmtkit.errors import NmtkitError
from nmtkit.fileio import read_lines
from nmtkit.model_folder.int8_check import Int8Check, weights_fingerprint, write_check
from nmtkit.scoring.metrics import corpus_scores
from nmtkit.version import __version__

# Validation lines translated at most (twice: float32 and int8); the first ones are taken.
MAX_LINES = 2000
CHECK_BEAM = 5


def has_validation_text(data_dir: Path) -> bool:
    return all((Path(data_dir) / f"valid.{side}.txt").is_file() for side in ("src", "tgt"))


def validation_text(data_dir: Path) -> tuple[list[str], list[str]]:
    """A data folder's validation pairs, as preprocess kept them."""
    src, tgt = Path(data_dir) / "valid.src.txt", Path(data_dir) / "valid.tgt.txt"
    if not has_validation_text(data_dir):
        raise NmtkitError(f"{data_dir}: no validation set (preprocess --valid-src/--valid-tgt); "
                          "give nmtkit check-int8 --src and --ref instead")
    return read_lines(src), read_lines(tgt)


def check_int8(model_dir: Path, sources: list[str], refs: list[str], source_name: str,
               beam: int = CHECK_BEAM, workers: int = 0) -> Int8Check:
    """Translate ``sources`` (the first :data:`MAX_LINES`) in float32 and in int8 with beam
    search, score both against ``refs``, and write the record into ``model_dir``."""
    from nmtkit.model_folder.ensemble import load_models
    from nmtkit.translate.options import translate_options
    from nmtkit.translate.translator import Translator

    if len(sources) != len(refs):
        raise NmtkitError(f"{source_name}: {len(sources):,} source lines but {len(refs):,} "
                          "references")
    if not sources:
        raise NmtkitError(f"{source_name}: no lines to check int8 on")
    sources, refs = sources[:MAX_LINES], refs[:MAX_LINES]
    loaded = load_models(model_dir, torch.device("cpu"))  # once; int8 quantizes a copy
    bleu = {}
    for precision in ("fp32", "int8"):
        opts = translate_options(beam=beam, precision=precision, workers=workers)
        with Translator(loaded, opts) as translator:
            hyps = translator.translate(sources)
        [score] = corpus_scores(hyps, refs, ("bleu",))
        bleu[precision] = round(score.score, 2)
    check = Int8Check(fp32_bleu=bleu["fp32"], int8_bleu=bleu["int8"], lines=len(sources),
                      source=source_name, beam=beam,
                      weights=weights_fingerprint(model_dir), version=__version__)
    write_check(model_dir, check)
    return check
