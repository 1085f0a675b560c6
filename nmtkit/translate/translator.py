"""Translating text: normalise, split into units, decode, detokenise, keep the line order.

The Python API (``from nmtkit import Translator``)::

    translator = Translator.load("model", beam=5)  # the options of nmtkit translate
    translator.translate(["A man rides a bike."])  # one string per line
    translator.translate_lines(lines)  # Translation objects: score, n-best, alignments
    await translator.atranslate(lines)  # from async code, off the event loop

Exactly one output line per input line: an empty (or whitespace-only) line gives an
empty line; a line with more pieces than the model takes is split into pieces it can
take, and their translations are joined (with a warning through ``on_warning``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import torch

from nmtkit.data.text import normalize
from nmtkit.device import resolve_device
from nmtkit.errors import ConfigError
from nmtkit.model_folder import LoadedModel
from nmtkit.model_folder.ensemble import load_models
from nmtkit.precision import autocast
from nmtkit.search.compiled import CompileStats, CompileSwitch
from nmtkit.search.options import Hypothesis
from nmtkit.search.sequences import length_batches, search_batch
from nmtkit.translate.alignment import piece_links, word_links
from nmtkit.translate.attention_blocks import BlockMap
from nmtkit.translate.attention_maps import (
    END,
    AttentionMap,
    PairMaps,
    View,
    attention_layers,
    attention_maps,
)
from nmtkit.translate.options import TranslateOptions, translate_options
from nmtkit.translate.quantize import choose_precision, int8_weights
from nmtkit.translate.workers import WorkerPool


class Candidate(NamedTuple):
    """One of a line's n best translations."""

    text: str
    score: float


@dataclass
class Translation:
    text: str
    score: float
    n_best: list[Candidate]  # best first; one entry unless --n-best > 1
    segments: int  # > 1 when the line was split because it was too long
    source_pieces: list[str] = field(default_factory=list)  # what the model read
    pieces: list[str] = field(default_factory=list)  # the best translation's target pieces
    # With TranslateOptions.attention: the best translation's attention over the source, and
    # the hard alignments from it, as (source, target) positions of pieces and of words.
    # None for an empty line.
    attention: AttentionMap | None = None
    alignment: list[tuple[int, int]] | None = None
    word_alignment: list[tuple[int, int]] | None = None


@dataclass
class DecodedBatch:
    """What decoding one batch gives: each sentence's hypotheses (best first), the graphs
    compiled for it, and with TranslateOptions.attention each best hypothesis' attention
    maps (:func:`nmtkit.translate.attention_maps.attention_maps`), else None."""

    hyps: list[list[Hypothesis]]
    stats: CompileStats
    maps: list | None = None


# --workers 0 (auto): one single-threaded worker per thread torch would use, up to this
# many. On 2 cores, 2 workers x 1 thread beat 1 x 2 threads in every case measured
# (docs/benchmarks.md, "Decoding speed").
AUTO_MAX_WORKERS = 8
# --workers N: at most this many processes per CPU (a few more than CPUs can even out
# uneven batches; many more only compete and multiply the memory).
WORKERS_PER_CPU = 4


def resolve_workers(workers: int, device: torch.device) -> int:
    """How many processes translate (``--workers``; 0: auto, 1 on a GPU)."""
    if device.type != "cpu":
        if workers > 1:
            raise ConfigError("--workers: worker processes are for CPU translation; a GPU "
                              "translates in one process (use --workers 1)")
        return 1
    if workers == 0:
        return max(1, min(AUTO_MAX_WORKERS, torch.get_num_threads()))
    most = WORKERS_PER_CPU * (os.cpu_count() or 1)
    if workers > most:
        raise ConfigError(f"--workers {workers}: far more processes than this machine's "
                          f"{os.cpu_count() or 1} CPUs, which they would only compete for "
                          f"(each holds its own buffers); give at most {most}, or 0 for auto")
    return workers


def _check_shortlist(opts: TranslateOptions, loaded: LoadedModel):
    if loaded.lexicon is None:
        raise ConfigError(f"--shortlist: {loaded.path} has no shortlist; make one with: "
                          f"nmtkit shortlist {loaded.path} --data DATA_DIR")
    if loaded.model.decoder.output_layer is None:
        raise ConfigError("--shortlist: this model's decoder (copying from the source, or "
                          "decoding from Marian's padding entry) scores the whole vocabulary")
    if opts.compile == "on":
        raise ConfigError("--shortlist runs in the eager loop; use --compile off or auto")
    return loaded.lexicon


def _target_tag(lang: str | None, loaded: LoadedModel) -> str | None:
    """The tag of ``--target-lang``, checked against the model's languages."""
    if lang is None:
        return None
    tags = loaded.target_tags
    if not tags:
        raise ConfigError(f"--target-lang {lang}: {loaded.path} translates into one language "
                          "(it has no target-language tags)")
    if lang not in tags:
        raise ConfigError(f"--target-lang {lang}: not one of the model's target languages "
                          f"({', '.join(sorted(tags))})")
    return tags[lang]


