"""Layout detection: where the real frames are in a grid image.

Real grids are not clean: AI grids often have no gutters at all (subjects on a
flat, textured or fake-checkerboard background), photo plates have panels that
touch, some grids carry painted guide lines, rows are ragged and spacing drifts.
So instead of ``width // cols`` this module builds, for each axis, a *separator
profile* in [0, 1] -- how good a place each pixel line is to cut -- from three
kinds of evidence:

* **empty**: little foreground on the line compared with the cells around it
  (foreground = alpha, or distance from a background colour model taken from
  the image border, which copes with noisy and checkerboard backgrounds);
* **strip**: the line is one uniform colour (gutters, borders, dark bands),
  unless content continues straight across it (guide lines drawn over sprites);
* **seam**: a discontinuity along most of the line (photo panels edge to edge).

The cell count on an axis is the largest ``n`` for which a nearly regular
lattice of ``n`` cells has every cut on a good separator (between a pair of
outer bounds, so borders and caption blocks below the grid are left out).
Cuts are then refined per row / column band, so ragged rows and drifting
spacing are followed; gutters that differ from the cells' own background are
trimmed off each box; cells with no content (trailing blanks, filler) are not
frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .types import Box, Frame

WORK_MAX_PIXELS = 640_000  # detection runs on an image no larger than this
MAX_CELLS_PER_AXIS = 16
MIN_CELL_PX = 8
CUT_OK = 0.5  # separator strength a cut needs to count as real
SIM_DROP = 0.25  # a lattice whose cells look much less alike than the best one is not the grid
SIM_MAX = 1.01  # no similarity exceeds this (correlations of unit vectors, plus float32 rounding)
PERIOD_MIN = 0.2  # autocorrelation of the separator profile at the pitch
SNAP = 0.2  # how far (fraction of the pitch) a cut may move from even spacing


@dataclass(frozen=True)
class Layout:
    """Rows, columns and one box per real frame (row-major, source pixels)."""

    rows: int
    cols: int
    boxes: tuple[Box, ...]
    cells: tuple[tuple[int, int], ...]  # (row, col) of each box, same order
    image_size: tuple[int, int]  # (w, h)
    warnings: tuple[str, ...] = ()
    method: str = ""

    @property
    def frames(self) -> int:
        return len(self.boxes)

    @property
    def frame_size(self) -> tuple[int, int]:
        """The common (w, h) every extracted frame is cropped to."""
        return (min(b[2] for b in self.boxes), min(b[3] for b in self.boxes))

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "cols": self.cols,
            "frames": self.frames,
            "frame_size": list(self.frame_size),
            "boxes": [list(b) for b in self.boxes],
            "cells": [list(c) for c in self.cells],
            "image_size": list(self.image_size),
            "method": self.method,
            "warnings": list(self.warnings),
        }


def check_grid_args(w: int, h: int, rows: int | None, cols: int | None) -> None:
    for name, v, side in (("rows", rows, h), ("cols", cols, w)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InputError(f"{name} must be a whole number, got {v!r}")
        if v <= 0:
            raise InputError(f"{name} must be a positive whole number, got {v}")
        if side // v < 4:
            what = "tall" if name == "rows" else "wide"
            raise InputError(f"{name}={v} is too many for an image {side} px {what}: each cell would be under 4 px")


# --------------------------------------------------------------------------- #
# Medians without np.median / np.percentile
#
# Same values as numpy's, minus its per-call overhead, and without
# np.percentile, whose np.unique call imports numpy.ma (~8 ms in a fresh
# process; the CLI runs detection once per process).


def _median1(values) -> float:
    """``np.median`` of a short 1-D sequence (list or array), as a float."""
    v = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if not v or any(math.isnan(x) for x in v):
        return float("nan")
    v.sort()
    m = len(v) // 2
    return float(v[m]) if len(v) % 2 else float((v[m - 1] + v[m]) / 2)


def _median0(a: np.ndarray) -> np.ndarray:
    """``np.median(a, axis=0)`` for finite data: numpy's own steps, without the checks."""
    a = np.asarray(a)
    n = a.shape[0]
    k = n // 2
    if n % 2:
        return np.mean(np.partition(a, k, axis=0)[k : k + 1], axis=0)
    return np.mean(np.partition(a, [k - 1, k], axis=0)[k - 1 : k + 1], axis=0)


def _median_lines(a: np.ndarray) -> np.ndarray:
    """``np.median(a.astype(np.float32), axis=0)`` of a uint8 or int16 array (pixel values, sums of three).

    The order statistics are taken on an int16 transposed copy, partitioned
    along its contiguous axis around one index: numpy's SIMD selection
    (several indices, or axis 0 of a C-ordered array, take its generic path,
    5-10x slower). The lower middle value is the largest below it; their
    half-sum is exact in float32, as np.median's.
    """
    n = a.shape[0]
    t = a.reshape(n, -1).astype(np.int16).T.copy()
    k = n // 2
    t.partition(k, axis=1)
    hi = t[:, k]
    med = hi.astype(np.float32) if n % 2 else (t[:, :k].max(axis=1).astype(np.float32) + hi) / 2
    return med.reshape(a.shape[1:])


