"""Frame maths between a detected layout and an encoder (pure numpy).

This module owns everything that happens to the list of frames once the grid
has been cut: cutting every cell whole and padding the frames to one size
(:func:`cut_frames`, alphas alongside; :func:`extract_frames` for RGB only),
removing drift by subject anchors or registration (:func:`stabilize_frames`), choosing and ordering frames
(:func:`frame_sequence`, :func:`apply_order`), turning a rate into GIF delays
(:func:`frame_timing`), in-betweens (:func:`inbetween`: optical flow or
cross-fade), holds (:func:`parse_holds`, :func:`apply_holds`) and downscaling
(:func:`fit_size`).

Units: durations are milliseconds, always multiples of 10 because GIF stores
delays in centiseconds; frame numbers typed by users are 1-based, indices in
code are 0-based.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError, OptionError
from .options import INBETWEEN_METHODS, MAX_SMOOTH
from .parallel import map2
from .stats import median, percentile
from .types import Frame

# Browsers replace GIF delays under 20 ms with 100 ms, so never write less.
MIN_FRAME_MS = 20
MAX_FRAME_MS = 655_350  # GIF stores delays as 16-bit centiseconds
GIF_TICK_MS = 10


# --------------------------------------------------------------------------- crop

# How a cell's background is told apart from its subject. Distances are the largest per-channel difference
# from the background colour, so a faint painted checkerboard or JPEG noise counts as background.
FLAT_P90 = 40  # a cell border whose 90th-percentile distance is under this is flat (or keyed)...
FLAT_GRAIN = 6.0  # ...if its background is also smooth pixel to pixel (see _background_grain)
MIN_SUBJECT_DIST = 36
MIN_SUBJECT_FRACTION = 0.002  # of the cell area: below this there is no subject to anchor
MAX_SUBJECT_FRACTION = 0.9  # above this the "subject" is the cell itself
AIRBORNE = 0.08  # feet this share of the cell height above the common ground are in the air
KEEP_COMPONENT = 0.2  # parts smaller than this share of the largest (captions, sparkles, debris) are ignored

ANCHORS = ("bottom", "centroid", "centre")


@dataclass
class Cut:
    """Frames cut from their own cells and padded to one size, and what that took.

    ``alphas`` is ``None`` for opaque grids, else one ``H x W`` uint8 mask per
    frame (0 in the padding). ``pads`` is ``(left, top, right, bottom)`` pixels
    added around each cell's crop; ``backgrounds`` the colour each frame was
    padded with; ``background`` is ``transparent``, ``flat`` (plain or keyed)
    or ``textured``; ``anchor`` is how crops were aligned in the padding.
    """

    frames: list[Frame]
    alphas: list[np.ndarray] | None
    pads: list[tuple[int, int, int, int]]
    backgrounds: list[tuple[int, int, int]]
    background: str  # transparent | flat | textured, or unmeasured when no frame needed padding
    anchor: str


@dataclass
class _Cell:
    colour: tuple[int, int, int]
    kind: str  # transparent | flat | textured
    threshold: float


def _ring(a: np.ndarray, width: int) -> np.ndarray:
    """The pixels of a band ``width`` wide along the four sides, flattened to (N, ...)."""
    h, w = a.shape[:2]
    b = max(1, min(width, h // 2, w // 2))
    parts = [a[:b].reshape(-1, *a.shape[2:]), a[h - b :].reshape(-1, *a.shape[2:])]
    if h > 2 * b:
        parts += [a[b : h - b, :b].reshape(-1, *a.shape[2:]), a[b : h - b, w - b :].reshape(-1, *a.shape[2:])]
    return np.concatenate(parts)


def _cell_background(crop: Frame, alpha: np.ndarray | None) -> _Cell:
    """Background colour and kind of one cell, from its border band."""
    h, w = crop.shape[:2]
    width = max(1, min(h, w) // 40)
    if alpha is not None:
        ring_a = _ring(alpha, width)
        if (ring_a < 128).mean() >= 0.5:
            clear = alpha < 128
            colour = np.median(crop[clear], axis=0) if clear.any() else np.zeros(3)
            return _Cell(tuple(int(v) for v in colour), "transparent", 0.0)
    ring = _ring(crop, width).astype(np.int16)
    colour = np.median(ring, axis=0)
    # largest channel difference from it, one contiguous row per channel (a max over a length-3 last
    # axis is slow); the same float64 values
    dev = ring.T.astype(np.float64)
    dev -= colour[:, None]
    np.abs(dev, out=dev)
    p90 = percentile(np.maximum(np.maximum(dev[0], dev[1]), dev[2]), 90)
    threshold = max(MIN_SUBJECT_DIST, 2.0 * p90 + 12)
    kind = "flat" if p90 < FLAT_P90 and _background_grain(crop, colour, threshold) <= FLAT_GRAIN else "textured"
    return _Cell(tuple(int(v) for v in colour), kind, threshold)


def _distance(a: np.ndarray, colour) -> np.ndarray:
    """Largest per-channel difference of every pixel of ``a`` from ``colour`` (int16, H x W)."""
    c = np.asarray(colour, np.int16)
    d = np.abs(a[..., 0].astype(np.int16) - c[0])
    for i in (1, 2):
        np.maximum(d, np.abs(a[..., i].astype(np.int16) - c[i]), out=d)
    return d


def _background_grain(crop: Frame, colour: np.ndarray, threshold: float) -> float:
    """90th percentile of the step between neighbouring background pixels (every other row).

    Painted, keyed and faintly checkered backgrounds step by a few levels; a
    photo's paper, grain and measuring grids by ten or more, even where its
    border looks even.
    """
    c = crop[::2].astype(np.int16)
    bg = _distance(c, colour) <= threshold
    step = np.abs(c[:, 1:, 0] - c[:, :-1, 0])
    for i in (1, 2):
        np.maximum(step, np.abs(c[:, 1:, i] - c[:, :-1, i]), out=step)
    both = bg[:, 1:] & bg[:, :-1]
    return percentile(step[both], 90) if both.any() else 0.0


def _components(mask: np.ndarray) -> list[tuple[int, list[tuple[int, int, int]]]]:
    """8-connected parts of a small boolean mask as (area, [(row, start, stop), ...]), largest first."""
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    runs: list[tuple[int, int, int]] = []
    prev: list[int] = []
    for r in range(mask.shape[0]):
        row = np.concatenate(([0], mask[r].view(np.int8), [0]))
        edges = np.flatnonzero(np.diff(row))
        cur: list[int] = []
        for s, e in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            i = len(runs)
            runs.append((r, s, e))
            parent.append(i)
            for j in prev:
                _, ps, pe = runs[j]
                if ps <= e and s <= pe:  # touching, diagonals included
                    a, b = find(i), find(j)
                    if a != b:
                        parent[b] = a
            cur.append(i)
        prev = cur
    groups: dict[int, list[tuple[int, int, int]]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(find(i), []).append(run)
    out = [(sum(e - s for _, s, e in g), g) for g in groups.values()]
    return sorted(out, key=lambda t: -t[0])


def _main_parts(mask: np.ndarray) -> np.ndarray:
    """``mask`` without the small parts beside the subject (caption letters, sparkles, stray debris)."""
    h, w = mask.shape
    step = max(1, -(-max(h, w) // 160))
    sh, sw = -(-h // step), -(-w // step)
    padded = np.zeros((sh * step, sw * step), bool)
    padded[:h, :w] = mask
    small = padded.reshape(sh, step, sw, step).any(axis=(1, 3))
    parts = _components(small)
    if len(parts) <= 1:
        return mask
    keep = np.zeros_like(small)
    for area, runs in parts:
        if area < KEEP_COMPONENT * parts[0][0]:
            break
        for r, s, e in runs:
            keep[r, s:e] = True
    keep = np.repeat(np.repeat(keep, step, axis=0), step, axis=1)[:h, :w]
    return mask & keep


def _subject_mask(frame: Frame, alpha: np.ndarray | None, cell: _Cell) -> np.ndarray | None:
    """Pixels of the subject, or ``None`` when no subject stands apart from the background."""
    if cell.kind == "textured":
        return None
    if cell.kind == "transparent":
        mask = alpha >= 128
    else:
        mask = _distance(frame, cell.colour) > cell.threshold
    n = int(mask.sum())
    if n < max(4, MIN_SUBJECT_FRACTION * mask.size) or n > MAX_SUBJECT_FRACTION * mask.size:
        return None
    mask = _main_parts(mask)
    return mask if mask.any() else None


@dataclass
class _Subject:
    x0: int  # bounding box, x1/y1 exclusive
    y0: int
    x1: int
    y1: int
    cx: float  # centroid
    cy: float


def _subject(mask: np.ndarray | None) -> _Subject | None:
    if mask is None:
        return None
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    yy, xx = np.nonzero(mask)
    x0, y0, x1, y1 = int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1
    return _Subject(x0, y0, x1, y1, float(xx.mean()) + 0.5, float(yy.mean()) + 0.5)


def _anchor_point(s: _Subject, anchor: str) -> tuple[float, float]:
    """(x, y) of a subject's anchor: bottom-centre of its box, or its centroid."""
    if anchor == "bottom":
        return (s.x0 + s.x1) / 2.0, float(s.y1)
    return s.cx, s.cy


