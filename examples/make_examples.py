"""Draw the bundled example grids (the project's own, so they can ship anywhere).

    python examples/make_examples.py        # rewrites the PNGs next to this file

* ``bouncing_ball_3x4.png``: a ball that falls, squashes and bounces back,
  12 frames on white gutters;
* ``walk_cycle_2x4.png``: a little sprite walking on the spot, 8 frames on a
  flat background with no gutters at all (the common AI-grid case);
* ``pinwheel_2x3.png``: a spinning pinwheel on a sky gradient, 6 framed panels
  on a dark board.

The Muybridge plates beside them are public-domain photographs (1878/1887).
Everything is deterministic: the same PNG bytes on every run.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def _panels(rows: int, cols: int, cell: tuple[int, int], gutter: int, border: int):
    """Yield (index, x0, y0) of each panel's top-left corner, row-major."""
    cw, ch = cell
    for r in range(rows):
        for c in range(cols):
            yield r * cols + c, border + c * (cw + gutter), border + r * (ch + gutter)


def bouncing_ball(rows: int = 3, cols: int = 4, cell=(200, 200), gutter: int = 16) -> Image.Image:
    cw, ch = cell
    n = rows * cols
    W, H = cols * cw + (cols - 1) * gutter + 2 * gutter, rows * ch + (rows - 1) * gutter + 2 * gutter
    im = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(im)
    for i, x0, y0 in _panels(rows, cols, cell, gutter, gutter):
        # sky and floor
        for y in range(ch):
            t = y / ch
            d.line((x0, y0 + y, x0 + cw - 1, y0 + y), fill=(int(255 - 90 * t), int(236 - 60 * t), int(200 + 30 * t)))
        floor = y0 + ch - 34
        d.rectangle((x0, floor, x0 + cw - 1, y0 + ch - 1), fill=(120, 180, 110))
        # height follows |cos|: top at frame 0, floor contact at the middle
        phase = i / n
        height = abs(math.cos(math.pi * phase))
        r = 26
        squash = max(0.0, 1 - height / 0.18) * 0.35  # squash only near the floor
        rx, ry = r * (1 + squash), r * (1 - squash)
        cy = floor - ry - height * (ch - 34 - 2 * r - 16)
        cx = x0 + cw / 2
        sh = 18 + 14 * (1 - height)  # shadow grows as the ball comes down
        d.ellipse((cx - sh, floor + 4, cx + sh, floor + 12), fill=(90, 140, 85))
        d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(235, 80, 60), outline=(150, 40, 30), width=3)
        d.ellipse((cx - rx * 0.45, cy - ry * 0.6, cx - rx * 0.05, cy - ry * 0.2), fill=(255, 190, 170))
    return im


def walk_cycle(rows: int = 2, cols: int = 4, cell=(160, 200)) -> Image.Image:
    cw, ch = cell
    n = rows * cols
    bg = (250, 232, 190)
    im = Image.new("RGB", (cols * cw, rows * ch), bg)
    d = ImageDraw.Draw(im)
    for i, x0, y0 in _panels(rows, cols, cell, 0, 0):
        t = 2 * math.pi * i / n
        cx, ground = x0 + cw / 2, y0 + ch - 24
        bob = abs(math.sin(t)) * 6
        hip = (cx, ground - 70 - bob)
        shoulder = (cx, hip[1] - 52)
        d.ellipse((cx - 34, ground - 4, cx + 34, ground + 6), fill=(225, 205, 160))  # shadow
        for sign, shade in ((-1, (60, 70, 120)), (1, (80, 95, 160))):  # far leg first
            swing = sign * math.sin(t) * 0.55
            knee = (hip[0] + math.sin(swing) * 36, hip[1] + math.cos(swing) * 36)
            bend = max(0.0, -sign * math.cos(t)) * 0.6
            foot = (knee[0] + math.sin(swing - bend) * 34, min(ground, knee[1] + math.cos(swing - bend) * 34))
            d.line((hip, knee, foot), fill=shade, width=12, joint="curve")
            d.line((foot, (foot[0] + 12, foot[1])), fill=(50, 40, 40), width=8)
        for sign, shade in ((1, (200, 120, 60)), (-1, (230, 150, 80))):  # arms swing against legs
            swing = sign * math.sin(t) * 0.6
            hand = (shoulder[0] + math.sin(swing) * 44, shoulder[1] + 8 + math.cos(swing) * 44)
            d.line((shoulder[0], shoulder[1] + 8, hand[0], hand[1]), fill=shade, width=10)
        d.rounded_rectangle((cx - 20, shoulder[1] - 4, cx + 20, hip[1] + 6), radius=10, fill=(240, 160, 70))
        d.ellipse((cx - 22, shoulder[1] - 46, cx + 22, shoulder[1] - 2), fill=(255, 214, 170), outline=(120, 80, 60), width=2)
        d.ellipse((cx + 6, shoulder[1] - 30, cx + 12, shoulder[1] - 24), fill=(40, 30, 30))  # eye, facing right
        d.pieslice((cx - 24, shoulder[1] - 50, cx + 24, shoulder[1] - 14), 180, 360, fill=(110, 60, 40))  # hair
    return im


def pinwheel(rows: int = 2, cols: int = 3, cell=(220, 220), gutter: int = 12) -> Image.Image:
    cw, ch = cell
    n = rows * cols
    W, H = cols * cw + (cols + 1) * gutter, rows * ch + (rows + 1) * gutter
    im = Image.new("RGB", (W, H), (40, 44, 56))
    d = ImageDraw.Draw(im)
    colours = [(240, 90, 90), (250, 200, 70), (90, 190, 120), (80, 140, 230)]
    for i, x0, y0 in _panels(rows, cols, cell, gutter, gutter):
        for y in range(ch):
            t = y / ch
            d.line((x0, y0 + y, x0 + cw - 1, y0 + y), fill=(int(120 + 100 * t), int(180 + 50 * t), 245))
        cx, cy = x0 + cw / 2, y0 + ch * 0.42
        d.line((cx, cy, cx, y0 + ch - 8), fill=(120, 90, 60), width=7)
        # four blades turn a quarter turn over the loop (the blades look the same after 90 degrees)
        angle = (math.pi / 2) * i / n
        for k, col in enumerate(colours):
            a = angle + k * math.pi / 2
            tip = (cx + math.cos(a) * 78, cy + math.sin(a) * 78)
            side = (cx + math.cos(a + 0.9) * 46, cy + math.sin(a + 0.9) * 46)
            d.polygon([(cx, cy), tip, side], fill=col)
        d.ellipse((cx - 7, cy - 7, cx + 7, cy + 7), fill=(250, 250, 250))
    return im


def main() -> None:
    for name, im in (("bouncing_ball_3x4.png", bouncing_ball()), ("walk_cycle_2x4.png", walk_cycle()), ("pinwheel_2x3.png", pinwheel())):
        im.save(HERE / name, format="PNG", optimize=True)
        print(f"wrote {HERE / name} ({im.width}x{im.height})")


if __name__ == "__main__":
    main()
