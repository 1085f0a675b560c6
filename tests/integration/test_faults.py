"""Faults leave the previous state usable: SIGKILL at every point of a save and in the middle
of training, a full disk (a small tmpfs, or /dev/full), SIGINT and SIGTERM. Each runs nmtkit
in a separate process, as a user's shell would.

Waiting on a child uses bounded polls of the file system or blocking reads of its output,
never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import torch

from nmtkit.model_folder.tensors import load_tensors
from tests.conftest import TINY_CONFIG, run_cli

ENV = dict(os.environ, PYTHONUNBUFFERED="1")


def nmtkit(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nmtkit", *map(str, args)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def wait_until(condition, timeout: float = 120.0) -> None:
    """A bounded poll: returns as soon as ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the child"
        time.sleep(0.02)


def read_until(stream, text: str, timeout: float = 120.0) -> list[str]:
    """Lines of ``stream`` up to and including the first that contains ``text``."""
    import select

    lines = []
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no line with {text!r} in time; got {lines[-3:]}"
        line = stream.readline().decode()
        assert line, f"the child ended before printing {text!r}: {lines[-5:]}"
        lines.append(line)
        if text in line:
            return lines


def translates(model: Path) -> bool:
    """Whether the model folder loads and translates a line (in this process: the same
    loading as nmtkit translate's, without a fresh interpreter's seconds)."""
    from nmtkit import api
    from nmtkit.search.options import SearchOptions
    from nmtkit.translate.options import TranslateOptions

    opts = TranslateOptions(SearchOptions(beam=1), workers=1)
    with api.load_translator(model, opts) as translator:
        return len(translator.translate_lines(["a b"])) == 1


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("."))


# -- SIGKILL at each point of a save ----------------------------------------------------

KILL_POINTS = {
    # a child saving a new version of x.pt dies ...
    "mid-write": """
        real = torch.save
        def save(obj, f):
            buf = io.BytesIO(); real(obj, buf); data = buf.getvalue()
            f.write(data[: len(data) // 2]); f.flush(); die()
        torch.save = save
    """,
    "before-fsync": "fileio._fsync = lambda path: die()",
    "before-rename": "os.replace = lambda a, b: die()",
}