def _anchor_points(
    subjects: Sequence[_Subject | None], heights: Sequence[int], anchor: str
) -> list[tuple[float, float] | None]:
    """Each subject's anchor in its own cell's pixels.

    With ``bottom``, a subject whose feet are clearly above the common ground
    (a jump, a running stride in the air) is given the ground as its y, so
    lining feet up on the ground leaves the jump in the animation.
    """
    pts = [None if s is None else _anchor_point(s, anchor) for s in subjects]
    gaps = [h - s.y1 for s, h in zip(subjects, heights, strict=True) if s is not None]
    if anchor != "bottom" or not gaps:
        return pts
    ground = median(gaps)
    out: list[tuple[float, float] | None] = []
    for p, s, h in zip(pts, subjects, heights, strict=True):
        if p is not None and s is not None and (h - s.y1) - ground > max(3.0, AIRBORNE * h):
            p = (p[0], h - ground)
        out.append(p)
    return out


def _mad(v: np.ndarray) -> float:
    return median(np.abs(v - median(v)))


def _choose_anchor(subjects: Sequence[_Subject | None], heights: Sequence[int], kind: str) -> str:
    """``bottom`` for subjects that stand on a common ground, ``centroid`` for ones that move freely."""
    found = [(s, h) for s, h in zip(subjects, heights, strict=True) if s is not None]
    if kind == "textured" or len(found) < max(1, (len(subjects) + 1) // 2):
        return "centre"
    if len(found) < 2:
        return "bottom"
    gap = np.array([h - s.y1 for s, h in found], float)  # ground line measured from the cell bottom
    mid = np.array([s.cy - h / 2.0 for s, h in found], float)
    # median deviations, so a jump or two in a walk does not hide that the rest stand on one line
    return "bottom" if _mad(gap) < 0.5 * _mad(mid) + 1.0 else "centroid"


def _majority_kind(cells: Sequence[_Cell]) -> str:
    kinds = [c.kind for c in cells]
    return max(("transparent", "textured", "flat"), key=kinds.count)  # a tie is treated as textured


def _place(anchors: Sequence[float | None], slack: Sequence[int]) -> list[int]:
    """Offset of each crop in the padded frame, in ``[0, slack]``, putting anchors as close to one line as fits.

    The common line minimises the summed distance to each crop's reachable
    range, whose minimum lies at the median of the range ends.
    """
    known = [(a, s) for a, s in zip(anchors, slack, strict=True) if a is not None]
    if not known:
        return [s // 2 for s in slack]
    ends = [a for a, _ in known] + [a + s for a, s in known]
    target = median(ends)
    out = []
    for a, s in zip(anchors, slack, strict=True):
        out.append(s // 2 if a is None else int(min(max(round(target - a), 0), s)))
    return out


def cut_frames(rgb: Frame, layout, *, inset: int = 0, alpha: np.ndarray | None = None, anchor: str = "auto") -> Cut:
    """Cut every box of ``layout`` whole, then pad the frames to one size.

    Each frame is its own box minus ``inset`` pixels on every side. Frames are
    padded to the largest box (minus ``inset``) with their background: the
    cell's border colour on flat or keyed backgrounds, alpha 0 on transparent
    grids, the crop's own edge pixels on textured ones (a flat band would show
    on a photo). Within the padding each crop is placed so its subject's
    ``anchor`` lines up with the others: ``bottom`` (centre of the feet, for
    sprites that stand), ``centroid``, or ``centre`` (the cell's centre, used
    when there is no separable subject); ``auto`` picks one.
    """
    if inset < 0:
        raise OptionError("inset", f"{{name}} must be 0 or more, got {inset}")
    if anchor != "auto" and anchor not in ANCHORS:
        raise InputError(f"unknown anchor {anchor!r}: use auto, {', '.join(ANCHORS)}")
    boxes = list(layout.boxes)
    if not boxes:
        raise InputError("there are no frames to cut: set --rows and --cols")
    ih, iw = rgb.shape[:2]
    crops: list[tuple[int, int, int, int]] = []
    for bx, by, bw, bh in boxes:
        x0, y0 = max(bx + inset, 0), max(by + inset, 0)
        x1, y1 = min(bx + bw - inset, iw), min(by + bh - inset, ih)
        crops.append((x0, y0, x1, y1))
    smallest = min(min(x1 - x0, y1 - y0) for x0, y0, x1, y1 in crops)
    if smallest < 1 and inset == 0:
        raise InputError(f"a frame box lies outside the {iw}x{ih} image: detect again or set --rows and --cols")
    if smallest < 1:
        bw, bh = min(b[2] for b in boxes), min(b[3] for b in boxes)
        raise InputError(f"--inset {inset} leaves nothing of {bw}x{bh} frames: use an inset under {min(bw, bh) // 2}")
    W = max(x1 - x0 for x0, _, x1, _ in crops)
    H = max(y1 - y0 for _, y0, _, y1 in crops)
    pieces = [rgb[y0:y1, x0:x1] for x0, y0, x1, y1 in crops]
    apieces = None if alpha is None else [alpha[y0:y1, x0:x1] for x0, y0, x1, y1 in crops]
    uneven = any(p.shape[0] != H or p.shape[1] != W for p in pieces)
    chosen = "centre" if anchor == "auto" and not uneven else anchor  # nothing to align: skip the subject search
    if chosen == "centre" and not uneven and apieces is None:  # opaque crops that fill their frames: no padding,
        # so no background colour to measure (the common AI-grid case; it saves a median per cell)
        return Cut(
            [np.ascontiguousarray(p) for p in pieces], None, [(0, 0, 0, 0)] * len(pieces), [], "unmeasured", chosen
        )
    ks = list(range(len(pieces)))
    cells = map2(lambda k: _cell_background(pieces[k], None if apieces is None else apieces[k]), ks)
    kind = _majority_kind(cells)
    subjects: list[_Subject | None] = [None] * len(pieces)
    if chosen != "centre":
        subjects = map2(
            lambda k: _subject(_subject_mask(pieces[k], None if apieces is None else apieces[k], cells[k])), ks
        )
        if chosen == "auto":
            chosen = _choose_anchor(subjects, [p.shape[0] for p in pieces], kind)
    heights = [p.shape[0] for p in pieces]
    points = [None] * len(pieces) if chosen == "centre" else _anchor_points(subjects, heights, chosen)
    ox = _place([None if p is None else p[0] for p in points], [W - p.shape[1] for p in pieces])
    oy = _place([None if p is None else p[1] for p in points], [H - p.shape[0] for p in pieces])
    frames: list[Frame] = []
    alphas: list[np.ndarray] | None = None if apieces is None else []
    pads: list[tuple[int, int, int, int]] = []
    for k, p in enumerate(pieces):
        ph, pw = p.shape[:2]
        pad = (ox[k], oy[k], W - pw - ox[k], H - ph - oy[k])
        pads.append(pad)
        spec = ((pad[1], pad[3]), (pad[0], pad[2]))
        if cells[k].kind == "textured" and apieces is None:
            frames.append(np.ascontiguousarray(np.pad(p, (*spec, (0, 0)), mode="edge")))
        else:
            out = np.empty((H, W, 3), np.uint8)
            out[:] = cells[k].colour
            out[pad[1] : pad[1] + ph, pad[0] : pad[0] + pw] = p
            frames.append(out)
        if alphas is not None:
            alphas.append(np.ascontiguousarray(np.pad(apieces[k], spec, constant_values=0)))
    return Cut(frames, alphas, pads, [c.colour for c in cells], kind, chosen)


def flatten(frames: Sequence[Frame], alphas: Sequence[np.ndarray] | None, background=(255, 255, 255)) -> list[Frame]:
    """Frames composited onto ``background`` where their alpha is below 255 (RGB-only callers)."""
    if alphas is None:
        return list(frames)
    bg = np.asarray(background, dtype=np.float32)
    out = []
    for f, a in zip(frames, alphas, strict=True):
        if a.min() == 255:
            out.append(f)
            continue
        w = a.astype(np.float32)[..., None] / 255.0
        out.append((f.astype(np.float32) * w + bg * (1.0 - w) + 0.5).astype(np.uint8))
    return out


def extract_frames(
    rgb: Frame,
    layout,
    *,
    inset: int = 0,
    alpha: np.ndarray | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
) -> list[Frame]:
    """RGB frames of :func:`cut_frames`, with any alpha composited onto ``background``."""
    cut = cut_frames(rgb, layout, inset=inset, alpha=alpha)
    return flatten(cut.frames, cut.alphas, background)


# --------------------------------------------------------------------------- stabilise


def _gray_small(frame: Frame, step: int) -> np.ndarray:
    g = frame[..., 0] * 0.299 + frame[..., 1] * 0.587 + frame[..., 2] * 0.114 if frame.ndim == 3 else frame
    g = np.asarray(g, dtype=np.float64)
    if step > 1:
        h, w = (g.shape[0] // step) * step, (g.shape[1] // step) * step
        g = g[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    return g


def _spectrum(g: np.ndarray) -> np.ndarray:
    g = g - g.mean()
    win = np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
    return np.fft.rfft2(g * win)


def _peak_shift(fa: np.ndarray, fb: np.ndarray, shape: tuple[int, int], limit: tuple[int, int]) -> tuple[float, float]:
    """(dy, dx) to move image b by so it lines up with image a (phase correlation)."""
    cross = fa * np.conj(fb)
    cross /= np.abs(cross) + 1e-9
    corr = np.fft.irfft2(cross, s=shape)
    corr = np.fft.fftshift(corr)
    cy, cx = shape[0] // 2, shape[1] // 2
    ly, lx = limit
    win = corr[cy - ly : cy + ly + 1, cx - lx : cx + lx + 1]
    iy, ix = np.unravel_index(int(np.argmax(win)), win.shape)
    dy, dx = float(iy - ly), float(ix - lx)
    # sub-pixel refinement by a parabola through the peak and its neighbours
    py, px = cy + int(dy), cx + int(dx)
    if 0 < py < shape[0] - 1:
        a, b, c = corr[py - 1, px], corr[py, px], corr[py + 1, px]
        den = a - 2 * b + c
        if den < 0:
            dy += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    if 0 < px < shape[1] - 1:
        a, b, c = corr[py, px - 1], corr[py, px], corr[py, px + 1]
        den = a - 2 * b + c
        if den < 0:
            dx += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return dy, dx


def estimate_shifts(frames: Sequence[Frame], *, max_shift: float = 0.15) -> np.ndarray:
    """Per-frame (dy, dx) in pixels that registers each frame to the median frame.

    The reference is the pixel-wise median of all frames, so a subject that
    wanders by a few pixels is pulled to its average position. Shifts are
    limited to ``max_shift`` of the frame size.
    """
    if not frames:
        return np.zeros((0, 2))
    h, w = frames[0].shape[:2]
    step = max(1, int(max(h, w) // 256))  # registration on <= ~256 px images is plenty
    smalls = [_gray_small(f, step) for f in frames]
    ref = np.median(np.stack(smalls), axis=0)
    shape = ref.shape
    limit = (max(1, int(shape[0] * max_shift)), max(1, int(shape[1] * max_shift)))
    fref = _spectrum(ref)
    shifts = np.array([_peak_shift(fref, _spectrum(s), shape, limit) for s in smalls]) * step
    return shifts


def _shift(frame: Frame, dy: int, dx: int) -> Frame:
    """Translate by whole pixels, replicating the edge into the uncovered band."""
    if dy == 0 and dx == 0:
        return frame
    h, w = frame.shape[:2]
    py, px = abs(dy), abs(dx)
    padded = np.pad(frame, ((py, py), (px, px), (0, 0)), mode="edge")
    y0, x0 = py - dy, px - dx
    return np.ascontiguousarray(padded[y0 : y0 + h, x0 : x0 + w])


def _jitter(shifts: np.ndarray) -> float:
    if len(shifts) == 0:
        return 0.0
    d = shifts - shifts.mean(axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).mean())


def _shift_fill(a: np.ndarray, dy: int, dx: int, fill) -> np.ndarray:
    """Translate by whole pixels, filling the uncovered band with ``fill`` (background colour or alpha 0)."""
    if dy == 0 and dx == 0:
        return a
    h, w = a.shape[:2]
    out = np.empty_like(a)
    out[:] = fill
    sy0, sy1 = max(0, -dy), min(h, h - dy)
    sx0, sx1 = max(0, -dx), min(w, w - dx)
    if sy1 > sy0 and sx1 > sx0:
        out[sy0 + dy : sy1 + dy, sx0 + dx : sx1 + dx] = a[sy0:sy1, sx0:sx1]
    return out


@dataclass
class Stabilised:
    """Stabilised frames (and alphas, moved with them) and the drift measured before and after.

    ``method`` is ``anchor`` (subjects on flat, keyed or transparent
    backgrounds: each frame is moved so its subject's ``anchor`` point meets
    the median one) or ``registration`` (textured frames: phase correlation
    against the median frame). ``jitter_before``/``jitter_after`` are the mean
    distance in px of each frame's anchor (or registration offset) from their
    average, measured the same way on the input and the output. ``shifts`` are
    the whole-pixel (dx, dy) applied; ``offsets_before``/``offsets_after`` each
    frame's anchor relative to the frame centre (anchor method only).
    """

    frames: list[Frame]
    alphas: list[np.ndarray] | None
    jitter_before: float
    jitter_after: float
    method: str
    anchor: str | None = None
    shifts: list[tuple[int, int]] = field(default_factory=list)
    offsets_before: list[tuple[float, float] | None] = field(default_factory=list)
    offsets_after: list[tuple[float, float] | None] = field(default_factory=list)

    def info(self) -> dict:
        """JSON-ready summary (the CLI's ``stabilize`` key)."""

        def pts(v):
            return [None if p is None else [round(p[0], 1), round(p[1], 1)] for p in v]

        d = {"method": self.method, "anchor": self.anchor, "shifts": [list(s) for s in self.shifts]}
        if self.method == "anchor":
            d["offsets_before_px"] = pts(self.offsets_before)
            d["offsets_after_px"] = pts(self.offsets_after)
        return d


def _anchor_offsets(frames, alphas, cells, anchor) -> list[tuple[float, float] | None]:
    masks = [_subject_mask(f, None if alphas is None else alphas[k], cells[k]) for k, f in enumerate(frames)]
    subjects = [_subject(m) for m in masks]
    h, w = frames[0].shape[:2]
    points = _anchor_points(subjects, [h] * len(frames), anchor)
    return [None if p is None else (p[0] - w / 2.0, p[1] - h / 2.0) for p in points]


def _drift(offsets: Sequence[tuple[float, float] | None], use: Sequence[bool]) -> float:
    pts = np.array([p for p, u in zip(offsets, use, strict=True) if u and p is not None], float).reshape(-1, 2)
    return _jitter(pts)


def _stabilize_anchor(frames, alphas, cells, anchor) -> Stabilised | None:
    h, w = frames[0].shape[:2]
    masks = [_subject_mask(f, None if alphas is None else alphas[k], cells[k]) for k, f in enumerate(frames)]
    subjects = [_subject(m) for m in masks]
    if anchor == "auto":
        anchor = _choose_anchor(subjects, [h] * len(frames), _majority_kind(cells))
    if anchor == "centre" or sum(s is not None for s in subjects) < 2:
        return None
    points = _anchor_points(subjects, [h] * len(frames), anchor)
    before = [None if p is None else (p[0] - w / 2.0, p[1] - h / 2.0) for p in points]
    known = np.array([p for p in before if p is not None])
    tx, ty = np.median(known, axis=0)
    shifts: list[tuple[int, int]] = []
    out, out_a = [], None if alphas is None else []
    for k, (f, s, p) in enumerate(zip(frames, subjects, before, strict=True)):
        dx = dy = 0
        if s is not None:  # move the anchor to the median one, never pushing the subject out of the frame
            dx = int(min(max(round(tx - p[0]), -s.x0), w - s.x1))
            dy = int(min(max(round(ty - p[1]), -s.y0), h - s.y1))
        shifts.append((dx, dy))
        fill = cells[k].colour
        out.append(_shift_fill(f, dy, dx, np.asarray(fill, np.uint8)))
        if out_a is not None:
            out_a.append(_shift_fill(alphas[k], dy, dx, 0))
    after = _anchor_offsets(out, out_a, cells, anchor)
    use = [a is not None and b is not None for a, b in zip(before, after, strict=True)]
    jb, ja = _drift(before, use), _drift(after, use)
    if ja > jb:
        return _kept(frames, alphas, jb, "anchor", anchor, before)
    return Stabilised(out, out_a, jb, ja, "anchor", anchor, shifts, before, after)


def _kept(frames, alphas, jitter: float, method: str, anchor, offsets=None) -> Stabilised:
    """The input unmoved, when moving made the drift worse: the drift after is the drift before."""
    kept_alphas = None if alphas is None else list(alphas)
    if offsets is None:
        return Stabilised(list(frames), kept_alphas, jitter, jitter, method, anchor, [(0, 0)] * len(frames))
    return Stabilised(
        list(frames), kept_alphas, jitter, jitter, method, anchor, [(0, 0)] * len(frames), offsets, offsets
    )


def _stabilize_registration(frames, alphas, max_shift: float) -> Stabilised:
    shifts = estimate_shifts(frames, max_shift=max_shift)
    before = _jitter(shifts)
    rel = shifts - np.median(shifts, axis=0)
    whole = [(int(round(dx)), int(round(dy))) for dy, dx in rel]
    out = [_shift(f, dy, dx) for f, (dx, dy) in zip(frames, whole, strict=True)]
    out_a = None
    if alphas is not None:
        out_a = [_shift(a[..., None], dy, dx)[..., 0] for a, (dx, dy) in zip(alphas, whole, strict=True)]
    after = _jitter(estimate_shifts(out, max_shift=max_shift))
    if after > before:  # registration made it worse (e.g. no texture): keep the input
        return _kept(frames, alphas, before, "registration", None)
    return Stabilised(out, out_a, before, after, "registration", None, whole)


def stabilize_frames(
    frames: Sequence[Frame],
    alphas: Sequence[np.ndarray] | None = None,
    *,
    method: str = "auto",
    anchor: str = "auto",
    max_shift: float = 0.15,
) -> Stabilised:
    """Remove positional drift between equally sized frames by whole-pixel shifts.

    ``method`` ``auto`` aligns subjects (``anchor``) where the background is
    flat, keyed or transparent and a subject stands apart from it, and
    registers textured frames (phase correlation, shifts limited to
    ``max_shift`` of the frame size). ``anchor`` is ``auto``, ``bottom`` or
    ``centroid``. Alphas move with their frames.
    """
    frames = list(frames)
    alphas = None if alphas is None else list(alphas)
    if method not in ("auto", "anchor", "registration"):
        raise InputError(f"unknown stabilise method {method!r}: use auto, anchor or registration")
    if len(frames) < 2:
        return Stabilised(
            frames,
            alphas,
            0.0,
            0.0,
            "registration" if method == "registration" else "anchor",
            None,
            [(0, 0)] * len(frames),
        )
    if method != "registration":
        cells = [_cell_background(f, None if alphas is None else alphas[k]) for k, f in enumerate(frames)]
        if method == "anchor" or _majority_kind(cells) != "textured":
            done = _stabilize_anchor(frames, alphas, cells, anchor)
            if done is not None:
                return done
    return _stabilize_registration(frames, alphas, max_shift)


def stabilize(frames: Sequence[Frame], *, max_shift: float = 0.15) -> tuple[list[Frame], float, float]:
    """:func:`stabilize_frames` for RGB frames: ``(frames, jitter_before_px, jitter_after_px)``."""
    s = stabilize_frames(frames, max_shift=max_shift)
    return s.frames, s.jitter_before, s.jitter_after


# --------------------------------------------------------------------------- order

_ITEM = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")


def parse_frame_list(spec: str, n: int) -> list[int]:
    """``"1-4,6,8"`` -> ``[0, 1, 2, 3, 5, 7]`` for a grid of ``n`` frames.

    Numbers are 1-based; ``a-b`` with ``a > b`` counts down; repeats are kept
    (``"1,1,2"`` holds frame 1 twice as long).
    """
    text = (spec or "").strip()
    if not text:
        raise InputError("the frame list is empty: give frame numbers like 1-4,6,8")
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = _ITEM.match(part)
        if not m:
            raise InputError(f"cannot read {part!r} in frame list {spec!r}: use numbers and ranges like 1-4,6,8")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        for v in (a, b):
            if not 1 <= v <= n:
                raise InputError(f"frame {v} in {spec!r} is out of range: this grid has frames 1-{n}")
        out.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
    return [v - 1 for v in out]


def frame_sequence(n: int, order: str = "forward", drop: str = "") -> list[int]:
    """Indices (0-based, into the ``n`` extracted frames) in playback order.

    ``order`` is ``forward``, ``reverse``, ``pingpong`` (1 2 3 4 3 2, then the
    loop returns to 1: no end frame is shown twice) or a frame list such as
    ``"1-4,6,8"``. ``drop`` is a frame list removed first.
    """
    if n < 1:
        raise InputError("there are no frames to animate")
    dropped = set(parse_frame_list(drop, n)) if drop and drop.strip() else set()
    key = (order or "forward").strip().lower()
    keep = [i for i in range(n) if i not in dropped]
    if key == "forward":
        seq = keep
    elif key == "reverse":
        seq = keep[::-1]
    elif key == "pingpong":
        seq = keep + keep[-2:0:-1]
    elif key and (key[0].isdigit()):
        seq = [i for i in parse_frame_list(key, n) if i not in dropped]
    else:
        raise InputError(f"unknown order {order!r}: use forward, reverse, pingpong or a frame list like 1-4,6,8")
    if not seq:
        raise InputError(f"no frames left after dropping {drop!r}: keep at least one frame")
    return seq


def apply_order(frames: Sequence[Frame], order: str = "forward", drop: str = "") -> list[Frame]:
    """Frames in playback order (see :func:`frame_sequence`)."""
    return [frames[i] for i in frame_sequence(len(frames), order, drop)]


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Per-frame GIF delays and what rate they really give."""

    durations_ms: list[int]
    effective_fps: float
    warnings: list[str] = field(default_factory=list)

    @property
    def total_ms(self) -> int:
        return sum(self.durations_ms)


def _split_ticks(total_ms: float, n: int) -> list[int]:
    """``n`` delays in 10 ms steps whose running sum tracks ``total_ms * k / n``."""
    out, prev = [], 0
    for k in range(1, n + 1):
        edge = int(np.floor(total_ms * k / n / GIF_TICK_MS + 0.5)) * GIF_TICK_MS
        out.append(edge - prev)
        prev = edge
    return out


def frame_timing(
    n: int,
    *,
    fps: float | None = 8.0,
    frame_ms: float | None = None,
    distribute: bool = True,
) -> Timing:
    """Delays for ``n`` frames from a rate (``fps``) or a delay (``frame_ms``).

    GIF delays are whole centiseconds, so 8 fps (125 ms) cannot be stored
    exactly. With ``distribute`` (default) the rounding error is spread over
    the loop (120, 130, 120, 130 ms...) so the average rate is the one asked;
    otherwise every frame gets the same rounded delay and the warning says what
    rate that really is. Delays never go under 20 ms (browsers slow those to
    100 ms). ``frame_ms`` wins over ``fps`` when both are given.
    """
    if n < 1:
        raise InputError("there are no frames to animate")
    warnings: list[str] = []
    if frame_ms is not None:
        if not np.isfinite(frame_ms) or frame_ms <= 0:
            raise OptionError("frame_ms", f"{{name}} must be a positive number of milliseconds, got {frame_ms:g}")
        target = float(frame_ms)
        asked = f"{frame_ms:g} ms per frame"
    else:
        if fps is None or not np.isfinite(fps) or fps <= 0:
            raise OptionError("fps", f"{{name}} must be a positive number, got {fps}")
        target = 1000.0 / float(fps)
        asked = f"{fps:g} fps"
    if target > MAX_FRAME_MS:
        raise InputError(f"{asked} is too slow: a GIF frame can show for at most {MAX_FRAME_MS // 1000} s")
    if target < MIN_FRAME_MS:
        warnings.append(f"{asked} is faster than GIFs play in browsers: using {MIN_FRAME_MS} ms per frame (50 fps)")
        target = float(MIN_FRAME_MS)
    if distribute:
        durations = _split_ticks(target * n, n)
        if min(durations) < MIN_FRAME_MS:
            durations = [max(MIN_FRAME_MS, d) for d in durations]
    else:
        d = max(MIN_FRAME_MS, int(np.floor(target / GIF_TICK_MS + 0.5)) * GIF_TICK_MS)
        durations = [d] * n
    effective = 1000.0 * n / sum(durations)
    if abs(sum(durations) - target * n) > 0.5 and not warnings:
        if len(set(durations)) == 1:
            warnings.append(
                f"{asked} is not a whole number of centiseconds: every frame shows {durations[0]} ms, i.e. {effective:.3g} fps"
            )
        else:
            warnings.append(
                f"{asked} is not a whole number of centiseconds: delays of "
                f"{'/'.join(str(d) for d in sorted(set(durations)))} ms give {effective:.4g} fps on average"
            )
    return Timing(durations, effective, warnings)


def effective_fps(durations_ms: Sequence[int]) -> float:
    """1000 / mean delay."""
    return 1000.0 * len(durations_ms) / sum(durations_ms) if durations_ms else 0.0


# --------------------------------------------------------------------------- smoothing


def smooth(frames: Sequence[Frame], n: int) -> list[Frame]:
    """Insert ``n`` cross-fades between every pair, including last -> first.

    ``k`` frames become ``k * (n + 1)`` so the loop stays seamless. Pair with
    :func:`smooth_durations`, which keeps the loop's length (motion speed is
    unchanged, the frame rate goes up). :func:`inbetween` is the general
    entry (flow or cross-fade, with alphas).
    """
    return inbetween(frames, n, method="blend").frames


@dataclass
class Inbetweens:
    """Frames with in-betweens inserted, and how each pair was bridged."""

    frames: list[Frame]
    alphas: list[np.ndarray] | None
    per_pair: int  # in-betweens after every real frame (0 when smoothing was skipped)
    pair_methods: list[str]  # "flow" / "blend" per pair (pair i = frame i -> i + 1), [] when skipped
    warnings: list[str] = field(default_factory=list)


def _pairs_text(pairs: list[tuple[int, int]], sequence: Sequence[int] | None) -> str:
    names = [(sequence[i] + 1, sequence[j] + 1) if sequence is not None else (i + 1, j + 1) for i, j in pairs]
    text = ", ".join(f"{a}->{b}" for a, b in names[:6])
    return text + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def inbetween(
    frames: Sequence[Frame],
    n: int,
    *,
    method: str = "flow",
    alphas: Sequence[np.ndarray] | None = None,
    wrap: bool = True,
    sequence: Sequence[int] | None = None,
    pixel_art: bool | None = None,
) -> Inbetweens:
    """Insert ``n`` in-betweens after every frame (``wrap``: the last -> first pair too).

    ``method`` ``flow`` follows the motion (:mod:`gridanim.motion`) and falls
    back to a cross-fade per region, or per pair when the flow cannot be
    trusted (said in the warnings); ``blend`` cross-fades. On pixel art the
    flow method inserts nothing, so no new colour appears (a warning says so).
    ``alphas`` (one HxW mask per frame) get the same in-betweens.
    ``sequence`` (grid frame per played frame, 0-based) only names frames in
    warnings. ``pixel_art`` is what the caller already knows about the grid
    (None: :func:`gridanim.motion.looks_like_pixel_art` checks the frames).
    """
    if n < 0:
        raise OptionError("smooth", f"{{name}} must be between 0 and {MAX_SMOOTH}, got {n}")
    if method not in INBETWEEN_METHODS:
        raise InputError(f"unknown in-between method {method!r}: use flow or blend")
    frames = list(frames)
    al = None if alphas is None else list(alphas)
    if al is not None and len(al) != len(frames):
        raise InputError(f"got {len(al)} alpha masks for {len(frames)} frames")
    if n == 0 or len(frames) < 2:
        return Inbetweens(frames, al, 0, [])
    from . import motion

    warnings: list[str] = []
    if pixel_art is None and method == "flow":
        pixel_art = motion.looks_like_pixel_art(frames)
    if method == "flow" and pixel_art:
        warnings.append(
            f"--smooth {n} was skipped: these look like pixel art, whose frames must stay exact "
            "(in-betweens would add colours); use --inbetween blend to cross-fade anyway"
        )
        return Inbetweens(frames, al, 0, [], warnings)
    fh, fw = frames[0].shape[:2]
    if method == "flow" and (max(fh, fw) < motion.MIN_FLOW_SIDE or min(fh, fw) < 8):
        warnings.append(f"frames of {fw}x{fh} are too small to follow the motion: in-betweens are cross-fades")
        method = "blend"
    engine = motion.FlowEngine((fh, fw)) if method == "flow" else None
    count = len(frames) if wrap else len(frames) - 1
    out: list[Frame] = []
    out_a: list[np.ndarray] | None = [] if al is not None else None
    methods: list[str] = []
    failed: dict[str, list[tuple[int, int]]] = {}
    for i in range(count):
        j = (i + 1) % len(frames)
        a, b = frames[i], frames[j]
        aa, ab = (al[i], al[j]) if al is not None else (None, None)
        if engine is not None:
            r = motion.flow_pair(engine, a, b, n, aa, ab)
        else:
            r = motion._blend_pair(a, b, n, aa, ab)
        methods.append(r.method)
        if r.reason:
            failed.setdefault(r.reason, []).append((i, j))
        out.append(a)
        out.extend(r.frames)
        if out_a is not None:
            out_a.append(aa)
            out_a.extend(r.alphas or [])
    if not wrap:
        out.append(frames[-1])
        if out_a is not None:
            out_a.append(al[-1])
    for reason, pairs in failed.items():
        pairs_text = _pairs_text(pairs, sequence)
        warnings.append(f"flow in-betweens fell back to cross-fades for frames {pairs_text}: {reason}")
    return Inbetweens(out, out_a, n, methods, warnings)


def smooth_durations(durations_ms: Sequence[int], n: int) -> tuple[list[int], list[str]]:
    """Split each delay into ``n + 1`` centisecond delays with the same total.

    When a share would fall under 20 ms it is raised to 20 ms and a warning
    says the loop got longer.
    """
    if n <= 0 or len(durations_ms) < 2:
        return list(durations_ms), []
    out: list[int] = []
    for d in durations_ms:
        out.extend(_split_ticks(d, n + 1))
    warnings: list[str] = []
    if min(out) < MIN_FRAME_MS:
        before = sum(out)
        out = [max(MIN_FRAME_MS, d) for d in out]
        warnings.append(
            f"--smooth {n} needs delays under {MIN_FRAME_MS} ms: in-betweens use {MIN_FRAME_MS} ms, "
            f"so the loop gets longer ({sum(out)} ms instead of {before} ms); lower --smooth or --fps"
        )
    return out, warnings


# --------------------------------------------------------------------------- holds

_HOLD = re.compile(r"^(\d+)\s*:\s*(\d+(?:\.\d*)?)\s*(?:ms)?$")


def parse_holds(spec: str | None, n: int) -> dict[int, int]:
    """``"1:300,12:500"`` -> ``{0: 300, 11: 500}``: grid frame (1-based in the text) -> delay in ms.

    Delays are rounded to whole centiseconds (GIF's unit) and must be 20 ms to
    655 s. An empty spec means no holds.
    """
    text = (spec or "").strip()
    if not text:
        return {}
    out: dict[int, int] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = _HOLD.match(part)
        if not m:
            raise InputError(f"cannot read {part!r} in --hold {spec!r}: use FRAME:MS pairs like 1:300,12:500")
        k, ms = int(m.group(1)), float(m.group(2))
        if not 1 <= k <= n:
            raise InputError(f"--hold frame {k} is out of range: this grid has frames 1-{n}")
        rounded = int(np.floor(ms / GIF_TICK_MS + 0.5)) * GIF_TICK_MS
        if not MIN_FRAME_MS <= rounded <= MAX_FRAME_MS:
            raise InputError(f"--hold {k}:{ms:g} must be between {MIN_FRAME_MS} ms and {MAX_FRAME_MS // 1000} s")
        out[k - 1] = rounded
    return out


def format_holds(holds: dict[int, int]) -> str:
    """Inverse of :func:`parse_holds` (1-based frame numbers, sorted)."""
    return ",".join(f"{k + 1}:{v}" for k, v in sorted(holds.items()))


def apply_holds(
    durations_ms: Sequence[int], sequence: Sequence[int], holds: dict[int, int], per_pair: int = 0
) -> list[int]:
    """Give every played occurrence of a held grid frame its hold delay.

    ``durations_ms`` are the output delays (in-betweens included, ``per_pair``
    after every real frame); ``sequence[i]`` is the grid frame of real frame
    ``i``. The real frame itself shows for the hold; its in-betweens keep
    their share, so the motion out of the held pose is as fast as before.
    """
    out = list(durations_ms)
    if not holds:
        return out
    step = per_pair + 1
    if len(out) != len(sequence) * step:
        raise InputError(f"{len(out)} delays do not match {len(sequence)} frames with {per_pair} in-betweens each")
    for i, g in enumerate(sequence):
        if g in holds:
            out[i * step] = holds[g]
    return out


# --------------------------------------------------------------------------- size


def fit_size(frames: Sequence[Frame], max_side: int | None) -> list[Frame]:
    """Downscale (Lanczos) so the longer side is at most ``max_side``; never upscale."""
    frames = list(frames)
    if not frames or not max_side:
        return frames
    if max_side < 8:
        raise OptionError("max_size", f"{{name}} must be at least 8 pixels, got {max_side}")
    h, w = frames[0].shape[:2]
    if max(h, w) <= max_side:
        return frames
    from PIL import Image

    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return [np.asarray(Image.fromarray(fr).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)) for fr in frames]
