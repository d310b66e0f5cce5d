"""gridanim.frames: crop, stabilise, order, timing, smoothing, resize."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import GUTTER, SHARED_GRIDS, cli_json, flat_grid, shared_manifest, tile_color

from gridanim import frames as fr
from gridanim.errors import InputError
from gridanim.layout import Layout

# --------------------------------------------------------------------------- extract


def _truth_layout(entry: dict) -> Layout:
    cols = entry["cols"]
    cells = tuple((k // cols, k % cols) for k in range(len(entry["boxes"])))
    boxes = tuple(tuple(b) for b in entry["boxes"])
    return Layout(entry["rows"], cols, boxes, cells, (entry["width"], entry["height"]))


def _shared(name: str) -> dict:
    entry = next((g for g in shared_manifest() if g["file"] == name), None)
    if entry is None or not (SHARED_GRIDS / name).exists():
        pytest.skip(f"../shared/grids/{name} is not here (the shared grids live next to the repo)")
    return entry


def _placed(cut: fr.Cut, k: int, shape: tuple[int, int]) -> tuple[slice, slice]:
    left, top, _, _ = cut.pads[k]
    return slice(top, top + shape[0]), slice(left, left + shape[1])


def test_extract_frames_same_size_and_no_gutter_pixels():
    img, layout = flat_grid(3, 4, cell=(40, 30), gutter=5, border=7, wobble=2)
    assert len({b[2:] for b in layout.boxes}) > 1  # boxes really differ
    frames = fr.extract_frames(img, layout)
    assert len(frames) == 12
    fw, fh = max(b[2] for b in layout.boxes), max(b[3] for b in layout.boxes)
    for k, f in enumerate(frames):
        assert f.shape == (fh, fw, 3) and f.dtype == np.uint8
        # every pixel is the tile's own colour (smaller tiles padded with it): no gutter, no neighbour
        assert (f == np.array(tile_color(k), np.uint8)).all(), f"frame {k} has foreign pixels"
        assert not (f == np.array(GUTTER, np.uint8)).all(axis=-1).any()


def _uneven_grid(widths=(362, 307, 352, 427), heights=(302, 233), seed=5):
    """Touching cells of uneven size on a faint painted checkerboard, like the diogenes sheet.

    Every cell holds a standing figure (feet ``ground`` px above the cell
    bottom, at its own x) and four corner marks in a colour of its own, so a
    test can tell whether a frame holds its whole cell and nothing of a neighbour.
    """
    rng = np.random.default_rng(seed)
    W, H = sum(widths), sum(heights)
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.where(((yy // 16 + xx // 16) % 2 == 0)[..., None], 246, 236).astype(np.uint8).repeat(3, axis=2)
    boxes, cells, marks, feet = [], [], [], []
    y = 0
    for r, h in enumerate(heights):
        x = 0
        for c, w in enumerate(widths):
            k = r * len(widths) + c
            mark = (40 + 12 * k, 20 + 9 * k, 200 - 7 * k)
            for px, py in ((x, y), (x + w - 1, y), (x, y + h - 1), (x + w - 1, y + h - 1)):
                img[py, px] = mark
            ground = 12 + 5 * r
            fx = x + int(rng.integers(w // 3, 2 * w // 3))
            body_h = int(rng.integers(h // 3, h // 2))
            img[y + h - ground - body_h : y + h - ground, fx - 30 : fx + 30] = (150, 40 + 10 * k, 60)
            cyh = y + h - ground - body_h - 22
            win = (slice(cyh - 20, cyh + 20), slice(fx - 20, fx + 20))
            head = (yy[win] - cyh) ** 2 + (xx[win] - fx) ** 2 < 400
            img[win][head] = (230, 180, 140)
            boxes.append((x, y, w, h))
            cells.append((r, c))
            marks.append(mark)
            feet.append(ground)
            x += w
        y += h
    return img, Layout(len(heights), len(widths), tuple(boxes), tuple(cells), (W, H)), marks, feet


def test_uneven_cells_are_cut_whole_and_padded_with_their_background():
    img, layout, marks, _ = _uneven_grid()
    cut = fr.cut_frames(img, layout)
    W, H = 427, 302
    assert cut.alphas is None and cut.background == "flat"
    for k, (f, (x, y, w, h)) in enumerate(zip(cut.frames, layout.boxes, strict=True)):
        assert f.shape == (H, W, 3)
        ys, xs = _placed(cut, k, (h, w))
        assert (f[ys, xs] == img[y : y + h, x : x + w]).all(), f"frame {k} is not its whole cell"
        own = (f == np.array(marks[k], np.uint8)).all(axis=-1)
        assert own.sum() == 4  # all four corners of its own cell
        for j, m in enumerate(marks):
            if j != k:
                assert not (f == np.array(m, np.uint8)).all(axis=-1).any(), f"frame {k} holds a sliver of cell {j}"
        pad = np.ones((H, W), bool)
        pad[ys, xs] = False
        if pad.any():  # the padding is the checkerboard's colour, not black or a neighbour
            assert np.abs(f[pad].astype(int) - 241).max() <= 5


def test_uneven_cells_line_up_standing_figures_on_their_feet():
    img, layout, _, _ = _uneven_grid()
    cut = fr.cut_frames(img, layout)
    assert cut.anchor == "bottom"
    bottoms = []
    for f in cut.frames:
        body = (f == f[..., :1]).sum(axis=-1) < 3  # figures are coloured, the checkerboard grey
        bottoms.append(np.flatnonzero(body.any(axis=1))[-1])
    # rows stand 12 and 17 px above their cell bottoms, and the short row is padded so that both stand on one line
    assert np.ptp(bottoms) <= 1, bottoms


def test_manifest_diogenes_cells_are_whole_and_padded_with_background():
    name = "ai_chatgpt_diogenes_4x4_caption.png"
    entry = _shared(name)
    from gridanim.images import load_image

    img = load_image(SHARED_GRIDS / name)
    layout = _truth_layout(entry)
    cut = fr.cut_frames(img.rgb, layout, alpha=img.alpha)
    W, H = max(b[2] for b in layout.boxes), max(b[3] for b in layout.boxes)
    assert len(cut.frames) == 16 and len({b[2:] for b in layout.boxes}) > 4
    for k, (f, (x, y, w, h)) in enumerate(zip(cut.frames, layout.boxes, strict=True)):
        assert f.shape == (H, W, 3)
        ys, xs = _placed(cut, k, (h, w))
        assert (f[ys, xs] == img.rgb[y : y + h, x : x + w]).all(), f"frame {k + 1} is not exactly its cell"
        pad = np.ones((H, W), bool)
        pad[ys, xs] = False
        assert (f[pad] == np.array(cut.backgrounds[k], np.uint8)).all()
        assert min(cut.backgrounds[k]) >= 225, f"frame {k + 1} padded with {cut.backgrounds[k]}, not near-white"


def test_extract_frames_keeps_larger_boxes_whole():
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, 20:] = 100
    img[5:15, 25:35] = 200
    layout = Layout(1, 2, ((0, 5, 10, 10), (20, 0, 20, 20)), ((0, 0), (0, 1)), (40, 20))
    frames = fr.extract_frames(img, layout)
    assert frames[1].shape == frames[0].shape == (20, 20, 3)
    assert (frames[1] == img[:, 20:]).all()
    assert (frames[0] == 0).all()  # a black cell padded with its own black


def test_extract_frames_inset_trims_every_side():
    img, layout = flat_grid(2, 2, cell=(40, 30))
    frames = fr.extract_frames(img, layout, inset=3)
    assert frames[0].shape == (30 - 6, 40 - 6, 3)
    with pytest.raises(InputError, match="inset"):
        fr.extract_frames(img, layout, inset=15)


def test_inset_on_uneven_cells_trims_each_cell():
    img, layout, marks, _ = _uneven_grid()
    cut = fr.cut_frames(img, layout, inset=2)
    for k, f in enumerate(cut.frames):
        assert f.shape == (302 - 4, 427 - 4, 3)
        assert not (f == np.array(marks[k], np.uint8)).all(axis=-1).any()  # the corner marks were trimmed
    with pytest.raises(InputError, match="inset"):
        fr.cut_frames(img, layout, inset=117)


def test_extract_frames_flattens_alpha_on_background():
    img, layout = flat_grid(1, 2, cell=(20, 20))
    alpha = np.full(img.shape[:2], 255, np.uint8)
    x, y, w, h = layout.boxes[1]
    alpha[y : y + h, x : x + w] = 0
    frames = fr.extract_frames(img, layout, alpha=alpha, background=(10, 200, 30))
    assert (frames[0] == np.array(tile_color(0), np.uint8)).all()
    assert (frames[1] == np.array((10, 200, 30), np.uint8)).all()


def test_cut_frames_hands_alphas_on_and_pads_with_alpha_zero():
    # two uneven cells of a transparent sheet, each holding one opaque sprite
    rgb = np.zeros((40, 70, 3), np.uint8)
    alpha = np.zeros((40, 70), np.uint8)
    rgb[20:36, 10:20], alpha[20:36, 10:20] = (200, 50, 50), 255  # cell 1: x 0-30, feet at y=36
    rgb[10:30, 45:55], alpha[10:30, 45:55] = (50, 50, 200), 255  # cell 2: x 30-70 (wider), feet at y=30
    layout = Layout(1, 2, ((0, 0, 30, 40), (30, 0, 40, 40)), ((0, 0), (0, 1)), (70, 40))
    cut = fr.cut_frames(rgb, layout, alpha=alpha)
    assert cut.background == "transparent" and cut.alphas is not None
    assert [a.shape for a in cut.alphas] == [(40, 40), (40, 40)]
    left = cut.pads[0][0]
    assert cut.pads[0] == (left, 0, 10 - left, 0) and cut.pads[1] == (0, 0, 0, 0)
    assert left == 5  # the sprite centres (x 15 of 30, x 20 of 40) line up
    assert (cut.alphas[0][:, :left] == 0).all() and (cut.alphas[0][:, left + 30 :] == 0).all()
    assert (cut.alphas[0][:, left : left + 30] == alpha[:, :30]).all()
    assert (cut.frames[0][..., 0] == 200).sum() == (cut.alphas[0] == 255).sum() == 160  # the sprite, whole
    rgb_only = fr.extract_frames(rgb, layout, alpha=alpha, background=(9, 9, 9))
    assert (rgb_only[0][cut.alphas[0] == 0] == 9).all()


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
    assert len(out) == len(frames) and all(o.shape == f.shape for o, f in zip(out, frames, strict=True))
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
    for a, b in zip(out, frames, strict=True):
        assert (a == b).all()


def _sprite_strip(dxs, dys, *, bob=(0, 2, 4, 2), key=(17, 215, 49), size=(200, 120)):
    """Frames of a figure on a chroma-green key whose feet sit at (60 + dx, 170 + dy); the body bobs by ``bob``."""
    h, w = size
    frames = []
    for k, (dx, dy) in enumerate(zip(dxs, dys, strict=True)):
        f = np.empty((h, w, 3), np.uint8)
        f[:] = key
        fx, fy, b = 60 + dx, 170 + dy, bob[k % len(bob)]
        f[fy - 8 : fy, fx - 14 : fx - 4] = (90, 60, 40)  # feet stay on the ground
        f[fy - 8 : fy, fx + 4 : fx + 14] = (90, 60, 40)
        f[fy - 70 + b : fy - 8, fx - 18 : fx + 18] = (180, 70, 160)  # the body bobs
        f[fy - 95 + b : fy - 70 + b, fx - 12 : fx + 12] = (240, 200, 170)
        frames.append(f)
    return frames


def test_stabilize_aligns_standing_sprite_feet_on_a_keyed_background():
    dxs, dys = (15, 2, -4, -17), (0, 0, 0, 3)  # the drift of the grok back-idle sheet
    s = fr.stabilize_frames(_sprite_strip(dxs, dys))
    assert s.method == "anchor" and s.anchor == "bottom"
    truth = np.array([dxs, dys], float).T
    assert s.jitter_before == pytest.approx(np.hypot(*(truth - truth.mean(0)).T).mean(), abs=0.5)
    assert s.jitter_after <= 0.5
    feet = []
    for f in s.frames:
        brown = (f == np.array((90, 60, 40), np.uint8)).all(axis=-1)
        ys, xs = np.nonzero(brown)
        feet.append((xs.min(), xs.max(), ys.max()))
        assert brown.sum() == 2 * 8 * 10  # nothing of the sprite was pushed out of the frame
        uncovered = ~(f != np.array((17, 215, 49), np.uint8)).any(axis=-1)
        assert uncovered.sum() > 0.5 * uncovered.size  # the band a shift uncovers is key green, not smeared
    assert np.ptp(np.array(feet), axis=0).max() <= 1
    # the bob is motion, not drift: it is kept
    heads = [np.flatnonzero((f == np.array((240, 200, 170), np.uint8)).all(axis=-1).any(axis=1))[0] for f in s.frames]
    assert np.ptp(heads) == 4


def test_stabilize_keeps_a_jump_while_lining_up_the_feet_of_the_rest():
    dxs, dys = (9, -2, 5, -8, 3, -6), (0, 0, -30, -30, 0, 2)  # frames 3-4 are in the air, 30 px up
    s = fr.stabilize_frames(_sprite_strip(dxs, dys, bob=(0,)))
    assert s.method == "anchor" and s.anchor == "bottom"
    assert s.jitter_before > 4 and s.jitter_after <= 0.5
    feet = []
    for f in s.frames:
        ys, xs = np.nonzero((f == np.array((90, 60, 40), np.uint8)).all(axis=-1))
        feet.append(((xs.min() + xs.max() + 1) / 2, ys.max() + 1))
    feet = np.array(feet)
    assert np.ptp(feet[:, 0]) <= 1  # every frame is centred the same way
    ground = feet[[0, 1, 4, 5], 1]
    assert np.ptp(ground) <= 1  # the standing frames share one ground line
    assert np.allclose(ground.mean() - feet[[2, 3], 1], 30, atol=1.5)  # the jump is still 30 px high


def test_stabilize_uses_the_centroid_for_a_subject_that_leaves_the_ground():
    # a ball that hops: its bottom moves as much as its middle, so aligning feet would be wrong
    frames = []
    hops = [(0, 0), (6, -20), (-3, -35), (4, -12)]
    for dx, dy in hops:
        f = np.full((160, 120, 3), 250, np.uint8)
        yy, xx = np.mgrid[0:160, 0:120]
        f[(yy - 110 - dy) ** 2 + (xx - 60 - dx) ** 2 < 15**2] = (30, 90, 200)
        frames.append(f)
    s = fr.stabilize_frames(frames)
    assert s.method == "anchor" and s.anchor == "centroid"
    assert s.jitter_before > 10 and s.jitter_after <= 1.0


def test_stabilized_alphas_move_with_their_frames():
    rgb = _sprite_strip((8, -3, 0, -9), (0, 2, 0, 0))
    alphas = [np.where((f != np.array((17, 215, 49), np.uint8)).any(axis=-1), 255, 0).astype(np.uint8) for f in rgb]
    s = fr.stabilize_frames(rgb, alphas)
    assert s.alphas is not None and s.jitter_after <= 0.5 < s.jitter_before
    for f, a in zip(s.frames, s.alphas, strict=True):
        opaque = (f != np.array((17, 215, 49), np.uint8)).any(axis=-1)
        assert ((a == 255) == opaque).all()  # every opaque pixel still sits on its own colour
    assert any(sh != (0, 0) for sh in s.shifts)


def _textured_shifts(shifts, size=(150, 190), seed=11):
    """Windows of one textured photo at known (dy, dx) camera offsets: nothing here is separable from a background."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = size
    big = rng.uniform(0, 255, (h // 6 + 12, w // 6 + 12, 3)).astype(np.uint8)
    scene = np.asarray(Image.fromarray(big).resize(((w // 6 + 12) * 6, (h // 6 + 12) * 6), Image.Resampling.BICUBIC))
    m = 30
    return [np.ascontiguousarray(scene[m + dy : m + dy + h, m + dx : m + dx + w]) for dy, dx in shifts]


def test_stabilize_registers_textured_frames_with_known_shifts():
    shifts = [(0, 0), (5, -7), (-4, 3), (9, 2), (-6, -5), (2, 8)]
    frames = _textured_shifts(shifts)
    s = fr.stabilize_frames(frames)
    assert s.method == "registration"
    truth = np.array(shifts, float)
    assert s.jitter_before == pytest.approx(np.hypot(*(truth - truth.mean(0)).T).mean(), abs=1.0)
    assert s.jitter_after <= 1.0
    # a window taken dy lower shows the scene dy higher: each frame is moved back by its offset, to within a pixel
    applied = np.array([(dy, dx) for dx, dy in s.shifts], float)
    residual = applied - truth
    assert np.abs(residual - np.median(residual, axis=0)).max() <= 1.0


def test_textured_grid_with_uneven_panels_is_cut_and_registered_to_a_pixel():
    shifts = [(0, 0), (4, -6), (-5, 3), (7, 5), (-3, -7), (2, 6)]
    panels = _textured_shifts(shifts, size=(150, 190))
    widths, gutter = (190, 188, 186), 6
    grid = np.full((2 * 150 + 3 * gutter, sum(widths) + 4 * gutter, 3), 250, np.uint8)
    boxes = []
    for k, p in enumerate(panels):
        r, c = divmod(k, 3)
        x, y = gutter + sum(widths[:c]) + c * gutter, gutter + r * (150 + gutter)
        grid[y : y + 150, x : x + widths[c]] = p[:, : widths[c]]
        boxes.append((x, y, widths[c], 150))
    layout = Layout(2, 3, tuple(boxes), tuple(divmod(k, 3) for k in range(6)), grid.shape[1::-1])
    cut = fr.cut_frames(grid, layout)
    assert cut.background == "textured" and cut.anchor == "centre"
    assert {f.shape for f in cut.frames} == {(150, 190, 3)}
    for k, f in enumerate(cut.frames):  # the panel is whole, the padding repeats its edge (no gutter white)
        ys, xs = _placed(cut, k, (150, widths[k % 3]))
        assert (f[ys, xs] == panels[k][:, : widths[k % 3]]).all()
        assert not (f == 250).all(axis=-1).any()
    s = fr.stabilize_frames(cut.frames)
    assert s.method == "registration" and s.jitter_after <= 1.0
    applied = np.array([(dy, dx) for dx, dy in s.shifts], float)
    # the panels were also placed by their padding: compare where each scene point ends up
    placed = np.array([(-top, -left) for left, top, _, _ in cut.pads], float)
    residual = applied - np.array(shifts, float) - placed
    assert np.abs(residual - np.median(residual, axis=0)).max() <= 1.0


def test_equal_sprite_cells_are_cut_exactly_with_their_alpha():
    name = "sprite_lpc_body_walk_4x8_palette.png"
    entry = _shared(name)
    from gridanim.images import load_image

    img = load_image(SHARED_GRIDS / name)
    cut = fr.cut_frames(img.rgb, _truth_layout(entry), alpha=img.alpha)
    assert cut.background == "transparent" and len(cut.frames) == 32
    for k, (x, y, w, h) in enumerate(entry["boxes"]):
        assert cut.pads[k] == (0, 0, 0, 0)
        assert (cut.frames[k] == img.rgb[y : y + h, x : x + w]).all()
        assert (cut.alphas[k] == img.alpha[y : y + h, x : x + w]).all()


def test_grok_greenscreen_sprite_drift_is_removed():
    name = "ai_grok_backidle_1x4_greenscreen.png"
    entry = _shared(name)
    from gridanim.images import load_image

    img = load_image(SHARED_GRIDS / name)
    cut = fr.cut_frames(img.rgb, _truth_layout(entry), alpha=img.alpha)
    s = fr.stabilize_frames(cut.frames, cut.alphas)
    assert s.method == "anchor" and s.anchor == "bottom"
    xs = [p[0] for p in s.offsets_before]
    # the sprites stand +15, +2, -4 and -17 px from their cell centres
    assert np.allclose(xs, [15.5, 2.5, -4.5, -17], atol=1.5), xs
    assert s.jitter_before > 8 and s.jitter_after <= 2.0
    assert np.ptp([p[0] for p in s.offsets_after]) <= 2


def test_cli_stabilize_reports_real_drift_on_the_greenscreen_sheet():
    name = "ai_grok_backidle_1x4_greenscreen.png"
    _shared(name)
    d = cli_json("animate", str(SHARED_GRIDS / name), "--stabilize")
    assert d["stabilize"]["method"] == "anchor"
    assert d["jitter_before_px"] >= 4 and d["jitter_after_px"] <= 2
    assert len(d["pads"]) == d["frames"]


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


@pytest.mark.parametrize(
    "spec,match",
    [
        ("", "empty"),
        ("1-", "cannot read"),
        ("a,b", "cannot read"),
        ("0", "out of range"),
        ("1-9", "out of range"),
        ("1,,2", "cannot read"),
    ],
)
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
    "kw",
    [
        dict(fps=0),
        dict(fps=-3),
        dict(fps=float("nan")),
        dict(fps=None),
        dict(frame_ms=0),
        dict(frame_ms=700_000),
        dict(fps=0.001),
    ],
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