def _percentile95(v: np.ndarray) -> float:
    """``np.percentile(v, 95)`` (linear method) of a 1-D float64 array, same arithmetic."""
    n = len(v)
    vi = (n - 1) * 0.95
    if vi >= n - 1:
        return float(v.max())
    lo = int(np.floor(vi))
    part = np.partition(v, lo)  # one index: numpy's fast selection
    a, b = float(part[lo]), float(part[lo + 1 :].min())
    t = vi - lo
    d = b - a
    return b - d * (1 - t) if t >= 0.5 else a + d * t


# --------------------------------------------------------------------------- #
# Image statistics


@dataclass
class _Work:
    # H x W x 3 at working scale: uint8 when the input is (every step takes
    # float32 copies of the parts it measures), else float32
    rgb: np.ndarray
    fg: np.ndarray | None  # bool H x W foreground, None when no background model
    bg: np.ndarray | None  # (k, 3) background colours
    scale: float  # source px per working px
    tol: float

    def gray(self) -> np.ndarray:
        """Luma as uint8: float32 pixels @ (0.299, 0.587, 0.114), truncated.

        From uint8, converted 64 rows at a time: the product is computed row
        by row either way (same values), without a float32 copy of the image.
        """
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if self.rgb.dtype != np.uint8:
            return (self.rgb @ weights).astype(np.uint8)
        out = np.empty(self.rgb.shape[:2], np.uint8)
        for r in range(0, len(out), 64):
            out[r : r + 64] = self.rgb[r : r + 64].astype(np.float32) @ weights
        return out

    def rgb_float(self) -> np.ndarray:
        """The work image as float32 (a copy when it is uint8)."""
        return self.rgb.astype(np.float32, copy=False)


def _cheb(a: np.ndarray, colour) -> np.ndarray:
    """Largest per-channel distance of every pixel of ``a`` (..., 3) from ``colour``.

    Written channel by channel: numpy's reduction over a length-3 last axis
    is several times slower.
    """
    c = np.broadcast_to(np.asarray(colour, dtype=np.float32), a.shape)
    return np.maximum(np.maximum(np.abs(a[..., 0] - c[..., 0]), np.abs(a[..., 1] - c[..., 1])), np.abs(a[..., 2] - c[..., 2]))


def _prepare(rgb: Frame, alpha: np.ndarray | None) -> _Work:
    from PIL import Image

    h, w = rgb.shape[:2]
    scale = 1.0
    if h * w > WORK_MAX_PIXELS:
        scale = (h * w / WORK_MAX_PIXELS) ** 0.5
        size = (max(1, round(w / scale)), max(1, round(h / scale)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))
        if alpha is not None:
            alpha = np.asarray(Image.fromarray(alpha).resize(size, Image.Resampling.BOX))
        scale = w / size[0]
    work = rgb if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    if alpha is not None and (alpha < 128).mean() > 0.02:
        return _Work(work, alpha >= 64, None, scale, 30.0)
    bg, tol = _background_model(rgb)
    if bg is None:
        return _Work(work, None, None, scale, 30.0)
    return _Work(work, _foreground(work, bg, tol), bg, scale, tol)


def _foreground(work: np.ndarray, bg: np.ndarray, tol: float) -> np.ndarray:
    """Pixels farther than ``tol`` (largest channel difference) from every background colour.

    That is ``min over colours of _cheb(work, colour) > tol``. On uint8
    channels it is decided per channel value instead: the values whose float32
    distance from a colour's channel is within ``tol`` (the same float32
    arithmetic, evaluated for all 256 values) form one run [lo, hi], so a pixel
    is near a colour when each channel is in its run -- a few uint8 operations
    on contiguous channel copies, 128 rows at a time (small reused temporaries),
    instead of float32 maps of the whole image.
    """
    values = np.arange(256, dtype=np.float32)
    ranges = []
    for colour in np.asarray(bg, dtype=np.float32):
        runs = []
        for ch in range(3):
            near = np.flatnonzero(~(np.abs(values - colour[ch]) > tol))
            runs.append((int(near[0]), int(near[-1])) if len(near) else None)
            if len(near) and near[-1] - near[0] + 1 != len(near):  # not one run: cannot happen
                runs = None
                break
        if runs is None or work.dtype != np.uint8:
            dist = np.full(work.shape[:2], np.inf, dtype=np.float32)
            for c in bg:
                dist = np.minimum(dist, _cheb(work, c))
            return dist > tol
        if all(r is not None for r in runs):  # an empty run: no pixel is near this colour
            ranges.append(runs)
    fg = np.empty(work.shape[:2], dtype=bool)
    for r in range(0, len(fg), 128):
        planes = [np.ascontiguousarray(work[r : r + 128, :, ch]) for ch in range(3)]
        near_any = np.zeros(planes[0].shape, dtype=bool)
        for runs in ranges:
            near = None
            for plane, (lo, hi) in zip(planes, runs):
                inside = (plane - np.uint8(lo)) <= np.uint8(hi - lo)  # lo <= v <= hi, by uint8 wrap-around
                near = inside if near is None else near & inside
            near_any |= near
        np.logical_not(near_any, out=fg[r : r + 128])
    return fg


