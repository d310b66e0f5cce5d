"""Whole-process benchmark: ``python -m gridanim.bench [--grid flat|painted|photo|all] [--runs N] [--json]``.

Builds (in code, deterministically) 1024x1536 grids of 3 rows x 4 columns that
look like AI-made animation grids: thin light gutters, an uneven border and a
moving subject, in three styles (``--grid all``, the default, runs each):

* **flat**: a smooth painterly gradient with per-panel noise (few colours);
* **painted**: an AI cartoon: flat colour regions with soft shading, ink
  outlines, a colour cast and many small outlined flowers;
* **photo**: natural-image statistics: 1/f texture in luma and chroma, a soft
  horizon, a camera that pans and shakes, exposure flicker, sensor noise.

It then times, as separate processes (median of ``--runs``):

* **ours**: ``python -m gridanim animate grid.png --rows 3 --cols 4 --gif a.gif --mp4 a.mp4``
* **naive**: a tiny standalone script: equal division, 5 % crop per side,
  Pillow ``save(..., save_all=True, optimize=True)`` GIF only.

The package is byte-compiled first, as ``pip install`` does (an uncompiled
copy run with ``PYTHONDONTWRITEBYTECODE=1`` is timed too and printed), and
the script prints the time ratio, GIF sizes, mean SSIM of each GIF's decoded frames
against the true frame content (the bench drew it, so it knows it), whether the
MP4 is H.264 yuv420p with even dimensions, and whether the GIF loops forever
with the delays asked; with several grids, a summary table. ``--quick`` times
only ours and naive. Targets (issues #2, #11): ours <= 0.5x naive time, our
SSIM >= naive, our GIF <= 1.1x naive's size, on every grid.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

W, H, ROWS, COLS = 1024, 1536, 3, 4
FPS = 8.0
MARGIN = 16  # true content drawn around each visible panel, for crops that overshoot


@dataclass
class BenchGrid:
    grid: np.ndarray  # H x W x 3
    panels: list[tuple[int, int, int, int]]  # visible (x, y, w, h) of each frame, row-major
    scenes: list[np.ndarray]  # true content of each frame, panel grown by MARGIN on every side

    def truth(self, k: int, region: tuple[int, int, int, int]) -> np.ndarray | None:
        """True content of frame ``k`` over grid ``region`` (None if outside the drawn margin)."""
        x, y, w, h = region
        px, py = self.panels[k][:2]
        sx, sy = x - px + MARGIN, y - py + MARGIN
        s = self.scenes[k]
        if sx < 0 or sy < 0 or sy + h > s.shape[0] or sx + w > s.shape[1]:
            return None
        return s[sy : sy + h, sx : sx + w]


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int, stretch: float = 1.0) -> np.ndarray:
    """Low-frequency noise in [-1, 1] by bicubic upsampling of a coarse random grid."""
    from PIL import Image

    ch, cw = max(2, h // cell + 2), max(2, int(w // (cell * stretch)) + 2)
    coarse = rng.uniform(-1, 1, (ch, cw)).astype(np.float32)
    im = Image.fromarray(coarse, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(im)


def _panel_edges(total: int, n: int, lead: int, trail: int, gutter: int, wobble: list[int]) -> list[tuple[int, int]]:
    inner = total - lead - trail - gutter * (n - 1)
    base = inner // n
    sizes = [base + wobble[i % len(wobble)] for i in range(n)]
    sizes[-1] += inner - sum(sizes)
    out, pos = [], lead
    for s in sizes:
        out.append((pos, s))
        pos += s + gutter
    return out


def _subject(scene: np.ndarray, k: int, n: int, rng: np.random.Generator) -> None:
    """Draw a shaded figure whose pose depends on the frame index, antialiased by 3x supersampling."""
    from PIL import Image, ImageDraw

    sh, sw = scene.shape[:2]
    ss = 3
    layer = Image.new("RGBA", (sw * ss, sh * ss), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    t = 2 * np.pi * k / n
    cx = sw * (0.5 + 0.12 * np.sin(t))
    cy = sh * (0.55 - 0.05 * abs(np.sin(t)))
    s = sw * 0.22

    def ell(x, y, rx, ry, col):
        d.ellipse([(x - rx) * ss, (y - ry) * ss, (x + rx) * ss, (y + ry) * ss], fill=col)

    # shadow, legs, body, arms, head, eye
    ell(sw * 0.5, sh * 0.8, s * 1.1, s * 0.18, (40, 35, 50, 90))
    for side in (-1, 1):
        lx = cx + side * s * 0.35 + side * s * 0.3 * np.sin(t + (side > 0) * np.pi)
        d.line(
            [(cx + side * s * 0.25) * ss, (cy + s * 0.9) * ss, lx * ss, (sh * 0.79) * ss],
            fill=(60, 45, 90, 255),
            width=int(s * 0.28 * ss),
        )
    ell(cx, cy, s * 0.75, s * 1.05, (205, 70, 60, 255))
    ell(cx - s * 0.2, cy - s * 0.3, s * 0.35, s * 0.45, (235, 120, 95, 255))  # highlight
    for side in (-1, 1):
        ang = t * side + np.pi / 2 + side * 0.9
        ax, ay = cx + side * s * 0.7, cy - s * 0.3
        d.line(
            [ax * ss, ay * ss, (ax + np.cos(ang) * s * 0.9 * side) * ss, (ay + np.sin(ang) * s * 0.5) * ss],
            fill=(190, 60, 55, 255),
            width=int(s * 0.2 * ss),
        )
    hy = cy - s * 1.45
    ell(cx, hy, s * 0.55, s * 0.55, (245, 205, 160, 255))
    ell(cx + s * 0.15 * np.cos(t), hy - s * 0.05, s * 0.09, s * 0.12, (30, 25, 40, 255))
    ell(cx - s * 0.2, hy - s * 0.65, s * 0.6, s * 0.18, (70, 50, 120, 255))  # hat brim
    small = np.asarray(layer.resize((sw, sh), Image.Resampling.BOX), dtype=np.float32)
    a = small[..., 3:4] / 255.0
    scene[:] = scene * (1 - a) + small[..., :3] * a


GRAIN = 1.2  # per-pixel noise sigma: gives the Laplacian texture level of the shared AI grids (~2)
GRID_KINDS = ("flat", "painted", "photo")
# per-pixel noise of each kind: AI cartoons carry a little generator grain, photos sensor noise
KIND_GRAIN = {"flat": GRAIN, "painted": 0.8, "photo": 2.5}


def _grid_canvas(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """The light gutter / border colour with a little noise, under the panels."""
    grid = np.empty((h, w, 3), np.float32)
    grid[:] = (238, 234, 226)
    grid += rng.normal(0, 1.5, (h, w, 1)).astype(np.float32)
    return grid


def _flat_background(rng: np.random.Generator, ph: int, pw: int) -> np.ndarray:
    """Smooth painterly gradient with a little low-frequency texture (the original bench grid)."""
    yy = np.linspace(0, 1, ph, dtype=np.float32)[:, None]
    base = np.empty((ph, pw, 3), np.float32)
    for c, (top, bottom) in enumerate(((120, 205), (150, 190), (190, 150))):
        base[..., c] = top + (bottom - top) * yy
    for cell, amp, stretch in ((90, 18, 1.0), (24, 10, 3.0), (8, 6, 2.0)):
        nz = _smooth_noise(rng, ph, pw, cell, stretch)
        base += nz[..., None] * np.array([amp, amp * 0.8, amp * 0.6], np.float32)
    return base


def _supersampled(draw_fn, w: int, h: int, ss: int = 3) -> np.ndarray:
    """RGBA float layer drawn by ``draw_fn(draw, ss)`` at ``ss`` x resolution, box-downsampled (antialiasing)."""
    from PIL import Image, ImageDraw

    layer = Image.new("RGBA", (w * ss, h * ss), (0, 0, 0, 0))
    draw_fn(ImageDraw.Draw(layer), ss)
    return np.asarray(layer.resize((w, h), Image.Resampling.BOX), dtype=np.float32)


def _over(scene: np.ndarray, layer: np.ndarray) -> None:
    a = layer[..., 3:4] / 255.0
    scene[:] = scene * (1 - a) + layer[..., :3] * a


INK = (34, 28, 44, 255)  # outline colour of the painted style


def _painted_background(rng: np.random.Generator, ph: int, pw: int) -> np.ndarray:
    """AI-cartoon backdrop: sky gradient, outlined flat clouds and hills with soft shading."""
    yy = np.linspace(0, 1, ph, dtype=np.float32)[:, None, None]
    scene = np.array([96, 170, 235], np.float32) * (1 - yy) + np.array([200, 228, 245], np.float32) * yy
    scene = np.broadcast_to(scene, (ph, pw, 3)).copy()
    layers = [  # (top of the ridge as a fraction of the height, fill colour, shade colour)
        (0.52, (120, 160, 205), (95, 130, 180)),
        (0.62, (110, 175, 90), (70, 130, 60)),
        (0.76, (150, 190, 80), (100, 145, 55)),
    ]
    xs = np.arange(pw + 1)

    def clouds(d, ss):
        for _ in range(3):
            cx, cy, r = rng.uniform(0, pw), rng.uniform(0.08, 0.3) * ph, rng.uniform(0.08, 0.14) * pw
            for dx, dy, f in ((-0.8, 0.2, 0.6), (0, 0, 1.0), (0.9, 0.15, 0.7)):
                x, y, rr = cx + dx * r, cy + dy * r, r * f
                d.ellipse(
                    [(x - rr) * ss, (y - rr * 0.7) * ss, (x + rr) * ss, (y + rr * 0.7) * ss],
                    fill=(250, 250, 255, 255),
                    outline=INK,
                    width=2 * ss,
                )

    _over(scene, _supersampled(clouds, pw, ph))
    for top, fill, shade in layers:
        ridge = top * ph + _smooth_noise(rng, 1, pw + 1, 60)[0] * ph * 0.05
        yy2 = np.arange(ph, dtype=np.float32)[:, None]
        inside = yy2 >= ridge[None, :pw]
        depth = np.clip((yy2 - ridge[None, :pw]) / (ph * 0.25), 0, 1)[..., None]  # soft shading downwards
        col = np.array(fill, np.float32) * (1 - depth) + np.array(shade, np.float32) * depth
        pts = [(float(x), float(y)) for x, y in zip(xs, ridge, strict=True)]

        def outline(d, ss, pts=pts):
            d.line([(x * ss, y * ss) for x, y in pts], fill=INK, width=3 * ss)

        # antialiased hill edge: supersampled coverage of the ridge
        def cover(d, ss, pts=pts):
            d.polygon(
                [(x * ss, y * ss) for x, y in pts] + [(pw * ss, ph * ss), (0, ph * ss)], fill=(255, 255, 255, 255)
            )

        a = _supersampled(cover, pw, ph)[..., 3:4] / 255.0
        a = np.where(inside[..., None], np.maximum(a, 0.0), a)
        scene[:] = scene * (1 - a) + col * a
        _over(scene, _supersampled(outline, pw, ph))
    # painted light: a warm-to-cool colour cast across the picture, soft like an airbrush
    xx = np.linspace(0, 1, pw, dtype=np.float32)[None, :, None]
    scene *= 1 + (xx - 0.5) * np.array([0.12, 0.02, -0.12], np.float32)
    scene += _smooth_noise(rng, ph, pw, 30)[..., None] * np.array([7, 5, 8], np.float32)  # brush strokes

    def flowers(d, ss):  # outlined flowers of many hues in the grass
        for _ in range(int(pw * ph / 1800)):
            x, y = rng.uniform(0, pw), rng.uniform(0.66, 1.0) * ph
            r = rng.uniform(2.5, 6.0) * (0.6 + 0.8 * (y / ph - 0.6))
            col = tuple(int(v) for v in rng.integers(60, 256, 3)) + (255,)
            d.ellipse([(x - r) * ss, (y - r) * ss, (x + r) * ss, (y + r) * ss], fill=col, outline=INK, width=ss)
            d.ellipse(
                [(x - r * 0.35) * ss, (y - r * 0.35) * ss, (x + r * 0.35) * ss, (y + r * 0.35) * ss],
                fill=(250, 220, 90, 255),
            )

    _over(scene, _supersampled(flowers, pw, ph))
    return scene


def _painted_subject(scene: np.ndarray, k: int, n: int) -> None:
    """An outlined, cel-shaded figure whose pose depends on the frame index."""
    sh, sw = scene.shape[:2]
    t = 2 * np.pi * k / n
    cx = sw * (0.5 + 0.12 * np.sin(t))
    cy = sh * (0.6 - 0.05 * abs(np.sin(t)))
    s = sw * 0.22

    def draw(d, ss):
        def ell(x, y, rx, ry, col, outline=True):
            d.ellipse(
                [(x - rx) * ss, (y - ry) * ss, (x + rx) * ss, (y + ry) * ss],
                fill=col,
                outline=INK if outline else None,
                width=3 * ss,
            )

        def limb(x0, y0, x1, y1, col, wd):
            d.line([x0 * ss, y0 * ss, x1 * ss, y1 * ss], fill=INK, width=int((wd + 6) * ss))
            d.line([x0 * ss, y0 * ss, x1 * ss, y1 * ss], fill=col, width=int(wd * ss))

        ell(sw * 0.5, sh * 0.86, s * 1.1, s * 0.16, (30, 60, 30, 110), outline=False)
        for side in (-1, 1):
            lx = cx + side * s * 0.35 + side * s * 0.3 * np.sin(t + (side > 0) * np.pi)
            limb(cx + side * s * 0.25, cy + s * 0.9, lx, sh * 0.85, (70, 60, 140, 255), s * 0.24)
        ell(cx, cy, s * 0.75, s * 1.05, (230, 120, 40, 255))  # body
        ell(cx + s * 0.22, cy + s * 0.2, s * 0.45, s * 0.75, (200, 90, 30, 255), outline=False)  # cel shade
        ell(cx - s * 0.3, cy - s * 0.45, s * 0.16, s * 0.22, (255, 200, 140, 255), outline=False)  # highlight
        for side in (-1, 1):
            ang = t * side + np.pi / 2 + side * 0.9
            ax, ay = cx + side * s * 0.7, cy - s * 0.3
            limb(ax, ay, ax + np.cos(ang) * s * 0.9 * side, ay + np.sin(ang) * s * 0.5, (230, 120, 40, 255), s * 0.18)
        hy = cy - s * 1.45
        ell(cx, hy, s * 0.58, s * 0.55, (250, 215, 180, 255))  # head
        ell(cx + s * 0.2, hy + s * 0.12, s * 0.3, s * 0.3, (232, 180, 150, 255), outline=False)  # cheek shade
        for side in (-1, 1):  # eyes: white, pupil, glint
            ex = cx + side * s * 0.2 + s * 0.06 * np.cos(t)
            ell(ex, hy - s * 0.05, s * 0.12, s * 0.15, (255, 255, 255, 255))
            ell(ex + s * 0.03, hy - s * 0.02, s * 0.06, s * 0.08, (40, 30, 60, 255), outline=False)
            ell(ex + s * 0.05, hy - s * 0.06, s * 0.02, s * 0.02, (255, 255, 255, 255), outline=False)
        ell(cx, hy - s * 0.6, s * 0.65, s * 0.2, (150, 40, 90, 255))  # hat brim

    _over(scene, _supersampled(draw, sw, sh))


def _fractal(rng: np.random.Generator, h: int, w: int, cells=(256, 128, 64, 32, 16, 8, 4, 2), slope: float = 0.7):
    """1/f-like noise (natural images' power spectrum): octaves with amplitude ~ cell**slope, std ~1."""
    out = np.zeros((h, w), np.float32)
    for cell in cells:
        out += _smooth_noise(rng, h, w, cell) * (cell / cells[0]) ** slope
    return out / max(float(out.std()), 1e-6)


def _photo_background(rng: np.random.Generator, ph: int, pw: int) -> np.ndarray:
    """Natural-image statistics: a lit gradient, 1/f texture in luma and chroma, many colours."""
    yy = np.linspace(0, 1, ph, dtype=np.float32)[:, None, None]
    sky = np.array([150, 175, 200], np.float32)
    ground = np.array([110, 95, 70], np.float32)
    horizon = np.clip((yy - 0.45) * 6, 0, 1)  # soft horizon
    scene = sky * (1 - horizon) + ground * horizon
    scene = np.broadcast_to(scene, (ph, pw, 3)).copy()
    lum = _fractal(rng, ph, pw)
    tex = _fractal(rng, ph, pw, cells=(8, 4, 2), slope=0.5)  # grass / gravel grain, stronger on the ground
    scene += (lum * (14 + 20 * horizon[..., 0]) + tex * (4 + 10 * horizon[..., 0]))[..., None]
    for c, amp in enumerate((10, 6, 12)):  # chroma drifts: foliage, soil, sky
        scene[..., c] += _fractal(rng, ph, pw, cells=(256, 128, 64, 32)) * amp
    return scene


def _photo_subject(scene: np.ndarray, k: int, n: int, rng: np.random.Generator) -> None:
    """The shaded figure with fabric texture, soft edges (lens blur) and lit from one side."""
    from PIL import Image, ImageFilter

    sh, sw = scene.shape[:2]
    before = scene.copy()
    _subject(scene, k, n, rng)
    a = (np.abs(scene - before).sum(axis=2) > 1).astype(np.float32)
    tex = _fractal(rng, sh, sw, cells=(16, 8, 4, 2), slope=0.6)
    xx = np.linspace(-1, 1, sw, dtype=np.float32)[None, :]
    light = 1.0 + 0.12 * xx  # side light
    scene[:] = scene * (1 + (light - 1 + 0.06 * tex) * a)[..., None]
    blurred = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    scene[:] = np.asarray(blurred, np.float32)


PHOTO_PAN = 4  # photo: the camera pans this many pixels a frame
PHOTO_SHAKE = 4  # ... and shakes up to this many pixels up and down
PHOTO_WARMTH = 0.0  # ... and the white balance drifts this much from the first frame to the last


def make_bench_grid(seed: int = 7, grain: float | None = None, kind: str = "flat", *, size: tuple[int, int] = (W, H),
                    rows: int = ROWS, cols: int = COLS) -> BenchGrid:  # fmt: skip
    """A deterministic AI-like grid of ``kind`` (flat, painted, photo) used by the benchmark and some tests."""
    if kind not in GRID_KINDS:
        raise ValueError(f"unknown bench grid kind {kind!r}: use one of {', '.join(GRID_KINDS)}")
    grain = KIND_GRAIN[kind] if grain is None else grain
    rng = np.random.default_rng(seed)
    cols_e = _panel_edges(size[0], cols, lead=11, trail=7, gutter=6, wobble=[1, -2, 2, 0])
    rows_e = _panel_edges(size[1], rows, lead=13, trail=9, gutter=7, wobble=[-1, 2, 0])
    pw = max(w for _, w in cols_e) + 2 * MARGIN
    ph = max(h for _, h in rows_e) + 2 * MARGIN
    n = rows * cols
    pan = PHOTO_PAN
    if kind == "flat":
        base = _flat_background(rng, ph, pw)
    elif kind == "painted":
        base = _painted_background(rng, ph, pw)
    else:
        base = _photo_background(rng, ph + 2 * PHOTO_SHAKE, pw + pan * n)
    grid = _grid_canvas(rng, *size)
    panels, scenes = [], []
    for r, (y, h) in enumerate(rows_e):
        for c, (x, w) in enumerate(cols_e):
            k = r * cols + c
            sh_, sw_ = h + 2 * MARGIN, w + 2 * MARGIN
            if kind == "photo":
                oy = int(rng.integers(0, 2 * PHOTO_SHAKE + 1))  # hand-held shake
                scene = base[oy : oy + sh_, pan * k : pan * k + sw_].copy()
                scene *= 1 + 0.03 * np.sin(2 * np.pi * k / n)  # exposure flicker
                w8 = PHOTO_WARMTH * (k / max(1, n - 1) - 0.5)  # the light warms as the sun sets
                scene *= np.array([1 + w8, 1.0, 1 - w8], np.float32)
                _photo_subject(scene, k, n, rng)
            elif kind == "painted":
                scene = base[:sh_, :sw_].copy()
                _painted_subject(scene, k, n)
                yy = np.linspace(-1, 1, sh_, dtype=np.float32)[:, None, None]
                xx = np.linspace(-1, 1, sw_, dtype=np.float32)[None, :, None]
                scene *= 1.04 - 0.1 * (xx * xx + yy * yy) * 0.5  # soft vignette: painted light
            else:
                scene = base[:sh_, :sw_].copy()
                scene += _smooth_noise(rng, sh_, sw_, 40)[..., None] * 6  # panel-to-panel drift
                _subject(scene, k, n, rng)
            scene += rng.normal(0, grain, scene.shape).astype(np.float32)  # generator grain / sensor noise
            scene8 = np.clip(scene + 0.5, 0, 255).astype(np.uint8)
            grid[y : y + h, x : x + w] = scene8[MARGIN : MARGIN + h, MARGIN : MARGIN + w]
            panels.append((x, y, w, h))
            scenes.append(scene8)
    return BenchGrid(np.clip(grid + 0.5, 0, 255).astype(np.uint8), panels, scenes)


# --------------------------------------------------------------------------- the two contestants

NAIVE_SCRIPT = """\
import sys
from PIL import Image
src, out, rows, cols, fps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
im = Image.open(src).convert("RGB")
w, h = im.size
cw, ch = w // cols, h // rows
dx, dy = int(cw * 0.05), int(ch * 0.05)
frames = [im.crop((c * cw + dx, r * ch + dy, (c + 1) * cw - dx, (r + 1) * ch - dy)) for r in range(rows) for c in range(cols)]
frames[0].save(out, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0, optimize=True)
"""


STAGES_SCRIPT = """\
import json, os, sys, time
t0 = time.perf_counter()
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy
from gridanim import encode, frames
from gridanim.animate import AnimateOptions, animate, render
from gridanim.images import load_image
from gridanim.layout import detect_layout
t1 = time.perf_counter()
img = load_image(sys.argv[1])
t2 = time.perf_counter()
layout = detect_layout(img.rgb, img.alpha, rows=int(sys.argv[2]), cols=int(sys.argv[3]))
t3 = time.perf_counter()
anim = animate(img, AnimateOptions(fps=float(sys.argv[4])), layout=layout)
t4 = time.perf_counter()
out = render(anim, ["gif", "mp4"])
t5 = time.perf_counter()
gif = encode.encode_gif(anim.frames, anim.durations_ms)
t6 = time.perf_counter()
mp4 = encode.encode_mp4(anim.frames, anim.durations_ms, repeat=0)
t7 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "detect": t3 - t2, "extract_order_time": t4 - t3,
                  "render_gif_mp4": t5 - t4, "gif_alone_warm": t6 - t5, "mp4_alone_warm": t7 - t6}))
"""


def naive_regions(w: int = W, h: int = H, rows: int = ROWS, cols: int = COLS) -> list[tuple[int, int, int, int]]:
    """The grid regions the naive script's frames come from, row-major."""
    cw, ch = w // cols, h // rows
    dx, dy = int(cw * 0.05), int(ch * 0.05)
    return [(c * cw + dx, r * ch + dy, cw - 2 * dx, ch - 2 * dy) for r in range(rows) for c in range(cols)]


def our_regions(report: dict) -> list[tuple[int, int, int, int]]:
    """The grid regions our frames cover: each box grown by the padding frames.cut_frames put around it."""
    fw, fh = report["output_size"]
    pads = report.get("pads") or [(0, 0, 0, 0)] * len(report["boxes"])
    return [(x - p[0], y - p[1], fw, fh) for (x, y, _, _), p in zip(report["boxes"], pads, strict=True)]


def _run(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"bench: command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return dt


# --------------------------------------------------------------------------- scoring


def _overlap(a, b) -> int:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def score_gif(bench: BenchGrid, frames: list[np.ndarray], regions: list[tuple[int, int, int, int]]) -> dict:
    """Mean SSIM of decoded frames vs the true content of their regions, and vs the source pixels."""
    from bench.metrics import ssim

    truth_s, source_s = [], []
    for f, reg in zip(frames, regions, strict=True):
        x, y, w, h = reg
        f = f[:h, :w]
        k = max(range(len(bench.panels)), key=lambda i: _overlap(bench.panels[i], reg))
        t = bench.truth(k, (x, y, f.shape[1], f.shape[0]))
        if t is None:  # the crop reaches past the drawn margin: score the part we know
            px, py, pw, ph = bench.panels[k]
            x0, y0 = max(x, px - MARGIN), max(y, py - MARGIN)
            x1, y1 = min(x + f.shape[1], px + pw + MARGIN), min(y + f.shape[0], py + ph + MARGIN)
            t = bench.truth(k, (x0, y0, x1 - x0, y1 - y0))
            f = f[y0 - y : y1 - y, x0 - x : x1 - x]
        truth_s.append(ssim(f, t))
        source_s.append(ssim(frames[len(source_s)][:h, :w], bench.grid[y : y + h, x : x + w]))
    return {"ssim_vs_truth": float(np.mean(truth_s)), "ssim_vs_source": float(np.mean(source_s))}


def probe_mp4(path: Path) -> dict:
    from gridanim.encode import ffmpeg_exe

    r = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    line = next((ln for ln in r.stderr.splitlines() if "Video:" in ln), "")
    import re

    m = re.search(r"Video: (\w+).*?, (\w+)\(?.*?, (\d+)x(\d+)", line)
    if not m:
        return {"ok": False, "line": line}
    w, h = int(m.group(3)), int(m.group(4))
    ok = m.group(1) == "h264" and m.group(2) == "yuv420p" and w % 2 == 0 and h % 2 == 0
    return {"ok": ok, "codec": m.group(1), "pix_fmt": m.group(2), "size": [w, h]}


# --------------------------------------------------------------------------- main


def run_bench(runs: int = 5, keep: Path | None = None, grain: float | None = None, kind: str = "flat", *,
              size: tuple[int, int] = (W, H), quick: bool = False) -> dict:  # fmt: skip
    """Time and score one grid ``kind``; ``quick`` skips the side timings (GIF only, detect, stages, no cache)."""
    root = Path(__file__).resolve().parent.parent
    bench = make_bench_grid(grain=grain, kind=kind, size=size)
    grain = KIND_GRAIN[kind] if grain is None else grain
    with tempfile.TemporaryDirectory(prefix="gridanim-bench-") as td:
        d = keep or Path(td)
        d.mkdir(parents=True, exist_ok=True)
        from PIL import Image

        grid_png = d / "grid.png"
        Image.fromarray(bench.grid).save(grid_png)
        naive_py = d / "naive.py"
        naive_py.write_text(NAIVE_SCRIPT)
        py = sys.executable
        # Byte-compile the package, as `pip install` does and as any run does where
        # PYTHONDONTWRITEBYTECODE is unset (Pillow, numpy and the naive script's
        # imports are compiled already). An uncompiled copy is timed separately.
        compileall.compile_dir(str(root / "gridanim"), quiet=1)
        nocache = d / "nocache"
        shutil.rmtree(nocache, ignore_errors=True)  # --keep DIR may hold an older copy
        shutil.copytree(root / "gridanim", nocache / "gridanim", ignore=shutil.ignore_patterns("__pycache__"))
        ours_cmd = [py, "-m", "gridanim", "animate", str(grid_png), "--rows", str(ROWS), "--cols", str(COLS),
                    "--fps", f"{FPS:g}", "--gif", str(d / "a.gif"), "--mp4", str(d / "a.mp4")]  # fmt: skip
        ours_gif_cmd = ours_cmd[:-2]
        detect_cmd = [py, "-m", "gridanim", "detect", str(grid_png), "--rows", str(ROWS), "--cols", str(COLS)]
        naive_cmd = [py, str(naive_py), str(grid_png), str(d / "naive.gif"), str(ROWS), str(COLS), f"{FPS:g}"]
        startup_cmd = [py, "-c", "import numpy, PIL.Image"]
        times: dict[str, list[float]] = {"ours": [], "ours_gif_only": [], "naive": [], "detect_only": [], "python_numpy_pil_startup": [], "ours_no_bytecode_cache": []}  # fmt: skip
        no_pyc = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        _run(ours_cmd, root)  # warm the file cache once for both sides
        _run(naive_cmd, root)
        for _ in range(runs):  # interleaved so background load hits both alike
            times["ours"].append(_run(ours_cmd, root))
            times["naive"].append(_run(naive_cmd, root))
            if quick:
                continue
            times["ours_no_bytecode_cache"].append(_run(ours_cmd, nocache, no_pyc))
            times["ours_gif_only"].append(_run(ours_gif_cmd, root))
            times["detect_only"].append(_run(detect_cmd, root))
            times["python_numpy_pil_startup"].append(_run(startup_cmd, root))
        med = {k: statistics.median(v) if v else None for k, v in times.items()}
        stages_py = d / "stages.py"
        stages_py.write_text(STAGES_SCRIPT)
        stage_runs = []
        for _ in range(0 if quick else runs):
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
            cmd = [py, str(stages_py), str(grid_png), str(ROWS), str(COLS), f"{FPS:g}"]
            r = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True, env=env)
            stage_runs.append(json.loads(r.stdout))
        stage_keys = (
            "imports",
            "load",
            "detect",
            "extract_order_time",
            "render_gif_mp4",
            "gif_alone_warm",
            "mp4_alone_warm",
        )
        stages = {k: round(statistics.median(s[k] for s in stage_runs), 3) if stage_runs else None for k in stage_keys}
        report = json.loads(
            subprocess.run(ours_cmd + ["--json"], cwd=root, capture_output=True, text=True, check=True).stdout
        )
        ours_gif = (d / "a.gif").read_bytes()
        naive_gif = (d / "naive.gif").read_bytes()
        from bench.metrics import decode_gif

        og, ng = decode_gif(ours_gif), decode_gif(naive_gif)
        ours_score = score_gif(bench, og["frames"], our_regions(report))
        naive_score = score_gif(bench, ng["frames"], naive_regions(*size))
        mp4 = probe_mp4(d / "a.mp4")
        mp4_bytes = (d / "a.mp4").stat().st_size

    ratio_t = med["ours"] / med["naive"]
    ratio_s = len(ours_gif) / len(naive_gif)
    delays_ok = (
        og["durations"] == report["durations_ms"] and abs(sum(og["durations"]) - len(og["frames"]) * 1000 / FPS) <= 10
    )
    result = {
        "grid": {
            "kind": kind,
            "size": list(size),
            "rows": ROWS,
            "cols": COLS,
            "fps": FPS,
            "grain": grain,
            "true_frame_sizes": sorted({p[2:] for p in bench.panels}),
        },
        "runs": runs,
        "median_s": {k: round(v, 3) for k, v in med.items() if v is not None},
        "time_ratio_ours_gif_mp4_vs_naive_gif": round(ratio_t, 3),
        "in_process_stages_s": None if quick else stages,
        "ours_without_detect_s": None if quick else round(med["ours"] - stages["detect"], 3),
        "gif_bytes": {"ours": len(ours_gif), "naive": len(naive_gif)},
        "gif_size_ratio": round(ratio_s, 3),
        "gif_bits_per_pixel": {
            "ours": round(8 * len(ours_gif) / sum(f.shape[0] * f.shape[1] for f in og["frames"]), 3),
            "naive": round(8 * len(naive_gif) / sum(f.shape[0] * f.shape[1] for f in ng["frames"]), 3),
        },
        "mp4_bytes": mp4_bytes,
        "frames": {"ours": len(og["frames"]), "naive": len(ng["frames"])},
        "frame_size": {"ours": report["output_size"], "naive": list(ng["frames"][0].shape[1::-1])},
        "ssim_vs_truth": {
            "ours": round(ours_score["ssim_vs_truth"], 4),
            "naive": round(naive_score["ssim_vs_truth"], 4),
        },
        "ssim_vs_source_region": {
            "ours": round(ours_score["ssim_vs_source"], 4),
            "naive": round(naive_score["ssim_vs_source"], 4),
        },
        "layout": {"method": report.get("method"), "boxes": report["boxes"]},
        "mp4": mp4,
        "gif_loop": og["loop"],
        "gif_delays_ms": og["durations"],
        "gif_delays_ok": delays_ok,
    }
    result["targets"] = {
        "time_ratio<=0.5": ratio_t <= 0.5,
        "ssim>=naive": ours_score["ssim_vs_truth"] >= naive_score["ssim_vs_truth"],
        "size<=1.1x": ratio_s <= 1.1,
        "mp4_h264_yuv420p_even": bool(mp4.get("ok")),
        "gif_loops_forever": og["loop"] == 0,
        "gif_delays_as_asked": delays_ok,
    }
    return result


def _print(r: dict) -> None:
    m = r["median_s"]
    ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
    t = r["targets"]
    g = r["grid"]
    print(
        f"{g['kind']} grid {g['size'][0]}x{g['size'][1]}, {g['rows']}x{g['cols']}, {g['fps']:g} fps, grain {g['grain']:g}; median of {r['runs']} runs"
    )
    st = r["in_process_stages_s"]
    if st is None:  # --quick
        print(f"  ours  (GIF+MP4)   {m['ours']:.3f} s")
        print(f"  naive (GIF)       {m['naive']:.3f} s")
    else:
        print(
            f"  ours  (GIF+MP4)   {m['ours']:.3f} s   [GIF only {m['ours_gif_only']:.3f} s; detect alone {m['detect_only']:.3f} s; python+numpy+PIL start {m['python_numpy_pil_startup']:.3f} s]"
        )
        print(f"  naive (GIF)       {m['naive']:.3f} s")
        print(
            f"  ours, package not byte-compiled (PYTHONDONTWRITEBYTECODE=1, no __pycache__) {m['ours_no_bytecode_cache']:.3f} s = {m['ours_no_bytecode_cache'] / m['naive']:.2f}x naive"
        )
    print(
        f"  time ratio        {r['time_ratio_ours_gif_mp4_vs_naive_gif']:.3f}   target <= 0.5  {ok(t['time_ratio<=0.5'])}"
    )
    if st is not None:
        print(
            f"  ours, by stage    imports {st['imports']:.3f}, load {st['load']:.3f}, detect {st['detect']:.3f}, "
            f"crop+order+timing {st['extract_order_time']:.3f}, GIF+MP4 {st['render_gif_mp4']:.3f} s "
            f"(warm: GIF {st['gif_alone_warm']:.3f}, MP4 {st['mp4_alone_warm']:.3f})"
        )
        print(
            f"  ours minus detection {r['ours_without_detect_s']:.3f} s whole process = {r['ours_without_detect_s'] / m['naive']:.2f}x naive"
        )
    g = r["gif_bytes"]
    print(
        f"  GIF size          ours {g['ours'] / 1024:.0f} KB, naive {g['naive'] / 1024:.0f} KB, ratio {r['gif_size_ratio']:.3f}   target <= 1.1  {ok(t['size<=1.1x'])}"
    )
    bpp = r["gif_bits_per_pixel"]
    print(
        f"  GIF bits/pixel    ours {bpp['ours']:.3f}, naive {bpp['naive']:.3f}   (ours keeps more of each panel: bigger frames)"
    )
    s, sv = r["ssim_vs_truth"], r["ssim_vs_source_region"]
    print(
        f"  SSIM vs truth     ours {s['ours']:.4f}, naive {s['naive']:.4f}   target ours >= naive  {ok(t['ssim>=naive'])}"
    )
    print(f"  SSIM vs source    ours {sv['ours']:.4f}, naive {sv['naive']:.4f}   (codec only: same region of the grid)")
    print(
        f"  frames            ours {r['frames']['ours']} x {r['frame_size']['ours']}, naive {r['frames']['naive']} x {r['frame_size']['naive']}"
    )
    mp4 = r["mp4"]
    print(
        f"  MP4               {mp4.get('codec')} {mp4.get('pix_fmt')} {mp4.get('size')} {r['mp4_bytes'] / 1024:.0f} KB  {ok(t['mp4_h264_yuv420p_even'])}"
    )
    print(
        f"  GIF loop={r['gif_loop']} ({ok(t['gif_loops_forever'])}), delays {r['gif_delays_ms']} ms ({ok(t['gif_delays_as_asked'])})"
    )


def _print_summary(results: list[dict]) -> None:
    print("summary (median times; SSIM of the GIF against the true frames)")
    print(f"  {'grid':8s} {'ours s':>7s} {'naive s':>7s} {'ratio':>6s}  {'SSIM ours':>9s} {'naive':>6s}  "
          f"{'KB ours':>7s} {'naive':>6s} {'ratio':>6s}  targets")  # fmt: skip
    for r in results:
        m, s, g = r["median_s"], r["ssim_vs_truth"], r["gif_bytes"]
        bad = [k for k, v in r["targets"].items() if not v]
        print(
            f"  {r['grid']['kind']:8s} {m['ours']:7.3f} {m['naive']:7.3f} {r['time_ratio_ours_gif_mp4_vs_naive_gif']:6.3f}  "
            f"{s['ours']:9.4f} {s['naive']:6.4f}  {g['ours'] / 1024:7.0f} {g['naive'] / 1024:6.0f} {r['gif_size_ratio']:6.3f}  "
            + ("PASS" if not bad else "FAIL " + ", ".join(bad))
        )


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    try:
        size = int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size must look like 1024x1536, got {text!r}") from None
    if min(size) < 64:
        raise argparse.ArgumentTypeError(f"--size must be at least 64x64, got {text!r}")
    return size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gridanim.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (median), default 5")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--keep", type=Path, help="write the grid and outputs to this folder and keep them")
    ap.add_argument(
        "--grid",
        choices=GRID_KINDS + ("all",),
        default="all",
        help="which grid to run: flat (smooth AI-like), painted (AI cartoon), photo (natural image); default all",
    )
    ap.add_argument(
        "--grain",
        type=float,
        help=f"per-pixel noise of the grid (default per grid; flat: {GRAIN}, like the shared AI grids)",
    )
    ap.add_argument("--size", type=_size, default=(W, H), help=f"grid size WxH (default {W}x{H})")
    ap.add_argument("--quick", action="store_true", help="time only ours and naive (no side timings)")  # fmt: skip
    a = ap.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    kinds = GRID_KINDS if a.grid == "all" else (a.grid,)
    results = []
    for kind in kinds:
        keep = a.keep / kind if a.keep and len(kinds) > 1 else a.keep
        results.append(run_bench(max(1, a.runs), keep, a.grain, kind, size=a.size, quick=a.quick))
        if not a.json:
            _print(results[-1])
    if a.json:
        # the first grid's figures stay at the top level (the one-grid layout); every grid under "grids"
        print(json.dumps(dict(results[0], grids={r["grid"]["kind"]: r for r in results})))
    elif len(results) > 1:
        _print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
