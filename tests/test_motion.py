"""Issue #13: optical-flow in-betweens, the loop-seam check, per-frame holds.

The motion cases are drawn analytically at every instant
(:func:`bench.motion.render`), so the true in-between is rendered
the same way as the key frames and never by the method under test.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile

import numpy as np
import pytest
from helpers import SHARED_GRIDS, ffmpeg, gif_info, png_bytes, run_cli
from PIL import Image

from bench import motion as bench_motion
from bench.metrics import ssim
from gridanim import frames as fr
from gridanim import motion
from gridanim.animate import AnimateOptions, animate, render
from gridanim.errors import InputError

pytest.importorskip("cv2", reason="flow in-betweens need opencv-python-headless")


# --------------------------------------------------------------------------- in-between quality


@pytest.fixture(scope="module")
def quality():
    return {case: bench_motion.quality(case) for case in bench_motion.CASES}


@pytest.mark.parametrize("case", ["translate", "rotate"])
def test_flow_beats_crossfade_on_textured_motion(quality, case):
    q = quality[case]
    assert q["pair_method"] == "flow", q
    assert q["flow_ssim"] - q["blend_ssim"] >= 0.15, q


@pytest.mark.parametrize("case", bench_motion.CASES)
def test_flow_is_never_clearly_worse_than_crossfade(quality, case):
    q = quality[case]
    assert q["flow_ssim"] >= q["blend_ssim"] - 0.01, q


def test_truth_is_not_the_crossfade():
    """Guard on the test itself: the true middle differs from both key frames and from their average."""
    a, b, mid = (bench_motion.render("translate", t) for t in (0.0, 1.0, 0.5))
    avg = fr.smooth([a, b], 1)[1]
    assert ssim(mid, a) < 0.8 and ssim(mid, b) < 0.8 and ssim(mid, avg) < 0.8


def test_flow_falls_back_per_pair_when_nothing_matches():
    """Two unrelated noise images: no flow can be trusted, so the pair is a cross-fade and a warning says why."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    res = fr.inbetween([a, b], 1, wrap=False)
    assert res.pair_methods == ["blend"]
    assert np.array_equal(res.frames[1], fr.smooth([a, b], 1)[1])
    assert any("fell back to cross-fades for frames 1->2" in w for w in res.warnings)


def test_tiny_frames_are_cross_faded_with_a_warning():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for _ in range(3)]
    res = fr.inbetween(frames, 1)
    assert res.pair_methods == ["blend"] * 3 and len(res.frames) == 6
    assert any("too small" in w for w in res.warnings)


def test_inbetweens_cover_the_wrap_and_keep_counts():
    frames = [bench_motion.render("sprite", t, 64) for t in (0, 1, 2)]
    res = fr.inbetween(frames, 2)
    assert len(res.frames) == 9 and res.per_pair == 2 and len(res.pair_methods) == 3
    assert all(res.frames[i * 3] is frames[i] for i in range(3))  # real frames untouched, in order


def test_alphas_are_warped_like_the_frames():
    """A sprite with a mask: the in-between mask follows the sprite, not a double exposure."""
    a, b, mid = (bench_motion.render("sprite", t) for t in (0.0, 1.0, 0.5))
    bg = np.array([232, 224, 205])

    def mask(f):
        return np.where(np.abs(f.astype(int) - bg).sum(-1) > 30, 255, 0).astype(np.uint8)

    res = fr.inbetween([a, b], 1, alphas=[mask(a), mask(b)], wrap=False)
    assert res.pair_methods == ["flow"] and len(res.alphas) == 3
    got, want = res.alphas[1], mask(mid)
    blend = fr.inbetween([a, b], 1, method="blend", alphas=[mask(a), mask(b)], wrap=False).alphas[1]
    assert got.shape == want.shape and got.dtype == np.uint8
    err_flow = np.abs(got.astype(int) - want).mean()
    err_blend = np.abs(blend.astype(int) - want).mean()
    assert err_flow < 0.5 * err_blend, (err_flow, err_blend)


# --------------------------------------------------------------------------- pixel art


