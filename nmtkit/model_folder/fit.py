"""Does this model fit this data? A data folder made to fine-tune or shortlist a model must
split text and number pieces exactly as the model folder does."""

from __future__ import annotations

from pathlib import Path

from nmtkit.data.preprocess import Manifest
from nmtkit.errors import NmtkitError
from nmtkit.fileio import file_fingerprint
from nmtkit.model_folder.folder import ModelFolder

HOW = ("encode the new data with the model's own: nmtkit preprocess ... --from-model {m}, "
       "then nmtkit build-vocab DATA --from-model {m}")


def check_same_encoding(model_dir: Path, data_dir: Path, manifest: Manifest,
                        who: str | None = None) -> None:
    """The data folder splits text and numbers pieces exactly as the model folder does;
    else one line (starting with ``who``, by default ``--init-from MODEL_DIR``) saying what
    differs and how to make a data folder that fits."""
    who = who or f"--init-from {model_dir}"
    how = HOW.format(m=model_dir)
    theirs = ModelFolder(model_dir).tokenizer_spec()
    ours = manifest.tokenizer
    if theirs.units != ours.units:
        raise NmtkitError(f"{who}: the model reads {theirs.units} units but "
                          f"{data_dir} has {ours.units} units; {how}")
    pairs = [(f"vocab.{side}.tsv", f"vocab.{side}.tsv") for side in ("src", "tgt")]
    pairs += [(a, b) for a, b in ((theirs.src_model, ours.src_model),
                                  (theirs.tgt_model, ours.tgt_model)) if a and b]
    for mine, given in pairs:
        a, b = model_dir / mine, data_dir / given
        if not b.is_file():
            raise NmtkitError(f"{b}: missing; run nmtkit build-vocab {data_dir} --from-model "
                              f"{model_dir}")
        if file_fingerprint(a) != file_fingerprint(b):
            what = "vocabulary" if mine.startswith("vocab") else "sentencepiece model"
            raise NmtkitError(f"{who}: {b} is another {what} than the "
                              f"model's {mine}; {how}")
