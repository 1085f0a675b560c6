from nmtkit.data.text import FilterOptions, drop_reason, normalize


def test_normalize_nfc_and_whitespace():
    decomposed = "Cafe\u0301"  # e + combining acute
    assert normalize(f"  {decomposed}\t au\u00a0lait \r") == "Caf\u00e9 au lait"
    assert normalize(" \t ") == ""


def test_drop_reasons():
    opts = FilterOptions(max_len=10, min_len=2, max_ratio=2.0)
    assert drop_reason(0, 3, opts) == "empty"
    assert drop_reason(11, 10, opts) == "too_long"
    assert drop_reason(1, 2, opts) == "too_short"
    assert drop_reason(2, 5, opts) == "ratio"
    assert drop_reason(4, 8, opts) is None
    assert drop_reason(2, 9, FilterOptions(max_ratio=0)) is None
