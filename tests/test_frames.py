"""gridanim.frames: crop, stabilise, order, timing, smoothing, resize."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import GUTTER, flat_grid, tile_color

from gridanim import frames as fr
from gridanim.errors import InputError
from gridanim.layout import Layout

# --------------------------------------------------------------------------- extract


def test_extract_frames_same_size_and_no_gutter_pixels():
    img, layout = flat_grid(3, 4, cell=(40, 30), gutter=5, border=7, wobble=2)
    assert len({b[2:] for b in layout.boxes}) > 1  # boxes really differ
    frames = fr.extract_frames(img, layout)
    assert len(frames) == 12
    fw, fh = layout.frame_size
    for k, f in enumerate(frames):
        assert f.shape == (fh, fw, 3) and f.dtype == np.uint8
        # every pixel is the tile's own colour: no gutter, no neighbour
        assert (f == np.array(tile_color(k), np.uint8)).all(), f"frame {k} has foreign pixels"
        assert not (f == np.array(GUTTER, np.uint8)).all(axis=-1).any()


def test_extract_frames_centre_crops_larger_boxes():
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, 20:] = 100
    img[5:15, 25:35] = 200  # the centre 10x10 of the second, bigger box
    layout = Layout(1, 2, ((0, 5, 10, 10), (20, 0, 20, 20)), ((0, 0), (0, 1)), (40, 20))
    frames = fr.extract_frames(img, layout)
    assert frames[1].shape == (10, 10, 3)
    assert (frames[1] == 200).all()


def test_extract_frames_inset_trims_every_side():
    img, layout = flat_grid(2, 2, cell=(40, 30))
    frames = fr.extract_frames(img, layout, inset=3)
    assert frames[0].shape == (30 - 6, 40 - 6, 3)
    with pytest.raises(InputError, match="inset"):
        fr.extract_frames(img, layout, inset=15)


def test_extract_frames_flattens_alpha_on_background():
    img, layout = flat_grid(1, 2, cell=(20, 20))
    alpha = np.full(img.shape[:2], 255, np.uint8)
    x, y, w, h = layout.boxes[1]
    alpha[y : y + h, x : x + w] = 0
    frames = fr.extract_frames(img, layout, alpha=alpha, background=(10, 200, 30))
    assert (frames[0] == np.array(tile_color(0), np.uint8)).all()
    assert (frames[1] == np.array((10, 200, 30), np.uint8)).all()


# --------------------------------------------------------------------------- stabilise


def _jittered_subject(n=12, size=(120, 100), max_jitter=6, seed=3):
    """A textured subject on a flat background, displaced by random +-max_jitter px."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    texture = rng.integers(0, 60, (h, w, 1))
    offsets, frames = [], []
    for _ in range(n):
        dy, dx = (int(v) for v in rng.integers(-max_jitter, max_jitter + 1, 2))
        f = np.full((h, w, 3), 225, np.int32)
        body = ((yy - 60 - dy) / 30.0) ** 2 + ((xx - 50 - dx) / 20.0) ** 2 < 1
        head = ((yy - 22 - dy) / 11.0) ** 2 + ((xx - 52 - dx) / 11.0) ** 2 < 1
        f[body] = np.array([190, 60, 50]) + np.roll(texture, (dy, dx), (0, 1))[body]
        f[head] = (240, 200, 160)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
        offsets.append((dy, dx))
    return frames, np.array(offsets)


def test_stabilize_reduces_jitter_on_displaced_subject():
    frames, offsets = _jittered_subject()
    out, before, after = fr.stabilize(frames)
    true_jitter = np.hypot(*(offsets - offsets.mean(0)).T).mean()
    assert before == pytest.approx(true_jitter, abs=1.0)  # the measurement sees the real jitter
    assert after < before / 3 and after < 1.5
    assert len(out) == len(frames) and all(o.shape == f.shape for o, f in zip(out, frames))
    # the head (light pixels) now sits in the same place in every frame
    centroids = []
    for o in out:
        ys, xs = np.nonzero((o[..., 0] > 235) & (o[..., 2] < 175))
        centroids.append((ys.mean(), xs.mean()))
    assert np.ptp(np.array(centroids), axis=0).max() <= 2.0


def test_stabilize_leaves_still_frames_alone():
    frames, _ = _jittered_subject(n=4, max_jitter=0)
    out, before, after = fr.stabilize(frames)
    assert before < 0.3 and after < 0.3
    for a, b in zip(out, frames):
        assert (a == b).all()


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize(
    "spec,n,expected",
    [
        ("1-4,6,8", 8, [0, 1, 2, 3, 5, 7]),
        (" 3 ", 5, [2]),
        ("4-2", 5, [3, 2, 1]),
        ("1,1,2", 3, [0, 0, 1]),
        ("2 - 3, 5", 5, [1, 2, 4]),
    ],
)
def test_parse_frame_list(spec, n, expected):
    assert fr.parse_frame_list(spec, n) == expected


@pytest.mark.parametrize("spec,match", [("", "empty"), ("1-", "cannot read"), ("a,b", "cannot read"), ("0", "out of range"), ("1-9", "out of range"), ("1,,2", "cannot read")])
def test_parse_frame_list_errors(spec, match):
    with pytest.raises(InputError, match=match):
        fr.parse_frame_list(spec, 8)


