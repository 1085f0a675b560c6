"""translate in a shell pipeline: `| head` ends quietly; Ctrl-C ends quietly with 130."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys


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