def _background_model(rgb: np.ndarray) -> tuple[np.ndarray | None, float]:
    """Dominant colours of the image border (1-3 of them: flat, checkerboard).

    Returns (None, _) when the border has no dominant colours (photo panels).
    """
    h, w = rgb.shape[:2]
    b = max(2, min(h, w) // 100)
    # the border ring, one row per channel (the same pixels, corners twice, as
    # an (n, 3) ring; only counts, medians and percentiles are taken of it)
    ring = np.stack(
        [
            np.concatenate([p[:b].ravel(), p[-b:].ravel(), p[:, :b].ravel(), p[:, -b:].ravel()])
            for p in (rgb[..., ch] for ch in range(3))
        ]
    ).astype(np.int32)
    n = ring.shape[1]
    keys = (ring[0] // 24) * 121 + (ring[1] // 24) * 11 + (ring[2] // 24)
    # the occupied bins in ascending key order with their counts, as np.unique
    # gives them (the same counts array, so argsort breaks ties the same way)
    hist = np.bincount(keys, minlength=1331)
    uniq = np.flatnonzero(hist)
    counts = hist[uniq]
    order = np.argsort(counts)[::-1]
    covered, picked = 0, []
    for i in order[:4]:
        if counts[i] < 0.08 * n:
            break
        picked.append(i)
        covered += counts[i]
        if covered >= 0.85 * n:
            break
    if covered < 0.6 * n:
        return None, 0.0
    colours, spreads = [], []
    for i in picked:
        px = ring[:, keys == uniq[i]]  # (3, m)
        m = px.shape[1]
        k = m // 2
        part = np.partition(px, k, axis=1)  # one index: numpy's fast selection
        if m % 2:
            med = part[:, k].astype(np.float64)
        else:  # np.median of ints: the float64 mean of the two middle values
            med = (part[:, :k].max(axis=1).astype(np.float64) + part[:, k]) / 2
        colours.append(med)
        dev = np.maximum(np.maximum(np.abs(px[0] - med[0]), np.abs(px[1] - med[1])), np.abs(px[2] - med[2]))
        spreads.append(_percentile95(dev))
    # merge colours that are the same within noise
    colours_arr = np.array(colours, dtype=np.float32)
    tol = float(np.clip(max(spreads) * 1.6 + 8, 18, 60))
    return colours_arr, tol


# --------------------------------------------------------------------------- #
# Separator profiles along one axis (columns of `img`; transpose for rows)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _box_mean(v: np.ndarray, r: int) -> np.ndarray:
    if r <= 0:
        return v.astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(v, dtype=np.float64)])
    n = len(v)
    lo = np.clip(np.arange(n) - r, 0, n)
    hi = np.clip(np.arange(n) + r + 1, 0, n)
    return (c[hi] - c[lo]) / (hi - lo)


def _share(mask: np.ndarray) -> np.ndarray:
    """``mask.mean(axis=0)`` of a boolean array (any strides): the same exact counts / rows, counted as bytes."""
    return mask.view(np.uint8).sum(axis=0, dtype=np.int32) / mask.shape[0]


@dataclass
class _Profile:
    sep: np.ndarray  # separator strength per line, [0, 1]
    strip: np.ndarray  # uniform-line strength, [0, 1]
    colour: np.ndarray  # median colour of each line (n, 3)
    content: np.ndarray  # foreground (or detail) amount per line