@pytest.mark.parametrize(
    "order,n,drop,expected",
    [
        ("forward", 4, "", [0, 1, 2, 3]),
        ("reverse", 4, "", [3, 2, 1, 0]),
        ("pingpong", 4, "", [0, 1, 2, 3, 2, 1]),  # loops back to 0: no doubled ends
        ("pingpong", 2, "", [0, 1]),
        ("pingpong", 1, "", [0]),
        ("PingPong", 5, "3", [0, 1, 3, 4, 3, 1]),
        ("forward", 6, "2,5-6", [0, 2, 3]),
        ("reverse", 4, "1", [3, 2, 1]),
        ("3,1-2", 4, "", [2, 0, 1]),
        ("1-4", 4, "2", [0, 2, 3]),
    ],
)
def test_frame_sequence(order, n, drop, expected):
    assert fr.frame_sequence(n, order, drop) == expected


def test_frame_sequence_errors():
    with pytest.raises(InputError, match="unknown order"):
        fr.frame_sequence(4, "sideways")
    with pytest.raises(InputError, match="no frames left"):
        fr.frame_sequence(3, "forward", "1-3")


def test_apply_order_returns_the_frames_themselves():
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(4)]
    out = fr.apply_order(frames, "pingpong")
    assert [int(f[0, 0, 0]) for f in out] == [0, 1, 2, 3, 2, 1]


# --------------------------------------------------------------------------- timing


def test_timing_8fps_spreads_rounding_so_the_rate_is_exact():
    t = fr.frame_timing(12, fps=8)
    assert all(d % 10 == 0 for d in t.durations_ms)
    assert set(t.durations_ms) == {120, 130}
    assert sum(t.durations_ms) == 1500
    assert t.effective_fps == pytest.approx(8.0)
    # every frame starts within 5 ms of its ideal time
    starts = np.cumsum([0] + t.durations_ms[:-1])
    assert np.abs(starts - np.arange(12) * 125).max() <= 5
    assert t.warnings == []


def test_timing_uniform_reports_the_real_rate():
    t = fr.frame_timing(12, fps=12, distribute=False)
    assert t.durations_ms == [80] * 12
    assert t.effective_fps == pytest.approx(12.5)
    assert len(t.warnings) == 1 and "12.5 fps" in t.warnings[0]


def test_timing_exact_rates_and_frame_ms():
    assert fr.frame_timing(5, fps=10).durations_ms == [100] * 5
    assert fr.frame_timing(5, fps=10).warnings == []
    t = fr.frame_timing(3, fps=99, frame_ms=90)  # frame_ms wins
    assert t.durations_ms == [90, 90, 90] and t.effective_fps == pytest.approx(1000 / 90)


def test_timing_7fps_cannot_be_exact_with_12_frames_and_says_so():
    t = fr.frame_timing(12, fps=7)
    assert abs(sum(t.durations_ms) - 12000 / 7) <= 5
    assert t.effective_fps == pytest.approx(1000 * 12 / sum(t.durations_ms))
    assert t.warnings and "7.0" in t.warnings[0]


def test_timing_too_fast_is_clamped_to_20ms():
    t = fr.frame_timing(4, fps=100)
    assert t.durations_ms == [20] * 4 and t.effective_fps == pytest.approx(50)
    assert "20 ms" in t.warnings[0]


@pytest.mark.parametrize(
    "kw", [dict(fps=0), dict(fps=-3), dict(fps=float("nan")), dict(fps=None), dict(frame_ms=0), dict(frame_ms=700_000), dict(fps=0.001)]
)
def test_timing_rejects_non_positive(kw):
    with pytest.raises(InputError):
        fr.frame_timing(4, **kw)


# --------------------------------------------------------------------------- smoothing


def test_smooth_inserts_inbetweens_including_the_wrap():
    frames = [np.full((4, 4, 3), v, np.uint8) for v in (0, 100, 200)]
    out = fr.smooth(frames, 1)
    assert len(out) == 6
    assert [int(f[0, 0, 0]) for f in out] == [0, 50, 100, 150, 200, 100]  # 200 -> 0 wraps through 100
    out3 = fr.smooth(frames, 3)
    assert len(out3) == 12
    assert [int(f[0, 0, 0]) for f in out3[8:]] == [200, 150, 100, 50]


def test_smooth_durations_keep_the_loop_length():
    d, w = fr.smooth_durations([120, 130, 120, 130], 1)
    assert len(d) == 8 and sum(d) == 500 and all(x % 10 == 0 for x in d)
    assert w == []
    d, w = fr.smooth_durations([40, 40], 3)  # 10 ms shares are too short for browsers
    assert min(d) == 20 and sum(d) == 160 and "longer" in w[0]


def test_smooth_zero_is_identity():
    frames = [np.zeros((2, 2, 3), np.uint8), np.ones((2, 2, 3), np.uint8)]
    assert fr.smooth(frames, 0) == frames
    with pytest.raises(InputError):
        fr.smooth(frames, -1)


# --------------------------------------------------------------------------- size


def test_fit_size_keeps_aspect_and_never_upscales():
    frames = [np.full((200, 300, 3), 90, np.uint8)] * 2
    out = fr.fit_size(frames, 100)
    assert out[0].shape == (67, 100, 3)
    assert (np.abs(out[0].astype(int) - 90) <= 1).all()
    assert fr.fit_size(frames, 1000)[0].shape == (200, 300, 3)
    assert fr.fit_size(frames, None)[0].shape == (200, 300, 3)
