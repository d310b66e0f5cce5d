"""Frames -> animation file bytes: GIF, MP4 (H.264), animated WebP and PNG, ZIP of PNGs.

This module is the writing edge of the package. Every encoder takes a list of
``H x W x 3`` uint8 frames, checks them first, and returns the encoded file as
``bytes``; only the CLI and the app write files.

Units: ``durations_ms`` are per-frame milliseconds. GIF stores delays in
centiseconds, so GIF delays are rounded to 10 ms (``frames.frame_timing``
already produces such values). MP4 is constant frame rate: uneven delays are
rendered by repeating frames at a base rate (:func:`mp4_schedule`).

GIF ``quality="high"`` (default): frames whose distinct colours fit in 255
are written losslessly (pixel art, greyscale); otherwise one palette for the
whole animation comes from libimagequant on a subsample of all frames, and
every pixel's colour bin gets its nearest palette colour in a luma-weighted
space (no dithering: libimagequant's dithering lowered SSIM against the true
frames on the flat and photo bench grids and made the files bigger). A frame whose
colours the global palette covers poorly (its hue or light differs from the
others) gets its own palette in a local colour table. Grainy frames get 208
colours, not 255. Pixels unchanged since the previous frame become
transparent when that makes the frame smaller. ``quality="fast"`` uses a
coarser subsample and Pillow's cached remap, one global table.

MP4 runs ffmpeg (the imageio-ffmpeg binary) in a subprocess fed from a
thread; :func:`start_mp4` returns at once so the encode overlaps GIF work.
x264 encodes the loop once and repeats are a stream copy.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import EncodeError, InputError
from .types import Frame

GIF_QUALITIES = ("high", "fast")


# --------------------------------------------------------------------------- checks


def check_frames(frames: Sequence[Frame]) -> tuple[int, int]:
    """Validate a clip (non-empty, same-size uint8 RGB frames); return (h, w)."""
    if len(frames) == 0:
        raise InputError("there are no frames to encode")
    h, w = frames[0].shape[:2]
    for i, f in enumerate(frames):
        if not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise InputError(f"frame {i + 1} is not an H x W x 3 uint8 RGB array")
        if f.shape[:2] != (h, w):
            raise InputError(f"frame {i + 1} is {f.shape[1]}x{f.shape[0]} but frame 1 is {w}x{h}: all frames must be the same size")
    return h, w


def _check_durations(durations_ms: Sequence[int] | int, n: int) -> list[int]:
    if isinstance(durations_ms, (int, float, np.integer, np.floating)):
        durations_ms = [durations_ms] * n
    d = [float(x) for x in durations_ms]
    if len(d) != n:
        raise InputError(f"got {len(d)} durations for {n} frames: give one per frame")
    if any(not math.isfinite(x) or x <= 0 for x in d):
        raise InputError("frame durations must be positive milliseconds")
    return [int(x) for x in d]


# --------------------------------------------------------------------------- GIF


def _rgba(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape[:2] + (4,), np.uint8)
    out[..., :3] = a
    out[..., 3] = 255
    return out


def _mosaic(frames: Sequence[Frame], step: int) -> np.ndarray:
    """Every ``step``-th pixel of every frame, stacked into one image."""
    return np.ascontiguousarray(np.concatenate([f[::step, ::step] for f in frames], axis=0))


def palette_for(frames: Sequence[Frame], colors: int = 255, *, step: int = 2, speed: int = 10) -> np.ndarray:
    """One ``colors x 3`` uint8 palette for all frames (libimagequant on a subsample)."""
    try:
        from imagequant._libimagequant import ffi, lib
    except ImportError:  # pragma: no cover - imagequant is a hard requirement
        return _palette_pillow(frames, colors, step)
    mos = _rgba(_mosaic(frames, step))
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
# SSIM) follows luma detail more than chroma. Measured on the bench grid: SSIM
# 0.990 -> 0.995 for +3 % mean RGB error, same file size.
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


REMAP_BITS = 7  # bits per channel of the remap table: bench SSIM 0.9934 at 7 bits vs 0.9949 exact, 2.5x faster


def _keys(frames: Sequence[Frame], bits: int) -> list[np.ndarray]:
    """Each frame's colours packed at ``bits`` bits per channel."""
    sh = 8 - bits
    return [
        ((f[..., 0] >> sh).astype(np.uint32) << (2 * bits)) | ((f[..., 1] >> sh).astype(np.uint32) << bits) | (f[..., 2] >> sh)
        for f in frames
    ]


def remap_binned(frames: Sequence[Frame], palette: np.ndarray, *, bits: int = REMAP_BITS, keys=None) -> list[np.ndarray]:
    """Map every pixel to the palette entry nearest its colour bin's centre.

    Colours are binned at ``bits`` bits per channel, and each occupied bin is
    looked up once, so the cost follows the number of occupied bins (thousands)
    rather than of distinct colours (hundreds of thousands in a painterly
    grid). No dithering: it costs file size and, measured, SSIM too.
    """
    keys = keys if keys is not None else _keys(frames, bits)
    seen = np.zeros(1 << (3 * bits), np.bool_)
    for k in keys:
        seen[k] = True
    occ = np.flatnonzero(seen)
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


