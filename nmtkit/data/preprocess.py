"""The preprocess stage: raw parallel text -> a data folder of encoded corpora.

The data folder holds:

- ``manifest.json``: inputs, options, counts (written last: its presence marks a whole folder);
- ``spm.model`` (joint) or ``spm.src.model`` / ``spm.tgt.model`` for sentencepiece units;
- ``pieces.src.tsv`` / ``pieces.tgt.tsv``: piece tables with training counts;
- ``train.src.ids/.idx``, ``train.tgt.ids/.idx`` and the same for ``valid``;
- ``valid.src.txt`` / ``valid.tgt.txt``: the kept validation pairs, normalised, for BLEU.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nmtkit
from nmtkit.data.corpus import CorpusWriter, PieceTable
from nmtkit.data.text import FilterCounts, FilterOptions, drop_reason, normalize
from nmtkit.data.units import UNITS, build_tokenizer, train_sentencepiece
from nmtkit.errors import DataError, NmtkitError
from nmtkit.fileio import atomic_dir, count_lines, iter_lines

log = logging.getLogger(__name__)
SIDES = ("src", "tgt")


@dataclass
class PreprocessOptions:
    src: Path
    tgt: Path
    out: Path
    valid_src: Path | None = None
    valid_tgt: Path | None = None
    units: str = "spm"
    spm_vocab_size: int = 8000
    spm_model_type: str = "unigram"
    joint: bool = True  # one sentencepiece model for both sides
    filter: FilterOptions = field(default_factory=FilterOptions)
    seed: int = 1
    overwrite: bool = False


@dataclass
class SplitReport:
    name: str
    src: str
    tgt: str
    lines: int
    kept: int
    dropped: dict[str, int]
    src_tokens: int
    tgt_tokens: int


@dataclass
class PreprocessReport:
    out: Path
    units: str
    splits: list[SplitReport]
    pieces: dict[str, int]  # side -> number of distinct pieces
    seconds: float


def _check_pair(src: Path, tgt: Path) -> int:
    n_src, n_tgt = count_lines(src), count_lines(tgt)
    if n_src != n_tgt:
        raise DataError(
            f"{src} has {n_src} lines but {tgt} has {n_tgt}; parallel files must have "
            "the same number of lines"
        )
    return n_src


def _write_normalized(src: Path, tgt: Path, out_src: Path, out_tgt: Path) -> None:
    """Normalised copies of both sides (for sentencepiece training), empty pairs left out."""
    with open(out_src, "w", encoding="utf-8") as fs, open(out_tgt, "w", encoding="utf-8") as ft:
        for s, t in zip(iter_lines(src), iter_lines(tgt)):
            s, t = normalize(s), normalize(t)
            if s and t:
                fs.write(s + "\n")
                ft.write(t + "\n")


def preprocess(opts: PreprocessOptions) -> PreprocessReport:
    start = time.time()
    if opts.units not in UNITS:
        raise NmtkitError(f"unknown units '{opts.units}'; valid: {', '.join(UNITS)}")
    if (opts.valid_src is None) != (opts.valid_tgt is None):
        raise NmtkitError("give both --valid-src and --valid-tgt, or neither")
    splits = [("train", Path(opts.src), Path(opts.tgt))]
    if opts.valid_src is not None:
        splits.append(("valid", Path(opts.valid_src), Path(opts.valid_tgt)))
    line_counts = {name: _check_pair(s, t) for name, s, t in splits}

    with atomic_dir(Path(opts.out), overwrite=opts.overwrite) as tmp:
        files: dict[str, str | None] = {"src": None, "tgt": None}
        if opts.units == "spm":
            norm = {side: tmp / f".train.norm.{side}" for side in SIDES}
            _write_normalized(splits[0][1], splits[0][2], norm["src"], norm["tgt"])
            log.info("training sentencepiece (%s, %d pieces)", opts.spm_model_type,
                     opts.spm_vocab_size)
            if opts.joint:
                model = train_sentencepiece([norm["src"], norm["tgt"]], tmp / "spm",
                                            opts.spm_vocab_size, opts.spm_model_type, opts.seed)
                files = {"src": model.name, "tgt": model.name}
            else:
                for side in SIDES:
                    model = train_sentencepiece([norm[side]], tmp / f"spm.{side}",
                                                opts.spm_vocab_size, opts.spm_model_type,
                                                opts.seed)
                    files[side] = model.name
            for p in norm.values():
                p.unlink()
            for p in tmp.glob("*.vocab"):  # sentencepiece's own vocab listing; ours is built later
                p.unlink()
        tokenizers = {
            side: build_tokenizer(opts.units, tmp / files[side] if files[side] else None)
            for side in SIDES
        }
        tables = {side: PieceTable() for side in SIDES}
        reports = []
        for name, src, tgt in splits:
            reports.append(_encode_split(name, src, tgt, tmp, tokenizers, tables, opts))
            log.info("%s: kept %d of %d pairs", name, reports[-1].kept, reports[-1].lines)
        for side in SIDES:
            tables[side].save(tmp / f"pieces.{side}.tsv")
        manifest = {
            "format_version": nmtkit.FORMAT_VERSION,
            "nmtkit_version": nmtkit.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "inputs": {name: {"src": str(s), "tgt": str(t), "lines": line_counts[name]}
                       for name, s, t in splits},
            "options": {
                "units": opts.units,
                "spm_vocab_size": opts.spm_vocab_size,
                "spm_model_type": opts.spm_model_type,
                "joint": opts.joint,
                "seed": opts.seed,
                "filter": asdict(opts.filter),
            },
            "tokenizer": {"units": opts.units, "src_model": files["src"],
                          "tgt_model": files["tgt"]},
            "splits": {r.name: asdict(r) for r in reports},
            "pieces": {side: len(tables[side].pieces) for side in SIDES},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return PreprocessReport(
        out=Path(opts.out), units=opts.units, splits=reports,
        pieces={side: len(tables[side].pieces) for side in SIDES},
        seconds=time.time() - start,
    )


def _encode_split(name, src, tgt, tmp, tokenizers, tables, opts) -> SplitReport:
    counts = FilterCounts()
    writers = {side: CorpusWriter(tmp / f"{name}.{side}") for side in SIDES}
    texts = {side: open(tmp / f"{name}.{side}.txt", "w", encoding="utf-8") for side in SIDES} \
        if name != "train" else None
    n_tok = {"src": 0, "tgt": 0}
    lines = 0
    for s, t in zip(iter_lines(src), iter_lines(tgt)):
        lines += 1
        s, t = normalize(s), normalize(t)
        ps = tokenizers["src"].encode(s) if s else []
        pt = tokenizers["tgt"].encode(t) if t else []
        reason = drop_reason(len(ps), len(pt), opts.filter)
        if reason is not None:
            counts.dropped[reason] += 1
            continue
        counts.kept += 1
        for side, pieces, text in (("src", ps, s), ("tgt", pt, t)):
            writers[side].add(tables[side].ids(pieces, count=name == "train"))
            n_tok[side] += len(pieces)
            if texts is not None:
                texts[side].write(text + "\n")
    for w in writers.values():
        w.close()
    if texts is not None:
        for f in texts.values():
            f.close()
    return SplitReport(name, str(src), str(tgt), lines, counts.kept, counts.dropped,
                       n_tok["src"], n_tok["tgt"])


def load_manifest(data_dir: Path) -> dict:
    path = Path(data_dir) / "manifest.json"
    if not path.exists():
        raise NmtkitError(f"{data_dir}: not a data folder (no manifest.json); "
                          "run nmtkit preprocess")
    manifest = json.loads(path.read_text())
    if manifest.get("format_version", 0) > nmtkit.FORMAT_VERSION:
        raise NmtkitError(f"{path}: made by a newer nmtkit (format "
                          f"{manifest['format_version']}); upgrade nmtkit")
    return manifest
