"""Reading files with Pillow only, and in the background while the CLI imports numpy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers import REPO_ROOT, png_bomb, png_bytes
from PIL import Image

from gridanim.errors import InputError
from gridanim.images import load_image
from gridanim.reading import PendingRead, read_image, read_in_background


def test_reading_does_not_import_numpy():
    # the CLI starts decoding before numpy loads; that only helps if this module does not pull it in
    code = "import sys, gridanim.reading; print('numpy' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


def test_background_read_gives_the_same_image_as_a_direct_load(tmp_path):
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    p = tmp_path / "grid.png"
    p.write_bytes(png_bytes(arr))
    pending = read_in_background(str(p))
    assert isinstance(pending, PendingRead)
    img = load_image(pending)
    assert np.array_equal(img.rgb, arr)
    assert np.array_equal(img.rgb, load_image(str(p)).rgb)
    assert img.alpha is None and img.notes == [] and img.scale == 1.0


@pytest.mark.parametrize(
    "content, match",
    [(None, "no such file"), (b"", "empty"), (b"not an image at all", "not an image"), (png_bomb(), "too large")],
)
def test_background_read_raises_the_same_one_line_error_when_collected(tmp_path, content, match):
    p = tmp_path / "bad.png"
    if content is not None:
        p.write_bytes(content)
    pending = read_in_background(str(p))  # never raises here: the error waits for result()
    with pytest.raises(InputError, match=match) as e:
        load_image(pending)
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match=match):
        read_image(str(p))


def test_read_image_keeps_the_mode_and_notes_downscaling(tmp_path):
    p = tmp_path / "big.png"
    Image.new("LA", (400, 300), (120, 200)).save(p)
    r = read_image(str(p), downscale_pixels=100 * 75)
    assert r.image.mode == "LA" and r.image.size == (100, 75)
    assert r.scale == 4.0
    assert any("downscaled to 100x75" in n for n in r.notes)


def test_background_read_makes_detections_working_copy_with_the_same_result(tmp_path):
    from gridanim.layout import detect_layout
    from gridanim.reading import work_size

    rng = np.random.default_rng(4)
    grid = np.full((1100, 900, 3), 235, np.uint8)  # 990k px: detection shrinks it
    for r in range(3):
        for c in range(3):
            y, x = 20 + r * 360, 20 + c * 290
            grid[y : y + 340, x : x + 270] = rng.integers(40, 200, 3)
            grid[y + 100 : y + 200, x + 60 : x + 180] = rng.integers(0, 255, (100, 120, 3))
    path = tmp_path / "g.png"
    Image.fromarray(grid).save(path)
    img = load_image(read_in_background(path))
    w, h = work_size(900, 1100)
    assert img.work is not None and img.work.shape == (h, w, 3)
    assert np.array_equal(img.work, np.asarray(Image.fromarray(grid).resize((w, h), Image.Resampling.BOX)))
    assert detect_layout(img.rgb, work=img.work) == detect_layout(img.rgb)
    assert load_image(path).work is None  # only the background reader makes it
    rgba = np.dstack([grid, np.full(grid.shape[:2], 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert load_image(read_in_background(tmp_path / "a.png")).work is None  # detection shrinks alpha with it


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)),
        lambda: Image.fromarray(np.random.default_rng(2).integers(0, 256, (40, 50, 4), dtype=np.uint8)),
        lambda: Image.new("P", (30, 20), 3),  # palette, with a transparent entry (below)
        lambda: Image.new("I;16", (30, 20), 40000),
        lambda: Image.new("LA", (30, 20), (10, 99)),
    ],
    ids=["rgb", "rgba", "palette-trns", "16-bit", "la"],
)
def test_pngs_read_as_image_open_reads_them(tmp_path, make):
    # PNGs skip Image.open (it imports every default plugin first); what comes out must not change
    im = make()
    p = tmp_path / "x.png"
    im.save(p, transparency=3) if im.mode == "P" else im.save(p)
    ours = read_image(str(p)).image
    ref = Image.open(p)
    ref.load()
    assert (ours.format, ours.mode, ours.size) == (ref.format, ref.mode, ref.size)
    assert ours.info.get("transparency") == ref.info.get("transparency")
    assert np.array_equal(np.asarray(ours), np.asarray(ref))
    from_bytes = read_image(p.read_bytes()).image
    assert np.array_equal(np.asarray(from_bytes), np.asarray(ref))


def test_an_animated_png_is_read_as_its_first_frame_with_a_note(tmp_path):
    p = tmp_path / "anim.png"
    frames = [Image.new("RGB", (20, 16), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    r = read_image(str(p))
    assert np.asarray(r.image)[0, 0].tolist() == [255, 0, 0]
    assert any("animated (2 frames)" in n for n in r.notes)


def test_a_png_with_a_broken_chunk_gets_the_one_line_error(tmp_path):
    good = png_bytes(np.zeros((20, 20, 3), np.uint8))
    bad = good[:12] + b"IHDX" + good[16:]  # the first chunk is not IHDR: Pillow refuses the file
    with pytest.raises(InputError, match="not an image Pillow can read") as e:
        read_image(bad)
    assert "\n" not in str(e.value)
