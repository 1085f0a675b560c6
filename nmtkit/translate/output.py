"""Translating a byte stream into text lines: exactly one output line per input line, in
input order (``--n-best N``: N lines per input line, each numbered with its input line; an
empty or whitespace-only line has one translation, the empty one, so it gets one line;
``--output-format jsonl``: one JSON object per input line, whatever ``--n-best``; with
``--jsonl-attention`` its attention matrix, ``null`` for an empty line or, with a warning
naming the line, for one whose matrix is over :data:`JSONL_ATTENTION_CELLS`, and its
alignments, written whatever its length); and the side outputs that follow the lines
(``--alignments``: one line per input line)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import BinaryIO, TextIO

from nmtkit.fileio import decode_lines
from nmtkit.translate.alignment import pharaoh
from nmtkit.translate.attention_blocks import BlockMap
from nmtkit.translate.translator import Translation, Translator


def one_line(text: str) -> str:
    """A translation never breaks the one-line-per-line promise, whatever its pieces hold."""
    return text.replace("\r", " ").replace("\n", " ")


# --jsonl-attention writes a line's matrix while it has at most this many cells (target
# pieces + 1 by source pieces): every line a model takes whole (at most max_src_len x
# (max_len + 1) cells, about 51,000 under the defaults) and split lines several times as
# long, in at most about 2 MB of JSON. Past it the matrix, which grows with the square of
# the line's length, is null.
JSONL_ATTENTION_CELLS = 250_000


def format_translation(t: Translation, index: int, n_best: int, fmt: str = "text",
                       attention: bool = False,
                       on_warning: Callable[[str], None] | None = None) -> str:
    """The output of input line ``index`` (0-based): text line(s), or one JSON line (with
    the attention matrix and alignments if ``attention``: null for an empty line; the
    matrix alone null, with a warning through ``on_warning``, past
    :data:`JSONL_ATTENTION_CELLS`)."""
    if fmt == "jsonl":
        obj = {
            "line": index + 1, "translation": one_line(t.text), "score": t.score,
            "n_best": [{"translation": one_line(text), "score": score}
                       for text, score in t.n_best],
            "source_pieces": t.source_pieces, "pieces": t.pieces,
        }
        if attention:
            a = t.attention
            obj["attention"] = None if a is None else attention_matrix(a.mean, index, on_warning)
            obj["alignment"] = None if a is None else pharaoh(t.alignment)
            obj["word_alignment"] = None if a is None else pharaoh(t.word_alignment)
        return json.dumps(obj, ensure_ascii=False) + "\n"
    if n_best > 1:
        return "".join(f"{index} ||| {one_line(text)} ||| {score:.4f}\n"
                       for text, score in t.n_best)
    return one_line(t.text) + "\n"


def attention_matrix(attention: BlockMap, index: int, on_warning: Callable[[str], None] | None
            ) -> list[list[float]] | None:
    if attention.cells > JSONL_ATTENTION_CELLS:
        if on_warning is not None:
            on_warning(f"line {index + 1}: attention of {attention.rows:,} x "
                       f"{attention.cols:,} pieces is over the {JSONL_ATTENTION_CELLS:,}-cell "
                       "limit of --jsonl-attention; written as null (the alignments are "
                       "written)")
        return None
    return [[round(w, 4) for w in row] for row in attention.dense().tolist()]


def alignment_line(t: Translation, units: str = "word") -> str:
    """One line of an alignments file: the Pharaoh links of words or pieces (empty for an
    empty line)."""
    links = t.word_alignment if units == "word" else t.alignment
    return pharaoh(links or []) + "\n"


def translate_stream(translator: Translator, source: BinaryIO, name: str, out: TextIO,
                     on_warning: Callable[[str], None] | None = None,
                     on_progress: Callable[[int], None] | None = None,
                     sinks: Sequence[Callable[[int, Translation], None]] = ()) -> int:
    """Translate the lines of ``source`` (named ``name`` in messages) into ``out``, flushing
    each chunk (then calling ``on_progress`` with the lines done); returns the number of
    input lines. Each sink is called with each line's index (0-based) and translation, in
    order (side outputs: alignments, heatmaps).

    Input lines end at ``\\n`` or ``\\r\\n``; a byte-order mark at the start is dropped;
    invalid UTF-8 is replaced by U+FFFD with a warning naming the line, so the line still
    gets its output line.
    """
    lines = decode_lines(source, name, on_invalid=on_warning or (lambda msg: None))
    opts = translator.opts
    index = 0
    for chunk in translator.stream(lines):
        for i, t in enumerate(chunk):  # a line at a time: one line's JSON in memory
            out.write(format_translation(t, index + i, opts.search.n_best,
                                         opts.output_format, opts.jsonl_attention, on_warning))
        out.flush()
        for sink in sinks:
            for i, t in enumerate(chunk):
                sink(index + i, t)
        index += len(chunk)
        if on_progress is not None:
            on_progress(index)
    return index
