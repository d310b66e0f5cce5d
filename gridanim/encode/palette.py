"""GIF colour quantisation: palettes (libimagequant), the remap of every pixel to them, and local palettes.

No dithering: libimagequant's dithering lowered SSIM against the true frames on the flat and photo bench
grids and made the files bigger. A frame whose colours the global palette covers poorly gets its own palette
(a local colour table); grainy frames get fewer colours, whose entries otherwise spend LZW bits on noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..types import Frame


def _mosaic(frames: Sequence[Frame], step: int, channels: int = 3) -> np.ndarray:
    """Every ``step``-th pixel of every frame, stacked into one image; ``channels=4`` adds opaque alpha."""
    parts = [f[::step, ::step] for f in frames]
    out = np.empty((sum(p.shape[0] for p in parts), parts[0].shape[1], channels), np.uint8)
    if channels == 4:
        out[..., 3] = 255
    y = 0
    for p in parts:
        out[y : y + len(p), :, :3] = p
        y += len(p)
    return out


PALETTE_SAMPLES = 200_000  # about this many pixels (at least every other one) are enough for one palette


def palette_step(frames: Sequence[Frame]) -> int:
    """Subsampling step for the animation's palette: every 2nd pixel, sparser when there are millions."""
    total = sum(f.shape[0] * f.shape[1] for f in frames)
    return min(4, max(2, math.ceil(math.sqrt(total / PALETTE_SAMPLES))))


def palette_for(frames: Sequence[Frame], colors: int = 255, *, step: int = 2, speed: int = 10) -> np.ndarray:
    """One ``colors x 3`` uint8 palette for all frames (libimagequant on a subsample)."""
    try:
        from imagequant._libimagequant import ffi, lib
    except ImportError:  # pragma: no cover - imagequant is a hard requirement
        return _palette_pillow(frames, colors, step)
    mos = _mosaic(frames, step, channels=4)
    h, w = mos.shape[:2]
    attr = lib.liq_attr_create()
    img = res = None
    try:
        lib.liq_set_speed(attr, speed)
        lib.liq_set_max_colors(attr, colors)
        img = lib.liq_image_create_rgba(attr, ffi.from_buffer(mos), w, h, 0)
        res = ffi.new("liq_result**")
        if lib.liq_image_quantize(img, attr, res) != lib.LIQ_OK:
            return _palette_pillow(frames, colors, step)
        pal = lib.liq_get_palette(res[0])
        p = np.array([(e.r, e.g, e.b) for e in pal.entries[0 : pal.count]], np.uint8).reshape(-1, 3)
    finally:
        if res is not None and res[0] != ffi.NULL:
            lib.liq_result_destroy(res[0])
        if img is not None:
            lib.liq_image_destroy(img)
        lib.liq_attr_destroy(attr)
    return p


def _palette_pillow(frames: Sequence[Frame], colors: int, step: int) -> np.ndarray:
    from PIL import Image

    q = Image.fromarray(_mosaic(frames, step)).quantize(colors, method=Image.Quantize.FASTOCTREE)
    pal = np.frombuffer(bytes(q.getpalette()), np.uint8).reshape(-1, 3)
    used = np.unique(np.asarray(q))
    return pal[used]


def _pack(f: Frame) -> np.ndarray:
    return (f[..., 0].astype(np.uint32) << 16) | (f[..., 1].astype(np.uint32) << 8) | f[..., 2]


