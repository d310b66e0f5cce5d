"""gridanim.output: the files a user names are written whole or not at all, with one-line errors."""

import os

import pytest

from gridanim.errors import InputError
from gridanim.output import write_output


def test_writes_the_bytes_makes_the_folder_and_replaces_an_old_file(tmp_path):
    p = tmp_path / "new" / "a.gif"
    assert write_output(p, b"first") == p and p.read_bytes() == b"first"
    write_output(str(p), b"second")
    assert p.read_bytes() == b"second"
    assert sorted(x.name for x in p.parent.iterdir()) == ["a.gif"]  # no temporary file left beside it


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    p = tmp_path / "a.gif"
    p.write_bytes(b"old")

    def no_rename(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(InputError, match="cannot write .*No space left on device.*choose another path") as e:
        write_output(p, b"new")
    assert "\n" not in str(e.value)
    assert p.read_bytes() == b"old" and sorted(x.name for x in tmp_path.iterdir()) == ["a.gif"]


@pytest.mark.parametrize("make", ["folder", "file_as_parent"])
def test_paths_that_cannot_be_files_get_one_line(tmp_path, make):
    if make == "folder":
        target, match = tmp_path, "is a folder"
    else:
        (tmp_path / "f").write_bytes(b"")
        target, match = tmp_path / "f" / "a.gif", "cannot write"
    with pytest.raises(InputError, match=match) as e:
        write_output(target, b"x")
    assert "\n" not in str(e.value)