def _edges(index: np.ndarray) -> int:
    """Colour changes along the raster scan: a cheap stand-in for LZW size."""
    flat = index.ravel()
    return int(np.count_nonzero(flat[1:] != flat[:-1]))


def delta_frames(indexed: Sequence[np.ndarray], transparent: int) -> list[np.ndarray]:
    """Replace pixels equal to the previous frame by ``transparent`` where it pays.

    Transparent runs over a still background compress very well, but scattered
    transparent pixels (noisy backgrounds) break LZW runs, so each frame keeps
    whichever version has fewer colour changes along the scan (measured: that
    count follows the LZW size within a few per cent). Consecutive outputs
    always differ, so held frames stay separate frames with their own delays.
    """
    out = [indexed[0]]
    for prev, cur in zip(indexed, indexed[1:]):
        same = cur == prev
        if not same.any():
            out.append(cur)
            continue
        cand = cur.copy()
        cand[same] = transparent
        pick, other = (cand, cur) if _edges(cand) < _edges(cur) else (cur, cand)
        # Pillow merges a frame identical to the one before (adding up delays);
        # a repeated frame is written the other way so the GIF keeps every frame.
        out.append(other if np.array_equal(pick, out[-1]) else pick)
    return out


def _spare_color(palette: np.ndarray) -> np.ndarray:
    """A colour not in ``palette`` (the transparent entry must not duplicate a real one)."""
    used = set(_pack(palette[None]).ravel().tolist())
    for c in range(0xFF00FF, 1 << 24):  # magenta first: easy to spot if a viewer ignores transparency
        if c not in used:
            return _unpack(np.array([c]))[0]
    return np.zeros(3, np.uint8)  # pragma: no cover - 256+ colours cannot be "used"


def _u16(*values: int) -> bytes:
    """GIF numbers: unsigned 16-bit little-endian."""
    return b"".join(int(v).to_bytes(2, "little") for v in values)


def _gif_image_data(a: np.ndarray, code_bits: int) -> bytes:
    """Table-based image data of an index array: LZW minimum code size, sub-blocks, terminator.

    The LZW coding is Pillow's C "gif" encoder (the one its GIF writer uses),
    which already cuts its output into sub-blocks of at most 255 bytes.
    """
    from PIL import Image

    return bytes([code_bits]) + Image.fromarray(np.ascontiguousarray(a)).tobytes("gif", "L", code_bits) + b"\0"


def _color_table(palette: np.ndarray, transparent: int | None) -> tuple[bytes, int]:
    """A GIF colour table (2**bits entries, bits 1..8, zero padded) and its ``bits``.

    The ``transparent`` entry gets a colour not in ``palette``.
    """
    n = len(palette) if transparent is None else max(len(palette), transparent + 1)
    bits = max(1, (n - 1).bit_length())
    table = np.zeros((1 << bits, 3), np.uint8)
    table[: len(palette)] = palette
    if transparent is not None:
        table[transparent] = _spare_color(palette)
    return table.tobytes(), bits


def _write_gif(
    indexed: Sequence[np.ndarray],
    palette: np.ndarray,
    durations: Sequence[int],
    loop: int | None,
    transparent: int | None,
    *,
    local: Sequence[np.ndarray | None] | None = None,
) -> bytes:
    """Write uint8 index frames into ``palette`` as a GIF89a with a global colour table.

    Frame 0 is written whole; later frames only over the box of pixels that
    change what is on screen (disposal 1 keeps the previous picture under
    them). A frame that changes nothing is still written, as one pixel, so it
    keeps its own delay. Pillow only does the LZW coding: its GIF writer
    re-normalised every frame's palette in Python and diffed frames again.
    ``local[k]``, when given and not None, is frame k's own colour table;
    such a frame must not use ``transparent`` (it is written opaque), and it
    and the one after it are written whole, since their indices do not
    compare with the previous ones.
    """
    h, w = indexed[0].shape
    # The LZW minimum code size is the bits per pixel value, but at least 2
    # (GIF rule): fewer colours, shorter codes.
    table, bits = _color_table(palette, transparent)
    code_bits = max(2, bits)
    # header, logical screen (global table flag, 8-bit colour resolution, table size), background 0, square pixels
    out = [b"GIF89a", _u16(w, h), bytes([0xF0 | (bits - 1), 0, 0]), table]
    if loop is not None:  # NETSCAPE2.0 application extension: play count, 0 = forever
        out.append(b"!\xff\x0bNETSCAPE2.0\x03\x01" + _u16(loop) + b"\0")
    # graphic control extension flags: disposal 1 ("do not dispose") in bits 2-4, bit 0 = has transparency
    flags = 1 << 2 | (transparent is not None)
    canvas = indexed[0]  # the picture on screen so far, as palette indices (never written to)
    for k, (a, d) in enumerate(zip(indexed, durations)):
        own = local[k] if local is not None else None
        if k == 0 or own is not None or (local is not None and local[k - 1] is not None):
            y0, y1, x0, x1 = 0, h, 0, w
            canvas = a
        else:
            changed = a != canvas
            if transparent is not None:  # transparent pixels show what is under them
                opaque = a != transparent
                changed &= opaque
                canvas = np.where(opaque, a, canvas)
            else:
                canvas = a
            rows = np.flatnonzero(changed.any(axis=1))
            if len(rows) == 0:
                y0, y1, x0, x1 = 0, 1, 0, 1  # held frame: one pixel that changes nothing
            else:
                cols = np.flatnonzero(changed.any(axis=0))
                y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        # delay in 1/100 s, truncated like Pillow's writer (encode_gif_fit already rounds to 10 ms)
        if own is None:
            out.append(b"!\xf9\x04" + bytes([flags]) + _u16(int(d / 10)) + bytes([transparent or 0, 0]))
        else:  # a frame with its own table is whole and opaque: no transparent entry to pad its table with
            out.append(b"!\xf9\x04" + bytes([1 << 2]) + _u16(int(d / 10)) + bytes([0, 0]))
        if own is None:  # image descriptor: position, size, no local colour table, not interlaced
            out.append(b"," + _u16(x0, y0, x1 - x0, y1 - y0) + b"\0")
            out.append(_gif_image_data(a[y0:y1, x0:x1], code_bits))
        else:  # ... with a local colour table of 2**own_bits entries
            own_table, own_bits = _color_table(own, None)
            out.append(b"," + _u16(x0, y0, x1 - x0, y1 - y0) + bytes([0x80 | (own_bits - 1)]) + own_table)
            out.append(_gif_image_data(a[y0:y1, x0:x1], max(2, own_bits)))
    out.append(b";")  # trailer
    return b"".join(out)


