import io

import pytest

from nmtkit.errors import DataError, NmtkitError
from nmtkit.fileio import atomic_dir, count_lines, decode_lines


def test_atomic_dir_leaves_nothing_when_interrupted(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_refuses_existing_without_overwrite(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("x")
    with pytest.raises(NmtkitError, match="already exists; pass --overwrite"), \
            atomic_dir(tmp_path / "out"):
        pass
    with atomic_dir(tmp_path / "out", overwrite=True) as tmp:
        (tmp / "new").write_text("x")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporaries left


def test_decode_lines_names_the_bad_line():
    data = io.BytesIO(b"ok\r\nfine\n\xff bad\n")
    lines = decode_lines(data, "in.txt")
    assert next(lines) == "ok" and next(lines) == "fine"
    with pytest.raises(DataError, match=r"in.txt:3: invalid UTF-8"):
        next(lines)


def test_count_lines_counts_a_last_line_without_newline(tmp_path):
    (tmp_path / "a").write_bytes(b"x\ny")
    (tmp_path / "b").write_bytes(b"x\ny\n")
    (tmp_path / "c").write_bytes(b"")
    assert [count_lines(tmp_path / n) for n in "abc"] == [2, 2, 0]


def test_atomic_path_leaves_no_file_when_interrupted(tmp_path):
    from nmtkit.fileio import atomic_path

    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def _locked(path):
    """Hold a lock on ``path`` as a live writer would; returns the fd."""
    import fcntl
    import os

    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_leftovers_of_a_dead_writer_are_removed_and_a_live_one_s_kept(tmp_path):
    import os

    from nmtkit.fileio import atomic_write_text

    dead = tmp_path / ".out.txt.deadbeef.tmp"
    live = tmp_path / ".out.txt.a1b2c3d4.tmp"
    other = tmp_path / ".other.txt.deadbeef.tmp"
    for p in (dead, live, other):
        p.write_text("half")
    fd = _locked(live)
    try:
        atomic_write_text(tmp_path / "out.txt", "whole")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [live.name, other.name, "out.txt"])
    finally:
        os.close(fd)
    assert (tmp_path / "out.txt").read_text() == "whole"


def test_a_swap_cut_between_its_two_renames_is_undone(tmp_path):
    from nmtkit.fileio import clean_leftovers

    old = tmp_path / ".d.deadbeef.old"
    new = tmp_path / ".d.cafebabe.tmp"
    for folder, text in ((old, "old"), (new, "new")):
        folder.mkdir()
        (folder / "version").write_text(text)
    assert clean_leftovers(tmp_path / "d") == 2
    assert (tmp_path / "d" / "version").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_staged_dir_swaps_in_whole_with_or_without_an_atomic_exchange(tmp_path, monkeypatch):
    from nmtkit import fileio

    for exchange in (True, False):
        if not exchange:
            monkeypatch.setattr(fileio, "_exchange", lambda a, b: False)
        staged = fileio.StagedDir(tmp_path / "d", replace=True)
        assert staged.path.name.startswith(".d.") and staged.path.name.endswith(".tmp")
        (staged.path / "v").write_text(str(exchange))
        staged.commit()
        staged.discard()  # after a commit: only releases the lock
        assert staged.path == tmp_path / "d"
        assert (tmp_path / "d" / "v").read_text() == str(exchange)
        assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_staged_dir_refuses_to_replace_unless_told(tmp_path):
    from nmtkit.fileio import StagedDir

    (tmp_path / "d").mkdir()
    empty = StagedDir(tmp_path / "d")  # an empty folder holds nothing to lose
    empty.commit()
    (tmp_path / "d" / "keep").write_text("x")
    staged = StagedDir(tmp_path / "d")
    with pytest.raises(NmtkitError, match="already exists; pass --overwrite"):
        staged.commit()
    staged.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    assert (tmp_path / "d" / "keep").exists()


def test_a_byte_order_mark_is_dropped_at_the_start_only():
    data = io.BytesIO("\ufeffa\n\ufeffb\n".encode())
    assert list(decode_lines(data, "x")) == ["a", "\ufeffb"]


def test_invalid_utf8_can_be_replaced_with_a_warning_naming_the_line():
    warnings = []
    lines = list(decode_lines(io.BytesIO(b"ok\nb\xffd\n"), "in.txt", warnings.append))
    assert lines == ["ok", "b\ufffdd"]
    assert warnings == ["in.txt:2: invalid UTF-8 at byte 1; bad bytes replaced by U+FFFD"]


def test_messages_name_the_target_not_the_temporary():
    from nmtkit.fileio import user_path

    assert user_path("/w/.model.x1y2z3w4.tmp/model.pt") == "/w/model/model.pt"
    assert user_path("/w/.out.txt.abcdefgh.tmp") == "/w/out.txt"
    assert user_path("/w/plain.txt") == "/w/plain.txt"


def test_damaged_json_is_one_line(tmp_path):
    from nmtkit.fileio import read_json

    (tmp_path / "m.json").write_text('{"a": ')
    with pytest.raises(NmtkitError, match=r"m.json: damaged thing \(not valid JSON"):
        read_json(tmp_path / "m.json", "thing")
    with pytest.raises(NmtkitError, match=r"none.json: missing \(thing\)"):
        read_json(tmp_path / "none.json", "thing")


@pytest.mark.parametrize("writer", ["file", "folder"])
def test_a_failed_write_that_names_no_file_names_the_output(tmp_path, writer):
    """pathlib's, matplotlib's and CTranslate2's failed writes name no file: the error
    names the output being written, as the command line's one line then does."""
    import errno

    from nmtkit.cli import describe_os_error
    from nmtkit.fileio import atomic_path

    target = tmp_path / "out"
    write = atomic_path(target) if writer == "file" else atomic_dir(target)
    with pytest.raises(OSError) as caught, write:
        raise OSError(errno.ENOSPC, "No space left on device")
    assert describe_os_error(caught.value) == f"{target}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_copy_onto_a_full_disk_names_its_target_not_its_source(tmp_path):
    import errno

    from nmtkit.cli import describe_os_error

    full = OSError(errno.ENOSPC, "No space left on device", "model/config.yaml", None,
                   "avg/config.yaml")  # as shutil.copyfile raises it
    assert describe_os_error(full) == "avg/config.yaml: No space left on device"
    missing = OSError(errno.ENOENT, "No such file or directory", "a", None, "b")
    assert describe_os_error(missing) == "a: No such file or directory"
