"""Layout detection: where the real frames are in a grid image.

A grid is a lattice of cells, and the model follows how grids are made:

* **sprite sheets** (transparent or exact flat background) are exact integer
  cells, ``margin + n * cell + (n - 1) * spacing + margin`` (:mod:`.sprites`);
* everything else is counted on a working-scale image (:mod:`.evidence` builds
  separator profiles, :mod:`.lattice` fits a nearly regular lattice to them),
  then every cut is placed at full resolution by the kind of boundary the grid
  has -- free background between subjects, dividers, or photo seams
  (:mod:`.boxes`).

Cells that are truly blank are not frames, and are named in a warning. Each
axis gets a confidence; another lattice that fits nearly as well is reported
in ``alternatives`` and in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..parallel import both, map2
from ..reading import WORK_MAX_PIXELS
from ..types import Box, Frame
from . import boxes as bx
from .evidence import _background_model, _cheb, _foreground, _median0, _median1, _prepare, _profile
from .lattice import PERIOD_MIN, _AxisFit, _band_cuts, _choose_count, _per_band_count, _periodicity
from .sprites import sprite_lattice, without_grid_lines

__all__ = ["Layout", "check_grid_args", "detect_layout"]

CLEAN_CUT = 0.9  # separator strength of a cut the image plainly shows (a gutter, a divider)


@dataclass(frozen=True)
class Layout:
    """Rows, columns and one box per real frame (row-major, source pixels)."""

    rows: int
    cols: int
    boxes: tuple[Box, ...]
    cells: tuple[tuple[int, int], ...]  # (row, col) of each box, same order
    image_size: tuple[int, int]  # (w, h)
    warnings: tuple[str, ...] = ()
    method: str = ""
    confidence: dict = field(default_factory=dict)  # {"rows": 0..1, "cols": 0..1}
    alternatives: tuple[tuple[int, int], ...] = ()  # other (rows, cols) that fit nearly as well

    @property
    def frames(self) -> int:
        return len(self.boxes)

    @property
    def frame_size(self) -> tuple[int, int]:
        """The common (w, h) every frame is padded to: the largest box on each axis."""
        return (max(b[2] for b in self.boxes), max(b[3] for b in self.boxes))

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "cols": self.cols,
            "frames": self.frames,
            "frame_size": list(self.frame_size),
            "boxes": [list(b) for b in self.boxes],
            "cells": [list(c) for c in self.cells],
            "image_size": list(self.image_size),
            "method": self.method,
            "warnings": list(self.warnings),
            "confidence": dict(self.confidence),
            "alternatives": [{"rows": r, "cols": c} for r, c in self.alternatives],
        }


def check_grid_args(w: int, h: int, rows: int | None, cols: int | None) -> None:
    for name, v, side in (("rows", rows, h), ("cols", cols, w)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InputError(f"{name} must be a whole number, got {v!r}")
        if v <= 0:
            raise InputError(f"{name} must be a positive whole number, got {v}")
        if side // v < 4:
            what = "tall" if name == "rows" else "wide"
            raise InputError(f"{name}={v} is too many for an image {side} px {what}: each cell would be under 4 px")


def detect_layout(
    rgb: Frame,
    alpha: np.ndarray | None = None,
    *,
    rows: int | None = None,
    cols: int | None = None,
    work: np.ndarray | None = None,
) -> Layout:
    """Find rows, columns and the box of every real frame.

    With ``rows``/``cols`` given they are used: cuts land on the real
    boundaries near the lattice (even division when the image shows none), no
    cell that holds content is dropped, and a warning is added when the image
    clearly shows another layout. ``work`` is ``rgb`` already shrunk to the
    working size (:attr:`LoadedImage.work <gridanim.images.LoadedImage>`); the
    result is the same without it.
    """
    h, w = rgb.shape[:2]
    check_grid_args(w, h, rows, cols)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError("expected an RGB image")
    sheet = _sprite_sheet(rgb, alpha, rows, cols)
    if sheet is not None:
        return sheet
    return _general(rgb, alpha, rows, cols, work)


# --------------------------------------------------------------------------- #
# Blank cells, warnings


def _blank_warning(skipped: list[tuple[int, int]], cols: int) -> str:
    names = ", ".join(f"cell {r * cols + c + 1} (row {r + 1}, col {c + 1})" for r, c in skipped)
    verb = "is" if len(skipped) == 1 else "are"
    return f"{names} {verb} blank and {'was' if len(skipped) == 1 else 'were'} skipped"


def _is_blank(rgb: np.ndarray, fg: np.ndarray | None, box, exact: bool = False) -> bool:
    """Nothing in the cell: no foreground (a few stray pixels aside), or one flat colour.

    ``exact`` masks (alpha, an exact key colour) have no noise: one pixel is content (a spark, the
    last wisp of smoke), so a cell is blank only when it holds none at all.
    """
    x, y, bw, bh = box
    if bw <= 0 or bh <= 0:
        return True
    if exact and fg is not None:
        return not fg[y : y + bh, x : x + bw].any()
    dx, dy = bw // 10, bh // 10  # the middle of the cell: JPEG ringing along the cuts is no content
    if fg is not None:
        return int(fg[y + dy : y + bh - dy, x + dx : x + bw - dx].sum()) <= max(2, bw * bh // 500)
    step = max(1, min(bw, bh) // 64)  # ~64 x 64 samples are plenty to tell flat from not
    cell = rgb[y + dy : y + bh - dy : step, x + dx : x + bw - dx : step]
    if cell.size == 0:
        return True
    # one row per channel: numpy's std along a contiguous axis, not down a column of (n, 3) rows (slower)
    return float(np.ascontiguousarray(cell.reshape(-1, 3).T).std(axis=1, dtype=np.float64).max()) < 3.0


def _keep_filled(rgb, fg, boxes, cells, cols, warnings, exact: bool = False):
    blank = map2(lambda b: _is_blank(rgb, fg, b, exact), list(boxes))
    keep = [i for i in range(len(boxes)) if not blank[i]]
    if not keep:
        return boxes, cells
    if len(keep) < len(boxes):
        warnings.append(_blank_warning([cells[i] for i in range(len(boxes)) if i not in keep], cols))
    return [boxes[i] for i in keep], [cells[i] for i in keep]


def _alt_warning(rows: int, cols: int, alts, conf: dict) -> str | None:
    if not alts:
        return None
    other = " or ".join(f"{r}x{c}" for r, c in alts)
    return (
        f"the layout is uncertain (confidence rows {conf.get('rows', 1):.2f}, cols {conf.get('cols', 1):.2f}): "
        f"{other} (rows x cols) fits nearly as well as {rows}x{cols}; pass --rows/--cols if it is wrong"
    )


# --------------------------------------------------------------------------- #
# Sprite sheets


def _exact_background(rgb: np.ndarray) -> np.ndarray | None:
    """The one exact colour that fills most of the image border (pixel art on a flat key), or None."""
    b = 1
    ring = np.concatenate(
        [rgb[:b].reshape(-1, 3), rgb[-b:].reshape(-1, 3), rgb[:, :b].reshape(-1, 3), rgb[:, -b:].reshape(-1, 3)]
    )
    keys = (ring[:, 0].astype(np.int64) << 16) | (ring[:, 1].astype(np.int64) << 8) | ring[:, 2]
    vals, counts = np.unique(keys, return_counts=True)
    i = int(np.argmax(counts))
    if counts[i] < 0.6 * len(keys):
        return None
    # exact means exact: pixel art, not a photo or an AI image whose border happens to be flat
    k = int(vals[i])
    colour = np.array([k >> 16, (k >> 8) & 255, k & 255], np.uint8)
    if float((rgb == colour).all(axis=2).mean()) < 0.15:
        return None
    return colour


def _sprite_sheet(rgb, alpha, rows, cols) -> Layout | None:
    h, w = rgb.shape[:2]
    if alpha is not None and (alpha < 128).mean() > 0.02:
        fg = alpha >= 64
        method = "sprite+alpha"
    else:
        colour = _exact_background(rgb) if h * w <= 4 * WORK_MAX_PIXELS else None
        if colour is None:
            return None
        fg = (rgb != colour).any(axis=2)
        method = "sprite+key"
    fg = without_grid_lines(rgb, fg)
    lat = sprite_lattice(fg, rows, cols)
    if lat is None:
        return None
    if method == "sprite+key" and not _key_inside_cells(fg, lat):
        return None  # a flat gutter around painted panels: the key is between the cells, not around sprites
    big = h * w > WORK_MAX_PIXELS
    if big and lat.scale == 1 and (lat.x.margin or lat.x.spacing or lat.y.margin or lat.y.spacing):
        return None  # a large painted sheet with one empty line here and there is not a packed sheet
    boxes, cells = [], []
    for r, (y0, y1) in enumerate(lat.y.spans()):
        for c, (x0, x1) in enumerate(lat.x.spans()):
            boxes.append((x0, y0, x1 - x0, y1 - y0))
            cells.append((r, c))
    warnings: list[str] = []
    content = fg if alpha is None or method != "sprite+alpha" else fg | (alpha >= 16)  # faint smoke is content
    boxes, cells = _keep_filled(rgb, content, boxes, cells, lat.x.n, warnings, exact=True)
    alts = tuple(a for a in lat.alternatives if (rows is None or a[0] == rows) and (cols is None or a[1] == cols))
    conf = {
        "rows": 1.0 if not any(a[0] != lat.y.n for a in alts) else 0.5,
        "cols": 1.0 if not any(a[1] != lat.x.n for a in alts) else 0.5,
    }
    if rows is not None or cols is not None:
        method = "given+" + method
    else:
        msg = _alt_warning(lat.y.n, lat.x.n, alts, conf)
        if msg:
            warnings.append(msg)
    return Layout(lat.y.n, lat.x.n, tuple(boxes), tuple(cells), (w, h), tuple(warnings), method, conf, alts)


def _key_inside_cells(fg: np.ndarray, lat) -> bool:
    """Sprites on a key, not panels in a flat gutter: inside the box of each cell's content the key
    still shows (around a coin, between a character's legs), where a panel fills its box."""
    shares = []
    for y0, y1 in lat.y.spans():
        for x0, x1 in lat.x.spans():
            cell = fg[y0:y1, x0:x1]
            ys, xs = np.flatnonzero(cell.any(axis=1)), np.flatnonzero(cell.any(axis=0))
            if len(ys) and len(xs):
                shares.append(1.0 - float(cell[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1].mean()))
    return bool(shares) and _median1(shares) >= 0.1


# --------------------------------------------------------------------------- #
# Everything else


def _bounds_src(fit: _AxisFit, scale: float, length: int) -> tuple[int, int]:
    """Outer bounds in source px: the image edge unless the lattice clearly starts inside it."""
    lo, hi = fit.lo * scale, fit.hi * scale
    if fit.n == 1:
        return 0, length
    cuts = [c * scale for c in fit.cuts]
    pitch = (cuts[-1] - cuts[0]) / (fit.n - 2) if fit.n > 2 else (hi - lo) / 2
    if fit.n == 2:
        # one cut: the lattice is symmetric about it; the widest symmetric span that fits is the grid
        half = min(cuts[0], length - cuts[0])
        if half >= 0.9 * max(cuts[0] - lo, hi - cuts[0]):
            return 0, length
        return int(round(lo)), int(round(hi))
    a = 0 if cuts[0] - pitch < 0.15 * pitch else int(round(lo))
    b = length if length - (cuts[-1] + pitch) < 0.15 * pitch else int(round(hi))
    return a, b


def _general(rgb, alpha, rows, cols, work_rgb=None) -> Layout:
    h, w = rgb.shape[:2]
    work = _prepare(rgb, alpha, work_rgb)
    img, fg = work.rgb, work.fg
    H, W = img.shape[:2]
    s = work.scale

    # the two axes are independent: each on a core of its own (the row profile, over transposed
    # lines, takes longer: the grey copy the counts need is made beside the column one)
    (col_prof, gray), row_prof = both(
        lambda: (_profile(img, fg, work.tol), work.gray()),
        lambda: _profile(img.transpose(1, 0, 2), None if fg is None else fg.T, work.tol),
    )
    xfit, yfit = both(lambda: _choose_count(col_prof, W, cols, gray), lambda: _choose_count(row_prof, H, rows, gray.T))
    # Photo plates: seams between panels are often not collinear from one row
    # to the next, so look for columns inside each row band (and vice versa).
    if cols is None and xfit.n == 1 and yfit.n > 1:
        xfit = _per_band_count(img, fg, work.tol, gray, [yfit.lo] + yfit.cuts + [yfit.hi], axis=1) or xfit
    if rows is None and yfit.n == 1 and xfit.n > 1:
        yfit = _per_band_count(img, fg, work.tol, gray, [xfit.lo] + xfit.cuts + [xfit.hi], axis=0) or yfit

    warnings: list[str] = []
    if rows is not None or cols is not None:
        free_x, free_y = both(
            lambda: xfit if cols is None else _seen_count(col_prof, W, xfit, gray),
            lambda: yfit if rows is None else _seen_count(row_prof, H, yfit, gray.T),
        )
        # only positive evidence counts: an axis where nothing was found says nothing
        seen_rows = free_y.n if free_y.n > 1 and free_y.strength >= 0.8 else yfit.n
        seen_cols = free_x.n if free_x.n > 1 and free_x.strength >= 0.8 else xfit.n
        if (seen_rows, seen_cols) != (yfit.n, xfit.n):
            warnings.append(
                f"asked for {yfit.n}x{xfit.n} (rows x cols) but the image looks like "
                f"{seen_rows}x{seen_cols}: check --rows/--cols"
            )

    # what kind of boundary the grid has
    thr = max(16.0, work.tol * 0.6)
    xcuts_w = [xfit.lo] + xfit.cuts + [xfit.hi]
    ycuts_w = [yfit.lo] + yfit.cuts + [yfit.hi]
    colour = _separator_colour(col_prof, row_prof, xcuts_w, ycuts_w)
    alpha_sheet = fg is not None and work.bg is None
    raw = [[xcuts_w[c], ycuts_w[r], xcuts_w[c + 1], ycuts_w[r + 1]] for r in range(yfit.n) for c in range(xfit.n)]
    if not alpha_sheet and colour is not None and _panelled(img, raw, colour, thr, work.bg):
        kind = "divided"
    elif fg is not None and (alpha_sheet or _background_inside(fg, raw) >= 0.3):
        kind = "background"
    else:
        kind = "lines"

    xb = _bounds_src(xfit, s, w)
    yb = _bounds_src(yfit, s, h)
    if kind == "background":
        # subjects on one background: the cells fill the sheet, margins included
        xb, yb = (0, w), (0, h)
        full_fg = _full_foreground(rgb, alpha, work)
        ref = work.bg[0] if work.bg is not None else None
        boxes, cells = _shared_boxes(rgb, full_fg, xfit, yfit, xb, yb, s, ref, thr)
        blank_fg = full_fg
    else:
        boxes, cells = _cut_boxes(rgb, img, fg, work.tol, xfit, yfit, xb, yb, s, kind, colour, thr)
        blank_fg = None  # panels and photos: a blank cell is one flat colour
    boxes, cells = _keep_filled(rgb, blank_fg, boxes, cells, xfit.n, warnings)

    conf = {"rows": _axis_confidence(yfit), "cols": _axis_confidence(xfit)}
    alts: tuple = ()
    if rows is None and cols is None:
        alts = _alternatives(xfit, yfit, col_prof, row_prof, W, H, gray)
        msg = _alt_warning(yfit.n, xfit.n, alts, conf)
        if msg:
            warnings.append(msg)
    method = {"background": "alpha" if alpha_sheet else "background", "divided": "lines", "lines": "seams"}[kind]
    if rows is not None or cols is not None:
        method = "given+" + method
    return Layout(yfit.n, xfit.n, tuple(boxes), tuple(cells), (w, h), tuple(warnings), method, conf, alts)


def _seen_count(prof, length: int, given: _AxisFit, gray) -> _AxisFit:
    """The count the image shows on an axis whose count was given (for the "looks like" warning).

    When every given cut lies on a clean separator, the lattice spans the axis and the separators repeat
    at the given pitch, the image agrees with it unless it shows a finer lattice containing those cuts,
    and such a lattice has a multiple of their count and the same bounds: only those are tried.
    Otherwise the count is searched for as if none were given.
    """
    clean = given.n > 1 and given.score >= 0 and bool(given.strengths) and min(given.strengths) >= CLEAN_CUT
    # ...on an even lattice over the whole axis (a lattice that drifts to fit, or leaves out a margin,
    # has met another pitch)
    pitch = (given.hi - given.lo) / given.n
    even = [given.lo + k * pitch for k in range(1, given.n)]
    clean = (
        clean
        and given.lo < 0.15 * pitch
        and length - given.hi < 0.15 * pitch
        and max(abs(c - e) for c, e in zip(given.cuts, even, strict=True)) <= 0.1 * pitch
    )
    # ...and repeat at its pitch: between sprites on a background most lines are empty, and inside a
    # flat or gradient panel every line is uniform, so cuts of any count can land on clean ones (the free
    # search asks the same of every lattice of 3+ cells it keeps; one cut says nothing of a pitch)
    if clean and given.n > 2 and _periodicity(prof.sep, given.lo, given.hi, given.n, {}) >= PERIOD_MIN:
        finer = _choose_count(prof, length, None, gray, finer_than=given)
        return finer if finer.n > 1 else given
    return _choose_count(prof, length, None, gray)


def _background_inside(fg: np.ndarray, raw) -> float:
    """Median share of background in the cells' middles: subjects on a background, or photos that fill their tiles."""
    shares = []
    for x0, y0, x1, y1 in raw:
        dx, dy = (x1 - x0) // 20, (y1 - y0) // 20
        inner = fg[y0 + dy : y1 - dy : 2, x0 + dx : x1 - dx : 2]
        if inner.size:
            shares.append(1.0 - float(inner.mean()))
    return _median1(shares) if shares else 0.0


def _axis_confidence(fit: _AxisFit) -> float:
    if fit.n == 1:
        return round(float(np.clip(1.0 - fit.score if fit.score < 1 else 1.0, 0, 1)), 2)
    return round(float(np.clip(fit.strength, 0, 1)), 2)


def _alternatives(xfit, yfit, col_prof, row_prof, W, H, gray) -> tuple:
    """Other counts whose lattices hold with cuts nearly as strong (not coarser views of the chosen one)."""
    out = []
    for axis, fit, prof, length, g in (("cols", xfit, col_prof, W, gray), ("rows", yfit, row_prof, H, gray.T)):
        if fit.n > 1 and fit.strength >= 0.9:
            continue
        if fit.n > 1 and fit.strength < 0.8:  # faint cuts: no cut at all is nearly as likely
            out.append((yfit.n, 1) if axis == "cols" else (1, xfit.n))
        for n in range(2, 17):
            if n == fit.n or (fit.n % n == 0):
                continue
            alt = _choose_count(prof, length, n, g)
            if alt.score >= 0 and alt.strength >= max(0.5, fit.strength - 0.15) and alt.strength > 0:
                out.append((yfit.n, n) if axis == "cols" else (n, xfit.n))
                break
    return tuple(out)


def _full_foreground(rgb, alpha, work) -> np.ndarray:
    if work.bg is None:
        return alpha >= 64
    if work.scale == 1.0 and work.fg is not None and work.fg.shape == rgb.shape[:2]:
        return work.fg
    return _foreground(rgb, work.bg, work.tol)


def _even(lo: int, hi: int, n: int) -> list[float]:
    return [lo + k * (hi - lo) / n for k in range(1, n)]


def _shared_boxes(rgb, fg, xfit, yfit, xb, yb, s, ref, thr):
    """Subjects on one background: cuts where no subject runs across (straight unless impossible).

    A divider drawn between the subjects (a cross, a guide frame) is a cut by
    itself, left out of both cells; so is a frame line along the image edge.
    """
    h, w = fg.shape
    px = (xb[1] - xb[0]) / xfit.n
    py = (yb[1] - yb[0]) / yfit.n
    ex, ey = _even(*xb, xfit.n), _even(*yb, yfit.n)
    ax, ay = [c * s for c in xfit.cuts], [c * s for c in yfit.cuts]
    cols_lines = rgb if ref is not None else None
    rows_lines = rgb.transpose(1, 0, 2) if ref is not None else None

    def dividers(lines, nominal, pitch):
        if lines is None:
            return [None] * len(nominal)
        return [
            bx.divider_run(lines, c, max(4.0, 0.06 * pitch), ref, thr, int(0.2 * pitch), step=True) for c in nominal
        ]

    dx, dy = dividers(cols_lines, ex, px), dividers(rows_lines, ey, py)
    ys, _ = bx.shared_cuts(fg.T, ey, ay, py, [])
    xs, _ = bx.shared_cuts(fg, ex, ax, px, [])
    yedges = [yb[0]] + ys + [yb[1]]
    xedges = [xb[0]] + xs + [xb[1]]
    # bend per band only where no straight cut is free
    _, xs_by_row = bx.shared_cuts(fg, ex, ax, px, list(zip(yedges[:-1], yedges[1:], strict=True)))
    _, ys_by_col = bx.shared_cuts(fg.T, ey, ay, py, list(zip(xedges[:-1], xedges[1:], strict=True)))
    # outer frame lines along the image edges
    edge = [0, 0, 0, 0]
    if ref is not None:
        edge = [
            bx.edge_border(rgb[:, xb[0] :], ref, thr, int(0.05 * px) + 2, step=True),
            bx.edge_border(rgb.transpose(1, 0, 2)[:, yb[0] :], ref, thr, int(0.05 * py) + 2, step=True),
            bx.edge_border(rgb[:, : xb[1]][:, ::-1], ref, thr, int(0.05 * px) + 2, step=True),
            bx.edge_border(rgb.transpose(1, 0, 2)[:, : yb[1]][:, ::-1], ref, thr, int(0.05 * py) + 2, step=True),
        ]
    boxes, cells = [], []
    for r in range(yfit.n):
        xe = [(None, xb[0] + edge[0])] + [(c, c) if d is None else d for c, d in zip(xs_by_row[r], dx, strict=True)]
        xe += [(xb[1] - edge[2], None)]
        for c in range(xfit.n):
            ye = [(None, yb[0] + edge[1])] + [(v, v) if d is None else d for v, d in zip(ys_by_col[c], dy, strict=True)]
            ye += [(yb[1] - edge[3], None)]
            x0, x1, y0, y1 = xe[c][1], xe[c + 1][0], ye[r][1], ye[r + 1][0]
            boxes.append((int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0))))
            cells.append((r, c))
    return boxes, cells