def check_ensemble_options(opts: TranslateOptions) -> None:
    """What an ensemble cannot do (yet): a shortlist (each model has its own output layer)
    and the attention outputs (drawn from one model's teacher-forced pass)."""
    if opts.shortlist:
        raise ConfigError("--shortlist: for one --model-dir, not an ensemble")
    if opts.attention != "off":
        raise ConfigError("--alignments, --attention-plots and --jsonl-attention: for one "
                          "--model-dir, not an ensemble")


def _check_attention_layer(layer: int, model, device) -> None:
    layers = attention_layers(model, device)
    if layer > layers:
        raise ConfigError(f"--attention-layer {layer}: this model's decoder has {layers} "
                          f"layer{'s' if layers != 1 else ''} of attention")


class Translator:
    """A loaded model and the options to translate with. Made by :meth:`load`; one call
    translates at a time (calls from several threads wait their turn)."""

    def __init__(self, loaded: LoadedModel, opts: TranslateOptions,
                 on_warning: Callable[[str], None] | None = None):
        self._lock = threading.Lock()
        self.loaded = loaded
        self.opts = opts
        self.max_src_len = loaded.config.model.max_src_len
        self.on_warning = on_warning or (lambda msg: None)
        self.lines_done = 0
        self.device = resolve_device(opts.device)
        if loaded.members:
            check_ensemble_options(opts)
        self.precision, self.precision_note = choose_precision(
            opts, list(loaded.members) or [loaded.path], self.device)
        if self.precision == "int8":
            self.loaded = loaded = replace(loaded, model=int8_weights(loaded.model))
        self.tag = _target_tag(opts.target_lang, loaded)
        self.lexicon = _check_shortlist(opts, loaded) if opts.shortlist else None
        if opts.attention_layer:
            _check_attention_layer(opts.attention_layer, loaded.model, self.device)
        self.compile = CompileSwitch("off" if self.lexicon else opts.compile,
                                     loaded.model.decoder, opts.search, self.device,
                                     self.precision)
        self.workers = resolve_workers(opts.workers, self.device)
        self._pool: WorkerPool | None = None
        self._stats = CompileStats()  # graphs compiled here and in the workers

    @classmethod
    def load(cls, model_dir: str | Path | list, on_warning: Callable[[str], None] | None = None,
             **options) -> Translator:
        """The model in ``model_dir`` (opened and checked as every command does; a list of
        folders: their ensemble), to
        translate with ``options``: the options of ``nmtkit translate`` by their Python
        names (``beam=5``, ``n_best=3``, ``precision="int8"``, ``device="cuda"``; see
        :func:`nmtkit.translate.options.translate_options`). Warnings (a line split for
        its length) go to ``on_warning``."""
        opts = translate_options(**options)
        return cls(load_models(model_dir, resolve_device(opts.device)), opts,
                   on_warning)

    def translate(self, lines: list[str]) -> list[str]:
        """Each line's best translation, in order: exactly one string per line."""
        return [t.text for t in self.translate_lines(lines)]

    async def atranslate(self, lines: list[str]) -> list[str]:
        """:meth:`translate`, awaited from async code: it runs in a thread, so the event
        loop goes on meanwhile."""
        return await asyncio.to_thread(self.translate, lines)

    @property
    def compiled(self) -> bool:
        """Whether batches now go through the compiled decoding loop."""
        return self.compile.runner is not None

    @property
    def compile_stats(self) -> CompileStats:
        return self._stats

    def close(self, now: bool = False) -> None:
        """Stop the worker processes, if any: after their work, or ``now`` (a later batch
        starts them again)."""
        if self._pool is not None:
            self._pool.close(now)
            self._pool = None

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.close(now=kind is not None)

    @torch.inference_mode()
    def search_batch(self, batch: list[list[int]], lines_done: int) -> DecodedBatch:
        """One batch's hypotheses, the graphs compiled for it and, when asked, the attention
        maps of each best hypothesis (in a worker process, for ``--workers`` > 1)."""
        runner = self.compile.runner_at(lines_done)
        before = CompileStats(**vars(self.compile.stats))
        with autocast(self.precision, self.device):
            hyps = search_batch(self.loaded.model, batch, self.opts.search, self.device, runner,
                                self.lexicon)
            maps = None
            if self.opts.attention != "off":
                maps = attention_maps(self.loaded.model, batch, [h[0].tokens for h in hyps],
                                      self.opts.attention, len(batch), self.device,
                                      self.opts.attention_layer)
        return DecodedBatch(hyps, self.compile.stats - before, maps)

    def _decode(self, seqs: list[list[int]]) -> tuple[list[list[Hypothesis]], list]:
        """Hypotheses for each id sequence, in order, and their attention maps (None each
        unless asked): batch by batch here, or the batches dealt to the worker processes,
        longest first (which evens out their loads)."""
        results: list[list[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in seqs]
        maps: list = [None] * len(seqs)
        batches = length_batches(seqs, self.opts.batch_size)
        if self.workers > 1 and len(batches) > 1:
            if self._pool is None:  # no more processes than the first chunk has batches
                n = min(self.workers, len(batches))
                self._pool = WorkerPool(self.search_batch, n,
                                        max(1, torch.get_num_threads() // n))
            futures = {self._pool.submit([seqs[i] for i in idx], self.lines_done): idx
                       for idx in reversed(batches)}
            done = ((idx, self._pool.result(f)) for f, idx in futures.items())
        else:
            done = ((idx, self.search_batch([seqs[i] for i in idx], self.lines_done))
                    for idx in batches)
        for idx, decoded in done:
            self._stats += decoded.stats
            for k, i in enumerate(idx):
                results[i] = decoded.hyps[k]
                if decoded.maps is not None:
                    maps[i] = decoded.maps[k]
        return results, maps

    def _segments(self, ids: list[int]) -> list[list[int]]:
        n = self.max_src_len
        if len(ids) <= n:
            return [ids]
        return [ids[i : i + n] for i in range(0, len(ids), n)]

    def translate_lines(self, lines: list[str]) -> list[Translation]:
        """Each line's :class:`Translation` (text, score, n-best, pieces, and the attention
        and alignments where the options ask for them), in order."""
        with self._lock:
            return self._translate_lines(list(lines))

    def _translate_lines(self, lines: list[str]) -> list[Translation]:
        lm = self.loaded
        seqs: list[list[int]] = []
        owners: list[int] = []
        sources: list[list[str]] = []
        for i, line in enumerate(lines):
            text = normalize(line)
            if text and self.tag:
                text = f"{self.tag} {text}"
            sources.append(lm.src_tokenizer.encode(text) if text else [])
            ids = lm.src_vocab.encode(sources[-1]) if text else []
            segs = self._segments(ids)
            if len(segs) > 1:
                self.on_warning(
                    f"line {self.lines_done + i + 1}: {len(ids)} pieces is more than the model's "
                    f"maximum of {self.max_src_len}; translated in {len(segs)} parts and rejoined")
            seqs.extend(segs)
            owners.extend([i] * len(segs))
        hyps, maps = self._decode(seqs)
        parts: list[list[int]] = [[] for _ in lines]  # each line's segments
        for k, owner in enumerate(owners):
            parts[owner].append(k)
        out = []
        for ks, source in zip(parts, sources, strict=True):
            segs = [hyps[k] for k in ks]
            n_best, best_pieces = [], []
            for rank in range(len(segs[0])):
                pieces = [lm.tgt_vocab.decode(s[rank].tokens) for s in segs]
                texts = [lm.tgt_tokenizer.decode(p) for p in pieces]
                score = sum(s[rank].score for s in segs)
                n_best.append(Candidate(" ".join(t for t in texts if t), score))
                if rank == 0:
                    best_pieces = pieces
            t = Translation(n_best[0].text, n_best[0].score, n_best, len(segs), source,
                            [piece for p in best_pieces for piece in p])
            if maps[ks[0]] is not None:
                self._add_attention(t, [maps[k] for k in ks], best_pieces)
            out.append(t)
        self.lines_done += len(lines)
        return out

    def _add_attention(self, t: Translation, maps: list[PairMaps],
                       pieces: list[list[str]]) -> None:
        """A line's attention from its segments' maps (kept as blocks), and the
        alignments."""
        views = [View(view.label, BlockMap.join([m.views[v].weights for m in maps]))
                 for v, view in enumerate(maps[0].views)]
        t.attention = AttentionMap(t.source_pieces, [*t.pieces, END],
                                   BlockMap.join([m.mean for m in maps]), views)
        t.alignment = piece_links(t.attention.mean)
        # each segment's translation starts a word: the segments' texts are joined by spaces
        tgt_words, words = [], 0
        for p in pieces:
            ids = self.loaded.tgt_tokenizer.word_ids(p)
            tgt_words += [words + w for w in ids]
            words += max(ids, default=-1) + 1
        t.word_alignment = word_links(t.alignment,
                                      self.loaded.src_tokenizer.word_ids(t.source_pieces),
                                      tgt_words)

    def stream(self, lines: Iterable[str]) -> Iterator[list[Translation]]:
        """Translate an iterable of lines chunk by chunk; yields each chunk's results in
        input order, so output can start before the input ends and memory stays bounded."""
        it = iter(lines)
        while chunk := list(islice(it, self.opts.chunk_size)):
            yield self.translate_lines(chunk)

