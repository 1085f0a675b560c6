"""System test: one model trained on two language pairs with target tags (Johnson et al.,
2017) learns both: the same source lines, reversed into one "language" and copied in
capitals into the other, each chosen by ``--target-lang``."""

from pathlib import Path

import pytest

from nmtkit import api
from nmtkit.data.preprocess import LangPair
from nmtkit.translate.options import translate_options
from tests.conftest import reversal_pairs, train_toy_rnn, write_pairs


def upper(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(s, s.upper()) for s, _ in pairs]


@pytest.mark.system
def test_one_model_learns_two_targets_chosen_by_their_tags(tmp_path: Path):
    train, valid = reversal_pairs(3000, seed=21, lo=3, hi=10), reversal_pairs(50, seed=22)
    src, tgt = write_pairs(tmp_path / "up", "train", upper(train))
    vsrc, vtgt = write_pairs(tmp_path / "up", "valid", upper(valid))
    model = train_toy_rnn(tmp_path, train, valid, steps=600, decoder_hidden=128,
                          src_lang="sym", tgt_lang="rev",
                          more=[LangPair(src, tgt, "sym", "up", vsrc, vtgt)])
    test = reversal_pairs(150, seed=23, lo=3, hi=10)
    for lang, refs in (("rev", [t for _, t in test]), ("up", [s.upper() for s, _ in test])):
        translator = api.load_translator(model, translate_options(
            beam=4, target_lang=lang, precision="fp32"))
        out = translator.translate_lines([s for s, _ in test])
        assert all(t.source_pieces[0] == f"<2{lang}>" for t in out)
        [bleu] = api.score([t.text for t in out], refs, ["bleu"])
        print(f"--target-lang {lang}: BLEU {bleu.score}")
        assert bleu.score > 85, f"{lang}: BLEU {bleu.score}"
