"""The detected cut drawn on the grid: numbered boxes a user can check at a glance.

:func:`draw_cut` dims everything that is *not* a frame (gutters, borders,
captions, skipped cells), outlines each frame box and puts its number (1, 2,
... in playback order before re-ordering) in a badge at the box's top-left
corner. With ``inset`` the outline is drawn where the frame will really be cut.
The result is scaled down to ``max_side`` for display; the boxes are in the
same pixels as ``rgb`` (the loader's pixels, which is what
:func:`gridanim.layout.detect_layout` returns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .layout import Layout
from .types import Frame

OUTLINE = (255, 64, 129)  # a pink that stands out on sky, grass and sepia alike
BADGE_TEXT = (255, 255, 255)
DIM = 0.45  # brightness kept outside the frames
MAX_SIDE = 1280


def _inset_box(box, inset: int) -> tuple[int, int, int, int]:
    x, y, w, h = box
    i = max(0, min(int(inset), (w - 1) // 2, (h - 1) // 2))
    return x + i, y + i, w - 2 * i, h - 2 * i


def draw_cut(rgb: Frame, layout: Layout, *, inset: int = 0, max_side: int = MAX_SIDE) -> Image.Image:
    """An RGB image of the grid with the frames outlined and numbered."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(w, h))
    boxes = [_inset_box(b, inset) for b in layout.boxes]
    dimmed = (rgb.astype(np.float32) * DIM).astype(np.uint8)
    out = dimmed.copy()
    for x, y, bw, bh in boxes:
        out[y : y + bh, x : x + bw] = rgb[y : y + bh, x : x + bw]
    im = Image.fromarray(out)
    if scale < 1.0:
        im = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    d = ImageDraw.Draw(im)
    smallest = min((min(bw, bh) for _, _, bw, bh in boxes), default=min(w, h)) * scale
    line = max(1, min(4, round(max(im.size) / 400)))
    size = int(max(9, min(40, smallest / 4)))
    font = ImageFont.load_default(size=size)
    for n, (x, y, bw, bh) in enumerate(boxes, 1):
        x0, y0 = x * scale, y * scale
        x1, y1 = (x + bw) * scale - 1, (y + bh) * scale - 1
        d.rectangle((x0, y0, x1, y1), outline=OUTLINE, width=line)
        label = str(n)
        left, top, right, bottom = d.textbbox((0, 0), label, font=font)
        pad = max(2, size // 5)
        bx1 = min(x1, x0 + (right - left) + 2 * pad)
        by1 = min(y1, y0 + (bottom - top) + 2 * pad)
        d.rectangle((x0, y0, bx1, by1), fill=OUTLINE)
        d.text((x0 + pad - left, y0 + pad - top), label, fill=BADGE_TEXT, font=font)
    return im


def save_cut(rgb: Frame, layout: Layout, path: str | Path, *, inset: int = 0, max_side: int = MAX_SIDE) -> Path:
    """:func:`draw_cut` written as a PNG; returns the path."""
    p = Path(path)
    draw_cut(rgb, layout, inset=inset, max_side=max_side).save(p, format="PNG", optimize=False)
    return p
