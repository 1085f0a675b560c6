"""The build-vocab stage: vocabularies with counts from a preprocessed data folder."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from nmtkit.checks import check_fields, cli_name, ranged
from nmtkit.data.corpus import PieceTable
from nmtkit.data.preprocess import load_manifest
from nmtkit.data.vocab import Vocab
from nmtkit.fileio import write_json


@dataclass
class VocabOptions:
    data_dir: Path
    min_freq: int = ranged(1, lo=1)
    max_size: int = ranged(0, lo=0)  # 0: no limit
    shared: bool = False  # one vocabulary for both sides (needed to share embeddings)

    def __post_init__(self):
        check_fields(self, cli_name)


@dataclass
class VocabReport:
    shared: bool
    sizes: dict[str, int]  # side -> vocabulary size, specials included
    coverage: dict[str, float]  # side -> share of training tokens in the vocabulary


def build_vocab(opts: VocabOptions) -> VocabReport:
    data_dir = Path(opts.data_dir)
    load_manifest(data_dir)  # a whole data folder, of a format we read
    shared = opts.shared
    tables = {side: PieceTable.load(data_dir / f"pieces.{side}.tsv") for side in ("src", "tgt")}
    counts = {side: Counter(dict(zip(t.pieces, t.counts))) for side, t in tables.items()}
    if shared:
        both = counts["src"] + counts["tgt"]
        vocabs = dict.fromkeys(("src", "tgt"), Vocab.build(both, opts.min_freq, opts.max_size))
    else:
        vocabs = {side: Vocab.build(c, opts.min_freq, opts.max_size) for side, c in counts.items()}
    coverage = {}
    for side, vocab in vocabs.items():
        total = sum(counts[side].values())
        known = sum(c for p, c in counts[side].items() if p in vocab.index)
        coverage[side] = known / total if total else 1.0
        vocab.save(data_dir / f"vocab.{side}.tsv")
    options = asdict(opts)
    options["data_dir"] = str(opts.data_dir)
    options["shared"] = shared
    write_json(data_dir / "vocab.json", options)
    return VocabReport(shared, {s: len(v) for s, v in vocabs.items()}, coverage)
