"""Small Marian models in Hugging Face's format, made on the spot without the internet:
sentencepiece models trained on a few sentences, a ``vocab.json`` laid out as OPUS-MT's
(``</s>`` 0, ``<unk>`` 1, the pieces, any ``>>xxx<<`` tags, ``<pad>`` last), and random
weights through the ``transformers`` library's own ``MarianConfig`` / ``MarianMTModel``.
Tests that use them skip where ``transformers`` is not installed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCES = [
    "A man in an orange hat starring at something.",
    "A Boston Terrier is running on lush green grass in front of a white fence.",
    "A girl in karate uniform breaking a stick with a front kick.",
    "Five people wearing winter jackets and helmets stand in the snow.",
    "People are fixing the roof of a house.",
    "A man in light colored clothing photographs a group of men.",
    "A group of people standing in front of an igloo.",
    "A boy in a red uniform is attempting to avoid getting out at home plate.",
    "A guy works on a building.",
    "A man in a vest is sitting in a chair and holding magazines.",
]
TARGETS = [
    "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.",
    "Ein Boston Terrier läuft über saftig-grünes Gras vor einem weißen Zaun.",
    "Ein Mädchen in einem Karateanzug bricht einen Stock mit einem Tritt.",
    "Fünf Leute in Winterjacken und mit Helmen stehen im Schnee.",
    "Leute Reparieren das Dach eines Hauses.",
    "Ein hell gekleideter Mann fotografiert eine Gruppe von Männern.",
    "Eine Gruppe von Menschen steht vor einem Iglu.",
    "Ein Junge in einem roten Trikot versucht, die Home Base zu erreichen.",
    "Ein Typ arbeitet an einem Gebäude.",
    "Ein Mann in einer Weste sitzt auf einem Stuhl und hält Magazine.",
]


@dataclass(frozen=True)
class MarianSpec:
    """One configuration of a test model."""

    shared: bool = True  # one vocabulary and one embedding for both sides
    layers: tuple[int, int] = (2, 2)
    d_model: int = 32
    heads: int = 4
    ffn: int = 64
    activation: str = "swish"
    scale_embedding: bool = True
    tie: bool = True
    tags: tuple[str, ...] = ()  # target tags, e.g. (">>deu<<", ">>fra<<")
    vocab_size: int = 90
    seed: int = 0
    weight_file: str = "model.safetensors"  # or pytorch_model.bin (every key, as old files)
    eos_bias: float = 4.0  # added to </s>'s output bias: lines of several lengths
    # decisive: weights far from the initialisation (the parity tests); default: the
    # transformers library's own initialisation (a model to train)
    init: str = "decisive"
    max_positions: int = 128


def _spm(texts: list[str], prefix: Path, size: int) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts * 3 if len(texts) < 100 else texts),
        model_prefix=str(prefix), vocab_size=size, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, minloglevel=2)
    return Path(f"{prefix}.model")


def _vocab(spm_files: list[Path], tags: tuple[str, ...]) -> dict[str, int]:
    import sentencepiece as spm

    pieces: list[str] = []
    for path in spm_files:
        sp = spm.SentencePieceProcessor(model_file=str(path))
        for i in range(sp.get_piece_size()):
            if not (sp.is_control(i) or sp.is_unknown(i)):
                piece = sp.id_to_piece(i)
                if piece not in pieces:
                    pieces.append(piece)
    tokens = ["</s>", "<unk>", *pieces, *tags, "<pad>"]
    return {t: i for i, t in enumerate(tokens)}


def make_marian(folder: Path, spec: MarianSpec = MarianSpec(),
                corpus: tuple[list[str], list[str]] = (SOURCES, TARGETS)) -> Path:
    """Write a Marian model of ``spec`` in Hugging Face's format into ``folder``, its
    sentencepiece models trained on ``corpus`` (source lines, target lines)."""
    transformers = pytest.importorskip("transformers")
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "spm-work"
    work.mkdir(exist_ok=True)
    src_spm = _spm(corpus[0], work / "src", spec.vocab_size)
    tgt_spm = _spm(corpus[1], work / "tgt", spec.vocab_size)
    if spec.shared:
        vocab = _vocab([src_spm, tgt_spm], spec.tags)
        tgt_vocab = vocab
    else:
        vocab = _vocab([src_spm], spec.tags)
        tgt_vocab = _vocab([tgt_spm], ())
    (folder / "source.spm").write_bytes(src_spm.read_bytes())
    (folder / "target.spm").write_bytes(tgt_spm.read_bytes())
    for path in work.iterdir():
        path.unlink()
    work.rmdir()
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    tok = {"separate_vocabs": not spec.shared, "model_max_length": 512}
    if not spec.shared:
        (folder / "target_vocab.json").write_text(json.dumps(tgt_vocab, ensure_ascii=False))
    (folder / "tokenizer_config.json").write_text(json.dumps(tok))
    pad = len(vocab) - 1
    config = transformers.MarianConfig(
        vocab_size=len(vocab), decoder_vocab_size=len(tgt_vocab), d_model=spec.d_model,
        encoder_layers=spec.layers[0], decoder_layers=spec.layers[1],
        encoder_attention_heads=spec.heads, decoder_attention_heads=spec.heads,
        encoder_ffn_dim=spec.ffn, decoder_ffn_dim=spec.ffn,
        activation_function=spec.activation, scale_embedding=spec.scale_embedding,
        share_encoder_decoder_embeddings=spec.shared, tie_word_embeddings=spec.tie,
        max_position_embeddings=spec.max_positions, pad_token_id=pad, decoder_start_token_id=pad,
        eos_token_id=0, forced_eos_token_id=0, dropout=0.1, attention_dropout=0.0,
        activation_dropout=0.0)
    torch.manual_seed(spec.seed)
    model = transformers.MarianMTModel(config).eval()
    # Weights far from the initialisation's near-uniform outputs, so that the tests'
    # translations are decided by clear margins (and every row, padding's included, and
    # the output bias, are used and checked).
    with torch.no_grad():
        for name, p in model.named_parameters() if spec.init == "decisive" else ():
            if "layer_norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p) if name.endswith("weight")
                        else 0.2 * torch.randn_like(p))
            elif p.dim() == 2 and "embed_positions" not in name:
                p.normal_(0.0, 2.0 / p.size(1) ** 0.5 if "embed" not in name
                          and "lm_head" not in name else 0.5)
            elif p.dim() == 1:
                p.normal_(0.0, 0.2)
        if spec.init == "decisive":
            model.final_logits_bias.normal_(0.0, 1.0)
            model.final_logits_bias[0, 0] += spec.eos_bias  # </s>: some lines end early
    if spec.weight_file == "model.safetensors":
        model.save_pretrained(folder)
        for extra in ("generation_config.json",):
            (folder / extra).unlink(missing_ok=True)
    else:
        config.save_pretrained(folder)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        state["model.encoder.embed_tokens.weight"] = model.get_encoder().embed_tokens.weight
        state["model.decoder.embed_tokens.weight"] = model.get_decoder().embed_tokens.weight
        torch.save(state, folder / "pytorch_model.bin")
    return folder


def reference(folder: Path):
    """The ``transformers`` model and tokenizer of a folder :func:`make_marian` wrote."""
    transformers = pytest.importorskip("transformers")
    model = transformers.MarianMTModel.from_pretrained(folder).eval()
    tokenizer = transformers.MarianTokenizer(
        source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"),
        vocab=str(folder / "vocab.json"),
        target_vocab_file=str(folder / "target_vocab.json")
        if (folder / "target_vocab.json").exists() else None,
        separate_vocabs=(folder / "target_vocab.json").exists())
    return model, tokenizer