def _profile(img: np.ndarray, fg: np.ndarray | None, tol: float) -> _Profile:
    """Separator evidence for every column of ``img`` (H x W x 3 work image, uint8 or float32)."""
    h, w = img.shape[:2]
    # statistics along each line from ~160-320 samples: plenty for fractions
    sub = np.ascontiguousarray(img[:: max(1, h // 160)])
    exact = sub.dtype == np.uint8  # whole numbers: medians by integer selection, steps in int16
    if not exact:
        sub = sub.astype(np.float32)
    med = _median_lines(sub) if exact else _median0(sub)  # (W, 3) float32
    dev = _cheb(sub, med[None])
    strip = _share(dev < max(16.0, tol * 0.6))
    strip = np.clip((strip - 0.75) / 0.2, 0, 1)

    # seam: a step between two columns along most of their length
    d = np.abs(np.diff(sub.astype(np.int16) if exact else sub, axis=1))
    step = d[..., 0] + d[..., 1] + d[..., 2]  # (h', W-1)
    seam_line = _median_lines(step) if exact else _median0(step)
    seam = np.zeros(w)
    if w > 4:
        local = _box_mean(seam_line, max(4, w // 16)) + 2.0
        ratio = seam_line / local
        s = np.clip((ratio - 2.0) / 2.0, 0, 1) * np.clip((seam_line - 6.0) / 10.0, 0, 1)
        seam[1:] = np.maximum(seam[1:], s)
        seam[:-1] = np.maximum(seam[:-1], s)

    if fg is not None:
        fg = fg[:: max(1, h // 512)]  # (a view: summed in place, transposed or not)
        h = fg.shape[0]
        content = _share(fg)
        # content that runs straight across a thin line (guide lines drawn over
        # sprites) means the line is not a cell boundary
        d = 3
        across = np.zeros(w)
        if w > 2 * d:
            f2 = fg[:: max(1, h // 256)]
            both = f2[:, : w - 2 * d] & f2[:, 2 * d :]
            across[d : w - d] = _share(both)
        ref = _box_mean(content, max(3, w // 12))
        empty = 1.0 - content / np.maximum(ref, 0.02)
        empty = np.clip((empty - 0.35) / 0.45, 0, 1)
        strip = strip * np.clip(1.0 - across / np.maximum(ref, 0.02) * 2.0, 0, 1)
        sep = np.maximum.reduce([empty, strip, seam * 0.8])
    else:
        content = 1.0 - strip
        sep = np.maximum(strip, seam)
    return _Profile(sep=sep, strip=strip, colour=med, content=content)


# --------------------------------------------------------------------------- #
# Choosing cuts on one axis


@dataclass
class _AxisFit:
    n: int
    lo: int
    hi: int
    cuts: list[int]  # interior cut positions (n - 1)
    strength: float  # weakest cut's separator strength
    score: float
    strengths: tuple[float, ...] = ()  # per interior cut


def _snap(sep: np.ndarray, nominal: float, radius: float) -> tuple[int, float]:
    """Best separator within ``radius`` of ``nominal``: centre of its plateau, nearest to nominal."""
    L = len(sep)
    a = int(max(1, np.floor(nominal - radius)))
    b = int(min(L - 1, np.ceil(nominal + radius)))
    if b <= a:
        x = int(np.clip(round(nominal), 0, L - 1))
        return x, float(sep[x])
    win = sep[a : b + 1]
    best = float(win.max())
    good = win >= best - 0.05
    if good.all():
        return int(round(nominal)), best
    # wide plateaus (real gutters) beat thin lines (a line drawn inside a panel),
    # up to 6 px; between thin ones, the one nearest the expected place wins
    def merit(run):
        s, e = run
        centre = a + (s + e - 1) / 2.0
        return min(e - s, 6) / 6.0 - 0.5 * abs(centre - nominal) / max(radius, 1.0), centre

    _, centre = max(merit(r) for r in _runs(good))
    return int(round(centre)), best


def _fit_axis(prof: _Profile, n: int, lo: int, hi: int, *, strict: bool = True) -> _AxisFit:
    sep = prof.sep
    span = hi - lo
    pitch = span / n
    cuts, strengths = [], []
    prev = lo
    for k in range(1, n):
        # follow drift: aim one pitch past the previous cut, pulled toward even spacing
        nominal = 0.5 * (lo + k * pitch) + 0.5 * (prev + pitch)
        x, s = _snap(sep, nominal, SNAP * pitch)
        if strict and s < CUT_OK:
            return _AxisFit(n, lo, hi, cuts, 0.0, -1.0)
        cuts.append(x)
        strengths.append(s)
        prev = x
    edges = [lo] + cuts + [hi]
    sizes = np.diff(edges)
    bad = _AxisFit(n, lo, hi, cuts, 0.0, -1.0)
    if n > 1 and (sizes.min() <= 0 or sizes.max() / max(sizes.min(), 1) > 1.45):
        return bad
    if strict and n > 1:
        # every band between cuts must hold content: a lattice finer than the
        # real one puts whole bands in the empty space between subjects
        amounts = np.array([prof.content[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
        # trailing blank bands are allowed (a grid with its last cells empty)
        filled = len(amounts)
        while filled > 1 and amounts[filled - 1] < 0.05 * amounts[:filled].max():
            filled -= 1
        if filled < len(amounts) and filled < 2:
            return bad
        if amounts[:filled].min() < 0.3 * _median1(amounts[:filled]):
            return bad
    strength = min(strengths) if strengths else 1.0
    return _AxisFit(n, lo, hi, cuts, strength, float(np.mean(strengths)) if strengths else 1.0, tuple(strengths))


def _acf(v: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of a profile, all lags at once (FFT)."""
    v = v.astype(np.float64) - v.mean()
    n = len(v)
    f = np.fft.rfft(v, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return ac / ac[0] if ac[0] > 1e-9 else np.zeros(n)


def _periodicity(sep: np.ndarray, lo: int, hi: int, n: int, cache: dict) -> float:
    """Autocorrelation of the separator profile between the bounds, at the pitch (+-6 %)."""
    pitch = (hi - lo) / n
    if "acf" not in cache:  # one transform per pair of bounds, padded to catch outer borders
        pad = int((hi - lo) * 0.05)
        cache["acf"] = _acf(sep[max(0, lo - pad) : hi + pad])
    acf = cache["acf"]
    a, b = max(1, int(pitch * 0.94)), min(len(acf) - 1, int(np.ceil(pitch * 1.06)))
    return float(acf[a : b + 1].max()) if b >= a else 0.0


def _similarity(small: np.ndarray, length: int, edges: list[int]) -> float:
    """How alike the bands between ``edges`` look (mean correlation with the median band).

    ``small`` is the grey image squeezed to 24 px across the axis (24 x length).
    Each band is squeezed to 12 px along the axis (sums over 12 spans), centred
    and normalised. All bands are done at once, with the same per-band
    arithmetic as one at a time (spans from the same linspace steps, one
    reduceat over the contiguous bands, per-band sums and dot products).
    """
    if len(edges) <= 2:
        return 0.0
    e = np.asarray(edges)
    a, b = e[:-1], e[1:]
    nb = len(a)
    if (b > a).all():  # numpy's linspace of a row of bands: per row, the same steps as for one band
        pos = np.linspace(a, b, 13, axis=1)
    else:
        pos = np.array([np.linspace(x, y, 13) for x, y in zip(a, b)])
    idx = np.minimum(pos.astype(int), length - 1)
    rel = np.clip(idx[:, :-1] - a[:, None], 0, np.maximum(b - a - 1, 0)[:, None])
    starts = (rel + a[:, None]).ravel()
    contiguous = bool(np.all(a[1:] == b[:-1])) and bool(np.all(rel[:, 0] == 0)) and b[-1] <= small.shape[1]
    if contiguous:
        # a band's last span ends where the next band starts; one more start
        # (its sum unused) ends the last band where it ends
        if b[-1] < small.shape[1]:
            starts = np.append(starts, b[-1])
        sums = np.add.reduceat(small, starts, axis=1)[:, : nb * 12]
    else:
        sums = np.concatenate([np.add.reduceat(small[:, x:y], r, axis=1) for x, y, r in zip(a, b, rel)], axis=1)
    t = np.ascontiguousarray(sums.astype(np.float32).reshape(small.shape[0], nb, 12).transpose(1, 0, 2))
    t = t - t.mean(axis=(1, 2))[:, None, None]
    flat = t.reshape(nb, -1)
    norms = np.array([np.sqrt(v.dot(v)) for v in flat], dtype=np.float32)  # np.linalg.norm of each band
    thumbs = t / (norms + 1e-3)[:, None, None]
    ref = _median0(thumbs)
    ref = ref / (np.linalg.norm(ref) + 1e-3)
    return float(np.mean((thumbs * ref).sum(axis=(1, 2)).astype(np.float64)))


def _filled_edges(prof: _Profile, fit: _AxisFit) -> list[int]:
    """Band edges without a partly empty last band (a grid whose last row is not full)."""
    edges = [fit.lo] + fit.cuts + [fit.hi]
    if len(edges) > 3:
        amounts = [prof.content[a:b].mean() for a, b in zip(edges[:-1], edges[1:])]
        if amounts[-1] < 0.8 * _median1(amounts[:-1]):
            return edges[:-1]
    return edges


def _squeeze(gray: np.ndarray) -> np.ndarray:
    """``gray`` BOX-resized to 24 rows (Pillow), as float32.

    A transposed image (the rows axis) is resized to 24 columns untransposed:
    the same taps and arithmetic in Pillow's horizontal pass, without
    copying the transposed pixels first.
    """
    from PIL import Image

    if gray.ndim == 2 and gray.T.flags.c_contiguous and not gray.flags.c_contiguous and gray.shape[0] <= gray.shape[1] * 100:
        small = Image.fromarray(gray.T).resize((24, gray.shape[1]), Image.Resampling.BOX)
        return np.asarray(small, dtype=np.float32).T
    return np.asarray(Image.fromarray(gray).resize((gray.shape[1], 24), Image.Resampling.BOX), dtype=np.float32)


def _bounds(prof: _Profile, length: int) -> list[tuple[int, int]]:
    """Candidate outer bounds: the whole line, or inside strong separators near the ends.

    Borders, paper margins and caption blocks under a plate sit outside the
    lattice; any strong separator in the outer 30 % may be where it starts.
    """
    margin = int(length * 0.3)
    head = [int(e) for s, e in _runs(prof.sep[:margin] >= 0.8)]
    tail = [int(length - margin + s) for s, e in _runs(prof.sep[length - margin :] >= 0.8)]
    # the outermost and the innermost few: margins on the outside, borders inside
    los = sorted({0, *head[:3], *head[-3:]})
    his = sorted({length, *tail[:3], *tail[-3:]})
    return [(a, b) for a in los for b in his if b - a >= length * 0.4]


def _choose_count(prof: _Profile, length: int, n_given: int | None, gray: np.ndarray | None = None) -> _AxisFit:
    bounds = _bounds(prof, length)
    if n_given is not None:
        best = None
        for lo, hi in bounds:
            fit = _fit_axis(prof, n_given, lo, hi, strict=False)
            key = (fit.score >= 0, fit.strength, fit.score, hi - lo)
            if best is None or key > best[0]:
                best = (key, fit)
        fit = best[1]
        if fit.score < 0:  # irregular: fall back to even division of the whole line
            fit = _even(n_given, 0, length)
        return fit
    n_max = max(1, min(MAX_CELLS_PER_AXIS, length // MIN_CELL_PX))
    acfs: list[dict] = [{} for _ in bounds]

    def fits(n: int) -> list[_AxisFit]:
        """The lattices of ``n`` cells whose cuts all hold, in the order of ``bounds``."""
        out = []
        for (lo, hi), acf in zip(bounds, acfs):
            if (hi - lo) / n < MIN_CELL_PX:
                continue
            # a real grid repeats at its pitch; a finer lattice that happens to
            # find empty lines (waists, gaps between legs) does not
            if n > 2 and _periodicity(prof.sep, lo, hi, n, acf) < PERIOD_MIN:
                continue
            fit = _fit_axis(prof, n, lo, hi)
            if fit.score < 0 or fit.strength < CUT_OK:
                continue
            out.append(fit)
        return out

    def regular(f: _AxisFit) -> float:
        sizes = np.diff([f.lo] + f.cuts + [f.hi])
        return f.score - 2.0 * float(sizes.std() / sizes.mean())

    def rank(f: _AxisFit):
        # the finest lattice; among equals, the most even one (a bound that takes in
        # a margin or caption makes one cell taller than the rest), then the first
        return (f.n, round(regular(f), 1), f.hi - f.lo)

    # The finest lattice that holds wins unless it is dropped for looking less
    # alike than another (SIM_DROP), so look from the finest down.
    n_top, finest = n_max, []
    while n_top >= 2 and not finest:
        finest = fits(n_top)
        n_top -= 1
    if not finest:
        return _AxisFit(1, 0, length, [], 1.0, 1.0)
    if gray is None:
        return max(finest, key=rank)
    small = _squeeze(gray)
    sims = [_similarity(small, length, _filled_edges(prof, f)) for f in finest]
    if all(s >= SIM_MAX - SIM_DROP for s in sims):
        # kept whatever the coarser lattices score (no similarity exceeds SIM_MAX):
        # the coarser lattices cannot change the choice
        return max(finest, key=rank)
    # Otherwise all of them: a coarser lattice may look more alike by SIM_DROP.
    found = finest + [f for n in range(n_top, 1, -1) for f in fits(n)]
    if len(found) > 1:
        sims += [_similarity(small, length, _filled_edges(prof, f)) for f in found[len(finest) :]]
        top = max(sims)
        found = [f for f, s in zip(found, sims) if s >= top - SIM_DROP]
    # (different n never rank equal, so only the order within one n matters: bounds order)
    return max(found, key=rank)


def _even(n: int, lo: int, hi: int) -> _AxisFit:
    cuts = [round(lo + k * (hi - lo) / n) for k in range(1, n)]
    return _AxisFit(n, lo, hi, cuts, 0.0, 0.0)


def _refine(sep: np.ndarray, fit: _AxisFit) -> list[int]:
    """Re-snap interior cuts on a band's own profile (ragged rows, drift)."""
    if fit.n == 1:
        return [fit.lo, fit.hi]
    pitch = (fit.hi - fit.lo) / fit.n
    out = []
    for c in fit.cuts:
        x, s = _snap(sep, c, 0.12 * pitch)
        out.append(x if s >= sep[c] + 0.15 else c)
    return [fit.lo] + out + [fit.hi]


# --------------------------------------------------------------------------- #
# Boxes, gutters, empty cells


def _strip_extent(strip: np.ndarray, at: int, step: int, cap: int) -> int:
    """How many lines from ``at`` (going ``step`` = +1/-1) are uniform strips."""
    n, i = 0, at
    while 0 <= i < len(strip) and n < cap and strip[i] >= 0.5:
        n += 1
        i += step
    return n


def _side_limits(strip: np.ndarray, edges: list[int], pitch: float) -> list[tuple[int, int]]:
    """Per cell along one axis: how deep its (start, end) side may be trimmed.

    Only as deep as the separator strip measured at that cut (gutter half,
    border, paper margin) plus three lines of blur (the walk itself stops where the
    lines stop being the separator colour, so touching cells lose nothing).
    """
    cap = max(2, int(pitch * 0.2))
    out = []
    for k in range(len(edges) - 1):
        a, b = edges[k], edges[k + 1]
        start = _strip_extent(strip, a, +1, cap)
        end = _strip_extent(strip, b - 1, -1, cap)
        out.append((start + 3, end + 3))
    return out


def _separator_colour(prof_x: _Profile, prof_y: _Profile, xcuts: list[int], ycuts: list[int]) -> np.ndarray | None:
    """Median colour of the lines the grid is cut on, where those are strips."""
    cols = [prof_x.colour[min(c, len(prof_x.colour) - 1)] for c in xcuts if prof_x.strip[min(c, len(prof_x.strip) - 1)] >= 0.5]
    cols += [prof_y.colour[min(c, len(prof_y.colour) - 1)] for c in ycuts if prof_y.strip[min(c, len(prof_y.strip) - 1)] >= 0.5]
    return _median0(np.array(cols)) if cols else None


def _panelled(img: np.ndarray, boxes: list[list[int]], colour: np.ndarray, thr: float) -> bool:
    """True when the separator colour is absent from the cells' interiors.

    Gutters between panels are; the background between sprites is not (it
    surrounds every subject), and must not be trimmed away.
    """
    shares = []
    for x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        # most of the cell, but clear of half-gutters and borders
        inner = img[y0 + h * 3 // 20 : y1 - h * 3 // 20 : 2, x0 + w * 3 // 20 : x1 - w * 3 // 20 : 2]
        if inner.size:
            shares.append(float((_cheb(inner, colour) < thr).mean()))
    return bool(shares) and _median1(shares) < 0.08


def _trim(img: np.ndarray, box: list[int], colour: np.ndarray, limits: tuple[int, int, int, int], thr: float):
    """Shrink a cell box past gutter / border lines, within ``limits`` per side.

    A side loses its lines while they are mostly the separator colour, then up
    to two blurred (anti-aliased, JPEG) lines nearer that colour than the cell.
    """
    x0, y0, x1, y1 = box
    cell = img[y0:y1, x0:x1]
    if cell.size == 0:
        return box, (False,) * 4
    h, w = cell.shape[:2]
    interior = cell[h // 5 : h - h // 5 : 2, w // 5 : w - w // 5 : 2]
    inside = interior.astype(np.float32).reshape(-1, 3).mean(axis=0) if interior.size else colour

    def walk(lines: np.ndarray, limit: int) -> int:
        limit = min(limit, len(lines))
        if limit <= 0:
            return 0
        near = (_cheb(lines[:limit], colour) < thr * 1.5).mean(axis=1)
        stop = np.flatnonzero(near < 0.6)
        k = int(stop[0]) if len(stop) else limit
        for _ in range(2):
            if k >= limit:
                break
            m = lines[k].astype(np.float32).mean(axis=0)
            if np.abs(m - colour).max() < np.abs(m - inside).max():
                k += 1
        return k

    lx, ly = limits[0], limits[1]
    left = walk(cell.transpose(1, 0, 2), lx[0])
    right = walk(cell[:, ::-1].transpose(1, 0, 2), lx[1])
    top = walk(cell, ly[0])
    bottom = walk(cell[::-1], ly[1])
    return [x0 + left, y0 + top, x1 - right, y1 - bottom], (left > 0, top > 0, right > 0, bottom > 0)


def _content(img: np.ndarray, fg, box) -> float:
    """How much is in a cell: foreground share, or colour spread for photos.

    Measured on the middle 80 % of the box, so a stray line of the
    neighbouring cell along a cut does not make a blank cell look full.
    """
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) // 10, (y1 - y0) // 10
    x0, y0, x1, y1 = x0 + dx, y0 + dy, max(x1 - dx, x0 + dx + 1), max(y1 - dy, y0 + dy + 1)
    if fg is not None:
        return float(fg[y0:y1, x0:x1].mean())
    cell = img[y0:y1, x0:x1]
    return float(cell.std(axis=(0, 1)).mean())


def _band(img, fg, band: slice, axis: int):
    """The sub-image of a row band (axis=1: look for columns) or column band (axis=0: rows), as columns."""
    if axis == 1:
        return img[band], None if fg is None else fg[band]
    return img[:, band].transpose(1, 0, 2), None if fg is None else fg[:, band].T


def _band_cuts(img, fg, tol, fit: _AxisFit, band: slice, axis: int) -> list[int]:
    if fit.n == 1 or band.stop - band.start < 8:
        return [fit.lo] + fit.cuts + [fit.hi]
    if fit.strengths and min(fit.strengths) >= 0.95:
        return [fit.lo] + fit.cuts + [fit.hi]  # clean, straight gutters: nothing to follow
    sub, subfg = _band(img, fg, band, axis)
    return _refine(_profile(sub, subfg, tol).sep, fit)


def _per_band_count(img, fg, tol, gray, edges, axis: int) -> _AxisFit | None:
    """Count cells along one axis inside each band of the other; agree on one n."""
    fits = []
    for a, b in zip(edges[:-1], edges[1:]):
        sub, subfg = _band(img, fg, slice(a, b), axis)
        g = gray[a:b] if axis == 1 else gray[:, a:b].T
        prof = _profile(sub, subfg, tol)
        fits.append(_choose_count(prof, sub.shape[1], None, g))
    ns = [f.n for f in fits]
    n = max(set(ns), key=ns.count)
    if n == 1 or ns.count(n) < max(2, (len(ns) + 1) // 2):
        return None
    agree = [f for f in fits if f.n == n]
    lo = int(_median1([f.lo for f in agree]))
    hi = int(_median1([f.hi for f in agree]))
    cuts = [int(_median1(c)) for c in zip(*[f.cuts for f in agree])]
    return _AxisFit(n, lo, hi, cuts, min(f.strength for f in agree), float(np.mean([f.score for f in agree])))


def detect_layout(
    rgb: Frame, alpha: np.ndarray | None = None, *, rows: int | None = None, cols: int | None = None
) -> Layout:
    """Find rows, columns and the box of every real frame.

    With ``rows``/``cols`` given they are used, but each cut snaps to the real
    boundary near the even-division line, and a warning is added when the
    image clearly shows another layout.
    """
    h, w = rgb.shape[:2]
    check_grid_args(w, h, rows, cols)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError("expected an RGB image")
    work = _prepare(rgb, alpha)
    img, fg = work.rgb, work.fg
    H, W = img.shape[:2]

    gray = work.gray()
    col_prof = _profile(img, fg, work.tol)
    row_prof = _profile(img.transpose(1, 0, 2), None if fg is None else fg.T, work.tol)
    xfit = _choose_count(col_prof, W, cols, gray)
    yfit = _choose_count(row_prof, H, rows, gray.T)

    # Photo plates: seams between panels are often not collinear from one row
    # to the next, so look for columns inside each row band (and vice versa).
    if cols is None and xfit.n == 1 and yfit.n > 1:
        xfit = _per_band_count(img, fg, work.tol, gray, [yfit.lo] + yfit.cuts + [yfit.hi], axis=1) or xfit
    if rows is None and yfit.n == 1 and xfit.n > 1:
        yfit = _per_band_count(img, fg, work.tol, gray, [xfit.lo] + xfit.cuts + [xfit.hi], axis=0) or yfit

    warnings: list[str] = []
    if rows is not None or cols is not None:
        free_x = xfit if cols is None else _choose_count(col_prof, W, None, gray)
        free_y = yfit if rows is None else _choose_count(row_prof, H, None, gray.T)
        # only positive evidence counts: an axis where nothing was found says nothing
        seen_rows = free_y.n if free_y.n > 1 and free_y.strength >= 0.8 else yfit.n
        seen_cols = free_x.n if free_x.n > 1 and free_x.strength >= 0.8 else xfit.n
        if (seen_rows, seen_cols) != (yfit.n, xfit.n):
            warnings.append(
                f"asked for {yfit.n}x{xfit.n} (rows x cols) but the image looks like "
                f"{seen_rows}x{seen_cols}: check --rows/--cols"
            )
        if (xfit.n > 1 and xfit.strength < 0.3) or (yfit.n > 1 and yfit.strength < 0.3):
            warnings.append("no clear boundaries near the asked cuts: cells are cut by even division")

    # per-band refinement: column cuts per row band, row cuts per column band
    ycuts = [yfit.lo] + yfit.cuts + [yfit.hi]
    xcuts = [xfit.lo] + xfit.cuts + [xfit.hi]
    xcuts_by_row = [_band_cuts(img, fg, work.tol, xfit, slice(ycuts[r], ycuts[r + 1]), 1) for r in range(yfit.n)]
    ycuts_by_col = [_band_cuts(img, fg, work.tol, yfit, slice(xcuts[c], xcuts[c + 1]), 0) for c in range(xfit.n)]

    raw = []
    for r in range(yfit.n):
        for c in range(xfit.n):
            raw.append(((r, c), [xcuts_by_row[r][c], ycuts_by_col[c][r], xcuts_by_row[r][c + 1], ycuts_by_col[c][r + 1]]))
    thr = max(16.0, work.tol * 0.6)
    colour = _separator_colour(col_prof, row_prof, xcuts, ycuts)
    # transparent sheets keep their cells whole: the margins are just background
    alpha_sheet = fg is not None and work.bg is None
    trim = not alpha_sheet and colour is not None and _panelled(img, [b for _, b in raw], colour, thr)
    cells = []
    if trim:
        xlim = _side_limits(col_prof.strip, xcuts, (xfit.hi - xfit.lo) / xfit.n)
        ylim = _side_limits(row_prof.strip, ycuts, (yfit.hi - yfit.lo) / yfit.n)
        for (r, c), box in raw:
            box, trimmed = _trim(img, box, colour, (xlim[c], ylim[r]), thr)
            cells.append(((r, c), box, trimmed))
    else:
        cells = [((r, c), box, (False,) * 4) for (r, c), box in raw]
        # subjects on a shared background: every frame the same size, centred on
        # its cell, so no frame loses the edge of its subject to a narrow cell
        bw = int(_median1([b[2] - b[0] for _, b, _ in cells]))
        bh = int(_median1([b[3] - b[1] for _, b, _ in cells]))
        for i, (rc, (x0, y0, x1, y1), t) in enumerate(cells):
            cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
            nx = int(np.clip(cx - bw // 2, 0, W - bw))
            ny = int(np.clip(cy - bh // 2, 0, H - bh))
            cells[i] = (rc, [nx, ny, nx + bw, ny + bh], t)

    # cells with no content are not frames (blank tail cells, black filler)
    pixels = img if fg is not None else work.rgb_float()  # (colour spread: float32 sums, as measured)
    amounts = np.array([_content(pixels, fg, b) for _, b, _ in cells])
    ref = _median1(amounts) if len(amounts) else 0.0
    keep = [i for i, a in enumerate(amounts) if not (a < 0.12 * ref or (fg is None and a < 2.0) or (fg is not None and a < 0.002))]
    if len(keep) < len(cells):
        dropped = [cells[i][0] for i in range(len(cells)) if i not in keep]
        names = ", ".join(f"r{r + 1}c{c + 1}" for r, c in dropped)
        warnings.append(f"{len(dropped)} empty cell(s) skipped ({names})")
    if not keep:
        keep = list(range(len(cells)))

    s = work.scale
    # Back to source pixels. A side that met a gutter, or that is an interior
    # cut, loses a safety margin of one working pixel: rounding and blur must
    # not let a line of gutter or of the neighbour cell into the frame.
    safety = int(np.ceil(s))
    boxes, where = [], []
    for i in keep:
        (r, c), (x0, y0, x1, y1), (tl, tt, tr, tb) = cells[i]
        inner = (c > 0, r > 0, c < xfit.n - 1, r < yfit.n - 1)
        m = [safety if (t or k) else 0 for t, k in zip((tl, tt, tr, tb), inner)]
        X0, Y0 = int(round(x0 * s)) + m[0], int(round(y0 * s)) + m[1]
        X1, Y1 = int(round(x1 * s)) - m[2], int(round(y1 * s)) - m[3]
        X1, Y1 = min(max(X1, X0 + 1), w), min(max(Y1, Y0 + 1), h)
        boxes.append((X0, Y0, X1 - X0, Y1 - Y0))
        where.append((r, c))

    method = "alpha" if (alpha is not None and fg is not None and work.bg is None) else ("background" if fg is not None else "lines")
    if rows is not None or cols is not None:
        method = "given+" + method
    return Layout(yfit.n, xfit.n, tuple(boxes), tuple(where), (w, h), tuple(warnings), method)
