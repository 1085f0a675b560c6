from nmtkit.data.units import (
    CharTokenizer,
    SentencePieceTokenizer,
    WordTokenizer,
    train_sentencepiece,
)


def test_word_round_trip():
    t = WordTokenizer()
    assert t.encode("a dog .") == ["a", "dog", "."]
    assert t.decode(t.encode("a dog .")) == "a dog ."


def test_char_round_trip_marks_spaces():
    t = CharTokenizer()
    pieces = t.encode("ab c")
    assert pieces == ["a", "b", "\u2581", "c"]
    assert t.decode(pieces) == "ab c"


def test_sentencepiece_train_and_round_trip(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("".join(f"the dog number {i} runs after the cat\n" for i in range(200)))
    model = train_sentencepiece([text], tmp_path / "spm", vocab_size=60, model_type="bpe")
    tok = SentencePieceTokenizer(model)
    pieces = tok.encode("the dog runs")
    assert all(" " not in p for p in pieces)
    assert tok.decode(pieces) == "the dog runs"
