"""GIF: the container written here (Pillow only LZW-codes each frame), opaque and 1-bit-alpha animations.

GIF ``quality="high"`` (default): frames whose distinct colours fit in 255 are written losslessly (pixel art,
greyscale); otherwise one palette for the whole animation (:mod:`.palette`), local palettes where it serves a
frame badly. Pixels unchanged since the previous frame become transparent when that makes the frame smaller.
``quality="fast"`` uses a coarser subsample and Pillow's cached remap. GIF stores delays in centiseconds, so
delays are 10 ms multiples (``frames.frame_timing`` already produces such values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import EncodeError, InputError
from ..parallel import both
from ..types import Frame
from ..units import human_bytes
from .common import GIF_QUALITIES, _check_durations, check_alphas, check_frames
from .palette import (
    EXACT_BINS,
    EXACT_COLORS,
    EXACT_SPEED,
    GRAINY_BINS,
    GRAINY_COLORS,
    REMAP_BITS,
    _keys,
    _pack,
    _remap_pillow,
    _unpack,
    distinct_colors,
    local_palettes,
    occupied_bins,
    palette_for,
    palette_step,
    remap_binned,
    remap_exact,
)


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
    clear = np.uint8(transparent)
    for prev, cur in zip(indexed, indexed[1:], strict=False):
        same = cur == prev
        if not same.any():
            out.append(cur)
            continue
        cand = np.where(same, clear, cur)
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
    for k, (a, d) in enumerate(zip(indexed, durations, strict=False)):
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


def _gif_once(frames: Sequence[Frame], durations: list[int], loop: int | None, quality: str, colors: int) -> bytes:
    # keep one index free for "unchanged since last frame" transparency
    ncol = max(2, min(colors, 255))
    local = None
    if quality == "fast":
        palette = palette_for(frames, ncol, step=4)
        indexed = _remap_pillow(frames, palette)
    else:
        step, guess_ncol = palette_step(frames), ncol
        # the palette of the usual case (many colours, not grainy) is made on another thread while
        # the colours are binned; it is thrown away where that case turns out not to hold
        guess, (binned, seen) = both(
            lambda: palette_for(frames, guess_ncol, step=step, speed=10),
            lambda: (lambda b: (b, occupied_bins(b)))(_keys(frames, REMAP_BITS)),
        )
        # more occupied bins than palette entries means more colours too: lossy
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
            palette = guess
            if exact or ncol != guess_ncol:
                palette = palette_for(frames, ncol, step=step, speed=EXACT_SPEED if exact else 10)
            if exact:
                indexed = remap_exact(frames, palette, distinct=(keys, occ))
            else:
                indexed = remap_binned(frames, palette, keys=binned, occupied=seen)
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
        return _gif_alpha_fit(
            frames, durations_ms, alphas, loop=loop, quality=quality, colors=colors, max_bytes=max_bytes, matte=matte
        )
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
            return data, [f"GIF reduced to {c} colours to fit {human_bytes(max_bytes)} (was {human_bytes(first)})"]
    cur = frames
    c = min(colors, 32)
    while True:
        # LZW size scales roughly with area: aim straight at the target
        f = max(0.5, min(0.9, math.sqrt(max_bytes / len(data)) * 0.95))
        nw, nh = int(cur[0].shape[1] * f), int(cur[0].shape[0] * f)
        if min(nw, nh) < 16:
            raise EncodeError(
                f"cannot fit the GIF in {human_bytes(max_bytes)}: even {cur[0].shape[1]}x{cur[0].shape[0]} with {c} colours is {human_bytes(len(data))}; "
                "raise the size limit, drop frames or use MP4"
            )
        from ..frames import fit_size

        cur = fit_size(cur, max(nw, nh))
        data = _gif_once(cur, durations, loop, quality, c)
        if len(data) <= max_bytes:
            return data, [
                f"GIF reduced to {c} colours and {cur[0].shape[1]}x{cur[0].shape[0]} pixels to fit {human_bytes(max_bytes)} (was {human_bytes(first)} at {w}x{h})"
            ]


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


def _gif_alpha_once(
    frames: Sequence[Frame], shown: Sequence[np.ndarray], durations, loop, quality: str, colors: int
) -> bytes:
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
    out = [
        b"GIF89a",
        _u16(w, h),
        bytes([0xF0 | (bits - 1), transparent if transparent < len(table) else 0, 0]),
        table.tobytes(),
    ]
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
                return data, [f"GIF reduced to {c} colours to fit {human_bytes(max_bytes)} (was {human_bytes(first)})"]
    raise EncodeError(
        f"cannot fit the transparent GIF in {human_bytes(max_bytes)} (32 colours give {human_bytes(len(data))}): "
        "raise the size limit, use --max-size, drop frames, or use WebP/APNG"
    )
