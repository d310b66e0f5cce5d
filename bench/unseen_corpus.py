"""Held-out grids drawn in code, each with exact truth, for measuring layout detection honestly.

Written independently of the detector's own tuning material (``tests/synth_grids.py`` and
``../shared/grids``): the families below are modelled on what real grids look like, not on what
the detector handles.

    from bench.unseen_corpus import build_corpus
    for grid in build_corpus(seed=2026):
        grid.image          # H x W x 3 (opaque) or H x W x 4 (transparent) uint8
        grid.truth_boxes()  # [x, y, w, h] of every cell that holds content, row-major

Truth per grid: rows, cols, the box of every cell (``cells``, row-major, one per lattice cell),
which cells are blank, and for no-gutter sheets the pure-background ``cut_ranges``: for the
boundary after column c, ``cut_ranges["x"][c] == [lo, hi]`` means a straight vertical cut at any
x in lo..hi (the first column of the right-hand cell) touches only background.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Box = list[int]  # [x, y, w, h]

FAMILIES = ("sprite", "nogutter", "divided", "touching", "storyboard", "trailing")


@dataclass
class Grid:
    name: str
    family: str
    kind: str  # sprite | nogutter | divided | touching (what "right" means for a box)
    image: np.ndarray
    rows: int
    cols: int
    cells: list[Box]  # one per lattice cell, row-major
    blank: list[tuple[int, int]] = field(default_factory=list)
    cut_ranges: dict | None = None
    real_like: bool = False  # modelled on a real game-engine sheet
    visible: bool = True  # the boundaries can be seen (counts for the hint-free score)
    fmt: str = "png"
    notes: str = ""

    @property
    def frames(self) -> int:
        return self.rows * self.cols - len(self.blank)

    def content_cells(self) -> list[tuple[int, int]]:
        blank = set(self.blank)
        return [(r, c) for r in range(self.rows) for c in range(self.cols) if (r, c) not in blank]

    def truth_boxes(self) -> list[Box]:
        return [self.cells[r * self.cols + c] for r, c in self.content_cells()]

    def manifest(self) -> dict:
        return {
            "file": f"{self.name}.{self.fmt}",
            "family": self.family,
            "box_kind": self.kind,
            "rows": self.rows,
            "cols": self.cols,
            "frames": self.frames,
            "boxes": self.truth_boxes(),
            "cells": self.cells,
            "blank": [list(b) for b in self.blank],
            "cut_ranges": self.cut_ranges,
            "real_like": self.real_like,
            "notes": self.notes,
        }


# ----------------------------------------------------------------------------------------------
# drawing primitives (pure numpy; float RGB 0..255 canvases, bool masks)


def _grid_yx(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:h, 0:w].astype(np.float32)


def _ellipse(h: int, w: int, cy: float, cx: float, ry: float, rx: float, angle: float = 0.0) -> np.ndarray:
    yy, xx = _grid_yx(h, w)
    dy, dx = yy - cy, xx - cx
    ca, sa = np.cos(angle), np.sin(angle)
    u, v = dx * ca + dy * sa, -dx * sa + dy * ca
    return (u / max(rx, 0.5)) ** 2 + (v / max(ry, 0.5)) ** 2 <= 1.0


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    h, w = mask.shape
    p = np.pad(mask, r)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx <= r * r:
                out |= p[r + dy : r + dy + h, r + dx : r + dx + w]
    return out


def _blur(a: np.ndarray, r: int) -> np.ndarray:
    """Box blur of radius r along both axes (a 2-D or 3-D float array)."""
    if r <= 0:
        return a
    for axis in (0, 1):
        n = a.shape[axis]
        pad = [(0, 0)] * a.ndim
        pad[axis] = (r + 1, r)
        c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
        hi = np.take(c, np.arange(2 * r + 1, 2 * r + 1 + n), axis=axis)
        lo = np.take(c, np.arange(0, n), axis=axis)
        a = ((hi - lo) / (2 * r + 1)).astype(np.float32)
    return a


def _pink_noise(rng: np.random.Generator, h: int, w: int, beta: float = 2.0) -> np.ndarray:
    """Natural-image-like 1/f^beta noise in 0..1."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = (rng.normal(size=(h, w // 2 + 1)) + 1j * rng.normal(size=(h, w // 2 + 1))) / f ** (beta / 2)
    spec[0, 0] = 0
    n = np.fft.irfft2(spec, s=(h, w)).astype(np.float32)
    n -= n.min()
    return n / max(float(n.max()), 1e-6)


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, dtype=np.float32) * 255


def _text(canvas: np.ndarray, x: int, y: int, s: str, size: int, colour, box=None) -> tuple[int, int, int, int]:
    """Draw text (optionally on a filled box) into a float canvas; returns its extent x0, y0, x1, y1."""
    font = ImageFont.load_default(size=size)
    tmp = Image.new("L", (1, 1))
    left, top, right, bottom = ImageDraw.Draw(tmp).textbbox((0, 0), s, font=font)
    tw, th = right - left + 4, bottom - top + 4
    img = Image.new("L", (tw, th), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), s, fill=255, font=font)
    a = np.asarray(img, dtype=np.float32)[..., None] / 255
    H, W = canvas.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + tw), min(H, y + th)
    if x1 <= x0 or y1 <= y0:
        return (x0, y0, x0, y0)
    a = a[y0 - y : y1 - y, x0 - x : x1 - x]
    region = canvas[y0:y1, x0:x1]
    if box is not None:
        region[:] = np.asarray(box, np.float32)
    region[:] = region * (1 - a) + np.asarray(colour, np.float32) * a
    return (x0, y0, x1, y1)


# ----------------------------------------------------------------------------------------------
# sprites: pixel-art characters, coins, explosions, tiles (RGBA uint8 at logical resolution)


