"""Subword regularization: training pairs segmented anew each epoch by sentencepiece sampling.

With ``train.subword_alpha`` > 0 every training sentence is segmented by sampling
(:mod:`nmtkit.data.spm_sampling`: unigram sampling, Kudo 2018, for unigram models, as
sentencepiece's ``enable_sampling=True, nbest_size=-1, alpha``; BPE-dropout, Provilkov et
al. 2020, for BPE models, ``alpha`` the probability of skipping a merge) instead of read from
the pre-encoded corpus. Validation and translation keep the deterministic segmentation.

- **The text.** Preprocess keeps the kept training pairs' normalised text beside the
  encoded corpus (``train.src.txt`` / ``train.tgt.txt``, one pair per line, in corpus
  order). A reader holds each line's byte offset (8 bytes a sentence and side) and reads a
  sentence by one positioned read, as :class:`nmtkit.data.corpus.Corpus` reads ids.
- **Determinism.** Sentence ``i`` of side ``s`` in epoch ``e`` is sampled with random
  numbers that are a function of ``(train.seed, e, s, i)`` alone (a counter-based
  generator): its segmentation does not depend on what was sampled before it, on the batch
  it is in, on the process that reads it, or on whether the run was resumed.
- **Batches.** At the start of an epoch every kept pair is sampled once, sequentially,
  for its lengths (two int32 a pair): the epoch's batches are packed by the lengths of the
  segmentations they will read, so a batch stays within ``train.batch_tokens`` exactly as
  without sampling, and a step's token count is exact. The batches sample the same
  segmentations again (the same seeds), so nothing of the epoch is held but its lengths.
- **Limits.** Which pairs are trained on is decided by the deterministic lengths
  (``train.max_len``), as without sampling; a sampled side longer than ``train.max_len``
  falls back to its deterministic segmentation. Sampled pieces outside the vocabulary are
  ``<unk>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nmtkit.data.batching import ParallelData
from nmtkit.data.corpus import FIX
from nmtkit.data.spm_sampling import SpmSampler, mix64
from nmtkit.data.vocab import UNK, Vocab
from nmtkit.errors import ConfigError, DataError, NmtkitError

SIDES = ("src", "tgt")
_PROBE_LINES = 64  # training lines whose plain segmentation is checked against sentencepiece's


def sample_seed(seed: int, epoch: int, side: int, index: int) -> int:
    """The 64-bit sampling seed of sentence ``index`` of ``side`` (0: source, 1: target) in
    ``epoch`` of a run with ``train.seed`` ``seed``: a function of those alone."""
    return mix64(mix64(mix64(int(seed)) ^ int(epoch)) ^ (2 * int(index) + int(side)))


class TextLines:
    """Random access to the lines of a text file: each line's byte offset, found by one
    sequential scan (8 bytes a line), and each line read by one positioned read."""

    def __init__(self, path: Path, chunk: int = 1 << 24):
        self.path = Path(path)
        parts, size = [np.zeros(1, dtype=np.int64)], 0
        with open(self.path, "rb") as f:
            while data := f.read(chunk):
                ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
                parts.append(ends.astype(np.int64) + size + 1)
                size += len(data)
                last = data[-1:]
        if size and last != b"\n":
            parts.append(np.asarray([size + 1], dtype=np.int64))  # a last line without \n
        self.offsets = np.concatenate(parts)
        self._file = open(self.path, "rb")  # held for the reader's lifetime

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1]) - 1  # without the \n
        return os.pread(self._file.fileno(), end - start, start).decode("utf-8")

    def __iter__(self):
        with open(self.path, "rb") as f:
            for raw in f:
                yield raw.rstrip(b"\n").decode("utf-8")

    def __del__(self) -> None:
        f = getattr(self, "_file", None)
        if f is not None:
            f.close()


class Sampler:
    """Seeded sampling of one side's text with the side's sentencepiece model; a source
    line's target-language tag (``tags``, as :class:`nmtkit.data.units.TaggedTokenizer`
    keeps it) stays one piece."""

    def __init__(self, model_file: Path, alpha: float, tags: tuple[str, ...] = ()):
        try:
            self.spm = SpmSampler.open(model_file, alpha)
        except NmtkitError as e:
            raise ConfigError(f"train.subword_alpha: {e}; set train.subword_alpha=0") from None
        self.tags = tuple(sorted(tags, key=len, reverse=True))
        self.where = model_file

    def _split(self, text: str) -> tuple[list[str], str]:
        for tag in self.tags:
            if text.startswith(tag):
                return [tag], text[len(tag):]
        return [], text

    def pieces(self, text: str, seed: int) -> list[str]:
        """A sampled segmentation of ``text``: a function of ``text`` and ``seed``."""
        head, rest = self._split(text)
        return head + self.spm.sample(rest, seed)

    def check(self, lines: list[str], tokenizer, where: Path) -> None:
        """Refuse a model whose segmentation this sampler does not reproduce: without
        randomness it must split ``lines`` (the first of ``where``) as ``tokenizer`` (the
        sentencepiece tokenizer preprocess encoded them with) does."""
        for lineno, text in enumerate(lines, 1):
            head, rest = self._split(text)
            mine, theirs = head + self.spm.plain(rest), tokenizer.encode(text)
            if mine != theirs:
                raise ConfigError(
                    f"train.subword_alpha: sampling does not read {self.where} as sentencepiece "
                    f"does ({where}:{lineno} splits into {' '.join(mine)[:60]!r}, not "
                    f"{' '.join(theirs)[:60]!r}); set train.subword_alpha=0")


class SampledParallelData(ParallelData):
    """The training split of a sentencepiece data folder, each epoch's segmentations
    sampled (see the module's notes). Call :meth:`start_epoch` before reading an epoch;
    :attr:`src_lengths` / :attr:`tgt_lengths` are then that epoch's."""

    def __init__(self, data_dir: Path, src_vocab: Vocab, tgt_vocab: Vocab, tokenizer_spec,
                 alpha: float, seed: int, max_len: int, split: str = "train"):
        data_dir = Path(data_dir)
        if tokenizer_spec.units != "spm":
            raise ConfigError(f"train.subword_alpha samples sentencepiece segmentations, but "
                              f"{data_dir} has {tokenizer_spec.units} units; set "
                              "train.subword_alpha=0, or preprocess with --units spm")
        texts = [data_dir / f"{split}.{side}.txt" for side in SIDES]
        if not all(p.is_file() for p in texts):
            raise ConfigError(f"train.subword_alpha needs the training text "
                              f"({split}.src.txt, {split}.tgt.txt) that nmtkit preprocess now "
                              f"keeps in a data folder, and {data_dir} has none (made by an "
                              f"earlier release); {FIX}")
        super().__init__(data_dir, split, src_vocab, tgt_vocab)
        self.text = {side: TextLines(p) for side, p in zip(SIDES, texts)}
        for side, lines in self.text.items():
            if len(lines) != len(self):
                raise DataError(f"{lines.path}: {len(lines)} lines but {split}.{side} has "
                                f"{len(self)} sentences; {FIX}")
        self.vocab = {"src": src_vocab, "tgt": tgt_vocab}
        self.corpus = {"src": self.src, "tgt": self.tgt}
        self.maps = {"src": self.src_map, "tgt": self.tgt_map}
        self.seed, self.max_len = seed, max_len
        self.samplers = {}
        for side in SIDES:
            name = tokenizer_spec.src_model if side == "src" else tokenizer_spec.tgt_model
            tags = tuple(tag for _, tag in getattr(tokenizer_spec, "target_tags", ())) \
                if side == "src" else ()
            sampler = Sampler(data_dir / name, alpha, tags)
            n = min(_PROBE_LINES, len(self))
            sampler.check([self.text[side][i] for i in range(n)],
                          tokenizer_spec.build(data_dir, side), self.text[side].path)
            self.samplers[side] = sampler
        self.epoch: int | None = None
        self._lengths = {side: self.corpus[side].lengths for side in SIDES}

    @property
    def src_lengths(self) -> np.ndarray:
        return self._lengths["src"]

    @property
    def tgt_lengths(self) -> np.ndarray:
        return self._lengths["tgt"]

    def start_epoch(self, epoch: int) -> None:
        """Sample every kept pair of ``epoch`` once for its lengths (what the epoch's
        batches are packed by); pairs over ``max_len`` keep their deterministic lengths,
        and are skipped as they are without sampling."""
        if epoch == self.epoch:
            return
        det = {side: self.corpus[side].lengths for side in SIDES}
        kept = (det["src"] <= self.max_len) & (det["tgt"] <= self.max_len)
        for s, side in enumerate(SIDES):
            lengths = det[side].copy()
            sampler = self.samplers[side]
            for i, text in enumerate(self.text[side]):
                if kept[i]:
                    n = len(sampler.pieces(text, sample_seed(self.seed, epoch, s, i)))
                    if n <= self.max_len:
                        lengths[i] = n
            self._lengths[side] = lengths
        self.epoch = epoch

    def _ids(self, side: str, i: int) -> np.ndarray:
        if self.epoch is None:
            raise RuntimeError("start_epoch() before reading sampled training pairs")
        s = SIDES.index(side)
        pieces = self.samplers[side].pieces(self.text[side][i],
                                            sample_seed(self.seed, self.epoch, s, i))
        if len(pieces) > self.max_len:  # as start_epoch counted it: the deterministic one
            return self.maps[side][self.corpus[side][i]]
        get = self.vocab[side].index.get
        return np.fromiter((get(p, UNK) for p in pieces), dtype=np.int64, count=len(pieces))

    def src_ids(self, i: int) -> np.ndarray:
        return self._ids("src", i)

    def tgt_ids(self, i: int) -> np.ndarray:
        return self._ids("tgt", i)
