"""Translation units: sentencepiece subwords, characters or words.

Every unit scheme turns normalised text into a list of pieces (strings without spaces)
and back. Characters and sentencepiece mark a word start or space with U+2581 (▁).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from nmtkit.errors import NmtkitError

SPACE = "\u2581"
UNITS = ("spm", "char", "word")
SPM_MODEL_TYPES = ("unigram", "bpe")


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, pieces: list[str]) -> str: ...

    def word_ids(self, pieces: list[str]) -> list[int]:
        """The index of the word (of the decoded text split at spaces) each piece is
        part of."""
        ...


def space_marked_words(pieces: list[str]) -> list[int]:
    """Word indices of pieces where a piece starting with ▁ starts a word."""
    ids, word = [], -1
    for i, piece in enumerate(pieces):
        if i == 0 or piece.startswith(SPACE):
            word += 1
        ids.append(word)
    return ids


class WordTokenizer:
    def encode(self, text: str) -> list[str]:
        return text.split()

    def decode(self, pieces: list[str]) -> str:
        return " ".join(pieces)

    def word_ids(self, pieces: list[str]) -> list[int]:
        return list(range(len(pieces)))


class CharTokenizer:
    word_ids = staticmethod(space_marked_words)

    def encode(self, text: str) -> list[str]:
        return [SPACE if c == " " else c for c in text]

    def decode(self, pieces: list[str]) -> str:
        return "".join(pieces).replace(SPACE, " ").strip()


class SentencePieceTokenizer:
    word_ids = staticmethod(space_marked_words)

    def __init__(self, model_file: Path):
        import sentencepiece as spm

        self.model_file = Path(model_file)
        try:
            self.sp = spm.SentencePieceProcessor(model_file=str(model_file))
        except (OSError, RuntimeError) as e:
            raise NmtkitError(f"{model_file}: cannot load sentencepiece model: {e}") from None

    def encode(self, text: str) -> list[str]:
        return self.sp.encode(text, out_type=str)

    def decode(self, pieces: list[str]) -> str:
        # Pieces outside the sentencepiece vocabulary (our <unk>, or an imported model's
        # pieces of the other side's model) decode as themselves, their word marks as spaces.
        return self.sp.decode_pieces(pieces).replace("\u2581", " ").strip()


def train_sentencepiece(
    inputs: list[Path], prefix: Path, vocab_size: int, model_type: str, seed: int = 1,
    label: str = "",
) -> Path:
    """Train a sentencepiece model on normalised text files; returns the .model path.
    ``label`` names the user's files that ``inputs`` were made from, for messages."""
    import sentencepiece as spm

    if model_type not in SPM_MODEL_TYPES:
        raise NmtkitError(f"sentencepiece model type '{model_type}': expected unigram or bpe")
    spm.set_random_generator_seed(seed)  # sampling and shuffling, for repeatable runs
    try:
        spm.SentencePieceTrainer.train(
            input=",".join(str(p) for p in inputs),
            model_prefix=str(prefix),
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=1.0,
            hard_vocab_limit=False,  # tiny corpora get a smaller vocabulary, not an error
            input_sentence_size=2_000_000,
            shuffle_input_sentence=True,
            num_threads=1,  # deterministic
            bos_id=-1,
            eos_id=-1,
            unk_id=0,
            minloglevel=2,
        )
    except RuntimeError as e:
        detail = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise NmtkitError(f"{label or ', '.join(map(str, inputs))}: sentencepiece training "
                          f"failed: {detail}") from None
    return Path(f"{prefix}.model")


def build_tokenizer(units: str, spm_model: Path | None = None) -> Tokenizer:
    if units == "spm":
        if spm_model is None:
            raise NmtkitError("sentencepiece units need a sentencepiece model file")
        return SentencePieceTokenizer(spm_model)
    if units == "char":
        return CharTokenizer()
    if units == "word":
        return WordTokenizer()
    raise NmtkitError(f"unknown units '{units}'; valid: {', '.join(UNITS)}")


class TaggedTokenizer:
    """A source tokenizer that keeps a target-language tag at the start of a line
    (``<2de>``, Marian's ``>>deu<<``) as one piece and splits the rest as ``inner`` does."""

    def __init__(self, inner: Tokenizer, tags: tuple[str, ...]):
        self.inner = inner
        self.tags = tuple(sorted(tags, key=len, reverse=True))  # the longest match first

    def encode(self, text: str) -> list[str]:
        for tag in self.tags:
            if text.startswith(tag):
                return [tag, *self.inner.encode(text[len(tag):])]
        return self.inner.encode(text)

    def decode(self, pieces: list[str]) -> str:
        return self.inner.decode(pieces)

    def word_ids(self, pieces: list[str]) -> list[int]:
        return self.inner.word_ids(pieces)


@dataclass(frozen=True)
class TokenizerSpec:
    """How a folder's text is split into pieces: the units, and for sentencepiece the model
    file of each side (one file for both with a joint model). Saved as the ``tokenizer``
    section of a data folder's manifest and as a model folder's ``tokenizer.json``.

    ``target_tags``: (language code, tag) pairs of a model that translates into several
    languages; a source line starting with a tag is translated into its language (the
    tag is one piece), and ``translate --target-lang`` adds it."""

    units: str
    src_model: str | None = None
    tgt_model: str | None = None
    target_tags: tuple[tuple[str, str], ...] = ()

    @property
    def languages(self) -> dict[str, str]:
        """Target language code -> tag."""
        return dict(self.target_tags)

    @classmethod
    def from_json(cls, doc: object, where: str) -> TokenizerSpec:
        if not isinstance(doc, dict) or doc.get("units") not in UNITS:
            raise NmtkitError(f"{where}: damaged tokenizer spec (expected units "
                              f"{', '.join(UNITS)}, got {doc!r:.80})")
        names = {k: doc.get(k) for k in ("src_model", "tgt_model")}
        for key, name in names.items():
            bad_name = name is not None and (not isinstance(name, str) or "/" in name
                                             or name.startswith("."))
            if bad_name or (doc["units"] == "spm" and not name):
                raise NmtkitError(f"{where}: damaged tokenizer spec ({key}: {name!r})")
        tags = doc.get("target_tags") or {}
        if not isinstance(tags, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k and v
                for k, v in tags.items()):
            raise NmtkitError(f"{where}: damaged tokenizer spec (target_tags: {tags!r:.80})")
        return cls(doc["units"], names["src_model"], names["tgt_model"],
                   tuple(sorted(tags.items())))

    def to_json(self) -> dict:
        doc = {"units": self.units, "src_model": self.src_model, "tgt_model": self.tgt_model}
        if self.target_tags:
            doc["target_tags"] = dict(self.target_tags)
        return doc

    def files(self) -> list[str]:
        """The sentencepiece model files, each once."""
        return sorted({n for n in (self.src_model, self.tgt_model) if n})

    def build(self, folder: Path, side: str) -> Tokenizer:
        name = self.src_model if side == "src" else self.tgt_model
        tokenizer = build_tokenizer(self.units, Path(folder) / name if name else None)
        if side == "src" and self.target_tags:
            return TaggedTokenizer(tokenizer, tuple(tag for _, tag in self.target_tags))
        return tokenizer
