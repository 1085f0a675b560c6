"""The preprocess stage: raw parallel text -> a data folder of encoded corpora.

The data folder holds:

- ``manifest.json``: inputs, options, counts (written last: its presence marks a whole folder);
- ``spm.model`` (joint) or ``spm.src.model`` / ``spm.tgt.model`` for sentencepiece units;
- ``pieces.src.tsv`` / ``pieces.tgt.tsv``: piece tables with training counts;
- ``train.src.ids/.idx``, ``train.tgt.ids/.idx`` and the same for ``valid``;
- ``valid.src.txt`` / ``valid.tgt.txt``: the kept validation pairs, normalised, for BLEU;
- ``train.src.txt`` / ``train.tgt.txt``: the kept training pairs, normalised, in corpus
  order (what ``train.subword_alpha`` samples segmentations of).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nmtkit.checks import SEED_MAX, check_fields, check_language, cli_name, one_of, ranged
from nmtkit.data.corpus import FIX, CorpusWriter, PieceTable
from nmtkit.data.text import FilterCounts, FilterOptions, drop_reason, normalize
from nmtkit.data.units import (
    SPM_MODEL_TYPES,
    UNITS,
    TokenizerSpec,
    train_sentencepiece,
)
from nmtkit.errors import ConfigError, DataError, NmtkitError
from nmtkit.fileio import (
    atomic_dir,
    count_lines,
    iter_lines,
    open_input,
    read_json,
    write_json,
)
from nmtkit.folders import check_format, claim_folder
from nmtkit.version import FORMAT_VERSION, __version__

log = logging.getLogger(__name__)
SIDES = ("src", "tgt")
MANIFEST_KEYS = ("tokenizer", "splits", "pieces")
PROGRESS_EVERY = 1000  # pairs between progress reports


@dataclass
class LangPair:
    """One more language pair of a data folder for a model of several pairs (the first is
    :class:`PreprocessOptions`' own ``src`` / ``tgt``)."""

    src: Path
    tgt: Path
    src_lang: str
    tgt_lang: str
    valid_src: Path | None = None
    valid_tgt: Path | None = None


def target_tag(lang: str) -> str:
    """The piece a source line starts with to be translated into ``lang``."""
    return f"<2{lang}>"


@dataclass
class PreprocessOptions:
    src: Path
    tgt: Path
    out: Path
    valid_src: Path | None = None
    valid_tgt: Path | None = None
    units: str = one_of("spm", UNITS)
    spm_vocab_size: int = ranged(8000, 1, 1 << 20)
    spm_model_type: str = one_of("unigram", SPM_MODEL_TYPES)
    joint: bool = True  # one sentencepiece model for both sides
    filter: FilterOptions = field(default_factory=FilterOptions)
    seed: int = ranged(1, 0, SEED_MAX)
    overwrite: bool = False
    # A model folder whose units and sentencepiece models encode the text (for
    # fine-tuning it: nmtkit train --init-from); units and spm_* are then not used.
    from_model: Path | None = None
    # Language codes of the two sides (en, de, pt-BR), recorded in the manifest and, by
    # train, in the model folder (nmtkit serve's LibreTranslate API names models by them).
    src_lang: str | None = None
    tgt_lang: str | None = None
    # More language pairs, for one model of several (Johnson et al., 2017): with several
    # target languages, each source line gets its target's tag (<2de>) as its first piece.
    more: list[LangPair] = field(default_factory=list)

    def __post_init__(self):
        check_fields(self, cli_name)
        for pair in self.pairs():
            check_language("--src-lang", pair.src_lang)
            check_language("--tgt-lang", pair.tgt_lang)
            if (pair.valid_src is None) != (pair.valid_tgt is None):
                raise ConfigError("give both --valid-src and --valid-tgt, or neither")
        if self.more and not (self.src_lang and self.tgt_lang):
            raise ConfigError("--src-lang and --tgt-lang: give them for each --src/--tgt "
                              "pair of a data folder of several pairs")
        check_fields(self.filter, cli_name)
        if self.filter.min_len > self.filter.max_len:
            raise ConfigError(f"--min-len {self.filter.min_len} is more than --max-len "
                              f"{self.filter.max_len}")
        if len({p.valid_src is None for p in self.pairs()}) > 1:
            raise ConfigError("--valid-src/--valid-tgt: give them for every --src/--tgt "
                              "pair, or for none")

    def pairs(self) -> list[LangPair]:
        """Every language pair, the first from ``src``, ``tgt`` and their options."""
        first = LangPair(self.src, self.tgt, self.src_lang, self.tgt_lang, self.valid_src,
                         self.valid_tgt)
        return [first, *self.more]

    def target_tags(self) -> dict[str, str]:
        """Target language -> tag, where the pairs have more than one target language."""
        langs = sorted({p.tgt_lang for p in self.pairs()})
        return {lang: target_tag(lang) for lang in langs} if len(langs) > 1 else {}


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


def _write_normalized(parts: list, out_src: Path, out_tgt: Path) -> None:
    """Normalised copies of both sides of every (source, target, tag) part (for
    sentencepiece training, without tags), empty pairs left out."""
    n = 0
    with open(out_src, "w", encoding="utf-8") as fs, open(out_tgt, "w", encoding="utf-8") as ft:
        for src, tgt, _ in parts:
            for s, t in zip(iter_lines(src), iter_lines(tgt)):
                s, t = normalize(s), normalize(t)
                if s and t:
                    fs.write(s + "\n")
                    ft.write(t + "\n")
                    n += 1
    if n == 0:
        names = ", ".join(str(f) for s, t, _ in parts for f in (s, t))
        raise DataError(f"{names}: no pair has text on both sides; nothing to train "
                        "sentencepiece on")


def _model_tags(spec: TokenizerSpec | None, pairs: list[LangPair]) -> dict[str, str]:
    """With ``--from-model``: the model's own tag of each pair's target language (an
    imported model's ``>>deu<<``); a language it has no tag for is a ConfigError."""
    if spec is None:
        return {}
    have = spec.languages
    wanted = sorted({p.tgt_lang for p in pairs if p.tgt_lang})
    if not have:
        if len(wanted) > 1:
            raise ConfigError(f"--tgt-lang {', '.join(wanted)}: the model of --from-model "
                              "translates into one language (it has no target-language tags)")
        return {}
    missing = [lang for lang in wanted if lang not in have]
    if missing:
        raise ConfigError(f"--tgt-lang {missing[0]}: not one of the target languages of the "
                          f"model of --from-model ({', '.join(sorted(have))})")
    return {lang: have[lang] for lang in wanted}


def _languages(pairs: list[LangPair]) -> dict[str, str]:
    """The manifest's languages: each side's code where every pair has the same one (the
    target languages of several are the tokenizer's target tags)."""
    out = {}
    for side in ("src", "tgt"):
        codes = {getattr(p, f"{side}_lang") for p in pairs}
        if len(codes) == 1 and None not in codes:
            out[side] = codes.pop()
    return out


def _check_output(opts: PreprocessOptions, inputs: list[Path]) -> Path:
    """The data folder to write, as an absolute path, once it is safe to write there."""
    out = Path(os.path.abspath(opts.out))
    claim_folder(out, "data", "--out", inputs, opts.overwrite)
    return out


def _check_kept(report: SplitReport, opts: PreprocessOptions) -> None:
    if report.kept:
        return
    reasons = ", ".join(f"{n} {opts.filter.describe(r)}" for r, n in report.dropped.items() if n)
    raise DataError(f"{report.src}, {report.tgt}: no {report.name} pair is left of "
                    f"{report.lines} ({reasons or 'the files are empty'}); check the files "
                    "or loosen the filter")


def preprocess(opts: PreprocessOptions,
               on_progress: Callable[[int, int], None] | None = None,
               model_spec: TokenizerSpec | None = None) -> PreprocessReport:
    """Build the data folder ``opts.out``; ``on_progress(done, total)`` hears how many
    pairs of all splits have been encoded (every :data:`PROGRESS_EVERY` and at the end).
    With ``opts.from_model``, ``model_spec`` is that model folder's tokenizer
    (:meth:`nmtkit.model_folder.ModelFolder.tokenizer_spec`), whose files are copied."""
    start = time.time()
    pairs = opts.pairs()
    tags = opts.target_tags() if opts.from_model is None else _model_tags(model_spec, pairs)
    # each split: its parts, (source file, target file, the tag its sources start with)
    splits = [("train", [(Path(p.src), Path(p.tgt), tags.get(p.tgt_lang)) for p in pairs])]
    if opts.valid_src is not None:
        splits.append(("valid", [(Path(p.valid_src), Path(p.valid_tgt), tags.get(p.tgt_lang))
                                 for p in pairs]))
    inputs = [f for _, parts in splits for s, t, _ in parts for f in (s, t)]
    for p in inputs:
        open_input(p, "input").close()
    out = _check_output(opts, inputs + ([Path(opts.from_model)] if opts.from_model else []))
    line_counts = {name: sum(_check_pair(s, t) for s, t, _ in parts) for name, parts in splits}

    units = opts.units
    if opts.from_model is not None:
        if model_spec is None:
            raise ValueError("--from-model: pass the model folder's tokenizer spec "
                             "(nmtkit.api.preprocess opens the folder and does)")
        units = model_spec.units
    with atomic_dir(out, overwrite=opts.overwrite) as tmp:
        files: dict[str, str | None] = {"src": None, "tgt": None}
        if opts.from_model is not None:
            for name in model_spec.files():
                shutil.copyfile(Path(opts.from_model) / name, tmp / name)
            files = {"src": model_spec.src_model, "tgt": model_spec.tgt_model}
        elif units == "spm":
            norm = {side: tmp / f".train.norm.{side}" for side in SIDES}
            _write_normalized(splits[0][1], norm["src"], norm["tgt"])
            log.info("training sentencepiece (%s, %d pieces)", opts.spm_model_type,
                     opts.spm_vocab_size)
            given = {"src": opts.src, "tgt": opts.tgt}
            if opts.joint:
                model = train_sentencepiece([norm["src"], norm["tgt"]], tmp / "spm",
                                            opts.spm_vocab_size, opts.spm_model_type, opts.seed,
                                            f"{opts.src}, {opts.tgt}")
                files = {"src": model.name, "tgt": model.name}
            else:
                for side in SIDES:
                    model = train_sentencepiece([norm[side]], tmp / f"spm.{side}",
                                                opts.spm_vocab_size, opts.spm_model_type,
                                                opts.seed, str(given[side]))
                    files[side] = model.name
            for p in norm.values():
                p.unlink()
            for p in tmp.glob("*.vocab"):  # sentencepiece's own vocab listing; ours is built later
                p.unlink()
        # a model's target-language tags stay whole pieces of the source (--from-model)
        spec = TokenizerSpec(units, files["src"], files["tgt"],
                             model_spec.target_tags if opts.from_model is not None
                             else tuple(sorted(tags.items())))
        tokenizers = {side: spec.build(tmp, side) for side in SIDES}
        tables = {side: PieceTable() for side in SIDES}
        reports = []
        progress = on_progress or (lambda done, total: None)
        total, done = sum(line_counts.values()), 0
        for name, parts in splits:
            reports.append(_encode_split(name, parts, tmp, tokenizers, tables, opts,
                                         lambda lines, before=done: progress(before + lines,
                                                                             total)))
            done += reports[-1].lines
            _check_kept(reports[-1], opts)
            log.info("%s: kept %d of %d pairs", name, reports[-1].kept, reports[-1].lines)
        for side in SIDES:
            tables[side].save(tmp / f"pieces.{side}.tsv")
        manifest = {
            "format_version": FORMAT_VERSION,
            "nmtkit_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "inputs": {name: {"src": ", ".join(str(s) for s, _, _ in parts),
                              "tgt": ", ".join(str(t) for _, t, _ in parts),
                              "lines": line_counts[name]}
                       for name, parts in splits},
            "options": {
                "units": units,
                "from_model": None if opts.from_model is None else str(opts.from_model),
                "spm_vocab_size": opts.spm_vocab_size,
                "spm_model_type": opts.spm_model_type,
                "joint": opts.joint,
                "seed": opts.seed,
                "filter": asdict(opts.filter),
            },
            "tokenizer": spec.to_json(),
            "splits": {r.name: asdict(r) for r in reports},
            "pieces": {side: len(tables[side].pieces) for side in SIDES},
            "languages": _languages(pairs),
        }
        write_json(tmp / "manifest.json", manifest)
    return PreprocessReport(
        out=Path(opts.out), units=units, splits=reports,
        pieces={side: len(tables[side].pieces) for side in SIDES},
        seconds=time.time() - start,
    )


