"""Synthetic grids with known truth, for layout tests.

Two families, both seeded and deterministic:

* ``panel_grid``: full-bleed panels (a painterly scene that pans a little from
  panel to panel, plus a moving subject) separated by gutters of 0-30 px that
  are light, dark or coloured and uneven, an optional outer border, +-3 % cell
  size jitter, optional JPEG artefacts and empty trailing cells.
* ``sprite_grid``: subjects on a flat or noisy background with no gutters at
  all (the common AI-grid case); the truth box of a frame is its cell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw


@dataclass
class Truth:
    image: np.ndarray  # H x W x 3 uint8
    rows: int
    cols: int
    boxes: list[tuple[int, int, int, int]]  # real frames, row-major
    gutter_colour: tuple[int, int, int] | None
    description: str


def _split(total: int, n: int, gutters: list[int], rng, jitter: float) -> list[tuple[int, int]]:
    """Cell [start, end) spans filling ``total`` with the given gutters between."""
    free = total - sum(gutters)
    sizes = np.array([1.0 + rng.uniform(-jitter, jitter) for _ in range(n)])
    sizes = sizes / sizes.sum() * free
    edges = np.round(np.concatenate([[0], np.cumsum(sizes)])).astype(int)
    spans, offset = [], 0
    for i in range(n):
        a = edges[i] + offset
        b = edges[i + 1] + offset
        spans.append((int(a), int(b)))
        if i < n - 1:
            offset += gutters[i]
    return spans


def _scene(h: int, w: int, phase: float, rng, palette) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a, b, c = palette
    img = np.stack(
        [
            a + 40 * np.sin((xx + phase) / 37.0) + 20 * np.cos(yy / 23.0),
            b + 35 * np.cos((yy + phase * 0.5) / 29.0) + 15 * np.sin(xx / 41.0),
            c + 30 * np.sin((xx + yy + phase) / 53.0),
        ],
        axis=-1,
    )
    img += rng.normal(0, 5, img.shape)
    # darken the panel edge a touch, like a vignette: the boundary stays visible
    # even with no gutter
    edge = np.minimum.reduce([xx, yy, w - 1 - xx, h - 1 - yy])
    img *= (0.82 + 0.18 * np.clip(edge / 6.0, 0, 1))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _subject(draw: ImageDraw.ImageDraw, x0, y0, w, h, t: float, colour):
    cx = x0 + w / 2 + 0.18 * w * np.cos(2 * np.pi * t)
    cy = y0 + h / 2 + 0.15 * h * np.sin(2 * np.pi * t)
    r = 0.17 * min(w, h)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    draw.rectangle([cx - r * 0.3, cy + r * 0.6, cx + r * 0.3, cy + r * 1.6], fill=tuple(int(v * 0.6) for v in colour))


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


GUTTER_COLOURS = [(250, 250, 250), (20, 20, 24), (232, 200, 60), (40, 90, 200), (255, 255, 255)]


def panel_grid(
    seed: int, *, size=None, rows=None, cols=None, gutter=None, border=None, jpeg=None, empty_tail=None
) -> Truth:
    rng = np.random.default_rng(seed)
    W, H = size or [(640, 480), (1024, 1024), (1024, 1536), (1536, 1024), (800, 600), (900, 1200)][seed % 6]
    rows = rows or int(rng.integers(1, 6))
    cols = cols or int(rng.integers(1, 6))
    if rows * cols == 1:
        cols = 2
    g = int(rng.integers(0, 31)) if gutter is None else gutter
    border = int(rng.integers(0, 25)) if border is None else border
    gutter_colour = GUTTER_COLOURS[int(rng.integers(0, len(GUTTER_COLOURS)))]

    def uneven(n):
        return [max(0, g + int(rng.integers(-min(g, 3), min(g, 3) + 1))) for _ in range(n)]

    xs = _split(W - 2 * border, cols, uneven(cols - 1), rng, 0.03)
    ys = _split(H - 2 * border, rows, uneven(rows - 1), rng, 0.03)
    img = np.empty((H, W, 3), np.uint8)
    img[:] = gutter_colour
    palette = (rng.uniform(90, 160), rng.uniform(90, 160), rng.uniform(90, 160))
    n = rows * cols
    empties = (
        (int(rng.integers(0, min(3, n - 1) + 1)) if rng.random() < 0.3 else 0) if empty_tail is None else empty_tail
    )
    pil = Image.fromarray(img)
    boxes = []
    for i in range(n - empties):
        r, c = divmod(i, cols)
        (x0, x1), (y0, y1) = xs[c], ys[r]
        x0, x1, y0, y1 = x0 + border, x1 + border, y0 + border, y1 + border
        panel = _scene(y1 - y0, x1 - x0, phase=i * 9.0, rng=rng, palette=palette)
        pil.paste(Image.fromarray(panel), (x0, y0))
        _subject(ImageDraw.Draw(pil), x0, y0, x1 - x0, y1 - y0, i / n, (220, 70, 50))
        boxes.append((x0, y0, x1 - x0, y1 - y0))
    img = np.asarray(pil)
    q = (int(rng.integers(70, 95)) if rng.random() < 0.5 else None) if jpeg is None else jpeg
    if q:
        img = _jpeg(img, q)
    desc = f"panel seed={seed} {W}x{H} {rows}x{cols} gutter={g} border={border} colour={gutter_colour} jpeg={q} empty={empties}"
    return Truth(img, rows, cols, boxes, gutter_colour if (g or border) else None, desc)


def sprite_grid(seed: int, *, size=None, rows=None, cols=None, noisy=None, jpeg=None) -> Truth:
    rng = np.random.default_rng(seed + 1000)
    W, H = size or [(1024, 1024), (1024, 1536), (1536, 1024), (800, 800)][seed % 4]
    rows = rows or int(rng.integers(1, 6))
    cols = cols or int(rng.integers(2, 6))
    bg = tuple(int(v) for v in rng.integers(60, 250, 3))
    img = np.empty((H, W, 3), np.float32)
    img[:] = bg
    if (rng.random() < 0.5) if noisy is None else noisy:
        img += rng.normal(0, 6, img.shape)
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    xs = _split(W, cols, [0] * (cols - 1), rng, 0.03)
    ys = _split(H, rows, [0] * (rows - 1), rng, 0.03)
    colour = tuple(int(255 - v) for v in bg)
    boxes = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        (x0, x1), (y0, y1) = xs[c], ys[r]
        w, h = x1 - x0, y1 - y0
        # a figure that fills ~60 % of its cell, with a little pose change
        cx = x0 + w / 2 + rng.uniform(-0.04, 0.04) * w
        cy = y0 + h / 2 + rng.uniform(-0.04, 0.04) * h
        rw, rh = 0.2 * w, 0.28 * h
        draw.ellipse([cx - rw, cy - rh, cx + rw, cy + rh * 0.2], fill=colour)
        t = 2 * np.pi * i / (rows * cols)
        draw.line([cx, cy, cx + rw * 1.4 * np.cos(t), cy + rh * np.sin(t)], fill=colour, width=max(2, int(w / 40)))
        draw.rectangle([cx - rw * 0.5, cy, cx + rw * 0.5, cy + rh], fill=colour)
        boxes.append((x0, y0, w, h))
    img = np.asarray(pil)
    q = (int(rng.integers(75, 95)) if rng.random() < 0.5 else None) if jpeg is None else jpeg
    if q:
        img = _jpeg(img, q)
    return Truth(img, rows, cols, boxes, None, f"sprite seed={seed} {W}x{H} {rows}x{cols} bg={bg} jpeg={q}")


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


def inside(box, truth_box) -> bool:
    x, y, w, h = box
    tx, ty, tw, th = truth_box
    return x >= tx and y >= ty and x + w <= tx + tw and y + h <= ty + th


# --------------------------------------------------------------------------- #
# Scoring detected boxes against manifest-style truth


def box_errors(box, truth_box) -> tuple[float, int, int]:
    """(IoU, px reaching past the truth on the worst side, px of the truth clipped on the worst side)."""
    x, y, w, h = box
    tx, ty, tw, th = truth_box
    past = max(tx - x, ty - y, (x + w) - (tx + tw), (y + h) - (ty + th), 0)
    clip = max(x - tx, y - ty, (tx + tw) - (x + w), (ty + th) - (y + h), 0)
    return iou(box, truth_box), past, clip


def _in_ranges(v: int, ranges) -> bool:
    return any(a <= v <= b for a, b in ranges)


def grade_boxes(entry: dict, boxes, cells, rows: int, cols: int) -> dict:
    """How a detected layout's boxes compare with one manifest entry's box truth.

    ``divided``/``touching``/``sprite``: frame i against truth box i (IoU, past, clip).
    ``nogutter``: every interior side of every box must lie in that axis' ``cut_ranges``
    (a range [a, b] holds the first pixel of the next cell), except the sides of frames
    listed in ``crossing_frames``. Returns {"ok": bool, "worst": str, ...figures}.
    """
    kind = entry["box_kind"]
    out = {"kind": kind, "ok": True, "worst": ""}
    if (rows, cols, len(boxes)) != (entry["rows"], entry["cols"], entry["frames"]):
        out.update(ok=False, worst=f"layout {rows}x{cols}/{len(boxes)}")
        return out
    if kind != "nogutter":
        errs = [box_errors(b, t) for b, t in zip(boxes, entry["boxes"], strict=False)]
        out["min_iou"] = min(e[0] for e in errs)
        out["max_past"] = max(e[1] for e in errs)
        out["max_clip"] = max(e[2] for e in errs)
        clip_ok = 0 if kind == "sprite" else 2
        out["ok"] = out["min_iou"] >= 0.95 and out["max_past"] <= 2 and out["max_clip"] <= clip_ok
        out["worst"] = f"iou {out['min_iou']:.3f} past {out['max_past']} clip {out['max_clip']}"
        return out
    ranges = entry["cut_ranges"]
    # a listed side is a cut: it is exempt for the frame on its other side too
    exempt = {(c["frame"], side) for c in entry.get("crossing_frames") or [] for side in c["edges"]}
    other = {"left": ("right", -1), "right": ("left", 1), "top": ("bottom", -cols), "bottom": ("top", cols)}
    exempt |= {(f + other[side][1], other[side][0]) for f, side in list(exempt)}
    bad = []
    for i, ((x, y, w, h), (r, c)) in enumerate(zip(boxes, cells, strict=False)):
        sides = []
        if c > 0:
            sides.append(("left", x, "x"))
        if c < cols - 1:
            sides.append(("right", x + w, "x"))
        if r > 0:
            sides.append(("top", y, "y"))
        if r < rows - 1:
            sides.append(("bottom", y + h, "y"))
        for side, v, axis in sides:
            if (i + 1, side) in exempt or axis not in ranges:
                continue
            if not _in_ranges(v, ranges[axis]):
                bad.append(f"f{i + 1} {side}={v}")
    out["bad_cuts"] = bad
    out["ok"] = not bad
    out["worst"] = f"{len(bad)} cuts outside cut_ranges {' '.join(bad[:4])}" if bad else "all cuts in cut_ranges"
    return out


# --------------------------------------------------------------------------- #
# More families: game sprite sheets (exact integer cells) and touching photo tiles


def sheet_grid(seed: int, *, rows=None, cols=None) -> tuple[Truth, np.ndarray | None]:
    """A game-style sprite sheet, cut as Aseprite's "import sprite sheet" cuts it.

    ``margin + n * cell + (n - 1) * spacing + margin`` in whole pixels, cells of
    8-128 px, strips and multi-row sheets, transparent (alpha returned) or on an
    opaque key colour, pixel-art sprites that fill part of their cell (off centre
    a little, never across the cell). The truth box of a frame is its whole cell.
    """
    rng = np.random.default_rng(seed + 5000)
    cell_w = int(rng.choice([8, 16, 24, 32, 48, 64, 96, 128]))
    cell_h = cell_w if rng.random() < 0.75 else int(rng.choice([16, 32, 48, 64]))
    strip = rng.random() < 0.4
    rows = rows or (1 if strip else int(rng.integers(2, 6)))
    cols = cols or int(rng.integers(2, 13 if cell_w <= 64 else 7))
    margin = int(rng.choice([0, 0, 0, 1, 2, 4]))
    spacing = int(rng.choice([0, 0, 0, 1, 2]))
    transparent = rng.random() < 0.6
    W = 2 * margin + cols * cell_w + (cols - 1) * spacing
    H = 2 * margin + rows * cell_h + (rows - 1) * spacing
    key = tuple(int(v) for v in rng.integers(0, 256, 3))
    img = np.empty((H, W, 3), np.uint8)
    img[:] = key
    alpha = np.zeros((H, W), np.uint8)
    palette = rng.integers(0, 256, (4, 3))
    palette[np.abs(palette - np.array(key)).max(axis=1) < 40] = 255 - np.array(key)
    boxes = []
    n = rows * cols
    blanks = int(rng.integers(1, 3)) if (rng.random() < 0.2 and n > 4) else 0
    for i in range(n - blanks):
        r, c = divmod(i, cols)
        x0 = margin + c * (cell_w + spacing)
        y0 = margin + r * (cell_h + spacing)
        fw = max(3, int(cell_w * rng.uniform(0.45, 0.85)))
        fh = max(3, int(cell_h * rng.uniform(0.5, 0.9)))
        ox = x0 + (cell_w - fw) // 2 + int(rng.integers(-1, 2)) * (cell_w > 16)
        oy = y0 + cell_h - fh - (1 if cell_h > 8 else 0)
        ox = int(np.clip(ox, x0, x0 + cell_w - fw))
        oy = int(np.clip(oy, y0, y0 + cell_h - fh))
        # blocky pixel art: a body, a head, a limb that moves with the frame
        body = rng.random((max(1, fh // 2), max(1, fw // 2))) < 0.8
        body = np.kron(body, np.ones((2, 2), bool))[:fh, :fw]
        sprite = np.zeros((fh, fw), bool)
        sprite[: body.shape[0], : body.shape[1]] = body
        sprite[fh // 3 :, fw // 4 : max(fw // 4 + 1, 3 * fw // 4)] = True
        leg = int((i % 4) * max(1, fw // 8))
        sprite[-max(1, fh // 5) :, min(fw - 1, leg) : min(fw, leg + max(1, fw // 5))] = True
        colours = palette[(np.arange(fh)[:, None] * 3 // max(fh, 1) + np.arange(fw)[None] // max(1, fw // 2)) % 4]
        region = img[oy : oy + fh, ox : ox + fw]
        region[sprite] = colours[sprite]
        alpha[oy : oy + fh, ox : ox + fw][sprite] = 255
        boxes.append((x0, y0, cell_w, cell_h))
    desc = (
        f"sheet seed={seed} {W}x{H} {rows}x{cols} cell={cell_w}x{cell_h} margin={margin} spacing={spacing} "
        f"{'alpha' if transparent else 'key=' + str(key)} blank={blanks}"
    )
    return Truth(img, rows, cols, boxes, None, desc), (alpha if transparent else None)


def touching_grid(seed: int, *, rows=None, cols=None, jpeg=None) -> Truth:
    """Photo tiles edge to edge (a turntable or a scanned plate): seams only, no gutter, no shared background.

    Every tile is its own photograph (exposure and texture differ a little), so
    the boundary is a step, sometimes a 1-2 px light or dark seam line.
    """
    rng = np.random.default_rng(seed + 9000)
    rows = rows or int(rng.integers(2, 6))
    cols = cols or int(rng.integers(2, 6))
    tw = int(rng.integers(60, 240))
    th = int(rng.integers(50, 200))
    W, H = cols * tw, rows * th
    img = np.empty((H, W, 3), np.uint8)
    base = rng.uniform(80, 170, 3)
    seam = rng.choice(["step", "light", "dark"])
    boxes = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        tile = _scene(th, tw, phase=i * 11.0, rng=rng, palette=tuple(base + rng.uniform(-25, 25, 3)))
        tile = np.clip(tile.astype(np.float32) * rng.uniform(0.85, 1.15), 0, 255).astype(np.uint8)
        if seam != "step":
            v = 235 if seam == "light" else 25
            tile[:, :1] = v
            tile[:1, :] = v
        img[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = tile
        pil = Image.fromarray(img)
        _subject(ImageDraw.Draw(pil), c * tw, r * th, tw, th, i / (rows * cols), (200, 60, 40))
        img = np.array(pil)
        boxes.append((c * tw, r * th, tw, th))
    q = (int(rng.integers(75, 95)) if rng.random() < 0.5 else None) if jpeg is None else jpeg
    if q:
        img = _jpeg(img, q)
    return Truth(img, rows, cols, boxes, None, f"touching seed={seed} {W}x{H} {rows}x{cols} seam={seam} jpeg={q}")


def ai_sheet(seed: int, *, rows=None, cols=None) -> Truth:
    """Subjects on one shared background with no gutters, as image models draw them.

    Backgrounds: flat, noisy, fake checkerboard or chroma green. The lattice is
    near-even (cells +-4 %), and a row may sit a little high or low (ragged), but
    no subject crosses its cell: the truth box is the cell.
    """
    kind = ["flat", "noisy", "checker", "green"][seed % 4]
    rng = np.random.default_rng(seed + 7000)
    W, H = [(1024, 1024), (1200, 896), (1280, 720), (896, 1200)][(seed // 4) % 4]
    rows = rows or int(rng.integers(1, 5))
    cols = cols or int(rng.integers(2, 6))
    if kind == "green":
        bg = np.array([17, 215, 49], np.float32)
    else:
        bg = rng.uniform(150, 250, 3).astype(np.float32)
    img = np.empty((H, W, 3), np.float32)
    img[:] = bg
    if kind == "noisy":
        img += rng.normal(0, 6, img.shape)
    if kind == "checker":
        yy, xx = np.mgrid[0:H, 0:W]
        img[((yy // 16) + (xx // 16)) % 2 == 0] -= 14
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    xs = _split(W, cols, [0] * (cols - 1), rng, 0.04)
    ys = _split(H, rows, [0] * (rows - 1), rng, 0.04)
    colour = tuple(int(v) for v in (255 - bg) * 0.6)
    boxes = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        (x0, x1), (y0, y1) = xs[c], ys[r]
        w, h = x1 - x0, y1 - y0
        lift = (r % 2) * 0.06 * h * (1 if seed % 3 else -1)  # ragged rows
        cx = x0 + w / 2 + rng.uniform(-0.05, 0.05) * w
        cy = y0 + h / 2 + lift
        rw, rh = 0.22 * w, 0.3 * h
        draw.ellipse([cx - rw * 0.5, cy - rh, cx + rw * 0.5, cy - rh * 0.4], fill=colour)
        draw.rectangle([cx - rw * 0.6, cy - rh * 0.4, cx + rw * 0.6, cy + rh * 0.5], fill=colour)
        t = 2 * np.pi * i / (rows * cols)
        draw.line([cx, cy, cx + rw * 1.3 * np.cos(t), cy + rh * 0.8 * np.sin(t)], fill=colour, width=max(3, w // 40))
        draw.rectangle([cx - rw * 0.4, cy + rh * 0.5, cx + rw * 0.4, cy + rh * 0.95], fill=colour)
        boxes.append((x0, y0, w, h))
    return Truth(np.asarray(pil), rows, cols, boxes, None, f"ai seed={seed} {kind} {W}x{H} {rows}x{cols}")