def _cut_boxes(rgb, img, fg, tol, xfit, yfit, xb, yb, s, kind, colour, thr):
    """Divided grids and photo plates: boxes end at dividers / seams, per band."""
    h, w = rgb.shape[:2]
    # per-band lattice cuts at working scale (ragged rows, non-collinear seams)
    ycuts_w = [yfit.lo] + yfit.cuts + [yfit.hi]
    xcuts_w = [xfit.lo] + xfit.cuts + [xfit.hi]
    xrow, ycol = both(
        lambda: [_band_cuts(img, fg, tol, xfit, slice(ycuts_w[r], ycuts_w[r + 1]), 1) for r in range(yfit.n)],
        lambda: [_band_cuts(img, fg, tol, yfit, slice(xcuts_w[c], xcuts_w[c + 1]), 0) for c in range(xfit.n)],
    )

    px = (xb[1] - xb[0]) / xfit.n
    py = (yb[1] - yb[0]) / yfit.n
    ystraight = [yb[0]] + [c * s for c in yfit.cuts] + [yb[1]]
    xstraight = [xb[0]] + [c * s for c in xfit.cuts] + [xb[1]]

    def sides(lines, cuts_w, bounds, pitch, n):
        """(start, end) of each of the n cells along a band's lines, and {k: the mount's paper at cut k, or
        None} for the cuts placed on a seam."""
        ends, paper = [], {}
        radius = max(3.0, 2 * s + 2, 0.04 * pitch) if kind == "divided" else max(3.0, s + 2, 0.06 * pitch)
        for k in range(1, n):
            nom = cuts_w[k] * s
            if kind != "divided":
                # photo tiles are cut by their maker on an even lattice; seams are looked for next to it
                nom = bounds[0] + k * (bounds[1] - bounds[0]) / n
            if kind == "divided" and colour is not None:
                cut = bx.divider_cut(lines, nom, radius, colour, thr, int(0.12 * pitch))
            else:  # a dark band or light line between photos, else a seam
                cut = bx.photo_band(lines, nom, radius, thr, int(0.1 * pitch))
            if cut is None and kind == "divided":
                cut = bx.step_cut(lines, nom, radius)
            elif cut is None:
                cut = bx.seam_cut(lines, nom, radius)
                paper[k - 1] = bx.paper_gap(lines, cut, thr)
            ends.append(cut)
        starts = [bounds[0]] + [e[1] for e in ends]
        stops = [e[0] for e in ends] + [bounds[1]]
        return list(zip(starts, stops, strict=False)), paper

    # the cells' own colour: dividers, bands and borders are lines unlike it
    interior = _median0(
        np.array(
            [
                rgb[int(y0) : int(y1) : 7, int(x0) : int(x1) : 7].reshape(-1, 3).mean(axis=0)
                for x0, y0, x1, y1 in _inner_boxes(xstraight, ystraight)
            ],
            dtype=np.float32,
        )
    )
    # a dark edge around the plate, measured per band: a scan's edge is rarely straight
    cap_x, cap_y = int(0.1 * px) + 2, int(0.1 * py) + 2

    def row_lines(r):  # the middle of row band r, cut positions along axis 1
        y0, y1 = int(ystraight[r]), int(ystraight[r + 1])
        pad = int((y1 - y0) * 0.1)
        return rgb[y0 + pad : max(y0 + pad + 1, y1 - pad)]

    def col_lines(c):
        x0, x1 = int(xstraight[c]), int(xstraight[c + 1])
        pad = int((x1 - x0) * 0.1)
        return rgb[:, x0 + pad : max(x0 + pad + 1, x1 - pad)].transpose(1, 0, 2)

    # band by band over two cores, split by count rather than by axis: a column band, read across
    # its lines, costs more than a row band
    bands = [(row_lines, xrow, xb, px, xfit.n, r) for r in range(yfit.n)]
    bands += [(col_lines, ycol, yb, py, yfit.n, c) for c in range(xfit.n)]
    band_sides = map2(lambda b: sides(b[0](b[5]), b[1][b[5]], b[2], b[3], b[4]), bands)
    xsides, ysides = band_sides[: yfit.n], band_sides[yfit.n :]
    # a plate mounted on card shows the card between its prints at most seams; a light line at one
    # seam or two is a tile's own (a sky, a lit edge)
    paper = [g for _, gaps in xsides + ysides for g in gaps.values()]
    mounted = len(paper) > 0 and sum(g is not None for g in paper) >= 0.5 * len(paper)

    def finish(band_lines, found, cap):  # photo plates: the card between the prints, the plate's edge
        out = []
        for i, (spans, gaps) in enumerate(found):
            spans = list(spans)
            for k, g in gaps.items() if mounted else ():
                if g is not None:
                    spans[k], spans[k + 1] = (spans[k][0], g[0]), (g[1], spans[k + 1][1])
            out.append(bx.plate_edges(band_lines(i), spans, interior, thr, cap, mounted))
        return out

    if kind == "divided":
        xspans, yspans = [sp for sp, _ in xsides], [sp for sp, _ in ysides]
    else:
        xspans, yspans = both(lambda: finish(row_lines, xsides, cap_x), lambda: finish(col_lines, ysides, cap_y))

    def frame_width(spans, pitch):
        gaps = [sp[k + 1][0] - sp[k][1] for sp in spans for k in range(len(sp) - 1)]
        return int(1.5 * max(gaps)) + 2 if gaps else max(3, int(0.03 * pitch))

    fw_x, fw_y = frame_width(xspans, px), frame_width(yspans, py)

    def cell_box(rc):  # the outer cells lose the plate's border: walked in from each outer side
        r, c = rc
        (x0, x1), (y0, y1) = xspans[r][c], yspans[c][r]
        if kind == "divided":
            cap_x, cap_y = int(0.3 * px), int(0.3 * py)
            band = rgb[max(y0, 0) : y1]
            if c == 0:
                x0 += bx.border_walk(band[:, x0:], colour, thr, interior, cap_x, fw_x)
            if c == xfit.n - 1:
                x1 -= bx.border_walk(band[:, :x1][:, ::-1], colour, thr, interior, cap_x, fw_x)
            colband = rgb[:, x0:x1].transpose(1, 0, 2)
            if r == 0:
                y0 += bx.border_walk(colband[:, y0:], colour, thr, interior, cap_y, fw_y)
            if r == yfit.n - 1:
                y1 -= bx.border_walk(colband[:, :y1][:, ::-1], colour, thr, interior, cap_y, fw_y)
        x0, y0 = int(np.clip(x0, 0, w - 1)), int(np.clip(y0, 0, h - 1))
        x1, y1 = int(np.clip(x1, x0 + 1, w)), int(np.clip(y1, y0 + 1, h))
        return (x0, y0, x1 - x0, y1 - y0)

    cells = [(r, c) for r in range(yfit.n) for c in range(xfit.n)]
    return map2(cell_box, cells), cells


