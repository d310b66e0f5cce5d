"""Evidence for layout detection: background model, foreground, separator profiles.

Foreground is alpha, or distance from a background colour model taken from
the image border (1-3 colours, which copes with noisy and fake-checkerboard
backgrounds). A *separator profile* in [0, 1] says how good a place each
pixel line is to cut, from three kinds of evidence: **empty** (little
foreground on the line compared with the cells around it), **strip** (the
line is one uniform colour: gutters, borders, dark bands -- unless content
continues straight across it, as over guide lines drawn through sprites) and
**seam** (a step along most of the line: photo panels edge to edge).

The medians are hand-written (numpy's own steps without the per-call checks,
and without np.percentile, which imports numpy.ma, a cost in the one-detection
CLI process); tests check they give numpy's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..reading import work_size  # the size detection works at
from ..stats import percentile
from ..types import Frame

# --------------------------------------------------------------------------- #
# Medians without np.median / np.percentile
#
# Same values as numpy's, minus its per-call overhead, and without
# np.percentile, whose np.unique call imports numpy.ma (a cost in a fresh
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

    The order statistics are taken on an int32 transposed copy, partitioned
    along its contiguous axis around one index: numpy's SIMD selection
    (several indices, or axis 0 of a C-ordered array, take its generic path,
    5-10x slower; with AVX2 but not AVX-512, 8- and 16-bit rows do too). The
    lower middle value is the largest below it; their half-sum is exact in
    float32, as np.median's.
    """
    n = a.shape[0]
    t = a.reshape(n, -1).astype(np.int32).T.copy()
    k = n // 2
    t.partition(k, axis=1)
    hi = t[:, k]
    med = hi.astype(np.float32) if n % 2 else (t[:, :k].max(axis=1).astype(np.float32) + hi) / 2
    return med.reshape(a.shape[1:])


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
    c = np.asarray(colour, dtype=np.float32)  # (3,) or any shape that broadcasts against a
    return np.maximum(
        np.maximum(np.abs(a[..., 0] - c[..., 0]), np.abs(a[..., 1] - c[..., 1])), np.abs(a[..., 2] - c[..., 2])
    )


def _dense(a: np.ndarray, dtype=None) -> np.ndarray:
    """``np.ascontiguousarray(a, dtype)``; a transposed view of pixels (L, n, 3) is copied plane by plane.

    Where a line's pixels are not adjacent in memory (a column band seen as lines), numpy copies the
    view pixel triple by triple, several times slower than three strided 2-D plane copies. Same values.
    """
    dtype = a.dtype if dtype is None else np.dtype(dtype)
    if a.ndim != 3 or a.shape[2] != 3 or a.strides[1] == 3 * a.itemsize or a.strides[2] != a.itemsize:
        return np.ascontiguousarray(a, dtype=dtype)
    out = np.empty(a.shape, dtype)
    for ch in range(3):
        out[..., ch] = a[..., ch]
    return out


def _prepare(rgb: Frame, alpha: np.ndarray | None, work_rgb: np.ndarray | None = None) -> _Work:
    """``work_rgb``: ``rgb`` already shrunk to :func:`work_size` the same way (the reader's thread makes it)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    scale = 1.0
    size = work_size(w, h)
    if size is not None:
        if work_rgb is not None and work_rgb.shape == (size[1], size[0], 3):
            rgb = work_rgb
        else:
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
            for plane, (lo, hi) in zip(planes, runs, strict=False):
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
        spreads.append(percentile(dev, 95))
    # merge colours that are the same within noise
    colours_arr = np.array(colours, dtype=np.float32)
    tol = float(np.clip(max(spreads) * 1.6 + 8, 18, 60))
    return colours_arr, tol


# --------------------------------------------------------------------------- #
# Separator profiles along one axis (columns of `img`; transpose for rows)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True in a 1-D mask.

    Most masks are a search window of a few dozen lines, where a loop over the values beats numpy's
    per-call cost several times over; long ones go through numpy.
    """
    if len(mask) > 512:
        if not mask.any():
            return []
        d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
        return [(int(s), int(e)) for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True)]
    out, start = [], -1
    for i, v in enumerate(mask.tolist()):
        if v and start < 0:
            start = i
        elif not v and start >= 0:
            out.append((start, i))
            start = -1
    if start >= 0:
        out.append((start, len(mask)))
    return out


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
    has_fg: bool = False  # content is a foreground share (a background model or alpha exists)
    uniform: np.ndarray | None = None  # strip before content running across it is discounted
    # for telling a panel's flat floor or sky from a divider beside it (lattice._flat_regions):
    jumps: list | None = None  # lines whose median colour differs from the line before, ascending
    same_before: np.ndarray | None = None  # [i]: line i is of the colour of line i - 2
    same_after: np.ndarray | None = None  # [i]: line i - 1 is of the colour of line i + 1
    filled: np.ndarray | None = None  # cumulative count of lines that are mostly foreground (n + 1)


