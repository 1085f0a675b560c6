"""Output does not depend on how sentences are grouped into batches (float32), for a trained
RNN and a trained Transformer, with greedy and beam search."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from nmtkit import api
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions
from tests.conftest import needs_cpp_compiler, reversal_pairs, run_cli


@pytest.mark.parametrize("precision", ["fp32", "int8"])
@pytest.mark.parametrize("which", ["rnn", "transformer"])
@pytest.mark.parametrize("beam", [1, 4])
def test_batch_size_does_not_change_the_output(which, beam, precision, tiny_model,
                                               tiny_transformer):
    model_dir = tiny_model if which == "rnn" else tiny_transformer
    lines = [s for s, _ in reversal_pairs(40, seed=21, lo=1, hi=10)] + ["", "a"]
    outputs = []
    for batch_size in (1, 7, 64):
        opts = TranslateOptions(SearchOptions(beam=beam, max_len=20), batch_size=batch_size,
                                precision=precision)
        translator = api.load_translator(model_dir, opts)
        outputs.append([t.text for t in translator.translate_lines(lines)])
    assert outputs[0] == outputs[1] == outputs[2]
    assert any(outputs[0])  # a trained model says something


_COMPILE_THEN_FORK = """
import sys
from nmtkit import api
from nmtkit.translate.options import translate_options
model, lines = sys.argv[1], sys.stdin.read().split("\\n")
common = dict(beam=1, max_len=20, precision="fp32", compile="on")
first = api.load_translator(model, translate_options(workers=1, **common)).translate(lines)
with api.load_translator(model, translate_options(workers=2, batch_size=3, **common)) as t:
    assert t.workers == 2
    second = t.translate(lines)
print("same" if first == second else "differ")
"""


@needs_cpp_compiler
def test_workers_forked_after_the_parent_compiled_compile_their_own(tiny_transformer, tmp_path):
    """A process that compiled a loop, then translates with worker processes that compile
    other shapes: the workers finish (inductor's compile threads do not survive the fork;
    they once waited for them forever) and give the parent's lines. In a subprocess with
    fresh caches, under a deadline, so a hang fails this test instead of the suite."""
    lines = [s for s, _ in reversal_pairs(12, seed=23, lo=1, hi=10)]
    env = dict(os.environ, NMTKIT_CACHE_DIR=str(tmp_path / "nmtkit"),
               TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "inductor"))
    try:
        done = subprocess.run([sys.executable, "-c", _COMPILE_THEN_FORK, str(tiny_transformer)],
                              input="\n".join(lines), capture_output=True, text=True, env=env,
                              timeout=300, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked workers did not finish compiling in 300 s")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["same"]


@needs_cpp_compiler
@pytest.mark.parametrize("which,beam", [("rnn", 1), ("transformer", 1), ("transformer", 4)])
def test_the_compiled_loop_gives_the_eager_lines(which, beam, tiny_model, tiny_transformer):
    model_dir = tiny_model if which == "rnn" else tiny_transformer
    lines = [s for s, _ in reversal_pairs(40, seed=22, lo=1, hi=10)] + ["", "a"]
    outputs = []
    for mode in ("off", "on"):
        opts = TranslateOptions(SearchOptions(beam=beam, max_len=20), compile=mode,
                                precision="fp32")
        translator = api.load_translator(model_dir, opts)
        outputs.append([t.text for t in translator.translate_lines(lines)])
    stats = translator.compile_stats
    assert stats.graphs + stats.loaded >= 1  # compiled steps ran (made or from the cache)
    assert outputs[0] == outputs[1]
    # The same buckets again (a new strategy object per batch) compile nothing more.
    assert [t.text for t in translator.translate_lines(lines)] == outputs[1]
    assert (translator.compile_stats.graphs, translator.compile_stats.loaded) == \
        (stats.graphs, stats.loaded)


@needs_cpp_compiler
def test_translate_compile_on_through_the_cli_and_a_later_run_loads_the_steps(tiny_model,
                                                                              tmp_path):
    text = "".join(s + "\n" for s, _ in reversal_pairs(30, seed=23, lo=1, hi=10))
    cache = {"NMTKIT_CACHE_DIR": str(tmp_path)}
    args = ("translate", "-m", str(tiny_model), "--workers", "1", "--precision", "fp32",
            "--compile")
    off = run_cli(*args, "off", input=text, env=cache)
    on = run_cli(*args, "on", input=text, env=cache)
    assert on.stdout == off.stdout and on.stdout.count("\n") == 30
    made = re.fullmatch(r"nmtkit: compiled decoding loop: (\d+) graphs compiled in [\d.]+s\n",
                        on.stderr)
    assert made and int(made[1]) >= 1
    assert off.stderr == ""
    again = run_cli(*args, "on", input=text, env=cache)  # a later process: from the cache
    assert again.stdout == off.stdout
    assert re.fullmatch(rf"nmtkit: compiled decoding loop: 0 graphs compiled in 0.0s, "
                        rf"{made[1]} loaded from the cache in [\d.]+s\n", again.stderr)


@needs_cpp_compiler
def test_auto_switches_to_the_compiled_loop_once_the_input_is_long(tiny_model, monkeypatch):
    monkeypatch.setattr("nmtkit.search.compiled.compile_after", lambda *args: 10)
    lines = [s for s, _ in reversal_pairs(30, seed=24, lo=1, hi=10)]
    search = SearchOptions(beam=1, max_len=20)
    translator = api.load_translator(tiny_model, TranslateOptions(search, chunk_size=10,
                                                                  precision="fp32"))
    chunks = translator.stream(lines)
    first = next(chunks)
    assert not translator.compiled  # the first 10 lines: eager
    rest = [t for chunk in chunks for t in chunk]
    assert translator.compiled  # the rest: the compiled loop
    eager = api.load_translator(tiny_model, TranslateOptions(search, compile="off"))
    assert [t.text for t in first + rest] == [t.text for t in eager.translate_lines(lines)]


@pytest.mark.parametrize("which,beam,precision", [("rnn", 4, "fp32"), ("transformer", 1, "fp32"),
                                                  ("rnn", 4, "int8"), ("transformer", 4, "int8")])
def test_worker_processes_give_the_lines_of_one_process_in_order(which, beam, precision,
                                                                  tiny_model, tiny_transformer):
    model_dir = tiny_model if which == "rnn" else tiny_transformer
    lines = [s for s, _ in reversal_pairs(40, seed=25, lo=1, hi=10)]
    lines[3:3] = ["", "  "]
    search = SearchOptions(beam=beam, max_len=20, n_best=min(beam, 2))
    one = api.load_translator(model_dir, TranslateOptions(search, batch_size=5, workers=1,
                                                          precision=precision))
    expected = one.translate_lines(lines)
    with api.load_translator(model_dir, TranslateOptions(search, batch_size=5, workers=3,
                                                         precision=precision)) as many:
        got = many.translate_lines(lines)
        assert len(many._pool.pids()) == 3  # the batches went to three worker processes
    # The same batches; only the threads per process differ, which may move a score's
    # last bits (matrix products sum in another order).
    assert [[text for text, _ in t.n_best] for t in got] == \
        [[text for text, _ in t.n_best] for t in expected]
    assert [s for t in got for _, s in t.n_best] == pytest.approx(
        [s for t in expected for _, s in t.n_best], abs=1e-5)
    assert len(got) == len(lines) and got[3].text == got[4].text == ""