# Few colour bins (clean drawn art, synthetic panels): look every distinct
# colour up exactly instead of its 7-bit bin, and let libimagequant see exact
# colours too (at speed >= 8 it drops their lowest bit), when there are few
# enough. On synthetic cartoon panel grids (400 bins, 1.1-1.3k colours) the
# two 7-bit steps cost SSIM 0.9982-0.9988 against Pillow's per-frame median
# cut's 0.9999; at speed 7 with exact lookups one palette scores 0.99997,
# in the same time. On the bench grids speed 7 changed SSIM by <= 0.0002 and
# took ~50 % longer, so it is kept to this path. The bench grids hold 12k
# (flat) to 85k (photo) bins, the shared AI grids 15k-55k.
EXACT_BINS = 8192
EXACT_COLORS = 32768
EXACT_SPEED = 7

# Grainy frames (photos: sensor noise) fill many colour bins; on them the last
# palette entries mostly spend LZW bits on noise. Measured on the photo bench
# grid (0.060 occupied 7-bit bins per pixel; flat 0.009, painted 0.006, the
# shared AI grids 0.015-0.041): 255 -> 224 -> 208 colours costs SSIM 0.9830 ->
# 0.9810 -> 0.9800 (naive Pillow 0.9672) and saves 4.7 % and 6.7 % of the
# file; 208 leaves room for frames cut with padding (11-15 % more pixels than
# naive's). Only when the caller left ``colors`` at 256.
GRAINY_BINS = 0.05
GRAINY_COLORS = 208

# A frame whose pixels spread over fewer than this share of the global palette
# (effective count: e^entropy of its index histogram) may get a palette of its
# own; it keeps it when that cuts its colour error below LOCAL_GAIN of the
# global palette's. Effective shares measured: 0.70-0.86 on the flat, painted
# and photo bench grids, 0.25 when every frame's hue differs.
LOCAL_SHARE = 0.6
LOCAL_GAIN = 0.75
LOCAL_FINE = 1.0  # mean squared luma-weighted error (luma counted twice) below which a frame keeps the global palette


def _palette_error(frame: Frame, index: np.ndarray, palette: np.ndarray, step: int = 4) -> float:
    """Mean squared luma-weighted distance between a subsample of pixels and their palette colours."""
    px = frame[::step, ::step].reshape(-1, 3).astype(np.float32)
    d = (px - palette[index[::step, ::step].ravel()].astype(np.float32)) @ _METRIC
    return float((d * d).sum(axis=1).mean())


