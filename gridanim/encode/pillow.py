"""The formats Pillow writes for us: animated WebP and APNG (full 8-bit alpha), and a ZIP of PNG frames."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from ..errors import EncodeError, InputError
from ..types import Frame
from .common import _check_durations, check_alphas, check_frames


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
            Image.fromarray(f if alphas is None else np.dstack([f, alphas[i - 1]])).save(
                png, "PNG", compress_level=3
            )  # 6 is 5x slower on noisy AI frames for 10 % less
            z.writestr(f"{prefix}_{i:0{digits}d}.png", png.getvalue())
    return buf.getvalue()