def _kill_during_save(tmp_path: Path, point: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent("""
        import io, os, signal, sys, torch
        from nmtkit import fileio
        from nmtkit.model_folder.tensors import save_tensors
        def die():
            os.kill(os.getpid(), signal.SIGKILL)
    """) + textwrap.dedent(KILL_POINTS[point]) + textwrap.dedent("""
        save_tensors({"w": torch.full((50000,), 2.0)}, sys.argv[1])
    """)
    return subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.pt")], check=False)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_during_a_save_keeps_the_previous_file(tmp_path, point):
    from nmtkit.model_folder.tensors import save_tensors

    save_tensors({"w": torch.full((50000,), 1.0)}, tmp_path / "x.pt")
    proc = _kill_during_save(tmp_path, point)
    assert proc.returncode == -signal.SIGKILL
    assert torch.equal(load_tensors(tmp_path / "x.pt")["w"], torch.full((50000,), 1.0))
    assert len(temporaries(tmp_path)) == 1  # the dead writer's leftover ...
    save_tensors({"w": torch.full((50000,), 3.0)}, tmp_path / "x.pt")
    assert temporaries(tmp_path) == []  # ... is removed by the next writer
    assert float(load_tensors(tmp_path / "x.pt")["w"][0]) == 3.0


FOLDER_KILL_POINTS = {
    "while-building": "fileio.StagedDir.commit = lambda self: die()",
    "after-exchange": "fileio._remove = lambda path: die()",
    "between-renames": """
        fileio._exchange = lambda a, b: False
        real_rename = os.rename
        def rename(a, b):
            real_rename(a, b)
            if str(b).endswith(".old"):
                die()
        os.rename = rename
    """,
}


@pytest.mark.parametrize("point", list(FOLDER_KILL_POINTS))
def test_sigkill_while_replacing_a_folder_keeps_a_whole_folder(tmp_path, point):
    from nmtkit.fileio import atomic_dir

    with atomic_dir(tmp_path / "d") as d:
        (d / "version").write_text("old")
    code = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from nmtkit import fileio
        def die():
            os.kill(os.getpid(), signal.SIGKILL)
    """) + textwrap.dedent(FOLDER_KILL_POINTS[point]) + textwrap.dedent("""
        with fileio.atomic_dir(Path(sys.argv[1]), overwrite=True) as d:
            (d / "version").write_text("new")
    """)
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "d")], check=False)
    assert proc.returncode == -signal.SIGKILL
    with atomic_dir(tmp_path / "e") as e:  # another folder beside: leaves d's leftovers alone
        (e / "version").write_text("other")
    from nmtkit.fileio import clean_leftovers

    clean_leftovers(tmp_path / "d")  # what the next writer of d does first
    version = (tmp_path / "d" / "version").read_text()
    assert version == ("new" if point == "after-exchange" else "old")
    assert temporaries(tmp_path) == []


# -- SIGKILL in the middle of training ---------------------------------------------------

def _train(data: Path, model: Path, config: Path, *extra: str) -> subprocess.Popen:
    return nmtkit("train", "-c", config, "-d", data, "-m", model, "--no-progress",
                  "train.log_every=1", *extra)


@pytest.fixture
def long_config(tmp_path) -> Path:
    path = tmp_path / "long.yaml"
    path.write_text(TINY_CONFIG.replace("max_steps: 30", "max_steps: 100000")
                    .replace("valid_every: 15", "valid_every: 20"))
    return path


def test_sigkill_before_the_first_checkpoint_leaves_no_model_folder(tiny_model, tmp_path,
                                                                   long_config):
    data, model = tiny_model.parent / "data", tmp_path / "m"
    proc = _train(data, model, long_config)
    read_until(proc.stderr, "step 3 ")
    proc.kill()
    proc.wait()
    assert not model.exists() and len(temporaries(tmp_path)) == 1
    run_cli("train", "-c", str(long_config), "-d", str(data), "-m", str(model),
            "train.max_steps=4")
    assert (model / "model.pt").exists() and temporaries(tmp_path) == []


def test_sigkill_after_a_checkpoint_leaves_a_model_that_translates(tiny_model, tmp_path,
                                                                  long_config):
    data, model = tiny_model.parent / "data", tmp_path / "m"
    proc = _train(data, model, long_config)
    read_until(proc.stderr, "valid step 20")
    read_until(proc.stderr, "step 21 ")  # training went on: the checkpoint is in place
    proc.kill()
    proc.wait()
    out = run_cli("translate", "-m", str(model), input="a b c\n\nd\n").stdout
    assert out.count("\n") == 3
    assert temporaries(tmp_path) == []


# Where a training run dies (SIGKILL) before it is resumed; checkpoints at steps 4, 8, 12.
TRAIN_KILL_POINTS = {
    "between checkpoints": """
        real = Trainer._optimizer_step
        def step(self, group):
            if self.state.step == 6:
                die()
            return real(self, group)
        Trainer._optimizer_step = step
    """,
    "writing the second training state": """
        real, calls = torch.save, []
        def save(obj, f):
            if "train_state" in str(getattr(getattr(f, "f", f), "name", "")):
                calls.append(1)
                if len(calls) == 2:
                    buf = io.BytesIO(); real(obj, buf); data = buf.getvalue()
                    f.write(data[: len(data) // 2]); f.flush(); die()
            return real(obj, f)
        torch.save = save
    """,
    "after the best weights, before the training state": """
        real, calls = ModelFolder.save_train_state, []
        def save(self, state):
            calls.append(1)
            if len(calls) == 2:
                die()
            return real(self, state)
        ModelFolder.save_train_state = save
    """,
}
EXACT = ["train.max_steps=12", "train.valid_every=4", "train.precision=fp32"]


def _exact_args(tiny_model: Path) -> list[str]:
    data, config = tiny_model.parent / "data", tiny_model.parent / "config.yaml"
    return ["train", "-c", str(config), "-d", str(data), "--no-progress", *EXACT]


@pytest.fixture(scope="module")
def uninterrupted(tiny_model, tmp_path_factory) -> Path:
    """The training state of the EXACT run, uninterrupted (once for every kill point)."""
    whole = tmp_path_factory.mktemp("whole") / "model"
    run_cli(*_exact_args(tiny_model), "-m", str(whole))
    return whole / "train_state.pt"


@pytest.mark.parametrize("point", list(TRAIN_KILL_POINTS))
def test_a_killed_and_resumed_training_ends_bit_identical(tiny_model, uninterrupted, tmp_path,
                                                          point):
    args = _exact_args(tiny_model)
    code = textwrap.dedent("""
        import io, os, signal, sys, torch
        from nmtkit.cli import main
        from nmtkit.model_folder import ModelFolder
        from nmtkit.training.trainer import Trainer
        def die():
            os.kill(os.getpid(), signal.SIGKILL)
    """) + textwrap.dedent(TRAIN_KILL_POINTS[point]) + "sys.argv[0] = 'nmtkit'\nmain()\n"
    killed = subprocess.run([sys.executable, "-c", code, *args, "-m", str(tmp_path / "cut")],
                            capture_output=True, env=ENV, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    resumed = run_cli(*args, "-m", str(tmp_path / "cut"))
    assert "resuming" in resumed.stderr and "from step 4 " in resumed.stderr
    whole = load_tensors(uninterrupted)
    cut = load_tensors(tmp_path / "cut" / "train_state.pt")
    assert cut["counters"]["step"] == 12
    assert whole["model"].keys() == cut["model"].keys()
    assert all(torch.equal(whole["model"][k], cut["model"][k]) for k in whole["model"])
    assert temporaries(tmp_path / "cut") == []  # the killed writer's leftovers are gone


def test_a_killed_overwrite_keeps_the_old_model(tiny_model, tmp_path, long_config):
    data, model = tiny_model.parent / "data", tmp_path / "m"
    shutil.copytree(tiny_model, model)
    before = (model / "model.pt").read_bytes()
    proc = _train(data, model, long_config, "--overwrite")
    read_until(proc.stderr, "step 2 ")
    proc.kill()
    assert proc.wait(timeout=120) == -signal.SIGKILL
    assert (model / "model.pt").read_bytes() == before
    assert translates(model)


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_save_a_checkpoint_that_resumes(tiny_model, tmp_path, long_config,
                                                          sig, status):
    data, model = tiny_model.parent / "data", tmp_path / "m"
    shutil.copytree(tiny_model, model)
    proc = _train(data, model, long_config, "--overwrite")
    read_until(proc.stderr, "step 2 ")
    proc.send_signal(sig)
    assert proc.wait(timeout=120) == status
    said = proc.stderr.read().decode("utf-8")
    steps = json.loads((model / "meta.json").read_text())["steps"]
    assert f"interrupted at step {steps}: checkpoint saved" in said and "Traceback" not in said
    assert 2 <= steps < 100000 and load_tensors(model / "train_state.pt")["counters"]["step"] \
        == steps
    assert translates(model)
    resumed = run_cli("train", "-c", str(long_config), "-d", str(data), "-m", str(model),
                      f"train.max_steps={steps + 2}")
    assert f"from step {steps} " in resumed.stderr
    assert json.loads((model / "meta.json").read_text())["steps"] == steps + 2


# -- a full disk -------------------------------------------------------------------------

@pytest.fixture
def small_disk():
    """A 256 KiB tmpfs (needs root; skipped where mounting is not allowed)."""
    path = Path("/tmp") / f"nmtkit-full-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        path.rmdir()
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)
        path.rmdir()


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The error line (after any progress lines of the command): exactly one, last, no
    traceback, status 2."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert [line for line in lines if line.startswith("nmtkit: error: ")] == lines[-1:], \
        proc.stderr
    return lines[-1]


def test_a_full_disk_while_writing_translations(tiny_model, small_disk):
    (small_disk / "out.txt").write_text("previous\n")
    (small_disk / "filler").write_bytes(b"\0" * 240_000)  # about 16 KiB left
    lines = "a b c\n" * 20000  # 20,000 output lines need more than that
    proc = run_cli("translate", "-m", str(tiny_model), "--beam", "1", "-o",
                   str(small_disk / "out.txt"), input=lines, check=False)
    msg = one_line_error(proc)
    assert msg == f"nmtkit: error: {small_disk / 'out.txt'}: No space left on device"
    assert (small_disk / "out.txt").read_text() == "previous\n"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "out.txt"]


def test_a_full_disk_while_saving_a_checkpoint(tiny_model, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 200_000)  # leave too little for the weights
    proc = run_cli("train", "-c", str(tiny_model.parent / "config.yaml"),
                   "-d", str(tiny_model.parent / "data"), "-m", str(small_disk / "m"),
                   check=False)
    msg = one_line_error(proc)
    assert msg == f"nmtkit: error: {small_disk / 'm' / 'model.pt'}: No space left on device"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_full_disk_while_preprocessing(tiny_corpus, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 250_000)
    proc = run_cli("preprocess", "--src", str(tiny_corpus / "train.src"), "--tgt",
                   str(tiny_corpus / "train.tgt"), "--out", str(small_disk / "d"),
                   "--units", "word", check=False)
    assert "No space left on device" in one_line_error(proc)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_full_stdout_is_one_line(tiny_model):
    """/dev/full fails every write with ENOSPC: no mount needed."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "nmtkit", "translate", "-m",
                               str(tiny_model), "--beam", "1"], input=b"a b\n" * 100,
                              stdout=full, stderr=subprocess.PIPE, env=ENV, check=False)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "nmtkit: error: <stdout>: No space left on device\n"


# -- SIGINT and SIGTERM ------------------------------------------------------------------

@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_translate_to_a_file_leaves_nothing(tiny_model, tmp_path, sig, status):
    proc = nmtkit("translate", "-m", tiny_model, "-o", tmp_path / "out.txt",
                  "--chunk-size", "1", stdin=subprocess.PIPE)
    proc.stdin.write(b"a b c\n")
    proc.stdin.flush()
    wait_until(lambda: temporaries(tmp_path))  # the output is being written
    proc.send_signal(sig)
    assert proc.wait(timeout=120) == status
    assert proc.stderr.read() == b""
    assert list(tmp_path.iterdir()) == []
    proc.stdin.close()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_preprocess_leaves_nothing(tmp_path, sig, status):
    from tests.conftest import reversal_pairs, write_pairs

    src, tgt = write_pairs(tmp_path / "in", "train", reversal_pairs(200_000, seed=3))
    proc = nmtkit("preprocess", "--src", src, "--tgt", tgt, "--out", tmp_path / "d",
                  "--units", "word")
    wait_until(lambda: temporaries(tmp_path))
    proc.send_signal(sig)
    assert proc.wait(timeout=120) == status
    assert proc.stderr.read() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


# -- every command that writes: SIGKILL while it writes, and a full disk -------------------

def fill(disk: Path) -> None:
    """Fill the file system at ``disk`` to the brim: any further byte fails with ENOSPC."""
    import errno

    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)


