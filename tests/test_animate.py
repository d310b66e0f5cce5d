"""gridanim.animate: the pipeline from an image to frames, delays and file bytes."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from helpers import SHARED_GRIDS, flat_grid, gif_info, png_bytes, shared_manifest, tile_color

from gridanim.animate import AnimateOptions, Animation, animate, render
from gridanim.errors import InputError
from gridanim.images import load_image


def _grid():
    return flat_grid(2, 3, cell=(48, 36), gutter=4, border=6)


def test_animate_with_given_layout_from_bytes():
    img, layout = _grid()
    anim = animate(png_bytes(img), AnimateOptions(fps=10), layout=layout)
    assert isinstance(anim, Animation)
    assert len(anim.frames) == 6 and anim.frame_size == (48, 36)
    assert anim.durations_ms == [100] * 6 and anim.effective_fps == pytest.approx(10)
    assert anim.sequence == [0, 1, 2, 3, 4, 5]
    for k, f in enumerate(anim.frames):
        assert (f == np.array(tile_color(k), np.uint8)).all()
    assert anim.jitter_before is None and anim.jitter_after is None


@pytest.mark.parametrize("source_kind", ["path", "array", "loaded"])
def test_animate_accepts_every_source_kind(tmp_path, source_kind):
    img, layout = _grid()
    if source_kind == "path":
        p = tmp_path / "g.png"
        p.write_bytes(png_bytes(img))
        src = p
    elif source_kind == "array":
        src = img
    else:
        src = load_image(img)
    assert len(animate(src, layout=layout).frames) == 6


def test_animate_order_drop_smooth_and_timing():
    img, layout = _grid()
    opts = AnimateOptions(order="pingpong", drop="2", smooth=1, fps=8, inbetween="blend")  # flat tiles: flow skips
    anim = animate(img, opts, layout=layout)
    assert anim.sequence == [0, 2, 3, 4, 5, 4, 3, 2]
    assert len(anim.frames) == 16  # one in-between per pair, wrap included
    assert sum(anim.durations_ms) == 1000  # 8 frames at 8 fps: the loop length is kept
    assert anim.effective_fps == pytest.approx(16)
    assert (anim.frames[0] == np.array(tile_color(0), np.uint8)).all()
    mid = anim.frames[-1].astype(int)  # between the last (frame 3) and the first (frame 1)
    expected = (np.array(tile_color(2)) + np.array(tile_color(0))) / 2
    assert np.abs(mid[0, 0] - expected).max() <= 1


def test_animate_collects_loader_and_layout_warnings():
    from PIL import Image

    img, layout = _grid()
    layout = dataclasses.replace(layout, warnings=("rows look uneven",))
    buf = io.BytesIO()
    ims = [Image.fromarray(img), Image.fromarray(img[::-1].copy())]
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:])  # an animated upload
    anim = animate(buf.getvalue(), AnimateOptions(fps=12, uniform_delays=True), layout=layout)
    text = " | ".join(anim.warnings)
    assert "animated" in text and "rows look uneven" in text and "12.5 fps" in text


def test_animate_stabilize_reports_jitter():
    img, layout = _grid()
    anim = animate(img, AnimateOptions(stabilize=True), layout=layout)
    assert anim.jitter_before is not None and anim.jitter_after is not None
    assert anim.jitter_after <= anim.jitter_before


def test_animate_max_size_and_inset():
    img, layout = _grid()
    anim = animate(img, AnimateOptions(inset=2, max_size=22), layout=layout)
    assert anim.frame_size == (22, 16)


@pytest.mark.parametrize(
    "opts,match",
    [
        (dict(fps=0), "fps must"),
        (dict(fps=-1), "fps must"),
        (dict(frame_ms=0), "frame_ms must"),
        (dict(rows=0), "rows must"),
        (dict(cols=-2), "cols must"),
        (dict(inset=-1), "inset must"),
        (dict(smooth=-1), "smooth must"),
        (dict(loop=-1), "loop must"),
        (dict(max_size=2), "max_size must"),
        (dict(gif_quality="best"), "gif_quality must"),
        (dict(mp4_repeat=-1), "mp4_repeat must"),
        (dict(order="sideways"), "unknown order"),
        (dict(order="1-99"), "out of range"),
    ],
)
def test_animate_rejects_bad_options(opts, match):
    img, layout = _grid()
    with pytest.raises(InputError, match=match):
        animate(img, AnimateOptions(**opts), layout=layout)


def test_render_all_formats():
    img, layout = _grid()
    anim = animate(img, AnimateOptions(fps=8), layout=layout)
    out = render(anim, ["gif", "mp4", "webp", "zip"])
    assert list(out) == ["gif", "mp4", "webp", "zip"]
    assert out["gif"][:6] == b"GIF89a" and out["mp4"][4:8] == b"ftyp"
    assert out["webp"][8:12] == b"WEBP" and out["zip"][:2] == b"PK"
    info = gif_info(out["gif"])
    assert info["durations"] == anim.durations_ms and info["loop"] == 0
    with pytest.raises(InputError, match="unknown output format"):
        render(anim, ["avi"])


def test_render_gif_size_limit_adds_a_warning():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    from gridanim.layout import Layout

    layout = Layout(1, 2, ((0, 0, 150, 200), (150, 0, 150, 200)), ((0, 0), (0, 1)), (300, 200))
    anim = animate(img, AnimateOptions(gif_max_bytes=30_000), layout=layout)
    out = render(anim, ["gif"])
    assert len(out["gif"]) <= 30_000
    assert any("to fit" in w for w in anim.warnings)


# --------------------------------------------------------------------------- real grids

_MANIFEST = shared_manifest()


@pytest.mark.skipif(not _MANIFEST, reason=f"real grids not found at {SHARED_GRIDS} (the shared/ checkout is absent)")
@pytest.mark.parametrize("entry", _MANIFEST, ids=[e["file"] for e in _MANIFEST])
def test_real_grid_animates(entry):
    anim = animate(SHARED_GRIDS / entry["file"], AnimateOptions(rows=entry["rows"], cols=entry["cols"]))
    n = anim.layout.frames
    assert n >= 1 and anim.sequence == list(range(n))  # forward order
    gif = render(anim, ["gif"])["gif"]
    info = gif_info(gif)
    assert len(info["frames"]) == n
    assert info["durations"] == anim.durations_ms and info["loop"] == 0
    assert info["size"] == anim.frame_size
