"""The models a server translates with: each a name, its languages (from the model folder,
as ``preprocess --src-lang/--tgt-lang`` recorded them), the options it translates with by
default, and a translator per set of request options (sharing the loaded weights).

On CPU a model translates in a process of its own, forked from the server once the model
is loaded (:class:`nmtkit.translate.workers.WorkerPool`: the weights' pages are shared):
the search's Python then never waits for the server's, nor the server's for the
search's, as they would for the one interpreter lock of a single process. A translation
process that dies is started again; the requests it was translating are answered with an
error (503), not left hanging.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from nmtkit.errors import NmtkitError
from nmtkit.model_folder import LoadedModel, ModelFolder
from nmtkit.serve.errors import busy
from nmtkit.translate.options import TranslateOptions
from nmtkit.translate.translator import Translation, Translator
from nmtkit.translate.workers import WorkerPool

TRANSLATORS_KEPT = 16  # option sets per model whose translators are kept


@dataclass(frozen=True)
class RequestOptions:
    """What a request may change: the search's beam, n-best and length penalty, and
    whether to keep the attention (for alignments and heatmaps)."""

    beam: int | None = None
    n_best: int | None = None
    length_penalty: float | None = None
    attention: bool = False


def model_spec(spec: str) -> tuple[str | None, Path]:
    """``--model-dir``'s ``NAME=PATH`` (a name holds no ``/``) or ``PATH``."""
    name, sep, path = spec.partition("=")
    return (name, Path(path)) if sep and name and "/" not in name else (None, Path(spec))


@dataclass
class ServedModel:
    name: str
    loaded: LoadedModel
    options: TranslateOptions  # the server's defaults
    src_lang: str | None = None
    tgt_lang: str | None = None
    _translators: OrderedDict = field(default_factory=OrderedDict)
    _pool: WorkerPool | None = None  # the translation process (CPU)
    _pool_lock: threading.Lock = field(default_factory=threading.Lock)
    restarts: int = 0  # translation processes started again after one died

    @classmethod
    def load(cls, path: Path, name: str | None, options: TranslateOptions) -> ServedModel:
        from nmtkit.device import resolve_device

        folder = ModelFolder.open(path)
        languages = folder.opened.languages
        src, tgt = languages.get("src"), languages.get("tgt")
        if name is None:
            name = f"{src}-{tgt}" if src and tgt else Path(path).resolve().name
        return cls(name, folder.load(resolve_device(options.device)), options, src, tgt)

    def translator(self, request: RequestOptions) -> Translator:
        """A translator with the server's options changed as the request asks."""
        found = self._translators.get(request)
        if found is None:
            search = self.options.search
            changes = {k: v for k, v in (("beam", request.beam), ("n_best", request.n_best),
                                          ("length_penalty", request.length_penalty))
                       if v is not None}
            search = replace(search, **changes)  # checked by the caller already
            opts = replace(self.options, search=search,
                           attention="mean" if request.attention else "off")
            found = self._translators[request] = Translator(self.loaded, opts)
            while len(self._translators) > TRANSLATORS_KEPT:
                self._translators.popitem(last=False)[1].close()
        else:
            self._translators.move_to_end(request)
        return found

    def translate_here(self, request: RequestOptions, lines: list[str]) -> list[Translation]:
        """Translate in this process (the translation process calls this)."""
        return self.translator(request).translate_lines(lines)

    def start_process(self, threads: int) -> None:
        """Translate in a process of its own from now on (CPU), forked now: call it before
        the server starts its threads."""
        if self.loaded.model is None or next(self.loaded.model.parameters()).is_cuda:
            return
        self._threads = threads
        self._pool = WorkerPool(self.translate_here, 1, threads)
        self._pool.result(self._pool.submit(RequestOptions(), []))  # forked here, now

    def translate(self, request: RequestOptions, lines: list[str]) -> list[Translation]:
        """``lines`` translated with the request's options: in the translation process,
        if there is one. If it dies, it is started again and the lines are refused."""
        pool = self._pool
        if pool is None:
            return self.translate_here(request, lines)
        try:
            return pool.result(pool.submit(request, lines))
        except NmtkitError:
            with self._pool_lock:
                if self._pool is pool:  # not restarted by another batch already
                    pool.close(now=True)
                    self._pool = WorkerPool(self.translate_here, 1, self._threads)
                    self.restarts += 1
            raise busy(f"model {self.name}: its translation process died (killed, perhaps "
                       "out of memory) and was started again; send the request again") \
                from None

    def pids(self) -> list[int]:
        return [] if self._pool is None else self._pool.pids()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close(now=True)
        for translator in self._translators.values():
            translator.close()
