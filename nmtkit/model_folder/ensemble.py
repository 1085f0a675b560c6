"""Several model folders loaded as one ensemble (``translate --model-dir A --model-dir
B``): each opened and checked as every command does, then checked to share the source
tokenizer and both vocabularies, which the ensemble's one source and one output need."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.fileio import file_fingerprint
from nmtkit.model_folder.folder import LoadedModel, ModelFolder
from nmtkit.models.ensemble import Ensemble


def _tokenizer(folder: ModelFolder) -> tuple:
    """The folder's tokenizer spec and the bytes' fingerprints of the files it names."""
    spec = folder.tokenizer_spec()
    files = sorted({f for f in (spec.src_model, spec.tgt_model) if f})
    return spec, [file_fingerprint(folder.path / f) for f in files]


def load_models(paths: str | Path | list, device) -> LoadedModel:
    """One folder's model, or the ensemble of a list of several (the first folder's
    vocabularies, tokenizers and settings; the shortest of the models' source lengths)."""
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    folders = [ModelFolder.open(p) for p in paths]
    loaded = [f.load(device) for f in folders]
    if len(loaded) == 1:
        return loaded[0]
    first = loaded[0]
    for path, folder, other in zip(paths[1:], folders[1:], loaded[1:]):
        for what, mine, theirs in (
                ("target vocabulary", first.tgt_vocab.tokens, other.tgt_vocab.tokens),
                ("source vocabulary", first.src_vocab.tokens, other.src_vocab.tokens),
                ("tokenizer", _tokenizer(folders[0]), _tokenizer(folder))):
            if mine != theirs:
                raise NmtkitError(f"--model-dir {path}: its {what} differs from that of "
                                  f"{paths[0]}; the models of an ensemble must share their "
                                  "tokenizer and vocabularies")
    max_src_len = min(m.config.model.max_src_len for m in loaded)
    config = replace(first.config, model=replace(first.config.model, max_src_len=max_src_len))
    return replace(first, model=Ensemble([m.model for m in loaded]), config=config,
                   lexicon=None, members=tuple(paths))