def hidden_leftovers(folder: Path) -> list[Path]:
    """nmtkit's temporaries anywhere under ``folder``."""
    from nmtkit.fileio import is_temporary

    return [p for p in Path(folder).rglob("*") if is_temporary(p.name)]


def snapshot(target: Path) -> dict[str, bytes]:
    """What an output holds: a file's bytes, or a folder's files (temporaries left out: no
    command reads them); empty where there is none."""
    from nmtkit.fileio import is_temporary

    target = Path(target)
    if target.is_file():
        return {"": target.read_bytes()}
    if not target.is_dir():
        return {}
    return {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*"))
            if p.is_file() and not any(is_temporary(part) for part in p.parts)}


class Writer:
    """A command line writing one output (``target``), with a previous version of it in
    place where the command can replace one. ``dies_at``: part of the path of the
    temporary file at whose fsync (written whole, not yet renamed) a kill comes."""

    def __init__(self, args: list, target: Path, dies_at: str, stdin: str = ""):
        self.args, self.target, self.dies_at, self.stdin = list(map(str, args)), target, \
            dies_at, stdin


def writer(command: str, request, out: Path) -> Writer:
    """``command`` writing its output under ``out``."""
    model = request.getfixturevalue("tiny_model")
    data = model.parent / "data"
    bare = shutil.ignore_patterns("checkpoint-*", "train_state.pt", "tensorboard")
    lines = "a b c\nd e\n\nf\n"
    translate = ["translate", "-m", model, "--beam", "1"]
    if command == "preprocess":
        corpus = request.getfixturevalue("tiny_corpus")
        shutil.copytree(data, out / "d")
        return Writer(["preprocess", "--src", corpus / "train.src", "--tgt",
                       corpus / "train.tgt", "--out", out / "d", "--units", "word",
                       "--overwrite"], out / "d", "/.d.")
    if command == "build-vocab":
        shutil.copytree(data, out / "data")
        return Writer(["build-vocab", out / "data", "--max-size", "8"],
                      out / "data" / "vocab.src.tsv", "/.vocab.src.tsv.")
    if command == "average":
        shutil.copytree(model, out / "avg", ignore=bare)
        return Writer(["average", model, "--last", "2", "-o", out / "avg", "--overwrite"],
                      out / "avg", "/.avg.")
    if command == "shortlist":
        shutil.copytree(model, out / "m", ignore=bare)
        return Writer(["shortlist", out / "m", "-d", data], out / "m" / "shortlist.pt",
                      "/.shortlist.pt.")
    if command == "export":
        pytest.importorskip("ctranslate2")
        (out / "ct2").mkdir()
        (out / "ct2" / "nmtkit-export.json").write_text("{}\n")  # marks an earlier export
        return Writer(["export", request.getfixturevalue("tiny_transformer"), out / "ct2",
                       "--overwrite"], out / "ct2", "/.ct2.")
    if command == "plot":
        pytest.importorskip("matplotlib")
        (out / "c.png").write_bytes(b"previous")
        return Writer(["plot", model, "-o", out / "c.png"], out / "c.png", "/.c.png.")
    if command == "translate -o":
        (out / "out.txt").write_text("previous\n")
        return Writer([*translate, "-o", out / "out.txt"], out / "out.txt", "/.out.txt.",
                      lines)
    if command == "translate --alignments":
        (out / "al.txt").write_text("previous\n")
        return Writer([*translate, "--alignments", out / "al.txt"], out / "al.txt",
                      "/.al.txt.", lines)
    assert command == "translate --attention-plots"
    pytest.importorskip("matplotlib")
    return Writer([*translate, "--attention-plots", out / "plots"], out / "plots",
                  "/plots/.line-000001.png.", lines)