# Nearest-colour search runs in YCbCr with luma counted twice: the eye (and
# SSIM) follows luma detail more than chroma (on the bench grid: higher SSIM for
# a little more mean RGB error, same file size).
_METRIC = np.array(
    [[0.299 * 2, 0.587 * 2, 0.114 * 2], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32
).T


def _nearest(colors: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette entry (luma-weighted YCbCr distance) for each RGB row."""
    pal = palette.astype(np.float32) @ _METRIC
    pn = (pal * pal).sum(axis=1)
    pt = np.ascontiguousarray(-2.0 * pal.T)
    out = np.empty(len(colors), np.uint8)
    for s in range(0, len(colors), 512):  # 0.5 MB of distances: stays in L2, and OpenBLAS on one thread
        d = (colors[s : s + 512].astype(np.float32) @ _METRIC) @ pt
        d += pn
        out[s : s + 512] = d.argmin(axis=1)
    return out


def distinct_colors(frames: Sequence[Frame]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each frame as packed 24-bit colours, and the sorted distinct colours of all frames."""
    keys = [_pack(f) for f in frames]
    seen = np.zeros(1 << 24, np.bool_)  # 16 MB; sorting 1.5 M keys costs 3x more
    for k in keys:
        seen[k] = True
    return keys, np.flatnonzero(seen)


def _unpack(packed: np.ndarray) -> np.ndarray:
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1).astype(np.uint8)


REMAP_BITS = 7  # bits per channel of the remap table: a little SSIM for a much faster remap than exact lookups


def _keys(frames: Sequence[Frame], bits: int) -> list[np.ndarray]:
    """Each frame's colours packed at ``bits`` bits per channel.

    The channels are shifted down in one uint8 pass, then packed into one uint32 array in place
    (no temporary per channel).
    """
    sh = 8 - bits
    out = []
    for f in frames:
        q = f >> sh
        k = q[..., 0].astype(np.uint32)
        k <<= bits
        k |= q[..., 1]
        k <<= bits
        k |= q[..., 2]
        out.append(k)
    return out


def occupied_bins(keys: Sequence[np.ndarray], bits: int = REMAP_BITS) -> np.ndarray:
    """A bool table over every colour bin: True where some pixel's key (:func:`_keys`) falls."""
    seen = np.zeros(1 << (3 * bits), np.bool_)
    for k in keys:
        seen[k] = True
    return seen


def remap_binned(
    frames: Sequence[Frame], palette: np.ndarray, *, bits: int = REMAP_BITS, keys=None, occupied=None
) -> list[np.ndarray]:
    """Map every pixel to the palette entry nearest its colour bin's centre.

    Colours are binned at ``bits`` bits per channel, and each occupied bin is
    looked up once, so the cost follows the number of occupied bins (thousands)
    rather than of distinct colours (hundreds of thousands in a painterly
    grid). No dithering: it costs file size and, measured, SSIM too.
    ``occupied`` is :func:`occupied_bins` of ``keys``, when the caller has it.
    """
    keys = keys if keys is not None else _keys(frames, bits)
    occ = np.flatnonzero(occupied if occupied is not None else occupied_bins(keys, bits))
    m, sh = (1 << bits) - 1, 8 - bits
    # the bins' true centres, not rounded to a whole value: rounding moves pure black to (1, 1, 1), which
    # then maps to a dark grey, and SSIM punishes offsets in dark flat areas hard (its luminance term)
    centres = np.stack([(occ >> (2 * bits)) & m, (occ >> bits) & m, occ & m], axis=1).astype(np.float32)
    centres = centres * (1 << sh) + ((1 << sh) - 1) / 2
    lut = np.zeros(1 << (3 * bits), np.uint8)
    lut[occ] = _nearest(centres, palette)
    return [lut[k] for k in keys]


def remap_exact(frames: Sequence[Frame], palette: np.ndarray, *, distinct=None) -> list[np.ndarray]:
    """Map every pixel to the index of its nearest palette colour (exact search, no dithering).

    Each distinct colour is looked up once (a 16 M entry table), so the cost
    follows the number of distinct colours, not pixels.
    """
    keys, occ = distinct or distinct_colors(frames)
    lut = np.zeros(1 << 24, np.uint8)
    lut[occ] = _nearest(_unpack(occ), palette)
    return [lut[k] for k in keys]


def _remap_pillow(frames: Sequence[Frame], palette: np.ndarray) -> list[np.ndarray]:
    """Pillow's cached nearest-colour remap (approximate, fast); indices stay < len(palette)."""
    from PIL import Image

    n = len(palette)
    pp = np.empty((256, 3), np.uint8)
    pp[:n] = palette
    pp[n:] = palette[0]  # padding duplicates entry 0, so a pixel matched to it is sent back to 0
    pim = Image.new("P", (1, 1))
    pim.putpalette(pp.tobytes())
    out = []
    for f in frames:
        idx = np.asarray(Image.fromarray(f).quantize(palette=pim, dither=Image.Dither.NONE))
        out.append(np.where(idx >= n, np.uint8(0), idx) if n < 256 else idx)
    return out


# Few colour bins (clean drawn art, synthetic panels): look every distinct
# colour up exactly instead of its 7-bit bin, and let libimagequant see exact
# colours too (at speed >= 8 it drops their lowest bit), when there are few
# enough. On synthetic cartoon panel grids (a few hundred bins) the two 7-bit
# steps fell short of Pillow's per-frame median cut, which exact lookups at
# speed 7 match in the same time; on the bench grids (tens of thousands of bins,
# like the shared AI grids) speed 7 barely changed SSIM and took longer, so it
# is kept to this path.
EXACT_BINS = 8192


EXACT_COLORS = 32768


EXACT_SPEED = 7


# Grainy frames (photos: sensor noise) fill many colour bins (the photo bench
# grid several times more per pixel than the flat, painted and shared AI grids);
# on them the last palette entries mostly spend LZW bits on noise, so fewer
# colours cost little SSIM and save some of the file, room for frames cut with
# padding (bigger than naive's). Only when the caller left ``colors`` at 256.
GRAINY_BINS = 0.05


GRAINY_COLORS = 208


# A frame whose pixels spread over fewer than this share of the global palette
# (effective count: e^entropy of its index histogram) may get a palette of its
# own; it keeps it when that cuts its colour error below LOCAL_GAIN of the
# global palette's. The bench grids' frames use most of the palette each; a grid
# whose frames each have their own hue uses a small share.
LOCAL_SHARE = 0.6


LOCAL_GAIN = 0.75


LOCAL_FINE = 1.0  # mean squared luma-weighted error (luma counted twice) below which a frame keeps the global palette


def _palette_error(frame: Frame, index: np.ndarray, palette: np.ndarray, step: int = 4) -> float:
    """Mean squared luma-weighted distance between a subsample of pixels and their palette colours."""
    px = frame[::step, ::step].reshape(-1, 3).astype(np.float32)
    d = (px - palette[index[::step, ::step].ravel()].astype(np.float32)) @ _METRIC
    return float((d * d).sum(axis=1).mean())


def local_palettes(
    frames: Sequence[Frame],
    indexed: Sequence[np.ndarray],
    palette: np.ndarray,
    colors: int,
    *,
    keys=None,
    exact: bool = False,
) -> tuple[list[np.ndarray], list[np.ndarray | None] | None]:
    """Give frames that one global ``palette`` serves badly a palette of their own.

    Returns the index frames (some remapped to their own palette) and, per
    frame, its own palette or None (None for all: one global palette is enough).
    ``exact`` (few colours: clean drawn art) tries every frame and remaps exactly.
    """
    keys = keys if keys is not None else _keys(frames, REMAP_BITS)
    out, local = list(indexed), [None] * len(frames)
    for k, (f, idx) in enumerate(zip(frames, indexed, strict=True)):
        p = np.bincount(idx.ravel(), minlength=len(palette)) / idx.size
        p = p[p > 0]
        if not exact and math.exp(-float((p * np.log(p)).sum())) >= LOCAL_SHARE * colors:
            continue
        if exact and _palette_error(f, idx, palette) < LOCAL_FINE:  # already within a step of grey: keep it
            continue
        if exact:
            u, inv = np.unique(_pack(f).ravel(), return_inverse=True)
            if len(u) <= colors:  # the frame's own colours fit: lossless
                if _palette_error(f, idx, palette) > 0:
                    out[k], local[k] = inv.reshape(f.shape[:2]).astype(np.uint8), _unpack(u)
                continue
        own = palette_for([f], colors, step=2, speed=EXACT_SPEED if exact else 10)
        own_idx = remap_exact([f], own)[0] if exact else remap_binned([f], own, keys=[keys[k]])[0]
        if _palette_error(f, own_idx, own) < LOCAL_GAIN * _palette_error(f, idx, palette):
            out[k], local[k] = own_idx, own
    return out, (local if any(p is not None for p in local) else None)
