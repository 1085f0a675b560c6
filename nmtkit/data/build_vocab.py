"""The build-vocab stage: vocabularies with counts from a preprocessed data folder."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from nmtkit.checks import COUNT_MAX, check_fields, cli_name, ranged
from nmtkit.data.corpus import PieceTable
from nmtkit.data.preprocess import load_manifest
from nmtkit.data.vocab import SPECIALS, Vocab
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.fileio import atomic_path, write_json


@dataclass
class VocabOptions:
    data_dir: Path
    min_freq: int = ranged(1, 1, COUNT_MAX)
    max_size: int = ranged(0, 0, 1 << 24)  # 0: no limit
    shared: bool = False  # one vocabulary for both sides (needed to share embeddings)
    # A model folder whose vocabularies to use (for fine-tuning it: train --init-from);
    # min_freq, max_size and shared are then not used.
    from_model: Path | None = None

    def __post_init__(self):
        check_fields(self, cli_name)
        if 0 < self.max_size <= len(SPECIALS):
            raise ConfigError(f"--max-size {self.max_size}: the {len(SPECIALS)} special "
                              "tokens alone take that; give 0 (no limit) or more")


@dataclass
class VocabReport:
    shared: bool
    sizes: dict[str, int]  # side -> vocabulary size, specials included
    coverage: dict[str, float]  # side -> share of training tokens in the vocabulary


def _model_vocabs(model_dir: Path) -> dict[str, Vocab]:
    """The vocabularies of the model folder ``model_dir`` (for --from-model; the caller has
    opened the folder, :func:`nmtkit.api.build_vocab`)."""
    for side in ("src", "tgt"):
        if not (model_dir / f"vocab.{side}.tsv").is_file():
            raise NmtkitError(f"--from-model {model_dir}: not a model folder (no "
                              f"vocab.{side}.tsv)")
    return {side: Vocab.load(model_dir / f"vocab.{side}.tsv") for side in ("src", "tgt")}


def build_vocab(opts: VocabOptions) -> VocabReport:
    data_dir = Path(opts.data_dir)
    load_manifest(data_dir)  # a whole data folder, of a format we read
    shared = opts.shared
    tables = {side: PieceTable.load(data_dir / f"pieces.{side}.tsv") for side in ("src", "tgt")}
    counts = {side: Counter(dict(zip(t.pieces, t.counts))) for side, t in tables.items()}
    if opts.from_model is not None:
        vocabs = _model_vocabs(Path(opts.from_model))
        shared = vocabs["src"].tokens == vocabs["tgt"].tokens
    elif shared:
        both = counts["src"] + counts["tgt"]
        vocabs = dict.fromkeys(("src", "tgt"), Vocab.build(both, opts.min_freq, opts.max_size))
    else:
        vocabs = {side: Vocab.build(c, opts.min_freq, opts.max_size) for side, c in counts.items()}
    for side, vocab in vocabs.items():
        if len(vocab) == len(SPECIALS):
            top = max(counts[side].values(), default=0)
            raise NmtkitError(f"--min-freq {opts.min_freq}: no {'' if shared else side + ' '}"
                              f"piece of {data_dir} occurs that often (the most frequent "
                              f"occurs {top:,} times); the vocabulary would hold only the "
                              "special tokens")
    coverage = {}
    for side, vocab in vocabs.items():
        total = sum(counts[side].values())
        known = sum(c for p, c in counts[side].items() if p in vocab.index)
        coverage[side] = known / total if total else 1.0
        if opts.from_model is not None:  # byte for byte: the model checks its files
            with atomic_path(data_dir / f"vocab.{side}.tsv") as tmp:
                shutil.copyfile(Path(opts.from_model) / f"vocab.{side}.tsv", tmp)
        else:
            vocab.save(data_dir / f"vocab.{side}.tsv")
    options = asdict(opts)
    options["data_dir"] = str(opts.data_dir)
    options["from_model"] = None if opts.from_model is None else str(opts.from_model)
    options["shared"] = shared
    write_json(data_dir / "vocab.json", options)
    return VocabReport(shared, {s: len(v) for s, v in vocabs.items()}, coverage)
