"""Does this model fit this data? Every such check, in one place:

- a data folder made to fine-tune or shortlist a model splits text and numbers pieces
  exactly as the model folder does (:func:`check_same_encoding`);
- a ``--model-dir`` to train into is new, replaceable, or holds a training to resume
  (:func:`check_train_target`), and a resumed run reads data encoded as the model's
  (:func:`check_resume_data`) and says when its training corpus changed
  (:func:`record_corpus`).
"""

from __future__ import annotations

from pathlib import Path

from nmtkit.data.corpus import corpus_fingerprint
from nmtkit.data.preprocess import Manifest
from nmtkit.errors import NmtkitError
from nmtkit.fileio import file_fingerprint
from nmtkit.folders import MARKERS, claim_folder
from nmtkit.model_folder.folder import TRAIN_STATE, ModelFolder
from nmtkit.model_folder.meta import Meta

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


def check_train_target(model_dir: Path, data_dir: Path, overwrite: bool) -> bool:
    """Refuse a model folder to train into that would clobber something: a file, a folder
    nmtkit did not make, the data folder, or (without ``overwrite``) a model without a
    training state to resume. True: resume the training whose state the folder holds."""
    model_dir = Path(model_dir)
    claim_folder(model_dir, "model", "--model-dir", [data_dir], overwrite, resume=True)
    if (model_dir / MARKERS["model"]).is_file() and not overwrite:
        if (model_dir / TRAIN_STATE).is_file():
            return True
        steps = ModelFolder(model_dir).meta().steps
        raise NmtkitError(
            f"{model_dir}: already holds a model ({steps} steps trained) but no training "
            "state to resume; choose another --model-dir, or pass --overwrite to train a new "
            "model in its place (the old one stays until the new one reaches its first "
            "checkpoint)")
    return False


def check_resume_data(folder: ModelFolder, meta: Meta, data_dir: Path) -> None:
    """The vocabularies, tokenizer and sentencepiece files of ``data_dir`` are those the
    model in ``folder`` was trained with."""
    for name, fingerprint in meta.fingerprints.items():
        given = data_dir / name
        if given.is_file() and file_fingerprint(given) != fingerprint:
            raise NmtkitError(
                f"{given}: differs from the {name} the model in {folder.path} was "
                "trained with; resume with that data folder, or pass --overwrite to "
                "start a new model")


def corpus_record(data_dir: Path) -> dict:
    """The training corpus a run reads, as ``meta.json`` records it: its data folder and
    fingerprint."""
    return {"data_dir": str(data_dir), "fingerprint": corpus_fingerprint(data_dir)}


def record_corpus(folder: ModelFolder, meta: Meta, data_dir: Path,
                  write: bool = True) -> str | None:
    """Whether a resumed run reads another training corpus than it did (same tokenizer and
    vocabularies, other pairs): if so, the new one is recorded in the model folder's
    ``meta.json`` (``corpus``; the earlier ones under ``corpus_history``; only where
    ``write``, the process that writes) and the earlier one's data folder returned. A
    folder of an older release, which recorded none, starts recording now."""
    saved = meta.corpus
    now = corpus_record(data_dir)
    if saved is not None and saved.get("fingerprint") == now["fingerprint"]:
        return None
    if write:
        history = [*meta.corpus_history, *([saved] if saved else [])]
        folder.write_meta({"corpus": now, "corpus_history": history})
    return None if saved is None else str(saved.get("data_dir", "?"))