def _encode_split(name, parts, tmp, tokenizers, tables, opts, on_lines) -> SplitReport:
    """Encode the split's (source file, target file, tag) parts, one after another."""
    counts = FilterCounts()
    writers = {side: CorpusWriter(tmp / f"{name}.{side}") for side in SIDES}
    texts = {side: open(tmp / f"{name}.{side}.txt", "w", encoding="utf-8") for side in SIDES}
    n_tok = {"src": 0, "tgt": 0}
    lines = 0
    for s, t, tag in ((s, t, tag) for src, tgt, tag in parts
                      for s, t in zip(iter_lines(src), iter_lines(tgt))):
        lines += 1
        if lines % PROGRESS_EVERY == 0:
            on_lines(lines)
        s, t = normalize(s), normalize(t)
        if tag and s:
            s = f"{tag} {s}"
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
    on_lines(lines)
    for w in writers.values():
        w.close()
    if texts is not None:
        for f in texts.values():
            f.close()
    return SplitReport(name, ", ".join(str(s) for s, _, _ in parts),
                       ", ".join(str(t) for _, t, _ in parts), lines, counts.kept,
                       counts.dropped, n_tok["src"], n_tok["tgt"])


@dataclass(frozen=True)
class Manifest:
    """A data folder's ``manifest.json``, checked when read (:func:`load_manifest`): its
    tokenizer, its splits (each a :class:`SplitReport` as a dict: lines read and kept,
    drops by reason, tokens), and the whole document as written."""

    path: Path
    tokenizer: TokenizerSpec
    splits: dict[str, dict]
    doc: dict
    languages: dict[str, str] = field(default_factory=dict)  # "src"/"tgt" -> code, if given

    @property
    def folder(self) -> Path:
        return self.path.parent


def load_manifest(data_dir: Path) -> Manifest:
    """The manifest of the data folder ``data_dir``; a missing folder or file, a format
    this nmtkit does not read, or a damaged tokenizer or split is one line."""
    data_dir = Path(data_dir)
    path = data_dir / "manifest.json"
    if not data_dir.is_dir():
        raise NmtkitError(f"{data_dir}: no such data folder; run nmtkit preprocess")
    if not path.exists():
        raise NmtkitError(f"{data_dir}: not a data folder (no manifest.json); "
                          "run nmtkit preprocess")
    doc = read_json(path, "data folder manifest")
    check_format(doc, path, MANIFEST_KEYS, FIX)
    tokenizer = TokenizerSpec.from_json(doc["tokenizer"], str(path))
    if not isinstance(doc["splits"], dict) or "train" not in doc["splits"]:
        raise NmtkitError(f"{path}: damaged (no train split); {FIX}")
    languages = doc.get("languages") or {}
    if not isinstance(languages, dict) or not all(
            side in ("src", "tgt") and isinstance(code, str) for side, code in languages.items()):
        raise NmtkitError(f"{path}: damaged (languages); {FIX}")
    return Manifest(path, tokenizer, doc["splits"], doc, dict(languages))