def _inner_boxes(xe, ye):
    for r in range(len(ye) - 1):
        for c in range(len(xe) - 1):
            x0, x1, y0, y1 = xe[c], xe[c + 1], ye[r], ye[r + 1]
            dx, dy = (x1 - x0) * 0.2, (y1 - y0) * 0.2
            yield x0 + dx, y0 + dy, x1 - dx, y1 - dy


def _separator_colour(prof_x, prof_y, xcuts: list[int], ycuts: list[int]) -> np.ndarray | None:
    """Median colour of the lines the grid is cut on, where those are strips."""

    def at(p, c):
        return min(c, len(p.strip) - 1)

    # the interior cuts first: the outer bounds may be a margin of another colour than the dividers;
    # a few lines either side too, so a guide line drawn down a gutter does not outvote the gutter
    for xs, ys in ((xcuts[1:-1], ycuts[1:-1]), (xcuts, ycuts)):
        cols, silent = [], []
        for p, cs, inner in ((prof_x, xs, xcuts[1:-1]), (prof_y, ys, ycuts[1:-1])):
            uniform = p.strip if p.uniform is None else p.uniform
            n0 = len(cols)
            for c in cs:
                if uniform[at(p, c)] < 0.5:
                    continue
                for d in (-3, 0, 3):
                    i = min(max(c + d, 0), len(p.strip) - 1)
                    if uniform[i] >= 0.5:
                        cols.append(p.colour[i])
            if len(cols) == n0 and inner:
                silent.append((p, inner))
        if cols:
            arr = np.array(cols, dtype=np.float32)
            votes = [(_cheb(arr, c) < 24).sum() for c in arr]
            top = max(votes)
            colour = _median0(arr[[_cheb(arr, arr[i]) < 24 for i, v in enumerate(votes) if v == top][0]])
            # dividers run both ways: where the other axis's cuts show no uniform line (blurred, thin),
            # they are still of the divider's colour, or its uniform lines lie elsewhere on that axis
            # (a cut misplaced); a colour on one axis only is the panels' own (the sky along the top
            # edge of a storyboard's video frames, which touch)
            for p, inner in silent:
                uniform = p.strip if p.uniform is None else p.uniform
                there = [(_cheb(p.colour[max(0, c - 3) : c + 4], colour) < 24).any() for c in inner]
                if not all(there) and not (_cheb(p.colour[uniform >= 0.5], colour) < 24).any():
                    return None
            return colour
    return None


