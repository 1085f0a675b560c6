"""Property-based tests of the translate path (``nmtkit.output.translate_stream``) on generated
byte streams: the tiny model's own words mixed with empty and whitespace-only lines of every
Unicode kind, lines too long for the model, control characters and NUL, mixed scripts and
emoji, combining marks, CRLF, a missing final newline, a leading BOM and invalid UTF-8.

Whatever the input holds, this file proves that ``translate_stream`` writes exactly one
``\\n``-terminated line per input line (the README's count: the ``\\n`` bytes, plus one for a
last line without a newline) and no ``\\r``; that each output line is the translation of its
input line on its own (so the lines are in input order); that the output does not change
with the batch or chunk size, byte for byte; that warnings name exactly the lines with
invalid UTF-8 or too many pieces; that n-best lines are numbered by input line, in order;
and that every output format (text, n-best, JSONL with attention, alignments, heatmaps)
gives one output per input line, lines of thousands of words included, whose attention is
written as null or drawn downsampled with a warning naming the line. (Their memory is
tested in a subprocess: tests/integration/test_translate_memory.py.)

The examples run in this process (milliseconds each). Plain pytest runs the ``nmtkit-ci``
profile: 1,000 examples in all, derandomized so a run repeats. ``NMTKIT_FUZZ_EXAMPLES=N``
runs N examples in all (shared out as in CI) with fresh randomness each run.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nmtkit import api
from nmtkit.attention_plot import MAX_SIDE
from nmtkit.output import JSONL_ATTENTION_CELLS, alignment_line, translate_stream
from nmtkit.search.options import SearchOptions
from nmtkit.translator import TranslateOptions, Translator
from tests.conftest import TINY_CONFIG

# Examples for the whole file, shared out between its tests (see share()). Plain pytest loads
# "nmtkit-ci": derandomized, so CI repeats itself, and no .hypothesis/ database is written.
# NMTKIT_FUZZ_EXAMPLES=N loads "nmtkit-fuzz": N examples, with fresh randomness each run.
CI_EXAMPLES = 1000
FUZZ_EXAMPLES = os.environ.get("NMTKIT_FUZZ_EXAMPLES")

settings.register_profile("nmtkit-ci", deadline=None, derandomize=True, database=None,
                          print_blob=True, max_examples=CI_EXAMPLES)
if FUZZ_EXAMPLES:
    settings.register_profile("nmtkit-fuzz", settings.get_profile("nmtkit-ci"),
                              derandomize=False, max_examples=int(FUZZ_EXAMPLES))
settings.load_profile("nmtkit-fuzz" if FUZZ_EXAMPLES else "nmtkit-ci")
# Hypothesis' caches (Unicode tables, constants collected from the source) would still make a
# .hypothesis/ folder in the working directory: they go to a temporary folder instead.
# (set_hypothesis_home_dir is not documented: where it is missing, .gitignore has .hypothesis/.)
HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="nmtkit-hypothesis-")
try:
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:  # pragma: no cover - another hypothesis release
    pass
else:
    set_hypothesis_home_dir(HYPOTHESIS_HOME.name)


def share(fraction: float) -> settings:
    """A test's part of the examples of the whole file (the profile's ``max_examples``)."""
    return settings(max_examples=max(1, math.ceil(settings.default.max_examples * fraction)))


# -- generated input ---------------------------------------------------------------------

BOM = "\ufeff".encode()
MAX_SRC_LEN = yaml.safe_load(TINY_CONFIG)["model"]["max_src_len"]  # of the tiny model: 12
NAME = "in.txt"

# Every character Python (and so nmtkit's normalisation) calls whitespace, but the line ends.
SPACES = [c for c in map(chr, range(0x110000)) if c.isspace() and c not in "\n\r"]
SAMPLES = [
    "日本語", "Ελληνικά", "עברית", "العربية", "हिन्दी", "한국어", "ａｂｃ",  # scripts  # noqa: RUF001
    "🙂", "👩\u200d👩\u200d👧", "🇺🇳",  # emoji: one, a ZWJ family, a flag
    "e\u0301", "A\u030a", "\u0301", "\u20dd",  # combining marks (NFC composes the first two)
    "\ufeff", "\u200b", "\ufffd", "\u202e", "\x00", "\r",  # BOM, zero width, U+FFFD, RLO
    "<unk>", "</s>", "A", "aa",  # not the model's words
]
# Invalid UTF-8: bad lead bytes, a lone continuation byte, overlong, surrogate, above
# U+10FFFF, and sequences cut short.
INVALID = [b"\xff", b"\xfe", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
           b"\xe2\x82", b"\xf0\x9f\x99", b"\xc3"]

words = st.sampled_from("abcdefghij").map(str.encode)
space_runs = st.lists(st.sampled_from(SPACES), min_size=1, max_size=4).map(
    lambda cs: "".join(cs).encode())
separators = st.one_of(st.just(b" "), space_runs, st.just(b"\r"))  # a \r that ends no line
hostile = st.one_of(
    st.characters(categories=["Cc"], exclude_characters="\n"),  # controls, NUL, \r, C1
    st.sampled_from(SAMPLES),
    st.text(st.characters(categories=["Mn", "Me"]), min_size=1, max_size=3),  # combining
    st.text(st.characters(codec="utf-8", exclude_characters="\n"), min_size=1, max_size=4),
).map(str.encode)
bad_bytes = st.one_of(st.sampled_from(INVALID), st.binary(min_size=1, max_size=4))


def joined(pieces, seps=separators, min_size=1, max_size=10):
    return st.lists(st.tuples(pieces, seps), min_size=min_size, max_size=max_size).map(
        lambda ps: b"".join(p + s for p, s in ps))


mixed = joined(st.one_of(words, words, hostile, bad_bytes, space_runs))
# Too long for the model, so split: just over its maximum, or hundreds of words (a drawn
# pattern of words repeated, which keeps the example small for hypothesis).
long_lines = st.builds(
    lambda pattern, n: b" ".join(islice(cycle(pattern), n)),
    st.lists(words, min_size=1, max_size=MAX_SRC_LEN),
    st.one_of(st.integers(MAX_SRC_LEN + 1, 3 * MAX_SRC_LEN), st.integers(100, 400)))
lines = st.one_of(st.just(b""), space_runs, joined(words, max_size=MAX_SRC_LEN), mixed, mixed,
                  long_lines)
# Past what a line's attention may write or draw in full (JSONL_ATTENTION_CELLS, MAX_SIDE):
# thousands of words, a drawn pattern repeated.
very_long_lines = st.builds(
    lambda pattern, n: b" ".join(islice(cycle(pattern), n)),
    st.lists(words, min_size=1, max_size=MAX_SRC_LEN), st.integers(1_000, 3_000))


@st.composite
def streams(draw, line=lines, max_lines: int = 10) -> bytes:
    """A byte stream of up to ``max_lines`` lines, each ended by \\n or \\r\\n; the last
    may have no line end; perhaps a BOM first."""
    body = draw(st.lists(st.tuples(line, st.sampled_from([b"\n", b"\r\n"])),
                         max_size=max_lines))
    data = b"".join(line + end for line, end in body[:-1])
    if body:
        data += body[-1][0] + draw(st.sampled_from([b"\n", b"\r\n", b""]))
    return (BOM if draw(st.booleans()) else b"") + data


# -- what the input promises -------------------------------------------------------------

def line_count(data: bytes) -> int:
    """The README's count: the \\n bytes, plus one for a last line without a newline."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def raw_lines(data: bytes) -> list[bytes]:
    """The input lines as they stand in the stream, without their \\n."""
    parts = data.split(b"\n")
    return parts[:-1] if parts[-1] == b"" else parts


