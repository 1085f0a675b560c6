"""Translation units: sentencepiece subwords, characters or words.

Every unit scheme turns normalised text into a list of pieces (strings without spaces)
and back. Characters and sentencepiece mark a word start or space with U+2581 (▁).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from nmtkit.errors import NmtkitError

SPACE = "\u2581"
UNITS = ("spm", "char", "word")


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, pieces: list[str]) -> str: ...


class WordTokenizer:
    def encode(self, text: str) -> list[str]:
        return text.split()

    def decode(self, pieces: list[str]) -> str:
        return " ".join(pieces)


class CharTokenizer:
    def encode(self, text: str) -> list[str]:
        return [SPACE if c == " " else c for c in text]

    def decode(self, pieces: list[str]) -> str:
        return "".join(pieces).replace(SPACE, " ").strip()


class SentencePieceTokenizer:
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
        # Pieces outside the sentencepiece vocabulary (our <unk>) decode as themselves.
        return self.sp.decode_pieces(pieces).strip()


def train_sentencepiece(
    inputs: list[Path], prefix: Path, vocab_size: int, model_type: str, seed: int = 1
) -> Path:
    """Train a sentencepiece model on normalised text files; returns the .model path."""
    import sentencepiece as spm

    if model_type not in ("unigram", "bpe"):
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
        raise NmtkitError(f"sentencepiece training failed: {e}") from None
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