def _panelled(img: np.ndarray, boxes: list[list[int]], colour: np.ndarray, thr: float, bg=None) -> bool:
    """True when the separator colour is absent from the cells' interiors.

    Gutters between panels are; the background between sprites is not (it
    surrounds every subject), and must not be trimmed away.
    """
    shares, meds = [], []
    for x0, y0, x1, y1 in boxes:
        cw, ch = x1 - x0, y1 - y0
        inner = img[y0 + ch * 3 // 20 : y1 - ch * 3 // 20 : 2, x0 + cw * 3 // 20 : x1 - cw * 3 // 20 : 2]
        if inner.size:
            shares.append(float((_cheb(inner, colour) < thr).mean()))
            meds.append(_median0(inner.reshape(-1, 3)[::4]))
    if not shares:
        return False
    share = _median1(shares)
    if share < 0.08:
        return True
    # dark lines between photos of dark subjects (silhouettes): the lines are far from what most of each
    # panel is, and still rarer than a background is between sprites -- which also surrounds the sheet
    if share >= 0.25 or float(_cheb(_median0(np.array(meds, dtype=np.float32)), colour)) <= 96:
        return False
    if bg is not None and min(float(_cheb(c, colour)) for c in bg) <= 2 * thr:
        return False
    ring = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.float32)
    return float(_cheb(_median0(ring), colour)) > thr


_ = _background_model  # re-exported for tests and tools
