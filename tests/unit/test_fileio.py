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