WRITERS = ["preprocess", "build-vocab", "average", "shortlist", "export", "plot",
           "translate -o", "translate --alignments", "translate --attention-plots"]

DIE_WRITING = textwrap.dedent("""
    import os, signal, sys
    from nmtkit import fileio
    from nmtkit.cli import main
    dies_at, real = sys.argv.pop(1), fileio._fsync
    def fsync(fd):
        if dies_at in os.readlink(f"/proc/self/fd/{fd}"):
            os.kill(os.getpid(), signal.SIGKILL)
        real(fd)
    fileio._fsync = fsync
    sys.argv[0] = "nmtkit"
    main()
""")


@pytest.mark.parametrize("command", WRITERS)
def test_sigkill_while_a_command_writes_leaves_the_previous_output(request, tmp_path, command,
                                                                   monkeypatch, capsys):
    from tests.conftest import run_main

    w = writer(command, request, tmp_path)
    before = snapshot(w.target)
    killed = subprocess.run([sys.executable, "-c", DIE_WRITING, w.dies_at, *w.args],
                            input=w.stdin.encode(), capture_output=True, env=ENV, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert snapshot(w.target) == before  # the previous output (or none), whole
    assert hidden_leftovers(tmp_path)  # the killed writer's temporary ...
    status, _, err = run_main(*w.args, input=w.stdin, monkeypatch=monkeypatch, capsys=capsys)
    assert status == 0, err  # ... does not stand in the next run's way
    assert snapshot(w.target) not in ({}, before)
    assert hidden_leftovers(tmp_path) == []


def one_line_main_error(status: int, err: str) -> str:
    """The error line of an in-process run: exactly one, last, status 2."""
    lines = err.strip().splitlines()
    assert status == 2, err
    assert [line for line in lines if line.startswith("nmtkit: error: ")] == lines[-1:], err
    return lines[-1]


# preprocess, train and translate -o have their tests above
@pytest.mark.parametrize("command", [c for c in WRITERS if c not in ("preprocess",
                                                                     "translate -o")])
def test_a_full_disk_names_the_output_and_leaves_nothing_half_written(request, small_disk,
                                                                       command, monkeypatch,
                                                                       capsys):
    from tests.conftest import run_main

    w = writer(command, request, small_disk)
    before = snapshot(w.target)
    fill(small_disk)
    status, _, err = run_main(*w.args, input=w.stdin, monkeypatch=monkeypatch, capsys=capsys)
    msg = one_line_main_error(status, err)
    assert msg.startswith(f"nmtkit: error: {w.target}")  # the output, or a file in it
    assert msg.endswith(": No space left on device")
    assert snapshot(w.target) == before
    assert hidden_leftovers(small_disk) == []


@pytest.mark.parametrize("full", ["-o", "--alignments", "--attention-plots"])
def test_a_full_disk_under_one_of_several_outputs_names_that_one(tiny_model, small_disk,
                                                                tmp_path, full, monkeypatch,
                                                                capsys):
    """translate -o OUT --alignments AL --attention-plots DIR, where only one of them is on
    the disk that is full."""
    from tests.conftest import run_main

    names = {"-o": "out.txt", "--alignments": "al.txt", "--attention-plots": "plots"}
    where = {opt: (small_disk if opt == full else tmp_path) / name
             for opt, name in names.items()}
    fill(small_disk)
    args = [x for opt, path in where.items() for x in (opt, str(path))]
    status, _, err = run_main("translate", "-m", str(tiny_model), "--beam", "1", *args,
                              input="a b c\nd e\n" * 5, monkeypatch=monkeypatch, capsys=capsys)
    msg = one_line_main_error(status, err)
    assert msg.startswith(f"nmtkit: error: {where[full]}")
    assert msg.endswith(": No space left on device")
    assert [snapshot(path) for path in where.values()] == [{}, {}, {}]  # none of them
    assert hidden_leftovers(small_disk) == [] and hidden_leftovers(tmp_path) == []


# -- a failed peer under torchrun ------------------------------------------------------------

RANK_1_DIES = textwrap.dedent("""
    import os, signal, sys
    from nmtkit.cli import main
    from nmtkit.training.trainer import Trainer
    real = Trainer._optimizer_step
    def step(self, group):
        if self.state.step == 6 and self.dist.rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, group)
    Trainer._optimizer_step = step
    sys.argv[0] = "nmtkit"
    main()
""")


def test_a_killed_torchrun_peer_is_one_line_from_the_survivor(tiny_model, tmp_path):
    """Two CPU processes (gloo); rank 1 is killed after the checkpoint of step 4: rank 0
    says which rank failed and how to go on, with no traceback of its own."""
    script = tmp_path / "rank1_dies.py"
    script.write_text(RANK_1_DIES)
    data, config, model = (tiny_model.parent / "data", tiny_model.parent / "config.yaml",
                           tmp_path / "m")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
         "2", str(script), "train", "-c", str(config), "-d", str(data), "-m", str(model),
         "--no-progress", "train.max_steps=12", "train.valid_every=4",
         "train.valid_bleu=false", "train.batch_tokens=100"],
        capture_output=True, text=True, env=ENV, timeout=300, check=False)
    assert proc.returncode != 0
    ours = [line for line in proc.stderr.splitlines() if line.startswith("nmtkit: error: ")]
    assert ours == [f"nmtkit: error: training process rank 1 failed (killed, out of memory, or "
                    f"its machine is gone), so rank 0 stops too; run the same command again to "
                    f"resume from the last checkpoint in {model}"], proc.stderr[-3000:]
    assert "[rank0]:" not in proc.stderr  # torch prefixes a worker's traceback so
    # (rank 0 exits 2, unless torchrun's SIGTERM to the survivors catches it on its way out)
    assert load_tensors(model / "train_state.pt")["counters"]["step"] == 4
    assert temporaries(tmp_path) == []