def _zip_frames(data: bytes) -> list[np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [np.asarray(Image.open(io.BytesIO(z.read(n))).convert("RGB")) for n in sorted(z.namelist())]


def _colors(frames) -> set[int]:
    out: set[int] = set()
    for f in frames:
        p = (f[..., 0].astype(np.int64) << 16) | (f[..., 1].astype(np.int64) << 8) | f[..., 2]
        out |= set(np.unique(p).tolist())
    return out


def _sprite_grids():
    if not SHARED_GRIDS.is_dir():
        pytest.skip(f"{SHARED_GRIDS} is missing (the shared grids live next to the repo)")
    grids = sorted(SHARED_GRIDS.glob("sprite_*"))
    if not grids:
        pytest.skip(f"no sprite_* grids in {SHARED_GRIDS}")
    return grids


def test_pixel_art_gets_no_new_colours(tmp_path):
    for grid in _sprite_grids():
        plain, smooth = tmp_path / f"{grid.stem}_plain.zip", tmp_path / f"{grid.stem}_smooth.zip"
        r0 = run_cli("animate", grid, "--zip", plain, "--json")
        r1 = run_cli("animate", grid, "--smooth", "1", "--zip", smooth, "--json")
        assert r0.returncode == 0 and r1.returncode == 0, (r0.stderr, r1.stderr)
        before = _colors(_zip_frames(plain.read_bytes()))
        after = _zip_frames(smooth.read_bytes())
        assert _colors(after) <= before, f"{grid.name}: --smooth 1 added colours"
        report = json.loads(r1.stdout)
        assert any("pixel art" in w for w in report["warnings"]), report["warnings"]
        assert len(after) == report["output_frames"]


def test_pixel_art_detector():
    checker = np.eye(2, dtype=np.uint8)[..., None] * np.array([200, 40, 90], np.uint8)
    sprite = [np.kron(checker, np.ones((8, 8, 1), np.uint8))]
    assert motion.looks_like_pixel_art(sprite)
    assert not motion.looks_like_pixel_art([bench_motion.render("translate", 0.0, 64)])
    grey = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    assert not motion.looks_like_pixel_art([np.dstack([grey] * 3)])  # <= 256 colours but a photo's texture


# --------------------------------------------------------------------------- loop seam


def _orbit(n: int, jump: bool) -> list[np.ndarray]:
    """A disc going round (seamless), or sliding left to right and snapping back (a jump at the seam)."""
    yy, xx = np.mgrid[0:64, 0:96].astype(np.float32)
    out = []
    for k in range(n):
        if jump:
            cx, cy = 20 + 56 * k / (n - 1), 32.0
        else:
            cx, cy = 48 + 24 * np.cos(2 * np.pi * k / n), 32 + 16 * np.sin(2 * np.pi * k / n)
        a = np.clip(12 - np.hypot(xx - cx, yy - cy), 0, 1)[..., None]
        out.append((np.array([240, 240, 230]) * (1 - a) + np.array([200, 40, 40]) * a).astype(np.uint8))
    return out


def test_loop_seam_separates_a_jump_from_a_seamless_loop():
    seamless, _ = motion.loop_seam(_orbit(12, jump=False))
    jump, steps = motion.loop_seam(_orbit(12, jump=True))
    assert 0.7 <= seamless <= 1.3
    assert jump > motion.SEAM_HIGH
    assert steps[-1] == max(steps)
    assert motion.seam_hint(_orbit(12, False), list(range(12)), seamless) is None
    hint = motion.seam_hint(_orbit(12, True), list(range(12)), jump)
    assert hint and "frame 12 back to frame 1" in hint and "pingpong" in hint and "--smooth" in hint


def test_loop_seam_suggests_dropping_an_overshooting_last_frame():
    frames = _orbit(24, jump=False)
    frames.append(_orbit(3, jump=True)[1])  # an extra 25th frame: the disc in the middle of its circle
    score, _ = motion.loop_seam(frames)
    hint = motion.seam_hint(frames, list(range(25)), score)
    assert score > motion.SEAM_HIGH and "--drop 25" in hint, (score, hint)


def _strip(frames: list[np.ndarray]) -> bytes:
    """A 1 x N grid image with 4 px white gutters (detect finds it without hints)."""
    h, w = frames[0].shape[:2]
    g = 4
    img = np.full((h + 2 * g, len(frames) * (w + g) + g, 3), 255, np.uint8)
    for i, f in enumerate(frames):
        img[g : g + h, g + i * (w + g) : g + i * (w + g) + w] = f
    return png_bytes(img)


def test_cli_reports_loop_seam_and_hint(tmp_path):
    for jump in (False, True):
        p = tmp_path / f"grid_{jump}.png"
        p.write_bytes(_strip(_orbit(8, jump)))
        r = run_cli("animate", p, "--rows", "1", "--cols", "8", "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert isinstance(d["loop_seam"], float) and len(d["step_changes"]) == 8
        hinted = any("loop jumps" in w for w in d["warnings"])
        assert hinted == jump and (d["loop_seam"] > motion.SEAM_HIGH) == jump, d


# --------------------------------------------------------------------------- holds


def test_parse_holds():
    assert fr.parse_holds("1:300, 12:500ms", 12) == {0: 300, 11: 500}
    assert fr.parse_holds("3:304", 4) == {2: 300}  # whole centiseconds
    assert fr.parse_holds("", 4) == {}
    assert fr.format_holds({0: 300, 11: 500}) == "1:300,12:500"
    for bad, match in (("13:300", "out of range"), ("1-300", "FRAME:MS"), ("1:5", "between")):
        with pytest.raises(InputError, match=match):
            fr.parse_holds(bad, 12)


def _mp4_seconds(path) -> float:
    r = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    m = re.search(r"Duration: (\d+):(\d+):([\d.]+)", r.stderr)
    assert m, r.stderr[-300:]
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


@pytest.mark.parametrize("smooth,order", [(0, "forward"), (1, "pingpong")])
def test_holds_round_trip_through_every_output(tmp_path, smooth, order):
    frames = _orbit(6, jump=False)
    opts = AnimateOptions(rows=1, cols=6, fps=10, hold="1:300,4:500", smooth=smooth, inbetween="blend", order=order)
    anim = animate(_strip(frames), opts)
    opts0 = AnimateOptions(rows=1, cols=6, fps=10, smooth=smooth, inbetween="blend", order=order)
    base = animate(_strip(frames), opts0).durations_ms
    step = smooth + 1
    want = list(base)
    for pos, g in enumerate(anim.sequence):  # every time a held grid frame plays, it shows for its hold
        if g in (0, 3):
            want[pos * step] = 300 if g == 0 else 500
    assert anim.durations_ms == want and want != base
    out = render(anim, ["gif", "webp", "mp4", "zip"])
    assert gif_info(out["gif"])["durations"] == anim.durations_ms
    webp = Image.open(io.BytesIO(out["webp"]))
    got = []
    for i in range(webp.n_frames):
        webp.seek(i)
        webp.load()  # Pillow fills in the frame's duration on load
        got.append(webp.info["duration"])
    assert got == anim.durations_ms
    assert len(_zip_frames(out["zip"])) == len(anim.frames)
    mp4 = tmp_path / "a.mp4"
    mp4.write_bytes(out["mp4"])
    from gridanim.encode import auto_repeat

    loop_s = sum(anim.durations_ms) / 1000
    assert _mp4_seconds(mp4) == pytest.approx(auto_repeat(anim.durations_ms) * loop_s, abs=0.05)


def test_cli_hold_and_zip_hold_every_output_frame_in_play_order(tmp_path):
    p = tmp_path / "grid.png"
    frames = [bench_motion.render("sprite", t, 64) for t in range(4)]
    p.write_bytes(_strip(frames))
    z, g = tmp_path / "f.zip", tmp_path / "a.gif"
    r = run_cli(
        "animate", p, "--rows", "1", "--cols", "4", "--smooth", "2", "--hold", "2:400", "--zip", z, "--gif", g, "--json"
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    got = _zip_frames(z.read_bytes())
    assert len(got) == d["output_frames"] == 12
    assert d["durations_ms"][3] == 400 and gif_info(g.read_bytes())["durations"] == d["durations_ms"]
    assert d["inbetween"]["method"] == "flow" and len(d["inbetween"]["pairs"]) == 4
    # real frames sit at every third place; the in-betweens lie between their neighbours
    h, w = got[0].shape[:2]
    y0, x0 = (64 - h) // 2, (64 - w) // 2
    crops = [f[y0 : y0 + h, x0 : x0 + w].astype(int) for f in frames]
    for i in range(4):
        diffs = [np.abs(got[3 * i] - c).mean() for c in crops]
        assert int(np.argmin(diffs)) == i and diffs[i] < 3.0, diffs
    mids = [np.abs(got[3 * i + 1].astype(int) - got[3 * i]).mean() for i in range(4)]
    assert all(m > 0.5 for m in mids)


def test_animate_without_smooth_does_not_import_opencv(tmp_path):
    p = tmp_path / "grid.png"
    p.write_bytes(_strip(_orbit(4, jump=False)))
    code = (
        "import sys; from gridanim import cli; rc = cli.main(['animate', sys.argv[1], '--json']); "
        "assert 'cv2' not in sys.modules, 'cv2 imported'; raise SystemExit(rc)"
    )
    import sys

    from helpers import REPO_ROOT

    r = subprocess.run([sys.executable, "-c", code, str(p)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_timing_table_edits_become_holds():
    from gridanim.hosting.summary import holds_from_table, timing_rows

    anim = animate(_strip(_orbit(4, jump=False)), AnimateOptions(rows=1, cols=4, fps=10, hold="1:300"))
    shown = timing_rows(anim)
    assert [r[2] for r in shown] == [300, 100, 100, 100]
    edited = [list(r) for r in shown]
    edited[2][2] = "450"  # the browser sends edited cells as text
    assert holds_from_table(edited, shown, "1:300") == "1:300,3:450"
    assert holds_from_table(shown, shown, "") == ""
    edited[2][2] = "soon"
    with pytest.raises(InputError, match="milliseconds"):
        holds_from_table(edited, shown, "")
