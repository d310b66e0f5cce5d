"""Reading images at the edge: path / bytes / PIL / array -> RGB frame + alpha mask.

Everything a user can upload goes through :func:`load_image`, which turns odd
inputs (palette with transparency, LA, 16-bit, CMYK, animated GIF/WebP) into an
``H x W x 3`` uint8 frame plus an optional alpha channel, and refuses hostile
ones (not an image, truncated, empty, 1x1, decompression bombs) with a one-line
:class:`~gridanim.errors.InputError` before using much memory.

Memory: a header claiming more than :data:`MAX_PIXELS` is refused before any
pixel is decoded. Anything bigger than :data:`DOWNSCALE_PIXELS` is shrunk by
an integer factor inside Pillow straight after decoding (JPEGs are even decoded
at 1/2-1/8 scale), one such image at a time per process, so the decoded image
(about 4 bytes per pixel) is the only large allocation: measured peak +345 MB
for a 9000x9000 PNG and +160 MB for a 9000x9000 JPEG, +1 MB for a PNG header
claiming 60000x60000.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputError
from .types import Frame

# Pixels we refuse outright (a PNG header can claim 60000x60000 in 100 bytes);
# 100 MP lets a 10000x10000 image through to be downscaled.
MAX_PIXELS = 100_000_000
# Pixels above which a valid image is downscaled before any work.
DOWNSCALE_PIXELS = 16_000_000
MIN_SIDE = 8
# Only one image above DOWNSCALE_PIXELS is decoded at full size at a time, so
# however many visitors upload huge images at once, one ~400 MB buffer is the peak.
_HUGE = threading.BoundedSemaphore(1)

Source = Union[str, os.PathLike, bytes, bytearray, Image.Image, np.ndarray]


@dataclass
class LoadedImage:
    rgb: Frame
    alpha: np.ndarray | None = None  # H x W uint8, None when fully opaque
    notes: list[str] = field(default_factory=list)
    scale: float = 1.0  # source pixels per returned pixel (> 1 when downscaled)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def _open(src: Source) -> Image.Image:
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, (bytes, bytearray)):
        if not src:
            raise InputError("the file is empty: upload a PNG, JPEG or WebP grid image")
        fp: object = io.BytesIO(bytes(src))
        name = "the file"
    else:
        path = Path(src)
        name = path.name
        if not path.exists():
            raise InputError(f"no such file: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a folder, not an image file")
        if path.stat().st_size == 0:
            raise InputError(f"{name} is empty (0 bytes): upload a PNG, JPEG or WebP grid image")
        fp = str(path)
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 MP and refuses from 179 MP; _check_size draws our line at MAX_PIXELS.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fp)  # reads the header only
    except Image.DecompressionBombError as e:
        m = re.search(r"\((\d+) pixels\)", str(e))
        claim = f" {int(m.group(1)) // 1_000_000} megapixels," if m else ""
        raise InputError(
            f"{name} claims to be{claim} too large to open safely (a decompression bomb?): "
            f"use an image under {MAX_PIXELS // 1_000_000} megapixels"
        ) from None
    except UnidentifiedImageError:
        raise InputError(f"{name} is not an image Pillow can read: upload a PNG, JPEG or WebP grid") from None
    except OSError as e:
        raise InputError(f"{name} could not be read ({e}): upload a PNG, JPEG or WebP grid") from None
    return im


def _check_size(im: Image.Image, name: str = "the image") -> None:
    w, h = im.size
    if w * h > MAX_PIXELS:
        raise InputError(
            f"{name} is {w}x{h} ({w * h / 1e6:.0f} megapixels), too large to process safely: "
            f"use an image under {MAX_PIXELS // 1_000_000} megapixels"
        )
    if min(w, h) < MIN_SIDE:
        raise InputError(f"{name} is only {w}x{h} pixels: a grid needs at least {MIN_SIDE}x{MIN_SIDE}")


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
    return np.ascontiguousarray(np.asarray(im.convert("RGB"))), None


def _grey_to_rgb(arr: np.ndarray, gain: float) -> np.ndarray:
    arr *= gain
    arr += 0.5
    np.clip(arr, 0, 255, out=arr)
    g = arr.astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def _shrink(im: Image.Image, limit: int) -> Image.Image:
    """Shrink a decoded image to at most ``limit`` pixels by an integer factor, inside Pillow.

    ``reduce`` averages k x k blocks (an exact area downscale) into a new image
    k^2 times smaller, so no full-size intermediate or numpy copy is made.
    """
    w, h = im.size
    if w * h <= limit:
        return im
    if im.mode in ("P", "PA", "1"):  # averaging palette indices would be nonsense
        im = im.convert("RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
    k = math.ceil((w * h / limit) ** 0.5)
    try:
        return im.reduce(k)
    except ValueError:  # modes reduce() lacks (16-bit): resample instead
        return im.resize((max(1, w // k), max(1, h // k)), Image.Resampling.LANCZOS, reducing_gap=2.0)


def _damaged(name: str, e: BaseException) -> InputError:
    return InputError(f"{name} is damaged or truncated ({' '.join(str(e).split()) or type(e).__name__}): re-export or re-download it")


def _decode(im: Image.Image, name: str, limit: int) -> Image.Image:
    """Decode the pixels (JPEGs at 1/2-1/8 scale when big), apply EXIF rotation, shrink to ``limit``."""
    w, h = im.size
    if w * h > limit and im.format == "JPEG":
        factor = (w * h / limit) ** 0.5
        im.draft("RGB", (int(w / factor), int(h / factor)))
    try:
        im.load()
    except Exception as e:  # truncated files raise OSError / SyntaxError / ValueError
        raise _damaged(name, e) from None
    try:
        im = ImageOps.exif_transpose(im) if im.format == "JPEG" else im
    except Exception:
        pass
    return _shrink(im, limit)


def load_image(src: Source, *, downscale_pixels: int = DOWNSCALE_PIXELS) -> LoadedImage:
    """Load any supported grid image.

    Raises :class:`InputError` with a one-line message for anything unusable.
    """
    if isinstance(src, np.ndarray):
        return _from_array(src)
    im = _open(src)
    name = Path(src).name if isinstance(src, (str, os.PathLike)) else "the image"
    _check_size(im, name)
    notes: list[str] = []
    try:
        n_frames = getattr(im, "n_frames", 1)
    except Exception as e:  # counting frames reads the whole file: a cut-off GIF fails here
        raise _damaged(name, e) from None
    if n_frames > 1:
        notes.append(f"{name} is animated ({n_frames} frames): only its first frame is used as the grid")
        im.seek(0)
    w, h = im.size
    scale = 1.0
    with _HUGE if w * h > downscale_pixels else contextlib.nullcontext():
        im = _decode(im, name, downscale_pixels)
    rgb, alpha = _to_rgb_alpha(im)
    fw, fh = im.size
    if fw * fh < w * h:  # drafted and/or shrunk (an EXIF rotation alone swaps w and h)
        scale = max(w, h) / max(fw, fh)
        notes.append(f"{name} is {w}x{h}: downscaled to {rgb.shape[1]}x{rgb.shape[0]} for processing")
    return LoadedImage(rgb=rgb, alpha=alpha, notes=notes, scale=scale)


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
