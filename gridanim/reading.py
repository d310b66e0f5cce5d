"""Reading image files with Pillow only: open, check, decode, shrink.

This is the first stage of :func:`gridanim.images.load_image`, kept free of
numpy so the CLI can start decoding a grid in a background thread while numpy
and the rest of the package are still being imported (Pillow's decoders
release the GIL): :func:`read_in_background`.

Hostile input (not an image, truncated, empty, tiny, decompression bombs) is
refused with a one-line :class:`~gridanim.errors.InputError` before much
memory is used: a header claiming more than :data:`MAX_PIXELS` is refused
before any pixel is decoded, and anything bigger than
:data:`DOWNSCALE_PIXELS` is shrunk by an integer factor inside Pillow straight
after decoding (JPEGs are even decoded at 1/2-1/8 scale), one such image at a
time per process.
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

from PIL import Image, UnidentifiedImageError

from .errors import InputError

# Pixels we refuse outright (a PNG header can claim 60000x60000 in 100 bytes);
# 100 MP lets a 10000x10000 image through to be downscaled.
MAX_PIXELS = 100_000_000
# Pixels above which a valid image is downscaled before any work.
DOWNSCALE_PIXELS = 16_000_000
MIN_SIDE = 8
# Only one image above DOWNSCALE_PIXELS is decoded at full size at a time, so
# however many visitors upload huge images at once, one ~400 MB buffer is the peak.
_HUGE = threading.BoundedSemaphore(1)

# Layout detection works on an image of at most this many pixels (gridanim.layout.evidence); the
# reader can make that copy in its thread, inside Pillow, while numpy is still importing.
WORK_MAX_PIXELS = 640_000

FileSource = str | os.PathLike | bytes | bytearray | Image.Image


def work_size(w: int, h: int) -> tuple[int, int] | None:
    """The (w, h) layout detection shrinks a ``w`` x ``h`` image to, or None when it works at full size."""
    if w * h <= WORK_MAX_PIXELS:
        return None
    scale = (h * w / WORK_MAX_PIXELS) ** 0.5
    return max(1, round(w / scale)), max(1, round(h / scale))


@dataclass
class ReadImage:
    """A decoded Pillow image (any mode), with notes for the user."""

    image: Image.Image
    notes: list[str] = field(default_factory=list)
    scale: float = 1.0  # source pixels per decoded pixel (> 1 when downscaled)
    work: Image.Image | None = None  # an RGB image shrunk to work_size() (BOX), when asked for and made


def _open(src: FileSource) -> Image.Image:
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
        im = _open_png(fp)
        if im is None:
            with warnings.catch_warnings():
                # Pillow warns from 89 MP and refuses from 179 MP; _check_size draws our line at MAX_PIXELS.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im = Image.open(fp)  # reads the header only
    except Image.DecompressionBombError as e:
        m = re.search(r"\((\d+) pixels\)", str(e))
        raise _bomb(name, int(m.group(1)) if m else None) from None
    except UnidentifiedImageError:
        raise InputError(f"{name} is not an image Pillow can read: upload a PNG, JPEG or WebP grid") from None
    except OSError as e:
        raise InputError(f"{name} could not be read ({e}): upload a PNG, JPEG or WebP grid") from None
    return im


def _bomb(name: str, pixels: int | None) -> InputError:
    claim = f" {pixels // 1_000_000} megapixels," if pixels else ""
    return InputError(
        f"{name} claims to be{claim} too large to open safely (a decompression bomb?): "
        f"use an image under {MAX_PIXELS // 1_000_000} megapixels"
    )


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _open_png(fp) -> Image.Image | None:
    """A PNG opened by Pillow's PNG plugin itself, or None (not a PNG, or one the plugin refuses).

    ``Image.open`` first imports Pillow's five default plugins (GIF's pulls in ImageMath, ImageOps and
    ImageSequence), a share of the CLI's start-up spent while numpy imports beside it. Anything unusual goes
    back to ``Image.open``, which words the errors.
    """
    if isinstance(fp, io.BytesIO):
        head = fp.getvalue()[:8]
    else:
        with open(fp, "rb") as fh:
            head = fh.read(8)
    if head != _PNG_SIGNATURE:
        return None
    from PIL import PngImagePlugin

    try:
        im = PngImagePlugin.PngImageFile(fp)
    except Exception:
        if isinstance(fp, io.BytesIO):
            fp.seek(0)
        return None
    w, h = im.size
    if Image.MAX_IMAGE_PIXELS and w * h > 2 * Image.MAX_IMAGE_PIXELS:  # where Image.open refuses
        im.close()
        raise Image.DecompressionBombError(f"({w * h} pixels)")
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
    return InputError(
        f"{name} is damaged or truncated ({' '.join(str(e).split()) or type(e).__name__}): re-export or re-download it"
    )


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
    if im.format == "JPEG":  # cameras store the rotation in EXIF (ImageOps is imported for JPEGs only)
        from PIL import ImageOps

        try:
            im = ImageOps.exif_transpose(im)
        except Exception:
            pass
    return _shrink(im, limit)


def read_image(src: FileSource, *, downscale_pixels: int = DOWNSCALE_PIXELS, work: bool = False) -> ReadImage:
    """Open, check and decode an image file, path, bytes or Pillow image.

    ``work`` also makes the copy layout detection works on, for plain RGB images (other modes are
    converted first, and detection shrinks those itself). Raises :class:`InputError` with a one-line
    message for anything unusable.
    """
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
    with _HUGE if w * h > downscale_pixels else contextlib.nullcontext():
        im = _decode(im, name, downscale_pixels)
    fw, fh = im.size
    scale = 1.0
    if fw * fh < w * h:  # drafted and/or shrunk (an EXIF rotation alone swaps w and h)
        scale = max(w, h) / max(fw, fh)
        notes.append(f"{name} is {w}x{h}: downscaled to {fw}x{fh} for processing")
    small = None
    size = work_size(fw, fh) if work and im.mode == "RGB" and "transparency" not in im.info else None
    if size is not None:
        small = im.resize(size, Image.Resampling.BOX)
    return ReadImage(im, notes, scale, small)


class PendingRead:
    """:func:`read_image` running in a background thread; :meth:`result` waits for it."""

    def __init__(self, src: FileSource, downscale_pixels: int = DOWNSCALE_PIXELS):
        self._src = src
        self._out: ReadImage | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(downscale_pixels,), name="gridanim-read", daemon=True)
        self._thread.start()

    def _run(self, downscale_pixels: int) -> None:
        try:
            self._out = read_image(self._src, downscale_pixels=downscale_pixels, work=True)
        except BaseException as e:  # handed to the caller by result()
            self._error = e

    def result(self) -> ReadImage:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._out is not None
        return self._out


def read_in_background(src: FileSource, *, downscale_pixels: int = DOWNSCALE_PIXELS) -> PendingRead:
    """Start :func:`read_image` in a thread (pass the result to ``load_image``)."""
    return PendingRead(src, downscale_pixels)