def _pixel_character(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, int]:
    """A symmetric palette character (RGBA) and the row where its legs start."""
    half = (w + 1) // 2
    noise = _blur(rng.random((h, half)).astype(np.float32), 1)
    yy, xx = _grid_yx(h, half)
    env = ((xx - half) / (half * 0.95)) ** 2 + ((yy - h * 0.5) / (h * 0.5)) ** 2
    m = (noise > 0.45) & (env < 1.0)
    m[int(h * 0.08) : int(h * 0.35), max(0, half - max(2, half // 2)) :] = True  # head
    m[int(h * 0.35) : int(h * 0.7), max(0, half - max(2, int(half * 0.7))) :] = True  # body
    leg = int(h * 0.7)
    m[leg:, :] = False
    m[leg : h - 0, max(0, half - max(2, half // 2)) : max(1, half - 1)] = True  # one leg per side
    full = np.concatenate([m, m[:, ::-1]], axis=1)[:, :w]
    pal = [_hsv(rng.random(), rng.uniform(0.4, 0.9), rng.uniform(0.55, 0.95)) for _ in range(3)]
    rgba = np.zeros((h, w, 4), np.uint8)
    zone = (np.arange(h)[:, None] * 3 // h).repeat(w, 1)
    tex = (rng.random((h, w)) < 0.15).astype(int)
    for k in range(3):
        sel = full & (zone == k)
        rgba[sel, :3] = np.clip(pal[k] * (1 - 0.25 * tex[sel][:, None]), 0, 255).astype(np.uint8)
    inner = full & ~_dilate(~full, 1)
    edge = full & ~inner
    rgba[edge, :3] = (pal[0] * 0.25).astype(np.uint8)
    rgba[full, 3] = 255
    eye = int(h * 0.2)
    rgba[eye, w // 2 - max(1, w // 6), :3] = 20
    rgba[eye, min(w - 1, w // 2 + max(1, w // 6) - 1), :3] = 20
    return rgba, leg


def _animate_character(base: np.ndarray, leg: int, i: int, n: int) -> np.ndarray:
    """Frame i of a walk/run cycle: bob the body and swing the legs."""
    h, w = base.shape[:2]
    phase = 2 * np.pi * i / max(n, 1)
    out = np.zeros_like(base)
    bob = int(round(abs(np.sin(phase))))
    out[: leg - bob] = base[bob:leg]
    out[leg - bob : leg] = base[leg - 1 : leg]  # the waist stretches: no see-through line across the body
    legs = base[leg:]
    swing = int(round(np.sin(phase) * max(1, w // 10)))
    lh = legs.shape[0]
    left, right = legs[:, : w // 2], legs[:, w // 2 :]
    out[h - lh :, : w // 2] = _shift(left, swing)
    out[h - lh :, w // 2 :] = _shift(right, -swing)
    return out


def _shift(a: np.ndarray, s: int) -> np.ndarray:
    """Shift columns by s (no wrap-around), filling with transparent."""
    out = np.zeros_like(a)
    if s > 0:
        out[:, s:] = a[:, :-s]
    elif s < 0:
        out[:, :s] = a[:, -s:]
    else:
        out[:] = a
    return out


def _coin(size: int, i: int, n: int) -> np.ndarray:
    widths = [1.0, 0.7, 0.25, 0.7]
    rx = max(0.6, size / 2 * widths[i % len(widths)])
    m = _ellipse(size, size, (size - 1) / 2, (size - 1) / 2, size / 2, rx)
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[m] = (250, 200, 40, 255)
    edge = m & ~(~_dilate(~m, 1))
    rgba[edge, :3] = (150, 90, 10)
    return rgba


def _explosion(rng: np.random.Generator, size: int, i: int, n: int) -> np.ndarray:
    """Fire ball growing then shrinking to smoke; the first and last frames are nearly empty."""
    t = i / max(n - 1, 1)
    rng_i = np.random.default_rng(rng.integers(1 << 30) + i)
    radius = size * 0.48 * np.sin(np.pi * min(1.0, t * 1.15)) ** 0.8
    rgba = np.zeros((size, size, 4), np.uint8)
    c = (size - 1) / 2
    yy, xx = _grid_yx(size, size)
    d = np.hypot(yy - c, xx - c)
    noise = _blur(rng_i.random((size, size)).astype(np.float32), max(1, size // 32))
    if radius < 2.5:  # a spark or a last wisp of smoke: a few pixels only
        k = 3 + int(rng_i.integers(4))
        ys, xs = rng_i.integers(int(c - 3), int(c + 4), size=(2, k))
        rgba[ys, xs] = (255, 230, 120, 255) if t < 0.5 else (90, 90, 90, 255)
        return rgba
    m = d < radius * (0.75 + 0.5 * noise)
    heat = np.clip(1 - d / max(radius, 1) + 0.3 * (noise - 0.5) - 0.6 * t, 0, 1)
    col = np.stack(
        [
            255 * np.clip(heat * 1.8 + 0.25, 0, 1),
            255 * np.clip(heat * 1.6 - 0.1, 0, 1),
            255 * np.clip(heat * 2 - 1.3, 0, 1),
        ],
        -1,
    )
    smoke = np.full_like(col, 80.0) * (1 - t * 0.3)
    mix = np.clip(t * 1.4 - 0.4, 0, 1)
    rgba[..., :3] = np.clip(col * (1 - mix) + smoke * mix, 0, 255).astype(np.uint8)
    rgba[..., 3] = np.where(m, 255, 0).astype(np.uint8)
    return rgba


def _tile(rng: np.random.Generator, size: int) -> np.ndarray:
    """A full-cell terrain tile (grass/stone/water), opaque edge to edge."""
    base = _hsv(rng.choice([0.3, 0.08, 0.58]), 0.55, 0.65)
    n = _blur(rng.random((size, size)).astype(np.float32), 1)
    rgba = np.empty((size, size, 4), np.uint8)
    rgba[..., :3] = np.clip(base * (0.75 + 0.5 * n[..., None]), 0, 255).astype(np.uint8)
    rgba[..., 3] = 255
    return rgba


def _paste(sheet: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    h, w = sprite.shape[:2]
    a = sprite[..., 3:4].astype(np.float32) / 255
    region = sheet[y : y + h, x : x + w].astype(np.float32)
    if sheet.shape[2] == 4:
        region[..., :3] = region[..., :3] * (1 - a) + sprite[..., :3] * a
        region[..., 3:4] = np.maximum(region[..., 3:4], sprite[..., 3:4])
    else:
        region = region * (1 - a) + sprite[..., :3] * a
    sheet[y : y + h, x : x + w] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


def sprite_sheet(
    rng: np.random.Generator,
    name: str,
    rows: int,
    cols: int,
    cw: int,
    ch: int,
    *,
    content: str = "char",
    bg=None,
    margin: int = 0,
    spacing: int = 0,
    spacing_colour=None,
    filled: int | None = None,
    fill: tuple[float, float] = (0.6, 0.85),
    touch: str = "",
    scale: int = 1,
    family: str = "sprite",
    notes: str = "",
) -> Grid:
    """A game-engine sheet of exact integer cells (Aseprite/TexturePacker: margin, spacing).

    ``bg`` None means transparent (RGBA). ``touch`` "bottom" puts feet on the cell's bottom edge,
    "full" lets the sprite fill the whole cell. Cells after ``filled`` are left blank.
    """
    W = 2 * margin + cols * cw + (cols - 1) * spacing
    H = 2 * margin + rows * ch + (rows - 1) * spacing
    chans = 4 if bg is None else 3
    sheet = np.zeros((H, W, chans), np.uint8)
    if bg is not None:
        sheet[:] = bg
    if spacing_colour is not None:
        for c in range(cols - 1):
            x = margin + (c + 1) * cw + c * spacing
            sheet[:, x : x + spacing, :3] = spacing_colour
        for r in range(rows - 1):
            y = margin + (r + 1) * ch + r * spacing
            sheet[y : y + spacing, :, :3] = spacing_colour
        if chans == 4:
            sheet[..., 3] = np.where(sheet[..., :3].any(-1), 255, 0)
    n = rows * cols if filled is None else filled
    cells, blank = [], []
    # one character design per row (walk cycles: one row per direction)
    designs = {}
    for r in range(rows):
        fw = max(3, int(round(cw * rng.uniform(*fill))))
        fh = max(3, int(round(ch * rng.uniform(*fill))))
        if touch == "full":
            fw, fh = cw, ch
        designs[r] = _pixel_character(rng, fw, fh) if content == "char" else None
    tile_row = rng.integers(rows) if content == "mixed" else -1
    for r in range(rows):
        for c in range(cols):
            x0 = margin + c * (cw + spacing)
            y0 = margin + r * (ch + spacing)
            cells.append([x0, y0, cw, ch])
            k = r * cols + c
            if k >= n:
                blank.append((r, c))
                continue
            if content == "coin":
                spr = _coin(min(cw, ch), k, n)
            elif content == "explosion":
                spr = _explosion(rng, min(cw, ch), k, n)
            elif content == "mixed" and r == tile_row:
                spr = _tile(rng, min(cw, ch))
            else:
                if designs.get(r) is None:
                    designs[r] = _pixel_character(rng, max(3, int(cw * 0.7)), max(3, int(ch * 0.8)))
                base, leg = designs[r]
                spr = _animate_character(base, leg, c, cols)
            sh, sw = spr.shape[:2]
            dx = (cw - sw) // 2
            if touch == "bottom" or touch == "full":
                dy = ch - sh
            else:
                dy = (ch - sh) // 2 + int(rng.integers(-1, 2)) if ch - sh >= 2 else (ch - sh) // 2
                dy = int(np.clip(dy, 0, ch - sh))
            _paste(sheet, spr, x0 + dx, y0 + dy)
    if scale > 1:
        sheet = sheet.repeat(scale, 0).repeat(scale, 1)
        cells = [[v * scale for v in b] for b in cells]
    return Grid(name, family, "sprite", sheet, rows, cols, cells, blank, real_like=True, notes=notes)


# ----------------------------------------------------------------------------------------------
# AI-style sheets: painted subjects on one shared background, near-even lattice, no gutter


def _background(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    if kind == "flat":
        return np.broadcast_to(_hsv(rng.random(), rng.uniform(0, 0.15), rng.uniform(0.88, 1.0)), (h, w, 3)).copy()
    if kind == "magenta":
        return np.broadcast_to(np.array([255, 0, 255], np.float32), (h, w, 3)).copy()
    if kind == "noisy":
        base = _hsv(rng.random(), rng.uniform(0.05, 0.3), rng.uniform(0.8, 0.97))
        return base + rng.normal(0, rng.uniform(2, 6), (h, w, 1)).astype(np.float32)
    if kind == "gradient":
        a = _hsv(rng.random(), 0.3, 0.95)
        b = _hsv(rng.random(), 0.4, 0.7)
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        return (a * (1 - t) + b * t) * np.ones((1, w, 1), np.float32)
    if kind == "checker":  # a checkerboard painted into the pixels, the way image models fake "transparent"
        sq = int(rng.integers(12, 28))
        yy, xx = np.mgrid[0:h, 0:w]
        on = ((yy // sq + xx // sq) % 2).astype(np.float32)[..., None]
        grey = 255 * (1 - on) + 204 * on + rng.normal(0, 1.0, (h, w, 1)).astype(np.float32)
        return np.repeat(grey, 3, axis=2)
    if kind == "greenscreen":
        g = np.array([20, 200, 60], np.float32) + rng.normal(0, 6, 3).astype(np.float32)
        yy, xx = _grid_yx(h, w)
        vig = 1 - 0.08 * (((yy - h / 2) / h) ** 2 + ((xx - w / 2) / w) ** 2)
        return g * vig[..., None] + rng.normal(0, 2.5, (h, w, 1)).astype(np.float32)
    raise ValueError(kind)


def _painted_subject(
    rng: np.random.Generator, h: int, w: int, hue: float, pose: float
) -> tuple[np.ndarray, np.ndarray]:
    """A painted figure (blobs with shading and a dark outline): float RGB and its mask, h x w."""
    m = np.zeros((h, w), bool)
    shade = np.zeros((h, w), np.float32)
    parts = [  # (cy, cx, ry, rx, angle) as fractions, body / head / arms / legs
        (0.55, 0.5, 0.22, 0.2, 0.0),
        (0.2, 0.5 + 0.04 * np.sin(pose), 0.14, 0.13, 0.0),
        (0.5, 0.27, 0.2, 0.06, 0.6 * np.sin(pose)),
        (0.5, 0.73, 0.2, 0.06, -0.6 * np.sin(pose)),
        (0.84, 0.4, 0.14, 0.06, 0.4 * np.sin(pose + 1)),
        (0.84, 0.6, 0.14, 0.06, -0.4 * np.sin(pose + 1)),
    ]
    yy, xx = _grid_yx(h, w)
    for cy, cx, ry, rx, ang in parts:
        e = _ellipse(h, w, cy * h, cx * w, ry * h, rx * w * 1.6, ang)
        m |= e
        shade = np.maximum(shade, np.where(e, 1 - ((yy - cy * h) / (ry * h * 2)) ** 2, 0))
    m[0, :] = m[-1, :] = False
    m[:, 0] = m[:, -1] = False
    col = _hsv(hue, 0.6, 0.85)
    col2 = _hsv((hue + 0.5) % 1, 0.5, 0.7)
    mix = (yy / h > 0.45).astype(np.float32)[..., None]
    rgb = (col * (1 - mix) + col2 * mix) * (0.55 + 0.45 * shade[..., None])
    rgb = rgb + rng.normal(0, 4, (h, w, 1)).astype(np.float32)
    outline = _dilate(m, max(1, min(h, w) // 60)) & ~m
    rgb[outline] = (30, 25, 35)
    return rgb, m | outline


def _near_even(rng: np.random.Generator, length: int, n: int, drift: float) -> list[int]:
    """n + 1 edges from 0 to length, each interior edge up to drift * pitch off even spacing."""
    pitch = length / n
    edges = [0] + [int(round(k * pitch + rng.uniform(-drift, drift) * pitch)) for k in range(1, n)] + [length]
    return edges


def ai_sheet(
    rng: np.random.Generator,
    name: str,
    rows: int,
    cols: int,
    W: int,
    H: int,
    *,
    bg: str = "flat",
    drift: float = 0.03,
    ragged: float = 0.0,
    caption: bool = False,
    watermark: bool = False,
    filled: int | None = None,
    size: tuple[float, float] = (0.68, 0.86),
    family: str = "nogutter",
    notes: str = "",
) -> Grid:
    xs = _near_even(rng, W, cols, drift)
    ys = _near_even(rng, H, rows, max(drift, ragged))
    canvas = _background(rng, bg, H, W)
    fg = np.zeros((H, W), bool)
    hue = rng.random()
    n = rows * cols if filled is None else filled
    cells, blank = [], []
    owner = np.full((H, W), -1, np.int32)
    for r in range(rows):
        for c in range(cols):
            x0, x1, y0, y1 = xs[c], xs[c + 1], ys[r], ys[r + 1]
            cells.append([x0, y0, x1 - x0, y1 - y0])
            k = r * cols + c
            if k >= n:
                blank.append((r, c))
                continue
            cw, ch = x1 - x0, y1 - y0
            cap_h = int(ch * 0.12) if caption else 0
            s = rng.uniform(*size)
            sw, sh = int(cw * s * rng.uniform(0.8, 1.0)), int((ch - cap_h) * s)
            room_x, room_y = cw - sw, ch - cap_h - sh
            ox = x0 + int(room_x / 2 + rng.uniform(-0.3, 0.3) * room_x / 2)
            oy = y0 + int(room_y / 2 + rng.uniform(-0.3, 0.3) * room_y / 2)
            rgb, m = _painted_subject(rng, sh, sw, hue, 2 * np.pi * k / n)
            region = canvas[oy : oy + sh, ox : ox + sw]
            region[m] = rgb[m]
            fg[oy : oy + sh, ox : ox + sw] |= m
            owner[oy : oy + sh, ox : ox + sw][m] = k
            if caption:
                size_px = max(8, int(cap_h * 0.6))
                tx = x0 + int(cw * rng.uniform(0.15, 0.3))
                ty = y1 - cap_h - int(ch * 0.02)
                ex = _text(canvas, tx, ty, f"Frame {k + 1}", size_px, (25, 25, 30))
                fg[ex[1] : ex[3], ex[0] : ex[2]] = True
                owner[ex[1] : ex[3], ex[0] : ex[2]] = k
    if watermark and n == rows * cols:
        k = n - 1
        size_px = max(10, H // 40)
        ex = _text(canvas, W - int(W * 0.12), H - int(H * 0.05), "AI*gen", size_px, (235, 235, 235))
        fg[ex[1] : ex[3], ex[0] : ex[2]] = True
        owner[ex[1] : ex[3], ex[0] : ex[2]] = k
    img = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    cut = {"x": _cut_ranges(owner, cols, rows, axis=1), "y": _cut_ranges(owner, cols, rows, axis=0)}
    return Grid(name, family, "nogutter", img, rows, cols, cells, blank, cut_ranges=cut, notes=notes)


def _cut_ranges(owner: np.ndarray, cols: int, rows: int, axis: int) -> list[list[int]]:
    """Per boundary, [lo, hi]: a straight cut at lo..hi (first index of the next cell) touches only background."""
    n = cols if axis == 1 else rows
    line_of = (owner % cols) if axis == 1 else (owner // cols)
    line_of = np.where(owner >= 0, line_of, -1)
    out = []
    length = owner.shape[axis]
    idx = np.arange(length)
    for b in range(n - 1):
        before = (line_of == b).any(axis=1 - axis)
        after = (line_of == b + 1).any(axis=1 - axis)
        lo = int(idx[before].max()) + 1 if before.any() else 0
        hi = int(idx[after].min()) if after.any() else length
        # anything from other cells lying between would also be cut: nothing is there by construction
        out.append([lo, hi])
    return out


# ----------------------------------------------------------------------------------------------
# divided panel grids: gutters, lines, borders, guide lines


def _scene(rng: np.random.Generator, h: int, w: int, hue: float, t: float, palette_shift: float) -> np.ndarray:
    sky = _hsv((hue + palette_shift) % 1, 0.35, 0.9)
    ground = _hsv((hue + 0.3) % 1, 0.5, 0.55)
    yy, xx = _grid_yx(h, w)
    horizon = h * 0.65
    img = np.where((yy < horizon)[..., None], sky * (0.85 + 0.15 * yy[..., None] / h), ground)
    img = img + 6 * (_blur(rng.random((h, w)).astype(np.float32), 2)[..., None] - 0.5)
    sw, sh = max(6, int(w * 0.35)), max(6, int(h * 0.5))
    rgb, m = _painted_subject(rng, sh, sw, hue, t * 2 * np.pi)
    ox = int((w - sw) * (0.15 + 0.7 * t))
    oy = int(horizon - sh * 0.85)
    oy = int(np.clip(oy, 0, h - sh))
    region = img[oy : oy + sh, ox : ox + sw]
    region[m] = rgb[m]
    return img


def panel_grid(
    rng: np.random.Generator,
    name: str,
    rows: int,
    cols: int,
    pw: int,
    ph: int,
    *,
    gutter: int = 8,
    gutter_colour=(255, 255, 255),
    border: int = 0,
    line: int = 0,
    line_colour=(0, 0, 0),
    guide: bool = False,
    filled: int | None = None,
    blank_colour=(255, 255, 255),
    family: str = "divided",
    notes: str = "",
) -> Grid:
    """Panels separated by gutters; ``line`` draws a frame line around each panel, outside its box."""
    step_x, step_y = pw + 2 * line + gutter, ph + 2 * line + gutter
    W = 2 * border + cols * (pw + 2 * line) + (cols - 1) * gutter
    H = 2 * border + rows * (ph + 2 * line) + (rows - 1) * gutter
    canvas = np.empty((H, W, 3), np.float32)
    canvas[:] = gutter_colour
    hue = rng.random()
    shift = rng.uniform(-0.1, 0.1)
    n = rows * cols if filled is None else filled
    cells, blank = [], []
    for r in range(rows):
        for c in range(cols):
            bx, by = border + c * step_x, border + r * step_y
            if line:
                canvas[by : by + ph + 2 * line, bx : bx + pw + 2 * line] = line_colour
            x0, y0 = bx + line, by + line
            cells.append([x0, y0, pw, ph])
            k = r * cols + c
            if k >= n:
                blank.append((r, c))
                canvas[y0 : y0 + ph, x0 : x0 + pw] = blank_colour
                continue
            canvas[y0 : y0 + ph, x0 : x0 + pw] = _scene(rng, ph, pw, hue, k / max(n - 1, 1), shift)
    if guide:  # faint guide lines through the middle of every gutter, end to end
        g = np.array(gutter_colour, np.float32) * 0.7
        for c in range(cols - 1):
            x = border + (c + 1) * step_x - gutter // 2 - 1
            canvas[:, x] = g
        for r in range(rows - 1):
            y = border + (r + 1) * step_y - gutter // 2 - 1
            canvas[y, :] = g
        if border >= 4:
            b = border // 2
            canvas[b, :] = canvas[H - 1 - b, :] = g
            canvas[:, b] = canvas[:, W - 1 - b] = g
    img = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return Grid(name, family, "divided", img, rows, cols, cells, blank, notes=notes)


# ----------------------------------------------------------------------------------------------
# touching photo-like panels: plates of tiles (Muybridge) and video storyboards


def photo_plate(
    rng: np.random.Generator,
    name: str,
    rows: int,
    cols: int,
    tw: int,
    th: int,
    *,
    seam: int = 0,
    seam_delta: float = 18.0,
    numbered: bool = False,
    sepia: bool = True,
    filled: int | None = None,
    family: str = "touching",
    fmt: str = "jpg",
    notes: str = "",
) -> Grid:
    """Photographs tiled edge to edge; each tile has its own exposure; ``seam`` px faint dark seams."""
    H, W = rows * th, cols * tw
    n = rows * cols if filled is None else filled
    world = _pink_noise(rng, th + 64, tw * 2, 2.2)
    canvas = np.empty((H, W, 3), np.float32)
    tint = np.array([1.0, 0.86, 0.68], np.float32) if sepia else _hsv(rng.random(), 0.35, 1.0) / 255
    cells, blank = [], []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            x0, y0 = c * tw, r * th
            cells.append([x0, y0, tw, th])
            if k >= n:
                blank.append((r, c))
                canvas[y0 : y0 + th, x0 : x0 + tw] = 0
                continue
            jx, jy = int(rng.integers(0, 24)), int(rng.integers(0, 24))
            bgv = world[jy : jy + th, jx + int(tw * 0.3) : jx + int(tw * 0.3) + tw]
            lum = 60 + 150 * bgv + rng.uniform(-14, 14)
            tile = lum[..., None] * tint
            # a dark animal crossing the frame, body and four legs, gait changing with k
            t = k / max(n - 1, 1)
            yy, xx = _grid_yx(th, tw)
            cx, cy = tw * (0.3 + 0.4 * t), th * 0.5
            body = _ellipse(th, tw, cy, cx, th * 0.14, tw * 0.22)
            head = _ellipse(th, tw, cy - th * 0.12, cx + tw * 0.22, th * 0.08, tw * 0.07, -0.5)
            legs = np.zeros_like(body)
            for j, off in enumerate((-0.15, -0.08, 0.1, 0.17)):
                ang = 0.5 * np.sin(2 * np.pi * (t * 3 + j * 0.25))
                legs |= _ellipse(th, tw, cy + th * 0.2, cx + tw * off, th * 0.13, tw * 0.018, ang)
            animal = body | head | legs
            tile[animal] = tile[animal] * 0.2 + 15
            tile += rng.normal(0, 3, (th, tw, 1)).astype(np.float32)
            if numbered:
                _text(tile, 4, 3, str(k + 1), max(8, th // 12), (235, 235, 235))
            canvas[y0 : y0 + th, x0 : x0 + tw] = tile
    if seam:
        for c in range(1, cols):
            canvas[:, c * tw - seam // 2 : c * tw - seam // 2 + seam] -= seam_delta
        for r in range(1, rows):
            canvas[r * th - seam // 2 : r * th - seam // 2 + seam, :] -= seam_delta
    img = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return Grid(name, family, "touching", img, rows, cols, cells, blank, fmt=fmt, notes=notes)


def _world(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A wide video-like scene: sky, horizon, textured ground, buildings and trees, to pan across."""
    yy, xx = _grid_yx(h, w)
    horizon = rng.uniform(0.35, 0.7) * h
    top, low = _hsv(rng.uniform(0.5, 0.7), 0.5, rng.uniform(0.6, 1.0)), _hsv(rng.random(), 0.2, 0.95)
    t = (yy / max(horizon, 1))[..., None]
    img = top * (1 - t) + low * t
    ground = _hsv(rng.uniform(0.05, 0.4), rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    tex = _pink_noise(rng, h, w, 1.8)[..., None]
    img = np.where((yy >= horizon)[..., None], ground * (0.55 + 0.7 * tex), img)
    for _ in range(int(rng.integers(4, 10))):
        col = _hsv(rng.random(), rng.uniform(0.1, 0.8), rng.uniform(0.1, 0.9))
        cx, ww = rng.uniform(0, w), rng.uniform(0.04, 0.2) * w
        if rng.random() < 0.5:  # building
            hh = rng.uniform(0.15, 0.6) * h
            m = (np.abs(xx - cx) < ww / 2) & (yy > horizon - hh) & (yy < horizon + 0.05 * h)
        else:  # tree
            m = _ellipse(h, w, horizon - ww * 0.6, cx, ww * 0.7, ww / 2)
        img[m] = col * (0.8 + 0.3 * tex[m])
    return img + 18 * (tex - 0.5)


def storyboard(
    rng: np.random.Generator,
    name: str,
    rows: int,
    cols: int,
    tw: int,
    *,
    seam: int = 0,
    gutter: int = 0,
    timecode: bool = False,
    filled: int | None = None,
    fmt: str = "jpg",
    family: str = "storyboard",
    notes: str = "",
) -> Grid:
    """16:9 video thumbnails, shots of a few scenes with a camera pan, optional timecodes."""
    th = int(round(tw * 9 / 16))
    W = cols * tw + (cols - 1) * gutter
    H = rows * th + (rows - 1) * gutter
    n = rows * cols if filled is None else filled
    canvas = np.full((H, W, 3), 16.0 if gutter else 0.0, np.float32)
    scenes = [_world(rng, th + 40, tw * 2) for _ in range(1 + (n + 3) // 4)]
    step = int(tw * rng.uniform(0.08, 0.25))  # camera pan per thumbnail
    cells, blank = [], []
    shot = 0
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            x0, y0 = c * (tw + gutter), r * (th + gutter)
            cells.append([x0, y0, tw, th])
            if k >= n:
                blank.append((r, c))
                canvas[y0 : y0 + th, x0 : x0 + tw] = 0
                continue
            if rng.random() < 0.3:
                shot += 1
            sc = scenes[min(shot, len(scenes) - 1)]
            pan = int((k * step) % (tw - 8))
            thumb = sc[20 : 20 + th, pan : pan + tw].copy()
            thumb += rng.normal(0, 2, (th, tw, 1)).astype(np.float32)
            if timecode:
                secs = k * 2.5
                tc = f"00:{int(secs) // 60:02d}:{int(secs) % 60:02d}:{int(secs * 24) % 24:02d}"
                _text(thumb, 3, th - max(10, th // 9) - 5, tc, max(8, th // 10), (255, 255, 255), box=(0, 0, 0))
            canvas[y0 : y0 + th, x0 : x0 + tw] = thumb
    if seam and not gutter:
        for c in range(1, cols):
            canvas[:, c * tw - seam // 2 : c * tw - seam // 2 + seam] *= 0.85
        for r in range(1, rows):
            canvas[r * th - seam // 2 : r * th - seam // 2 + seam, :] *= 0.85
    img = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    kind = "divided" if gutter else "touching"
    return Grid(name, family, kind, img, rows, cols, cells, blank, fmt=fmt, notes=notes)


# ----------------------------------------------------------------------------------------------
# the corpus


def _specs(rng: np.random.Generator) -> list[tuple[str, Callable[[np.random.Generator], Grid]]]:
    """(family, builder) for every grid; builders draw from their own child generator."""
    S: list[tuple[str, Callable[[np.random.Generator], Grid]]] = []

    def add(family: str, fn: Callable[[np.random.Generator], Grid]) -> None:
        S.append((family, fn))

    magenta, black = (255, 0, 255), (0, 0, 0)
    # --- game-engine sheets and strips, modelled on real examples
    add("sprite", lambda g: sprite_sheet(g, "strip_char_9x_32x48", 1, 9, 32, 48, fill=(0.6, 0.8)))
    add("sprite", lambda g: sprite_sheet(g, "strip_coins_4x_8x8", 1, 4, 8, 8, content="coin"))
    add("sprite", lambda g: sprite_sheet(g, "strip_opaque_4x_32_sky", 1, 4, 32, 32, bg=(99, 155, 255)))
    add("sprite", lambda g: sprite_sheet(g, "explosion_4x4_64", 4, 4, 64, 64, content="explosion"))
    add("sprite", lambda g: sprite_sheet(g, "explosion_5x5_64_black", 5, 5, 64, 64, content="explosion", bg=black))
    add("sprite", lambda g: sprite_sheet(g, "explosion_1x8_32", 1, 8, 32, 32, content="explosion"))
    add(
        "sprite",
        lambda g: sprite_sheet(
            g, "tiles_16_m1_s1_9x3", 3, 9, 16, 16, margin=1, spacing=1, content="mixed", fill=(0.8, 1.0)
        ),
    )
    add("sprite", lambda g: sprite_sheet(g, "tiles_16_m2_s2_8x4", 4, 8, 16, 16, margin=2, spacing=2, fill=(0.7, 0.95)))
    add(
        "sprite",
        lambda g: sprite_sheet(
            g, "tiles_16_s1_pinkgap_6x4", 4, 6, 16, 16, spacing=1, spacing_colour=(255, 0, 255), fill=(0.7, 1.0)
        ),
    )
    add("sprite", lambda g: sprite_sheet(g, "walk_4dir_x9_64", 4, 9, 64, 64, fill=(0.45, 0.8), touch="bottom"))
    add("sprite", lambda g: sprite_sheet(g, "walk_4dir_x3_32x32", 4, 3, 32, 32, fill=(0.6, 0.9)))
    add("sprite", lambda g: sprite_sheet(g, "walk_4dir_x4_48_magenta", 4, 4, 48, 48, bg=magenta))
    add("sprite", lambda g: sprite_sheet(g, "run_1x12_32_touch", 1, 12, 32, 32, fill=(0.7, 0.95), touch="bottom"))
    add("sprite", lambda g: sprite_sheet(g, "run_1x6_full_cells", 1, 6, 24, 24, touch="full"))
    add("sprite", lambda g: sprite_sheet(g, "idle_1x4_16_x2", 1, 4, 16, 16, scale=2))
    add("sprite", lambda g: sprite_sheet(g, "walk_3x4_16_x3", 3, 4, 16, 16, scale=3, fill=(0.7, 0.95)))
    add("sprite", lambda g: sprite_sheet(g, "walk_4x6_24_x4_black", 4, 6, 24, 24, scale=4, bg=black))
    add("sprite", lambda g: sprite_sheet(g, "coins_1x6_16_x4", 1, 6, 16, 16, content="coin", scale=4))
    add("sprite", lambda g: sprite_sheet(g, "opaque_green_3x5_40", 3, 5, 40, 40, bg=(34, 177, 76)))
    add("sprite", lambda g: sprite_sheet(g, "opaque_grey_2x8_32", 2, 8, 32, 32, bg=(128, 128, 128)))
    add("sprite", lambda g: sprite_sheet(g, "tiny_1x4_16", 1, 4, 16, 16))
    add("sprite", lambda g: sprite_sheet(g, "tiny_2x2_16_magenta", 2, 2, 16, 16, bg=magenta))
    add("sprite", lambda g: sprite_sheet(g, "tiny_1x8_8", 1, 8, 8, 8, fill=(0.75, 1.0)))
    add("sprite", lambda g: sprite_sheet(g, "tiny_2x4_12", 2, 4, 12, 12))
    add("sprite", lambda g: sprite_sheet(g, "large_8x8_256", 8, 8, 256, 256, content="explosion"))
    add("sprite", lambda g: sprite_sheet(g, "large_1x16_128", 1, 16, 128, 128, fill=(0.5, 0.8), touch="bottom"))
    add("sprite", lambda g: sprite_sheet(g, "large_4x8_64_x4", 4, 8, 64, 64, scale=4, fill=(0.6, 0.9)))
    for i in range(7):  # randomised sheets in the same spirit

        def rand_sheet(g: np.random.Generator, i: int = i) -> Grid:
            rows, cols = int(g.integers(1, 6)), int(g.integers(2, 10))
            cs = int(g.choice([16, 24, 32, 48, 64]))
            ch = cs if g.random() < 0.7 else int(cs * 1.5)
            bg = (
                None
                if g.random() < 0.6
                else tuple(int(v) for v in g.choice([[255, 0, 255], [0, 0, 0], [200, 220, 255]]))
            )
            return sprite_sheet(
                g,
                f"rand_sheet_{i}_{rows}x{cols}_{cs}",
                rows,
                cols,
                cs,
                ch,
                bg=bg,
                margin=int(g.choice([0, 0, 1, 2])),
                spacing=int(g.choice([0, 0, 1, 2, 4])),
                fill=(0.5, 0.95),
                touch=str(g.choice(["", "bottom"])),
                scale=int(g.choice([1, 1, 2, 3])),
            )

        add("sprite", rand_sheet)

    # --- AI-style no-gutter sheets
    ai = [
        ("ai_4x4_flat", 4, 4, 1024, 1024, "flat", {}),
        ("ai_4x4_noisy_drift", 4, 4, 1024, 1024, "noisy", {"drift": 0.06}),
        ("ai_3x3_gradient", 3, 3, 960, 960, "gradient", {}),
        ("ai_4x4_checker", 4, 4, 1024, 1024, "checker", {"drift": 0.04}),
        ("ai_1x4_greenscreen", 1, 4, 1280, 400, "greenscreen", {"drift": 0.05}),
        ("ai_2x4_greenscreen", 2, 4, 1200, 640, "greenscreen", {}),
        ("ai_4x4_ragged_caption", 4, 4, 1100, 1200, "flat", {"ragged": 0.08, "caption": True}),
        ("ai_4x4_magenta_watermark", 4, 4, 1024, 1024, "magenta", {"watermark": True}),
        ("ai_3x4_checker_caption", 3, 4, 1200, 900, "checker", {"caption": True}),
        ("ai_2x2_noisy_big", 2, 2, 1024, 1024, "noisy", {"size": (0.8, 0.9)}),
        ("ai_5x5_flat_small", 5, 5, 1000, 1000, "flat", {"drift": 0.05}),
        ("ai_3x5_gradient_ragged", 3, 5, 1250, 800, "gradient", {"ragged": 0.07}),
        ("ai_4x3_noisy_watermark", 4, 3, 900, 1200, "noisy", {"watermark": True, "drift": 0.05}),
        ("ai_2x3_checker", 2, 3, 1152, 768, "checker", {}),
    ]
    for name, r, c, w, h, bg, kw in ai:
        add(
            "nogutter",
            lambda g, a=(name, r, c, w, h, bg, kw): ai_sheet(g, a[0], a[1], a[2], a[3], a[4], bg=a[5], **a[6]),
        )

    # --- divided panel grids
    add("divided", lambda g: panel_grid(g, "panels_3x3_white_gutter12", 3, 3, 300, 300, gutter=12))
    add(
        "divided",
        lambda g: panel_grid(
            g, "panels_2x4_black_gutter6_border", 2, 4, 240, 200, gutter=6, gutter_colour=(0, 0, 0), border=6
        ),
    )
    add(
        "divided",
        lambda g: panel_grid(
            g, "panels_4x4_grey_gutter20", 4, 4, 220, 220, gutter=20, gutter_colour=(128, 128, 128), border=20
        ),
    )
    add(
        "divided",
        lambda g: panel_grid(g, "panels_3x4_blue_gutter4", 3, 4, 256, 192, gutter=4, gutter_colour=(30, 60, 200)),
    )
    add("divided", lambda g: panel_grid(g, "panels_4x4_thin_black_lines", 4, 4, 240, 240, gutter=0, line=1))
    add(
        "divided",
        lambda g: panel_grid(
            g, "panels_3x3_lines2_border", 3, 3, 320, 320, gutter=0, line=2, border=8, gutter_colour=(250, 250, 250)
        ),
    )
    add(
        "divided",
        lambda g: panel_grid(g, "panels_2x2_guides", 2, 2, 480, 480, gutter=40, line=2, guide=True, border=40),
    )
    add(
        "divided",
        lambda g: panel_grid(
            g,
            "panels_3x4_guides_white",
            3,
            4,
            260,
            260,
            gutter=24,
            guide=True,
            border=24,
            gutter_colour=(245, 245, 245),
        ),
    )
    add(
        "divided",
        lambda g: panel_grid(
            g,
            "panels_2x5_lines3_grey",
            2,
            5,
            200,
            280,
            gutter=10,
            line=3,
            gutter_colour=(255, 255, 255),
            line_colour=(60, 60, 60),
        ),
    )
    add(
        "divided",
        lambda g: panel_grid(g, "panels_1x6_black_gutter2", 1, 6, 180, 240, gutter=2, gutter_colour=(0, 0, 0)),
    )
    add(
        "divided",
        lambda g: panel_grid(
            g, "panels_4x3_cream_gutter30_border", 4, 3, 280, 210, gutter=30, border=50, gutter_colour=(240, 230, 210)
        ),
    )

    # --- touching photo plates and storyboards
    add("touching", lambda g: photo_plate(g, "plate_4x4_noseam", 4, 4, 240, 170))
    add("touching", lambda g: photo_plate(g, "plate_3x4_seam1", 3, 4, 280, 200, seam=1))
    add("touching", lambda g: photo_plate(g, "plate_4x5_seam2_numbered", 4, 5, 200, 150, seam=2, numbered=True))
    add("touching", lambda g: photo_plate(g, "plate_6x6_noseam_small", 6, 6, 150, 110))
    add("touching", lambda g: photo_plate(g, "plate_2x6_seam1_faint", 2, 6, 200, 160, seam=1, seam_delta=8))
    add("touching", lambda g: photo_plate(g, "plate_3x3_colour_noseam", 3, 3, 320, 240, sepia=False))
    add("touching", lambda g: photo_plate(g, "plate_5x4_numbered", 5, 4, 250, 180, numbered=True))
    add("storyboard", lambda g: storyboard(g, "story_3x3_256", 3, 3, 256))
    add("storyboard", lambda g: storyboard(g, "story_4x4_192_timecode", 4, 4, 192, timecode=True))
    add("storyboard", lambda g: storyboard(g, "story_2x5_240_seam", 2, 5, 240, seam=1))
    add("storyboard", lambda g: storyboard(g, "story_3x3_320_seam2_tc", 3, 3, 320, seam=2, timecode=True))
    add("storyboard", lambda g: storyboard(g, "story_4x4_160", 4, 4, 160))
    add("storyboard", lambda g: storyboard(g, "story_2x5_200_gutter4", 2, 5, 200, gutter=4, timecode=True))
    add("storyboard", lambda g: storyboard(g, "story_3x4_224_png", 3, 4, 224, fmt="png"))

    # --- empty trailing cells
    add(
        "trailing",
        lambda g: sprite_sheet(
            g, "trail_sprite_5x5_64_22", 5, 5, 64, 64, content="explosion", filled=22, family="trailing"
        ),
    )
    add("trailing", lambda g: sprite_sheet(g, "trail_sprite_3x8_32_20", 3, 8, 32, 32, filled=20, family="trailing"))
    add(
        "trailing",
        lambda g: sprite_sheet(
            g, "trail_sprite_4x4_48_magenta_13", 4, 4, 48, 48, bg=magenta, filled=13, family="trailing"
        ),
    )
    add(
        "trailing",
        lambda g: panel_grid(g, "trail_panels_3x3_7", 3, 3, 280, 280, gutter=10, filled=7, family="trailing"),
    )
    add(
        "trailing",
        lambda g: panel_grid(
            g, "trail_panels_3x4_lines_10", 3, 4, 240, 200, gutter=0, line=2, filled=10, family="trailing"
        ),
    )
    add("trailing", lambda g: storyboard(g, "trail_story_4x4_14_black", 4, 4, 192, filled=14, family="trailing"))
    add("trailing", lambda g: photo_plate(g, "trail_plate_6x6_34_black", 6, 6, 160, 110, filled=34, family="trailing"))
    add("trailing", lambda g: ai_sheet(g, "trail_ai_4x4_14", 4, 4, 1024, 1024, bg="flat", filled=14, family="trailing"))
    add(
        "trailing",
        lambda g: ai_sheet(g, "trail_ai_3x3_7_checker", 3, 3, 900, 900, bg="checker", filled=7, family="trailing"),
    )
    return S


def build_corpus(seed: int = 2026, only: str | None = None) -> Iterator[Grid]:
    """Every grid, drawn deterministically from ``seed``; ``only`` keeps one family."""
    root = np.random.default_rng(seed)
    specs = _specs(root)
    children = root.spawn(len(specs))
    for (family, fn), g in zip(specs, children, strict=True):
        if only is None or family == only:
            yield fn(g)


def corpus_size() -> int:
    return len(_specs(np.random.default_rng(0)))
