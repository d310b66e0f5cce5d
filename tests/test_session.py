"""gridanim.hosting.session: run folders, fixed file names, the heartbeat, generate-then-animate."""

from __future__ import annotations

import os
import time
import zipfile

import pytest
from helpers import flat_grid
from PIL import Image

from gridanim import errors as E
from gridanim.animate import AnimateOptions
from gridanim.hosting import session


@pytest.fixture(autouse=True)
def _tmp_root(tmp_path, monkeypatch):
    monkeypatch.setenv(session.ENV_ROOT, str(tmp_path / "runs"))


def grid_path(tmp_path, rows=3, cols=4):
    img, _ = flat_grid(rows, cols, cell=(40, 30))
    p = tmp_path / "grid.png"
    Image.fromarray(img).save(p)
    return p


def test_run_dirs_are_fresh_and_old_ones_are_purged(tmp_path):
    a = session.new_run_dir()
    b = session.new_run_dir()
    assert a != b and a.parent == b.parent == tmp_path / "runs"
    old = time.time() - session.MAX_AGE_S - 10
    os.utime(a, (old, old))
    assert session.purge_old() == 1
    assert not a.exists() and b.exists()


def test_animate_to_files_writes_every_format_under_its_fixed_name(tmp_path):
    run = session.animate_to_files(str(grid_path(tmp_path)), AnimateOptions(fps=10), frame_pngs=True)
    assert {p.name for p in run.files.values()} == {"animation.gif", "animation.mp4", "animation.webp", "frames.zip"}
    assert [os.path.basename(p) for p in run.downloads][-1] == "grid_cut.png"
    with Image.open(run.files["gif"]) as im:
        assert im.n_frames == 12
    with zipfile.ZipFile(run.files["zip"]) as z:
        assert len(z.namelist()) == 12
    assert [p.name for p in run.frames][:2] == ["frame_01.png", "frame_02.png"] and len(run.frames) == 12
    assert run.sizes()["gif"] == run.files["gif"].stat().st_size > 0


def test_preview_cut_uses_the_manual_override(tmp_path):
    pv = session.preview_cut(str(grid_path(tmp_path, 2, 6)), rows=2, cols=3)
    assert (pv.layout.rows, pv.layout.cols) == (2, 3)
    assert pv.cut.name == "grid_cut.png" and pv.cut.exists()
    assert any("looks like" in n for n in pv.notes)


def test_unusable_uploads_raise_the_package_error(tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(b"")
    with pytest.raises(E.InputError, match="empty"):
        session.preview_cut(str(p))


def test_copy_grid_and_thumbnail_stay_out_of_the_data_dir(tmp_path):
    src = grid_path(tmp_path)
    copy = session.copy_grid(src)
    assert copy.read_bytes() == src.read_bytes() and copy.parent.parent == session.root_dir()
    thumb = session.thumbnail(src, max_side=64)
    with Image.open(thumb) as im:
        assert max(im.size) == 64 and im.format == "JPEG"


def test_the_animation_reuses_the_layout_the_preview_found(tmp_path, monkeypatch):
    """The Animate tab previews the cut, then animates the same file: detection runs once."""
    import gridanim.animate as animate_mod

    grid = tmp_path / "grid.png"
    Image.fromarray(flat_grid(2, 3)[0]).save(grid)
    pv = session.preview_cut(str(grid), 2, 3)

    def detect_again(*a, **kw):
        raise AssertionError("detect_layout ran again after the preview")

    monkeypatch.setattr(animate_mod, "detect_layout", detect_again)
    run = session.animate_to_files(str(grid), AnimateOptions(rows=2, cols=3), formats=("gif",))
    assert run.anim.layout == pv.layout
    other = tmp_path / "other.png"
    Image.fromarray(flat_grid(2, 3)[0]).save(other)
    with pytest.raises(AssertionError, match="ran again"):  # a file never previewed is detected
        session.animate_to_files(str(other), AnimateOptions(rows=2, cols=3), formats=("gif",))