def _profile(img: np.ndarray, fg: np.ndarray | None, tol: float) -> _Profile:
    """Separator evidence for every column of ``img`` (H x W x 3 work image, uint8 or float32)."""
    h, w = img.shape[:2]
    # statistics along each line from ~160-320 samples: plenty for fractions
    sub = _dense(img[:: max(1, h // 160)])
    exact = sub.dtype == np.uint8  # whole numbers: medians by integer selection, steps in int16
    if not exact:
        sub = sub.astype(np.float32)
    med = _median_lines(sub) if exact else _median0(sub)  # (W, 3) float32
    dev = _cheb(sub, med[None])
    strip = _share(dev < max(16.0, tol * 0.6))
    strip = np.clip((strip - 0.75) / 0.2, 0, 1)
    # the same at a fixed tolerance: a wide background tolerance (a painted checkerboard) makes every line "uniform"
    uniform = strip if tol * 0.6 <= 16.0 else np.clip((_share(dev < 16.0) - 0.75) / 0.2, 0, 1)

    # seam: a step between two columns along most of their length
    d = np.abs(np.diff(sub.astype(np.int16) if exact else sub, axis=1))
    step = d[..., 0] + d[..., 1] + d[..., 2]  # (h', W-1)
    if fg is not None:
        # a step between two background pixels is the background's own pattern (a painted
        # checkerboard), not a seam between panels
        fsub = fg[:: max(1, h // 160)][: len(step)]
        if fsub.shape == (step.shape[0], step.shape[1] + 1):
            step = np.where(fsub[:, :-1] | fsub[:, 1:], step, 0).astype(step.dtype)
    seam_line = _median_lines(step) if exact else _median0(step)
    seam = np.zeros(w)
    if w > 4:
        local = _box_mean(seam_line, max(4, w // 16)) + 2.0
        ratio = seam_line / local
        s = np.clip((ratio - 2.0) / 2.0, 0, 1) * np.clip((seam_line - 6.0) / 10.0, 0, 1)
        # consistency: a seam steps well above the local texture along most of the line, where
        # texture and subject edges do so on a few stretches (a median step can miss a seam
        # between tiles of a like colour over a busy texture)
        share = _share(step > 2.0 * local[None])
        s = np.maximum(
            s,
            np.clip((share - _box_mean(share, max(4, w // 16)) - 0.25) / 0.3, 0, 1)
            * np.clip((seam_line - 6.0) / 10.0, 0, 1),
        )
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
            alike = None
            # a wide divider is foreground on both sides of its own lines: only
            # content of another colour than the line itself runs across it
            rows = img[:: max(1, img.shape[0] // 512)][:: max(1, h // 256)]
            if len(rows) == len(f2):
                thr = max(16.0, tol * 0.6)
                line = med[d : w - d][None]
                rows_f = _dense(rows, np.float32)  # once: the two sides are overlapping views of it
                before, after = rows_f[:, : w - 2 * d], rows_f[:, 2 * d :]
                both &= (_cheb(before, line) > thr) & (_cheb(after, line) > thr)
                # across a line of one colour end to end (a divider, a guide line), what runs across
                # is one thing, alike on both sides: a sprite's body over a guide line is, a floor
                # above and a sky below a divider are two panels
                one = np.flatnonzero(strip[d : w - d] >= 1.0)
                if len(one):
                    alike = _cheb(before[:, one], after[:, one]) <= 2 * thr
            across[d : w - d] = _share(both)
            if alike is not None:
                across[d + one] = _share(both[:, one] & alike)
        ref = _box_mean(content, max(3, w // 12))
        empty = 1.0 - content / np.maximum(ref, 0.02)
        empty = np.clip((empty - 0.35) / 0.45, 0, 1)
        strip = strip * np.clip(1.0 - across / np.maximum(ref, 0.02) * 2.0, 0, 1)
        sep = np.maximum.reduce([empty, strip, seam * 0.8])
    else:
        content = 1.0 - strip
        sep = np.maximum(strip, seam)
    same2 = np.zeros(w + 1, bool)  # same2[i]: lines i - 2 and i alike
    if w > 2:
        same2[2:w] = _cheb(med[2:], med[:-2]) < 24.0
    filled = np.concatenate([[0], np.cumsum(content >= 0.5 if fg is not None else np.ones(w, bool))])
    return _Profile(
        sep=sep,
        strip=strip,
        colour=med,
        content=content,
        has_fg=fg is not None,
        uniform=uniform,
        jumps=(np.flatnonzero(_cheb(med[1:], med[:-1]) > 24.0) + 1).tolist(),
        same_before=same2[:w],
        same_after=np.concatenate([same2[1:], [False]]),
        filled=filled,
    )