def contents(data: bytes) -> list[bytes]:
    """Each line's text: without its line end (\\n or \\r\\n), and without the BOM that
    starts the stream."""
    out = []
    for i, raw in enumerate(raw_lines(data)):
        if i < data.count(b"\n") and raw.endswith(b"\r"):
            raw = raw[:-1]
        if i == 0 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        out.append(raw)
    return out


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def pieces(content: bytes) -> int:
    """How many words the (normalised) line has: the units of the tiny word-level model."""
    return len(unicodedata.normalize("NFC", content.decode("utf-8", "replace")).split())


# -- running the translate path ----------------------------------------------------------

@dataclass
class Run:
    text: str  # what translate_stream wrote
    returned: int  # what it returned
    warnings: list[str]

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")[:-1]


@pytest.fixture(scope="module")
def loaded(tiny_model):
    """The tiny model, loaded once; one torch thread (these batches are too small to share)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = api.load_translator(tiny_model, TranslateOptions(SearchOptions())).loaded
    assert model.config.model.max_src_len == MAX_SRC_LEN
    yield model
    torch.set_num_threads(threads)


def translate(loaded, data: bytes, batch_size: int = 64, chunk_size: int = 1000,
              beam: int = 1, n_best: int = 1, sinks=(), warnings: list[str] | None = None,
              **options) -> Run:
    """``options``: more TranslateOptions; ``sinks`` and ``warnings``: side outputs and
    the list the warnings are added to (translate_stream's)."""
    warnings = [] if warnings is None else warnings
    opts = TranslateOptions(SearchOptions(beam=beam, n_best=n_best), batch_size=batch_size,
                            chunk_size=chunk_size, **options)
    translator = Translator(loaded, opts, on_warning=warnings.append)
    out = io.StringIO()
    returned = translate_stream(translator, io.BytesIO(data), NAME, out, warnings.append,
                                sinks=sinks)
    return Run(out.getvalue(), returned, warnings)


@pytest.fixture(scope="module")
def alone(loaded):
    """The output line for one line's content translated on its own (memoised)."""
    memo: dict[bytes, str] = {}

    def line(content: bytes) -> str:
        if content not in memo:
            # The BOM in front is dropped (so a BOM the content starts with is kept, as it is
            # on a line after the first) and \r\n ends the line (so a final \r is kept).
            run = translate(loaded, BOM + content + b"\r\n")
            assert run.returned == 1 and run.text.count("\n") == 1, run
            memo[content] = run.lines[0]
        return memo[content]

    return line


# -- properties --------------------------------------------------------------------------

@share(0.3)
@given(data=streams())
def test_each_input_line_gives_exactly_one_output_line(loaded, data):
    run = translate(loaded, data)
    n = line_count(data)
    assert run.returned == n
    assert run.text.count("\n") == n
    assert run.text.endswith("\n") or run.text == ""
    assert "\r" not in run.text


@share(0.15)
@given(data=streams())
def test_batch_and_chunk_sizes_do_not_change_the_output(loaded, data):
    runs = [translate(loaded, data, batch_size, chunk_size)
            for batch_size, chunk_size in [(1, 1), (7, 5), (64, 1000)]]
    assert runs[0].text.encode() == runs[1].text.encode() == runs[2].text.encode()
    assert runs[0].returned == runs[1].returned == runs[2].returned == line_count(data)
    # The chunk size changes how decoding and splitting warnings interleave, not which come.
    assert sorted(runs[0].warnings) == sorted(runs[1].warnings) == sorted(runs[2].warnings)


@share(0.2)
@given(data=streams())
def test_each_output_line_is_the_translation_of_its_input_line_alone(loaded, alone, data):
    run = translate(loaded, data)
    assert run.lines == [alone(content) for content in contents(data)]


INVALID_WARNING = re.compile(
    rf"{re.escape(NAME)}:(\d+): invalid UTF-8 at byte (\d+); bad bytes replaced by U\+FFFD")
SPLIT_WARNING = re.compile(rf"line (\d+): (\d+) pieces is more than the model's maximum of "
                           rf"{MAX_SRC_LEN}; translated in (\d+) parts and rejoined")


@share(0.2)
@given(data=streams(), chunk_size=st.integers(1, 6))
def test_warnings_name_exactly_the_lines_with_invalid_utf8_or_too_many_pieces(
        loaded, data, chunk_size):
    run = translate(loaded, data, batch_size=3, chunk_size=chunk_size)
    raw = raw_lines(data)
    invalid, split = [], []
    for warning in run.warnings:
        if m := INVALID_WARNING.fullmatch(warning):
            lineno, byte = int(m[1]), int(m[2])
            line = raw[lineno - 1]
            # the first bad byte: what comes before decodes, and no character starts there
            assert is_utf8(line[:byte]), warning
            assert not any(is_utf8(line[byte : byte + k]) for k in range(1, 5)), warning
            invalid.append(lineno)
        elif m := SPLIT_WARNING.fullmatch(warning):
            lineno, n = int(m[1]), int(m[2])
            assert n == pieces(contents(data)[lineno - 1]) > MAX_SRC_LEN, warning
            assert int(m[3]) == math.ceil(n / MAX_SRC_LEN), warning
            split.append(lineno)
        else:
            raise AssertionError(f"unexpected warning: {warning}")
    assert invalid == [i for i, line in enumerate(raw, 1) if not is_utf8(line)]
    assert split == [i for i, content in enumerate(contents(data), 1)
                     if pieces(content) > MAX_SRC_LEN]
    assert run.returned == run.text.count("\n") == line_count(data)


@share(0.15)
@given(data=streams())
def test_n_best_lines_are_numbered_by_input_line_in_order(loaded, data):
    n_best = 2
    run = translate(loaded, data, beam=3, n_best=n_best)
    assert "\r" not in run.text and (run.text.endswith("\n") or run.text == "")
    entries = [line.split(" ||| ") for line in run.lines]
    assert all(len(e) == 3 and re.fullmatch(r"-?\d+\.\d{4}", e[2]) for e in entries), run.text
    indexes = [int(e[0]) for e in entries]
    assert run.returned == line_count(data)
    assert sorted(set(indexes)) == list(range(run.returned)) and indexes == sorted(indexes)
    for i, content in enumerate(contents(data)):
        mine = [(text, float(score)) for index, text, score in entries if int(index) == i]
        if pieces(content):
            # best first
            assert len(mine) == n_best and mine == sorted(mine, key=lambda e: -e[1]), mine
        else:
            # an empty or whitespace-only line: one empty translation (not n_best: the model
            # is not asked, and decode_sequences gives an empty sequence one hypothesis)
            assert mine == [("", 0.0)]


JSONL_CAP = re.compile(rf"line (\d+): attention of ([\d,]+) x ([\d,]+) pieces is over the "
                       rf"{JSONL_ATTENTION_CELLS:,}-cell limit of --jsonl-attention; written as "
                       r"null \(the alignments are written\)")
PLOT_CAP = re.compile(rf"line (\d+): attention of ([\d,]+) x ([\d,]+) pieces is over the "
                      rf"{MAX_SIDE}-piece side of --attention-plots; drawn downsampled, a "
                      r"square for (\d+) x (\d+) pieces")


def capped(warnings: list[str], pattern: re.Pattern) -> dict[int, tuple[int, int]]:
    """The lines a cap's warnings name, with the (rows, columns) they give."""
    found = [m for w in warnings if (m := pattern.fullmatch(w))]
    lines = {int(m[1]): (int(m[2].replace(",", "")), int(m[3].replace(",", ""))) for m in found}
    assert len(lines) == len(found), warnings  # one warning a line
    return lines


@share(0.006)
@given(data=streams(st.one_of(lines, very_long_lines), max_lines=4))
def test_every_output_format_gives_one_output_per_input_line(loaded, data):
    """Text, n-best, JSONL with attention, alignments and heatmaps, over lines of every kind
    and lines too long for the attention to be written or drawn in full."""
    pytest.importorskip("matplotlib")
    from nmtkit.attention_plot import AttentionPlots

    n, texts = line_count(data), contents(data)
    text = translate(loaded, data)
    assert text.returned == n and text.text.count("\n") == n
    n_best = translate(loaded, data, beam=2, n_best=2)
    assert sorted({int(line.split(" ||| ")[0]) for line in n_best.lines}) == list(range(n))

    alignments = io.StringIO()
    warnings: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        plots = AttentionPlots(Path(folder) / "plots", warnings.append)
        run = translate(loaded, data, output_format="jsonl", jsonl_attention=True,
                        warnings=warnings,
                        sinks=[lambda i, t: alignments.write(alignment_line(t, "piece")), plots])
        drawn = sorted(p.name for p in plots.folder.glob("*")) if plots.folder.exists() else []
    rows = [json.loads(line) for line in run.lines]
    assert run.returned == n and [r["line"] for r in rows] == list(range(1, n + 1))
    assert alignments.getvalue().count("\n") == n
    real = [i for i, content in enumerate(texts, 1) if pieces(content)]
    assert drawn == [f"line-{i:06d}.png" for i in real]
    shapes = {r["line"]: (len(r["pieces"]) + 1, len(r["source_pieces"])) for r in rows
              if r["source_pieces"]}
    assert sorted(shapes) == real
    over_cells = {i: s for i, s in shapes.items() if s[0] * s[1] > JSONL_ATTENTION_CELLS}
    assert capped(warnings, JSONL_CAP) == over_cells
    assert capped(warnings, PLOT_CAP) == {i: s for i, s in shapes.items() if max(s) > MAX_SIDE}
    for row, links in zip(rows, alignments.getvalue().split("\n"), strict=False):
        if row["source_pieces"]:
            assert (row["attention"] is None) == (row["line"] in over_cells)
            assert row["alignment"] == links and len(links.split()) == len(row["pieces"])
        else:
            assert row["attention"] is row["alignment"] is None and links == ""
