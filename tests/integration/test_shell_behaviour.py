"""translate in a shell pipeline: `| head` ends quietly; Ctrl-C ends quietly with 130;
progress bars only on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios

from tests.conftest import reversal_pairs, run_cli


def big_input(tmp_path, n=3000):
    path = tmp_path / "big.txt"
    path.write_text("a b c d e\n" * n)
    return path


def test_head_closes_the_pipe_and_translate_ends_quietly(tiny_model, tmp_path):
    src = big_input(tmp_path)
    cmd = (f"'{sys.executable}' -m nmtkit translate -m '{tiny_model}' --beam 1 "
           f"--chunk-size 10 < '{src}' | head -3")
    proc = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0
    assert proc.stdout.count("\n") == 3
    assert proc.stderr == ""  # no BrokenPipeError traceback


def test_ctrl_c_exits_with_130_and_no_traceback(tiny_model, tmp_path):
    src = big_input(tmp_path, n=20000)
    with open(src, "rb") as stdin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nmtkit", "translate", "-m", str(tiny_model), "--beam", "2",
             "--chunk-size", "10"],
            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        try:
            # Translating has begun once the first chunk arrives (a bound, not a sleep).
            ready, _, _ = select.select([proc.stdout], [], [], 120)
            assert ready and proc.stdout.readline().endswith(b"\n")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=120) == 130
            assert proc.stderr.read() == b""
        finally:
            proc.kill()
            proc.wait()


def _stderr_on_a_terminal(args: list[str]) -> str:
    """Run ``python -m nmtkit ARGS`` with stderr on a pseudo-terminal; what it showed there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    proc = subprocess.Popen([sys.executable, "-m", "nmtkit", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)  # read while it runs: the child's end closing ends the reads
    shown = b""
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not data:
            break
        shown += data
    proc.wait()
    os.close(master)
    assert proc.returncode == 0, shown.decode("utf-8", "replace")
    return shown.decode("utf-8", "replace")


def test_file_to_file_translate_shows_progress_on_a_terminal_only(tiny_model, tmp_path):
    lines = "".join(f"{s}\n" for s, _ in reversal_pairs(12, seed=31, lo=1, hi=8))
    (tmp_path / "in.txt").write_text(lines, encoding="utf-8")
    args = ["translate", "-m", str(tiny_model), "-i", str(tmp_path / "in.txt"),
            "-o", str(tmp_path / "out.txt"), "--chunk-size", "5", "--precision", "fp32"]
    shown = _stderr_on_a_terminal(args)
    assert re.search(r"translate: +\d+%\|.*\| \d+/12 ", shown)  # a tqdm bar counting lines
    piped = run_cli(*args)
    assert piped.stderr == ""  # no bar where stderr is not a terminal
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").count("\n") == 12


def test_preprocess_shows_progress_on_a_terminal(tmp_path):
    pairs = reversal_pairs(30, seed=32, lo=1, hi=8)
    for side, index in (("src", 0), ("tgt", 1)):
        (tmp_path / side).write_text("".join(p[index] + "\n" for p in pairs), encoding="utf-8")
    shown = _stderr_on_a_terminal(
        ["preprocess", "--src", str(tmp_path / "src"), "--tgt", str(tmp_path / "tgt"),
         "--out", str(tmp_path / "data"), "--units", "word"])
    assert re.search(r"encode: +\d+%\|.*\| \d+/30 ", shown)
    # Log lines go above the bar, not into it.
    assert re.search(r"[\r\n]nmtkit: train: kept 30 of 30 pairs\r?\n", shown)
