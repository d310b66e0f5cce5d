"""Reading images at the edge: path / bytes / PIL / array -> RGB frame + alpha mask.

Everything a user can upload goes through :func:`load_image`, which turns odd
inputs (palette with transparency, LA, 16-bit, CMYK, animated GIF/WebP) into an
``H x W x 3`` uint8 frame plus an optional alpha channel, and refuses hostile
ones (not an image, truncated, empty, 1x1, decompression bombs) with a one-line
:class:`~gridanim.errors.InputError` before using much memory.

Reading the file (Pillow only) is :mod:`gridanim.reading`; this module turns
the decoded image into arrays. Memory: the decoded image (about 4 bytes per
pixel) is the only large allocation: measured peak +345 MB for a 9000x9000 PNG
and +160 MB for a 9000x9000 JPEG, +1 MB for a PNG header claiming 60000x60000.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .errors import InputError
from .reading import (
    DOWNSCALE_PIXELS,
    MAX_PIXELS,
    MIN_SIDE,
    PendingRead,
    ReadImage,
    read_image,
)
from .types import Frame

__all__ = ["DOWNSCALE_PIXELS", "MAX_PIXELS", "LoadedImage", "Source", "flatten", "load_image", "to_png_bytes"]

Source = str | os.PathLike | bytes | bytearray | Image.Image | np.ndarray | PendingRead


@dataclass
class LoadedImage:
    rgb: Frame
    alpha: np.ndarray | None = None  # H x W uint8, None when fully opaque
    notes: list[str] = field(default_factory=list)
    scale: float = 1.0  # source pixels per returned pixel (> 1 when downscaled)
    # the RGB shrunk to layout detection's working size by the reader's thread (see reading.work_size)
    work: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def _to_rgb_alpha(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Convert any Pillow mode to (uint8 RGB, uint8 alpha or None)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im).astype(np.float32)  # float32 is exact for 16-bit values
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        return _grey_to_rgb(arr, 255.0 / top), None
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        top = max(float(arr.max(initial=0)), 1.0)
        return _grey_to_rgb(arr, 255.0 / top), None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode in ("P", "L", "RGB") and "transparency" in im.info)
    if mode == "CMYK":
        im = im.convert("RGB")
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"))
        alpha = rgba[..., 3]
        rgb = np.ascontiguousarray(rgba[..., :3])
        if alpha.min() == 255:
            return rgb, None
        return rgb, np.ascontiguousarray(alpha)
    return np.ascontiguousarray(np.asarray(im if mode == "RGB" else im.convert("RGB"))), None


def _grey_to_rgb(arr: np.ndarray, gain: float) -> np.ndarray:
    arr *= gain
    arr += 0.5
    np.clip(arr, 0, 255, out=arr)
    g = arr.astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def load_image(src: Source, *, downscale_pixels: int = DOWNSCALE_PIXELS) -> LoadedImage:
    """Load any supported grid image (or collect one :func:`~gridanim.reading.read_in_background` started).

    Raises :class:`InputError` with a one-line message for anything unusable.
    """
    if isinstance(src, np.ndarray):
        return _from_array(src)
    read = src.result() if isinstance(src, PendingRead) else read_image(src, downscale_pixels=downscale_pixels)
    return _from_read(read)


def _from_read(read: ReadImage) -> LoadedImage:
    rgb, alpha = _to_rgb_alpha(read.image)
    work = None if read.work is None or alpha is not None else np.asarray(read.work)
    return LoadedImage(rgb=rgb, alpha=alpha, notes=list(read.notes), scale=read.scale, work=work)


def _from_array(arr: np.ndarray) -> LoadedImage:
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"expected an H x W x 3 or 4 image array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        top = 65535.0 if a.max(initial=0) > 255 else (1.0 if a.max(initial=0) <= 1.0 else 255.0)
        arr = np.clip(a / top * 255 + 0.5, 0, 255).astype(np.uint8)
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"the image is only {w}x{h} pixels: a grid needs at least {MIN_SIDE}x{MIN_SIDE}")
    if w * h > MAX_PIXELS:
        raise InputError(f"the image is {w}x{h}, too large to process safely")
    alpha = None
    if arr.shape[2] == 4:
        alpha = np.ascontiguousarray(arr[..., 3])
        if alpha.min() == 255:
            alpha = None
    return LoadedImage(rgb=np.ascontiguousarray(arr[..., :3]), alpha=alpha)


def flatten(img: LoadedImage, background: tuple[int, int, int] = (255, 255, 255)) -> Frame:
    """Composite an image with alpha onto a flat background colour."""
    if img.alpha is None:
        return img.rgb
    a = img.alpha.astype(np.float32)[..., None] / 255.0
    bg = np.asarray(background, dtype=np.float32)
    return (img.rgb.astype(np.float32) * a + bg * (1 - a) + 0.5).astype(np.uint8)


def to_png_bytes(frame: Frame) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="PNG")
    return buf.getvalue()
