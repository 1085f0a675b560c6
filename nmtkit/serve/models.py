"""The models a server translates with: each a name, its languages (from the model folder,
as ``preprocess --src-lang/--tgt-lang`` recorded them), the options it translates with by
default, and a translator per set of request options (sharing the loaded weights). On
CPU a model translates in a process of its own (:mod:`nmtkit.serve.process`)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from nmtkit.model_folder import LoadedModel, ModelFolder
from nmtkit.search.options import SearchOptions
from nmtkit.translate.options import TranslateOptions
from nmtkit.translate.quantize import choose_precision, int8_weights
from nmtkit.translate.translator import Translation, Translator

TRANSLATORS_KEPT = 16  # option sets per model whose translators are kept


@dataclass(frozen=True)
class RequestOptions:
    """What a request may change: the search's beam, n-best and length penalty, and
    whether to keep the attention (for alignments and heatmaps)."""

    beam: int | None = None
    n_best: int | None = None
    length_penalty: float | None = None
    attention: bool = False
    target_lang: str | None = None  # of a model with several target languages

    def search(self, base: SearchOptions) -> SearchOptions:
        """``base`` with the request's changes, checked as ``nmtkit translate`` checks
        them (a ConfigError naming the option)."""
        changes = {k: v for k, v in (("beam", self.beam), ("n_best", self.n_best),
                                      ("length_penalty", self.length_penalty))
                   if v is not None}
        return replace(base, **changes)


@dataclass
class ServedModel:
    name: str
    loaded: LoadedModel | None  # None: loaded in its translation process
    options: TranslateOptions  # the server's defaults
    src_lang: str | None = None
    tgt_lang: str | None = None
    path: Path | None = None
    precision_note: str = ""  # why --precision auto chose what it did
    # a model of several target languages: each one's code (its tokenizer's target tags)
    targets: tuple[str, ...] = ()
    members: int = 1  # folders decoding together (an ensemble: more than one)
    _translators: OrderedDict = field(default_factory=OrderedDict)
    process: object = None  # the TranslationProcess translating for it (CPU), if any

    @classmethod
    def load(cls, paths: Path | list[Path], name: str | None, options: TranslateOptions,
             threads: int | None = None) -> ServedModel:
        """The model in ``paths`` (several folders: their ensemble, as ``translate
        --model-dir A --model-dir B``); with ``threads`` on CPU, loaded and translated in a
        process of its own with that many threads (this one only checks the folders)."""
        from nmtkit.device import resolve_device
        from nmtkit.model_folder.ensemble import load_models

        paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
        path = paths[0]
        folder = ModelFolder.open(path)
        languages = folder.opened.languages
        src, tgt = languages.get("src"), languages.get("tgt")
        targets = tuple(sorted(folder.tokenizer_spec().languages))
        if name is None:
            into = "+".join(targets) if targets else tgt
            name = f"{src}-{into}" if src and into else Path(path).resolve().name
        device = resolve_device(options.device)
        # --precision auto chosen once per model, so every request's translator agrees.
        precision, note = choose_precision(options, paths, device)
        options = replace(options, precision=precision)
        if len(paths) > 1:
            from nmtkit.translate.translator import check_ensemble_options

            check_ensemble_options(options)
        if threads is None or device.type != "cpu":
            loaded = load_models(paths, device) if len(paths) > 1 else folder.load(device)
            if precision == "int8":  # once: every request's translator shares it
                loaded = replace(loaded, model=int8_weights(loaded.model))
            return cls(name, loaded, options, src, tgt, Path(path), precision_note=note,
                       targets=targets, members=len(paths))
        from nmtkit.serve.process import TranslationProcess

        return cls(name, None, options, src, tgt, Path(path), precision_note=note,
                   process=TranslationProcess(paths, name, options, threads), targets=targets,
                   members=len(paths))

    def translator(self, request: RequestOptions) -> Translator:
        """A translator with the server's options changed as the request asks."""
        found = self._translators.get(request)
        if found is None:
            opts = replace(self.options, search=request.search(self.options.search),
                           attention="mean" if request.attention else "off",
                           target_lang=request.target_lang or self.options.target_lang)
            found = self._translators[request] = Translator(self.loaded, opts)
            while len(self._translators) > TRANSLATORS_KEPT:
                self._translators.popitem(last=False)[1].close()
        else:
            self._translators.move_to_end(request)
        return found

    def translates_into(self, lang: str) -> bool:
        return lang in self.targets if self.targets else lang == self.tgt_lang

    def into(self) -> list[str]:
        """The languages it translates into, where known."""
        return list(self.targets) or ([self.tgt_lang] if self.tgt_lang else [])

    def translate_here(self, request: RequestOptions, lines: list[str]) -> list[Translation]:
        """Translate in this process (the translation process calls this)."""
        return self.translator(request).translate_lines(lines)

    def translate(self, request: RequestOptions, lines: list[str]) -> list[Translation]:
        """``lines`` translated with the request's options, in the model's translation
        process if it has one."""
        if self.process is None:
            return self.translate_here(request, lines)
        return self.process.translate(request, lines)

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
        for translator in self._translators.values():
            translator.close()