def local_palettes(
    frames: Sequence[Frame], indexed: Sequence[np.ndarray], palette: np.ndarray, colors: int, *, keys=None,
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


def _gif_once(frames: Sequence[Frame], durations: list[int], loop: int | None, quality: str, colors: int) -> bytes:
    # keep one index free for "unchanged since last frame" transparency
    ncol = max(2, min(colors, 255))
    local = None
    if quality == "fast":
        palette = palette_for(frames, ncol, step=4)
        indexed = _remap_pillow(frames, palette)
    else:
        binned = _keys(frames, REMAP_BITS)
        # more occupied bins than palette entries means more colours too: lossy
        seen = np.zeros(1 << (3 * REMAP_BITS), np.bool_)
        for k in binned:
            seen[k] = True
        nbins = int(np.count_nonzero(seen))
        few = nbins <= ncol
        keys, occ = distinct_colors(frames) if nbins <= EXACT_BINS else (None, None)
        if few and len(occ) <= ncol:  # pixel art, greyscale: every colour fits, so the GIF is lossless
            palette = _unpack(occ)
            lut = np.zeros(1 << 24, np.uint8)
            lut[occ] = np.arange(len(occ), dtype=np.uint8)
            indexed = [lut[k] for k in keys]
        else:
            exact = occ is not None and len(occ) <= EXACT_COLORS  # clean drawn art: exact colours are cheap
            # (small clips fill many bins per pixel without being grainy: not on the exact path)
            if not exact and colors == 256 and nbins > GRAINY_BINS * sum(f.shape[0] * f.shape[1] for f in frames):
                ncol = GRAINY_COLORS
            palette = palette_for(frames, ncol, step=2, speed=EXACT_SPEED if exact else 10)
            if exact:
                indexed = remap_exact(frames, palette, distinct=(keys, occ))
            else:
                indexed = remap_binned(frames, palette, keys=binned)
            if len(frames) > 1:
                indexed, local = local_palettes(frames, indexed, palette, ncol, keys=binned, exact=exact)
    transparent = None
    if len(indexed) > 1:
        transparent = len(palette)
        whole = list(indexed)
        indexed = delta_frames(indexed, transparent)
        if local is not None:  # indices under different palettes do not compare: those frames stay whole
            for k in range(1, len(indexed)):
                if local[k] is not None or local[k - 1] is not None:
                    indexed[k] = whole[k]
    return _write_gif(indexed, palette, durations, loop, transparent, local=local)


def encode_gif(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int,
    *,
    loop: int | None = 0,
    quality: str = "high",
    colors: int = 256,
    max_bytes: int | None = None,
    alphas: Sequence[np.ndarray] | None = None,
    matte: tuple[int, int, int] | None = None,
) -> bytes:
    """Encode a GIF and return its bytes.

    ``durations_ms`` is one delay per frame (or one for all), stored in 10 ms
    steps (rounded to the nearest step, at least 10 ms). ``loop=0`` loops
    forever (NETSCAPE2.0 count 0), ``loop=N`` writes count N, ``None`` plays
    once. ``max_bytes`` shrinks colours, then size, until the file fits and
    raises :class:`EncodeError` if even the smallest try does not.
    ``alphas`` (one H x W mask per frame) makes a GIF with 1-bit transparency
    (see :func:`gif_alpha_frames`; ``matte`` is the colour edge pixels are blended onto).
    """
    data, _notes = encode_gif_fit(
        frames, durations_ms, loop=loop, quality=quality, colors=colors, max_bytes=max_bytes, alphas=alphas, matte=matte
    )
    return data


def encode_gif_fit(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int,
    *,
    loop: int | None = 0,
    quality: str = "high",
    colors: int = 256,
    max_bytes: int | None = None,
    alphas: Sequence[np.ndarray] | None = None,
    matte: tuple[int, int, int] | None = None,
) -> tuple[bytes, list[str]]:
    """:func:`encode_gif` that also returns notes on what ``max_bytes`` cost."""
    if alphas is not None:
        return _gif_alpha_fit(frames, durations_ms, alphas, loop=loop, quality=quality, colors=colors, max_bytes=max_bytes, matte=matte)
    h, w = check_frames(frames)
    durations = [max(10, int(round(d / 10.0)) * 10) for d in _check_durations(durations_ms, len(frames))]
    if quality not in GIF_QUALITIES:
        raise InputError(f"unknown GIF quality {quality!r}: use high or fast")
    if not 2 <= colors <= 256:
        raise InputError(f"GIF colours must be between 2 and 256, got {colors}")
    if loop is not None and not 0 <= loop <= 65535:
        raise InputError(f"--loop must be between 0 (forever) and 65535, got {loop}")
    frames = list(frames)
    data = _gif_once(frames, durations, loop, quality, colors)
    if max_bytes is None or len(data) <= max_bytes:
        return data, []
    if max_bytes <= 0:
        raise InputError(f"the GIF size limit must be positive, got {max_bytes} bytes")
    first = len(data)
    # fewer colours first (cheap for the eye), then smaller frames
    for c in (128, 64, 32):
        if c >= colors:
            continue
        data = _gif_once(frames, durations, loop, quality, c)
        if len(data) <= max_bytes:
            return data, [f"GIF reduced to {c} colours to fit {_kb(max_bytes)} (was {_kb(first)})"]
    cur = frames
    c = min(colors, 32)
    while True:
        # LZW size scales roughly with area: aim straight at the target
        f = max(0.5, min(0.9, math.sqrt(max_bytes / len(data)) * 0.95))
        nw, nh = int(cur[0].shape[1] * f), int(cur[0].shape[0] * f)
        if min(nw, nh) < 16:
            raise EncodeError(
                f"cannot fit the GIF in {_kb(max_bytes)}: even {cur[0].shape[1]}x{cur[0].shape[0]} with {c} colours is {_kb(len(data))}; "
                "raise the size limit, drop frames or use MP4"
            )
        from .frames import fit_size

        cur = fit_size(cur, max(nw, nh))
        data = _gif_once(cur, durations, loop, quality, c)
        if len(data) <= max_bytes:
            return data, [
                f"GIF reduced to {c} colours and {cur[0].shape[1]}x{cur[0].shape[0]} pixels to fit {_kb(max_bytes)} (was {_kb(first)} at {w}x{h})"
            ]


def _kb(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 10 * 1024 * 1024 else f"{n / 1048576:.1f} MB"


# --------------------------------------------------------------------------- GIF with alpha
#
# GIF transparency is one palette index: a pixel is shown or not. Frames with
# alpha are written whole (over the box of their visible pixels) with
# disposal 2, "restore to background": each frame is cleared after it shows,
# so a pixel that turns transparent really disappears (the frame-difference
# trick above cannot say "now transparent" and is not used).


def check_alphas(alphas: Sequence[np.ndarray], frames: Sequence[Frame]) -> None:
    if len(alphas) != len(frames):
        raise InputError(f"got {len(alphas)} alpha masks for {len(frames)} frames: give one per frame")
    for i, (a, f) in enumerate(zip(alphas, frames, strict=True)):
        if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.shape != f.shape[:2]:
            raise InputError(f"alpha mask {i + 1} is not an H x W uint8 array the size of its frame")


def gif_alpha_frames(
    frames: Sequence[Frame], alphas: Sequence[np.ndarray], matte: tuple[int, int, int] | None = None
) -> tuple[list[Frame], list[np.ndarray]]:
    """What a 1-bit GIF can show: (colours, opaque masks).

    Pixels with alpha >= 128 are shown. With ``matte`` the semi-transparent
    edge pixels are blended onto that colour first (so an edge looks right on
    a page of that colour); without it they keep their own colour.
    """
    out = []
    for f, a in zip(frames, alphas, strict=True):
        if matte is not None and np.any((a > 0) & (a < 255)):
            af = a.astype(np.float32)[..., None] / 255.0
            f = (f.astype(np.float32) * af + np.asarray(matte, np.float32) * (1.0 - af) + 0.5).astype(np.uint8)
        out.append(f)
    return out, [a >= 128 for a in alphas]


def _gif_alpha_once(frames: Sequence[Frame], shown: Sequence[np.ndarray], durations, loop, quality: str, colors: int) -> bytes:
    ncol = max(2, min(colors, 255))  # one index is "transparent"
    keys = [_pack(f) for f in frames]
    seen = np.zeros(1 << 24, np.bool_)
    for k, m in zip(keys, shown, strict=True):
        seen[k[m]] = True
    occ = np.flatnonzero(seen)
    if len(occ) == 0:
        palette = np.zeros((1, 3), np.uint8)
        indexed = [np.zeros(k.shape, np.uint8) for k in keys]
    elif len(occ) <= ncol:  # every visible colour fits: lossless (pixel art)
        palette = _unpack(occ)
        lut = np.zeros(1 << 24, np.uint8)
        lut[occ] = np.arange(len(occ), dtype=np.uint8)
        indexed = [lut[k] for k in keys]
    else:  # palette from the visible pixels only
        vis = np.concatenate([f[m] for f, m in zip(frames, shown, strict=True)])
        step = max(1, len(vis) // 400_000)
        vis = vis[::step]
        side = 256 if len(vis) >= 256 else len(vis)
        vis = vis[: (len(vis) // side) * side].reshape(-1, side, 3)
        palette = palette_for([vis], ncol, step=1)
        indexed = _remap_pillow(frames, palette) if quality == "fast" else remap_binned(frames, palette)
    t = len(palette)
    for idx, m in zip(indexed, shown, strict=True):
        idx[~m] = t
    return _write_gif_alpha(indexed, shown, palette, durations, loop, t)


def _write_gif_alpha(indexed, shown, palette: np.ndarray, durations, loop: int | None, transparent: int) -> bytes:
    pal = np.vstack([palette, _spare_color(palette)[None]])
    h, w = indexed[0].shape
    bits = max(1, (len(pal) - 1).bit_length())
    code_bits = max(2, bits)
    table = np.zeros((1 << bits, 3), np.uint8)
    table[: len(pal)] = pal
    # background colour index = the transparent one: what disposal 2 restores to
    out = [b"GIF89a", _u16(w, h), bytes([0xF0 | (bits - 1), transparent if transparent < len(table) else 0, 0]), table.tobytes()]
    if loop is not None:
        out.append(b"!\xff\x0bNETSCAPE2.0\x03\x01" + _u16(loop) + b"\0")
    flags = 2 << 2 | 1  # disposal 2 (restore to background), has transparency
    for a, m, d in zip(indexed, shown, durations, strict=True):
        rows = np.flatnonzero(m.any(axis=1))
        if len(rows) == 0:
            y0, y1, x0, x1 = 0, 1, 0, 1  # nothing visible: one transparent pixel keeps the frame and its delay
        else:
            cols = np.flatnonzero(m.any(axis=0))
            y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        out.append(b"!\xf9\x04" + bytes([flags]) + _u16(int(d / 10)) + bytes([transparent, 0]))
        out.append(b"," + _u16(x0, y0, x1 - x0, y1 - y0) + b"\0")
        out.append(_gif_image_data(a[y0:y1, x0:x1], code_bits))
    out.append(b";")
    return b"".join(out)


def _gif_alpha_fit(frames, durations_ms, alphas, *, loop, quality, colors, max_bytes, matte) -> tuple[bytes, list[str]]:
    check_frames(frames)
    check_alphas(alphas, frames)
    durations = [max(10, int(round(d / 10.0)) * 10) for d in _check_durations(durations_ms, len(frames))]
    if quality not in GIF_QUALITIES:
        raise InputError(f"unknown GIF quality {quality!r}: use high or fast")
    if not 2 <= colors <= 256:
        raise InputError(f"GIF colours must be between 2 and 256, got {colors}")
    if loop is not None and not 0 <= loop <= 65535:
        raise InputError(f"--loop must be between 0 (forever) and 65535, got {loop}")
    cols, shown = gif_alpha_frames(frames, alphas, matte)
    data = _gif_alpha_once(cols, shown, durations, loop, quality, colors)
    if max_bytes is None or len(data) <= max_bytes:
        return data, []
    first = len(data)
    for c in (128, 64, 32):
        if c < colors:
            data = _gif_alpha_once(cols, shown, durations, loop, quality, c)
            if len(data) <= max_bytes:
                return data, [f"GIF reduced to {c} colours to fit {_kb(max_bytes)} (was {_kb(first)})"]
    raise EncodeError(
        f"cannot fit the transparent GIF in {_kb(max_bytes)} (32 colours give {_kb(len(data))}): "
        "raise the size limit, use --max-size, drop frames, or use WebP/APNG"
    )


# --------------------------------------------------------------------------- MP4

MP4_MIN_SECONDS = 3.0
# x264 "ultrafast" with its deblocking filter turned back on, at CRF 17: on
# seven grids (AI, photo, pixel art, the bench) SSIM matched or beat "veryfast"
# at CRF 20 (0.9824-0.9986 vs 0.9639-0.9959) in 40-55 % less encode time on
# the larger frames, for files about twice as big (135 KB for the bench's
# 1.5 s loop): an MP4 is still a fraction of the GIF.
MP4_PRESET = "ultrafast"
MP4_CRF = 17
# RGB -> BT.709 limited-range yuv420p, tagged as such. The -color_* output
# options alone left primaries and transfer "unknown" (ffmpeg 9 takes them
# from the frames), so the filter chain sets them on the frames too.
_VF = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
MP4_MAX_FPS = 60.0


def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary: $IMAGEIO_FFMPEG_EXE, imageio-ffmpeg's bundled one, or ffmpeg on PATH.

    The bundled binary is located without running it (imageio-ffmpeg's own
    lookup runs ``ffmpeg -version``, which costs ~0.15 s per process).
    """
    env = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if env:
        return env
    import importlib.util

    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is not None and spec.origin:
        bindir = Path(spec.origin).parent / "binaries"
        if bindir.is_dir():
            for p in sorted(bindir.iterdir()):
                if p.name.startswith("ffmpeg") and p.is_file() and os.access(p, os.X_OK):
                    return str(p)
        try:
            import imageio_ffmpeg

            return imageio_ffmpeg.get_ffmpeg_exe()
        except Exception:
            pass
    import shutil

    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    raise EncodeError("ffmpeg was not found: pip install imageio-ffmpeg, or install ffmpeg and put it on PATH")


def auto_repeat(durations_ms: Sequence[int], min_seconds: float = MP4_MIN_SECONDS, cap: int = 20) -> int:
    """How many times to play a loop so the MP4 lasts at least ``min_seconds``."""
    total = sum(durations_ms) / 1000.0
    if total <= 0:
        return 1
    return int(min(cap, max(1, math.ceil(min_seconds / total - 1e-9))))


def mp4_schedule(durations_ms: Sequence[int]) -> tuple[float, list[int]]:
    """(frame rate, how many times to write each frame) for a constant-rate MP4.

    Equal delays -> one output frame each at 1000/delay fps. Delays that only
    differ by GIF rounding (e.g. 120/130 ms for 8 fps) -> one each at the
    average rate. Otherwise the rate is 1000/gcd(delays) (capped at 60 fps)
    and frames are repeated so every frame starts within half a tick of its
    time.
    """
    d = [int(x) for x in durations_ms]
    if max(d) - min(d) <= 10:
        return 1000.0 * len(d) / sum(d), [1] * len(d)
    g = 0
    for x in d:
        g = math.gcd(g, x)
    fps = min(MP4_MAX_FPS, 1000.0 / g)
    counts, prev, t = [], 0, 0.0
    for x in d:
        t += x
        edge = max(prev + 1, int(round(t * fps / 1000.0)))
        counts.append(edge - prev)
        prev = edge
    return fps, counts


class Mp4Job:
    """An MP4 encode running in the background; :meth:`result` returns the bytes.

    x264 encodes the loop once; ``repeat`` > 1 is then a stream copy with
    ``-stream_loop`` (~15 ms instead of re-encoding every pass). One thread
    feeds the frames, waits for ffmpeg and runs the copy, so all of it overlaps
    the caller's GIF work. Its waits block in ``waitpid``: ``Popen.wait`` with
    a timeout polls with sleeps growing to 50 ms, measured at +15 ms a wait.
    """

    def __init__(self, frames: Sequence[Frame], counts: Sequence[int], fps: float, repeat: int, crf: int, preset: str):
        h, w = frames[0].shape[:2]
        self._w, self._h = w - w % 2, h - h % 2
        if self._w < 2 or self._h < 2:
            raise InputError(f"frames of {w}x{h} are too small for MP4")
        self._tmp = tempfile.TemporaryDirectory(prefix="gridanim-mp4-")
        self._out = os.path.join(self._tmp.name, "out.mp4")
        self._once = self._out if repeat <= 1 else os.path.join(self._tmp.name, "once.mp4")
        self._err = open(os.path.join(self._tmp.name, "ffmpeg.log"), "w+b")
        rate = f"{fps:.6f}".rstrip("0").rstrip(".")
        self._exe = ffmpeg_exe()
        cmd = [
            self._exe, "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{self._w}x{self._h}", "-framerate", rate, "-i", "pipe:0",
            "-an", "-filter_threads", "1", "-vf", _VF,
            "-c:v", "libx264", "-threads", "1", "-preset", preset, "-bf", "0", "-crf", str(crf), "-x264-params", "deblock=0,0",
            "-pix_fmt", "yuv420p",
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
            "-movflags", "+faststart", "-f", "mp4", "-y", self._once,
        ]  # fmt: skip
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._err)
        except OSError as e:
            self._cleanup()
            raise EncodeError(f"could not start ffmpeg ({e}): pip install imageio-ffmpeg or set IMAGEIO_FFMPEG_EXE") from None
        self._frames = [np.ascontiguousarray(f[: self._h, : self._w]) for f in frames]
        self._counts = list(counts)
        self._repeat = repeat
        self._procs = [self._proc]
        self._lock = threading.Lock()  # guards _procs and _stopped between the thread and cancel()
        self._stopped = False
        self._ok = False
        self._rc: int | None = None
        self._thread = threading.Thread(target=self._run, name="gridanim-mp4", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        wrote = True
        try:
            stdin = self._proc.stdin
            assert stdin is not None
            for f, c in zip(self._frames, self._counts):
                buf = memoryview(f).cast("B")
                for _ in range(c):
                    stdin.write(buf)
            stdin.close()
        except (BrokenPipeError, OSError, ValueError):  # ffmpeg died: result() reports its stderr
            wrote = False
        self._rc = self._proc.wait()
        if self._rc != 0 or not wrote or not os.path.exists(self._once):
            return
        if self._once != self._out:
            cmd = [
                self._exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-stream_loop", str(self._repeat - 1),
                "-i", self._once, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-y", self._out,
            ]  # fmt: skip
            with self._lock:
                if self._stopped:
                    return
                try:
                    copy = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._err)
                except OSError:
                    return
                self._procs.append(copy)
            self._rc = copy.wait()
            if self._rc != 0 or not os.path.exists(self._out):
                return
        self._ok = True

    def result(self, timeout: float | None = 300) -> bytes:
        """Wait for ffmpeg and return the MP4 bytes (raises :class:`EncodeError`)."""
        try:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._stop()
                raise EncodeError(f"ffmpeg took longer than {timeout:g} s: try fewer frames or a smaller --max-size")
            if not self._ok:
                self._fail(self._rc)
            with open(self._out, "rb") as fh:
                return fh.read()
        finally:
            self._cleanup()

    def _fail(self, rc) -> None:
        self._err.seek(0)
        msg = " ".join(self._err.read().decode("utf-8", "replace").split())[-300:] or f"exit code {rc}"
        raise EncodeError(f"ffmpeg failed to write the MP4 ({msg}): check the frames, or skip --mp4")

    def _stop(self) -> None:
        """Kill whichever ffmpeg is running and wait for the thread to notice."""
        with self._lock:
            self._stopped = True
            for p in self._procs:
                if p.poll() is None:
                    p.kill()
        self._thread.join(5)

    def cancel(self) -> None:
        """Stop ffmpeg and discard the output."""
        try:
            self._stop()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        try:
            self._err.close()
        except Exception:
            pass
        self._tmp.cleanup()


def start_mp4(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int | None = None,
    *,
    fps: float | None = None,
    repeat: int = 1,
    crf: int = MP4_CRF,
    preset: str = MP4_PRESET,
) -> Mp4Job:
    """Start an H.264 MP4 encode in the background (ffmpeg subprocess); call ``.result()``.

    Give ``durations_ms`` (per frame, or one for all) or ``fps``. The video is
    ``yuv420p``, BT.709, ``+faststart``, cropped by one pixel where a side is
    odd; ``repeat`` plays the sequence that many times (0 = enough for 3 s).
    """
    check_frames(frames)
    if durations_ms is None:
        if fps is None or not math.isfinite(fps) or fps <= 0:
            raise InputError(f"MP4 needs a positive fps or per-frame durations, got fps={fps}")
        rate, counts = float(fps), [1] * len(frames)
        durations = [1000.0 / fps] * len(frames)
    else:
        durations = _check_durations(durations_ms, len(frames))
        rate, counts = mp4_schedule(durations)
    if repeat is None or repeat == 0:
        repeat = auto_repeat(durations)
    if repeat < 0:
        raise InputError(f"--mp4-repeat must be 0 (auto) or more, got {repeat}")
    return Mp4Job(frames, counts, rate, int(repeat), crf, preset)


def encode_mp4(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int | None = None,
    *,
    fps: float | None = None,
    repeat: int = 1,
    crf: int = MP4_CRF,
    preset: str = MP4_PRESET,
) -> bytes:
    """Encode an H.264 MP4 and return its bytes (see :func:`start_mp4`)."""
    return start_mp4(frames, durations_ms, fps=fps, repeat=repeat, crf=crf, preset=preset).result()


# --------------------------------------------------------------------------- WebP / ZIP


def encode_webp(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int,
    loop: int = 0,
    quality: int = 80,
    *,
    alphas: Sequence[np.ndarray] | None = None,
    lossless: bool = False,
) -> bytes:
    """Animated WebP (lossy, ``quality`` 0-100) via Pillow; delays in ms (not rounded).

    ``alphas`` adds full 8-bit transparency; ``lossless`` keeps every pixel (pixel art).
    """
    check_frames(frames)
    durations = _check_durations(durations_ms, len(frames))
    if not 0 <= quality <= 100:
        raise InputError(f"WebP quality must be 0-100, got {quality}")
    ims = _pil_frames(frames, alphas)
    buf = io.BytesIO()
    extra = {"lossless": True, "quality": 100, "method": 4} if lossless else {"quality": quality, "method": 4}
    try:
        ims[0].save(buf, "WEBP", save_all=True, append_images=ims[1:], duration=durations, loop=loop, **extra)
    except (OSError, ValueError) as e:
        raise EncodeError(f"WebP encoding failed ({e}): try GIF or MP4 instead") from None
    return buf.getvalue()


def _pil_frames(frames: Sequence[Frame], alphas: Sequence[np.ndarray] | None):
    from PIL import Image

    if alphas is None:
        return [Image.fromarray(f) for f in frames]
    check_alphas(alphas, frames)
    return [Image.fromarray(np.dstack([f, a])) for f, a in zip(frames, alphas, strict=True)]


def encode_apng(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int,
    *,
    loop: int = 0,
    alphas: Sequence[np.ndarray] | None = None,
) -> bytes:
    """Animated PNG via Pillow: lossless, full 8-bit alpha, delays in ms.

    Each frame is stored over the box where it differs from the one before
    and replaces those pixels (blend "source"), so a pixel can turn
    transparent. Every frame is kept, held ones too: Pillow would fold a
    frame identical to the one before into it, unless that one is disposed
    to transparent, so such a frame is (a frame sheet stays countable).
    """
    from PIL import PngImagePlugin

    check_frames(frames)
    durations = _check_durations(durations_ms, len(frames))
    ims = _pil_frames(frames, alphas)
    none, clear = PngImagePlugin.Disposal.OP_NONE, PngImagePlugin.Disposal.OP_BACKGROUND
    disposal = [none] * len(frames)
    for k in range(1, len(frames)):
        if np.array_equal(frames[k], frames[k - 1]) and (alphas is None or np.array_equal(alphas[k], alphas[k - 1])):
            disposal[k - 1] = clear
    buf = io.BytesIO()
    try:
        ims[0].save(
            buf, "PNG", save_all=True, append_images=ims[1:], duration=durations, loop=loop,
            disposal=disposal, blend=PngImagePlugin.Blend.OP_SOURCE, compress_level=4,
        )  # fmt: skip
    except (OSError, ValueError) as e:
        raise EncodeError(f"APNG encoding failed ({e}): try GIF or WebP instead") from None
    return buf.getvalue()


def encode_zip(frames: Sequence[Frame], prefix: str = "frame", *, alphas: Sequence[np.ndarray] | None = None) -> bytes:
    """A ZIP with one PNG per frame: ``frame_001.png``, ``frame_002.png``, ... (RGBA with ``alphas``)."""
    import zipfile

    from PIL import Image

    check_frames(frames)
    digits = max(3, len(str(len(frames))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for i, f in enumerate(frames, 1):
            png = io.BytesIO()
            Image.fromarray(f if alphas is None else np.dstack([f, alphas[i - 1]])).save(png, "PNG", compress_level=3)  # 6 is 5x slower on noisy AI frames for 10 % less
            z.writestr(f"{prefix}_{i:0{digits}d}.png", png.getvalue())
    return buf.getvalue()
