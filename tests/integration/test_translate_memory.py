"""Memory per line: a 50,000-character line translated into every output kind (text, n-best,
JSONL with attention, alignments, heatmaps of every view) takes at most a fixed margin more
memory than its plain translation, whose attention matrix alone would be gigabytes, and
still gives exactly one output per input line, with a warning naming the line for each
output that is capped. Each run is a `nmtkit translate` process whose peak resident memory
the kernel reports when it ends (``os.wait4``)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from nmtkit.plots.attention import MAX_SIDE
from nmtkit.translate.output import JSONL_ATTENTION_CELLS

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB: Linux")

LONG = "a b c d e f g h i j " * 2_500  # 25,000 words of the tiny model's symbols
LINES = ["a b c", "d e f g h", LONG, "", "i j"]
N = len(LINES)
LONG_LINE = 3  # 1-based, as warnings name it
REAL = [n for n, line in enumerate(LINES, 1) if line.strip()]
# What a run may take over plain translation: matplotlib and one heatmap of MAX_SIDE squares
# a side; the long line's dense attention matrix alone takes several times this.
MARGIN_MIB = 256
# An address-space limit, so that a regression fails with MemoryError in its process
# instead of filling the machine's memory.
ADDRESS_SPACE = 8 << 30


@dataclass
class Run:
    peak_mib: float
    out: str
    err: str


def translate(model: Path, folder: Path, *args: str) -> Run:
    """``nmtkit translate`` of LINES in a process of its own, and its peak memory."""
    folder.mkdir(exist_ok=True)
    source = folder / "in.txt"
    source.write_text("".join(line + "\n" for line in LINES), encoding="utf-8")
    with open(source, "rb") as f, open(folder / "out", "wb") as out, \
            open(folder / "err", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "nmtkit", "translate", "-m", str(model),
                                 "--workers", "1", "--threads", "1", *args], stdin=f,
                                stdout=out, stderr=err)
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    run = Run(usage.ru_maxrss / 1024, (folder / "out").read_text(encoding="utf-8"),
              (folder / "err").read_text(encoding="utf-8"))
    assert proc.returncode == 0, run.err
    assert f"line {LONG_LINE}: 25000 pieces is more than the model's maximum" in run.err
    return run


@pytest.fixture(scope="module")
def plain(tiny_model, tmp_path_factory) -> Run:
    run = translate(tiny_model, tmp_path_factory.mktemp("plain"))
    assert len(LONG) == 50_000 and run.out.count("\n") == N
    return run


def warnings_about(err: str, line: int) -> list[str]:
    """The warnings naming ``line``, but that it was split."""
    prefix = f"nmtkit: warning: line {line}: "
    return [w.removeprefix(prefix) for w in err.splitlines()
            if w.startswith(prefix) and "more than the model's maximum" not in w]


def test_n_best_alignments_and_heatmaps_of_every_view_take_bounded_memory(
        tiny_model, plain, tmp_path):
    pytest.importorskip("matplotlib")
    aligned, plots = tmp_path / "links.txt", tmp_path / "plots"
    run = translate(tiny_model, tmp_path / "run", "--beam", "3", "--n-best", "3",
                    "--alignments", str(aligned), "--attention-plots", str(plots),
                    "--attention-view", "all")
    assert run.peak_mib <= plain.peak_mib + MARGIN_MIB, (run.peak_mib, plain.peak_mib)
    numbers = [int(line.split(" ||| ")[0]) for line in run.out.splitlines()]
    assert numbers == sorted(numbers) and set(numbers) == set(range(N))
    links = aligned.read_text(encoding="utf-8").split("\n")
    assert len(links) == N + 1 and links[-1] == ""  # one line each, ended by a newline
    assert [bool(line) for line in links[:-1]] == [bool(line.strip()) for line in LINES]
    assert sorted(p.name for p in plots.iterdir()) == sorted(
        f"line-{n:06d}{view}.png" for n in REAL for view in ("", "-layer1-head1"))
    [said] = warnings_about(run.err, LONG_LINE)
    assert f"pieces is over the {MAX_SIDE}-piece side of --attention-plots; drawn " \
           "downsampled" in said
    assert all(not warnings_about(run.err, n) for n in REAL if n != LONG_LINE)


def test_jsonl_with_attention_takes_bounded_memory(tiny_model, plain, tmp_path):
    run = translate(tiny_model, tmp_path, "--output-format", "jsonl", "--jsonl-attention")
    assert run.peak_mib <= plain.peak_mib + MARGIN_MIB, (run.peak_mib, plain.peak_mib)
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, N + 1))
    assert [r["translation"] for r in rows] == plain.out.splitlines()
    long = rows[LONG_LINE - 1]
    shape = len(long["pieces"]) + 1, len(long["source_pieces"])
    # the matrix this run does not make: float32, more than three times the margin
    assert shape[0] * shape[1] * 4 > 3 * (MARGIN_MIB << 20)
    assert long["attention"] is None and len(long["alignment"].split()) == shape[0] - 1
    assert warnings_about(run.err, LONG_LINE) == [
        f"attention of {shape[0]:,} x {shape[1]:,} pieces is over the "
        f"{JSONL_ATTENTION_CELLS:,}-cell limit of --jsonl-attention; written as null (the "
        "alignments are written)"]
    for row in rows:
        if row["line"] != LONG_LINE and row["source_pieces"]:
            assert len(row["attention"]) == len(row["pieces"]) + 1
