"""Pixel art: detect it, keep it exact, upscale it by whole pixels (pure numpy).

Pixel art is an image with few colours (at most 256 opaque ones, which also
means hard edges: antialiasing or resampling makes a new blend for every
pair of colours that meet, so such images have thousands) and, when it was
upscaled, a whole number of image pixels per art pixel (:attr:`PixelArt.block`). Such frames
are never resampled: no Lanczos downscale, no new colours, and the GIF is
written losslessly. :func:`upscale` enlarges frames by nearest neighbour so a
32 px sprite stays crisp at 256 px.

Detection has to be cheap, because it runs on every animate call: a strided
sample of at most 64 K pixels rules out photos and painted grids before any
full-image work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .types import Frame

MAX_COLORS = 256
MAX_BLOCK = 16
SAMPLE = 1 << 16
AUTO_SIDE = 256  # the app scales small sprites up to about this longest side
MP4_MIN_SIDE = 128  # players show tiny videos badly: small sprites are scaled up to this shorter side


@dataclass(frozen=True)
class PixelArt:
    is_pixel_art: bool
    block: int = 1  # image pixels per art pixel (1 when drawn at 1x)
    colors: int = 0  # distinct opaque colours (0 when counting stopped early)


NOT_PIXEL_ART = PixelArt(False)


def _packed(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    k = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    if alpha is not None:
        k = np.where(alpha >= 128, k, np.uint32(1 << 24))  # every transparent pixel is one "colour"
    return k


def _block(key: np.ndarray) -> int:
    """Largest k <= MAX_BLOCK such that colour changes happen only every k pixels, on both axes."""
    best = 1
    cx = np.count_nonzero(key[:, 1:] != key[:, :-1], axis=0)  # changes before column x + 1
    cy = np.count_nonzero(key[1:] != key[:-1], axis=1)
    if cx.sum() == 0 or cy.sum() == 0:
        return 1
    px, py = np.arange(1, key.shape[1]), np.arange(1, key.shape[0])
    for k in range(2, MAX_BLOCK + 1):
        if key.shape[0] < 2 * k or key.shape[1] < 2 * k:
            break
        hx = np.bincount(px % k, weights=cx, minlength=k)
        hy = np.bincount(py % k, weights=cy, minlength=k)
        if hx.max() >= 0.98 * cx.sum() and hy.max() >= 0.98 * cy.sum():
            best = k
    return best


def detect(rgb: Frame, alpha: np.ndarray | None = None) -> PixelArt:
    """Is this grid pixel art, and at what block size?"""
    h, w = rgb.shape[:2]
    for size in (4096, SAMPLE):  # a photo shows hundreds of colours in the first few thousand pixels
        step = max(1, int(np.ceil(np.sqrt(h * w / size))))
        sample = _packed(rgb[::step, ::step], None if alpha is None else alpha[::step, ::step])
        if _distinct_count(sample) > MAX_COLORS + 1:
            return NOT_PIXEL_ART
        if step == 1:
            break
    key = _packed(rgb, alpha)
    colors = np.unique(key)
    n = len(colors) - int(colors[-1] == 1 << 24)
    if n > MAX_COLORS or n < 2:
        return NOT_PIXEL_ART
    if _soft_steps(rgb, alpha) > 0.2:
        return NOT_PIXEL_ART
    return PixelArt(True, _block(key), n)


def _distinct_count(a: np.ndarray) -> int:
    """``len(np.unique(a))``, by sorting: plain ``np.unique`` imports numpy.ma, a cost on every CLI run
    (most grids are not pixel art and stop at this first sample)."""
    s = np.sort(a, axis=None)
    return int(s.size and 1 + np.count_nonzero(s[1:] != s[:-1]))


def _soft_steps(rgb: np.ndarray, alpha: np.ndarray | None) -> float:
    """Share of colour changes between row neighbours that are tiny (<= 8 levels): a photo or gradient.

    Measured: 0 % on the three hand-made sprite sheets (their palette steps are
    30+ levels), 64 % on a 256-grey photograph.
    """
    c = rgb.astype(np.int16)
    d = np.abs(c[:, 1:] - c[:, :-1]).max(axis=2)
    ok = d > 0
    if alpha is not None:
        op = alpha >= 128
        ok &= op[:, 1:] & op[:, :-1]
    n = np.count_nonzero(ok)
    return np.count_nonzero(ok & (d <= 8)) / n if n else 0.0


# --------------------------------------------------------------------------- scaling


def upscale(frames: Sequence[Frame], n: int) -> list[Frame]:
    """Every pixel becomes an ``n x n`` block (nearest neighbour); works for masks too."""
    if n == 1:
        return list(frames)
    return [np.ascontiguousarray(np.repeat(np.repeat(f, n, axis=0), n, axis=1)) for f in frames]


def auto_scale(size: tuple[int, int], target: int = AUTO_SIDE, cap: int = 8) -> int:
    """Whole-number scale that brings a small sprite's longest side near ``target``."""
    return int(max(1, min(cap, target // max(size))))


def mp4_scale(size: tuple[int, int], scale: int, min_side: int = MP4_MIN_SIDE) -> int:
    """The scale for the MP4: at least ``scale``, and enough for a shorter side of ``min_side``."""
    s = max(1, scale)
    while min(size) * s < min_side and s < MAX_BLOCK:
        s += 1
    return s


def shrink(frames: Sequence[Frame], block: int, max_side: int) -> tuple[list[Frame], bool]:
    """Fit ``max_side`` by picking whole source pixels (nearest neighbour): no colour is blended.

    Returns (frames, exact): exact when the factor divides the block size, so
    every art pixel keeps the same size; otherwise some rows and columns of
    art pixels lose one image pixel more than others.
    """
    h, w = frames[0].shape[:2]
    for d in range(2, block + 1):
        if block % d == 0 and max(h, w) == max_side * d:
            return [np.ascontiguousarray(f[::d, ::d]) for f in frames], True
    f = max_side / max(h, w)
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    ys = ((np.arange(nh) + 0.5) * h / nh).astype(np.intp)
    xs = ((np.arange(nw) + 0.5) * w / nw).astype(np.intp)
    return [np.ascontiguousarray(fr[ys][:, xs]) for fr in frames], False


def even_pad(frames: Sequence[Frame], value) -> list[Frame]:
    """Pad the right/bottom by one pixel where a side is odd (H.264 wants even sides), instead of cropping art."""
    h, w = frames[0].shape[:2]
    ph, pw = h % 2, w % 2
    if not (ph or pw):
        return list(frames)
    out = []
    for f in frames:
        g = np.empty((h + ph, w + pw) + f.shape[2:], f.dtype)
        g[...] = value
        g[:h, :w] = f
        out.append(g)
    return out
