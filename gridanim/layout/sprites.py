"""Exact integer lattices for sprite sheets (transparent or flat background, full resolution).

Game sprite sheets are cut the way Aseprite's "import sprite sheet" cuts them:
``length = 2 * margin + n * cell + (n - 1) * spacing`` in whole pixels. A cell
is the box even when its sprite fills only part of it. A lattice holds when its
margins and spacing lines are empty, no sprite runs across a cut, and its cells
hold content (a finer lattice puts whole cells in the gaps between sprites).
Among the lattices that hold, the finest wins, then round cells with the padding
packers add (the artist picks the cell, the packer the padding), then the
configurations sheet packers write (margin equal to spacing or half of it, no
margin or no spacing: Aseprite, TexturePacker, Tiled), then round cells, then the
plainest (least space in gaps, then the smallest margin or spacing), then square
cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SPRITE_CELLS = 64
MIN_SPRITE_CELL = 4
MAX_GAP = 8  # largest margin / spacing tried, px
CROSS_OK = 0.02  # share of the lines a sprite may run across a cut (stray pixels, anti-aliasing)


@dataclass(frozen=True)
class SpriteAxis:
    n: int
    cell: int
    margin: int
    spacing: int
    cost: float  # content on margins/spacing and across cuts (share), lower is better
    empty_cells: int
    drift: float = 0.0  # px per cell the content slides across the cells (0 when the pitch is the sprites')

    @property
    def typical(self) -> bool:
        """What sheet packers write: margin equal to spacing, no margin, no spacing, or margin half the
        spacing (Aseprite's inner padding: every frame padded alike on all sides)."""
        return (
            self.margin == self.spacing
            or self.margin == 0
            or self.spacing == 0
            or 2 * self.margin == self.spacing
            or self.n == 1
        )

    @property
    def round(self) -> bool:
        """Cells of a multiple of 8 px (16, 24, 32, 48 ...), as sprites are drawn; says nothing for one cell."""
        return self.n > 1 and self.cell % 8 == 0

    def scaled(self, k: int) -> SpriteAxis:
        return SpriteAxis(
            self.n, self.cell * k, self.margin * k, self.spacing * k, self.cost, self.empty_cells, self.drift * k
        )

    def spans(self) -> list[tuple[int, int]]:
        return [
            (self.margin + k * (self.cell + self.spacing), self.margin + k * (self.cell + self.spacing) + self.cell)
            for k in range(self.n)
        ]


def without_grid_lines(rgb: np.ndarray, fg: np.ndarray) -> np.ndarray:
    """``fg`` with the sheet's drawn spacing cleared: whole rows / columns of one exact colour, all
    the same colour (a packer's coloured padding between cells), are gaps, not sprites."""
    lines = []
    for axis in (0, 1):  # axis 0: rows, 1: columns
        a = rgb if axis == 0 else rgb.transpose(1, 0, 2)
        f = fg if axis == 0 else fg.T
        full = np.flatnonzero(f.all(axis=1))  # opaque from end to end: few lines, if any
        lines.append(full[(a[full] == a[full, :1]).all(axis=(1, 2))])
    if not any(len(v) for v in lines):
        return fg
    colours = {tuple(rgb[i, 0]) for i in lines[0]} | {tuple(rgb[0, j]) for j in lines[1]}
    total = len(lines[0]) + len(lines[1])
    if len(colours) != 1 or total > 0.25 * (fg.shape[0] + fg.shape[1]):
        return fg  # several colours, or most of the sheet: solid tiles, not drawn spacing
    out = fg.copy()
    out[lines[0], :] = False
    out[:, lines[1]] = False
    return out


def _axis_candidates(fg: np.ndarray, n_given: int | None) -> list[SpriteAxis]:
    """Every lattice along the columns of ``fg`` (H x L bool) that holds."""
    h, length = fg.shape
    occ = fg.sum(axis=0, dtype=np.int64)
    total = max(int(occ.sum()), 1)
    csum = np.concatenate([[0], np.cumsum(occ)])
    msum = np.concatenate([[0], np.cumsum(occ * np.arange(length, dtype=np.int64))])
    nz = np.flatnonzero(occ)
    cross = np.zeros(length + 1, np.int64)  # cross[c]: lines where content continues from c-1 to c
    if length > 1:
        cross[1:length] = (fg[:, :-1] & fg[:, 1:]).sum(axis=0)
    tol_lines = max(1, int(CROSS_OK * h))
    gap_tol = max(1, total // 500)
    ns = [n_given] if n_given else range(1, min(MAX_SPRITE_CELLS, length // MIN_SPRITE_CELL) + 1)
    # margins need empty outer lines, spacing needs empty lines somewhere
    max_m = 0 if occ[0] or occ[-1] else MAX_GAP
    max_s = MAX_GAP if (occ == 0).any() else 0
    out = []
    for n in ns:
        for m in range(0, max_m + 1):
            for s in range(0, max_s + 1 if n > 1 else 1):
                rest = length - 2 * m - (n - 1) * s
                if rest < n * MIN_SPRITE_CELL or rest % n:
                    continue
                cell = rest // n
                if s > cell // 2 or m > cell // 2:
                    continue
                starts = m + np.arange(n) * (cell + s)
                ends = starts + cell
                gaps = int(csum[m] + (csum[length] - csum[length - m]))
                if s:
                    gaps += int((csum[starts[1:]] - csum[ends[:-1]]).sum())
                if gaps > gap_tol:
                    continue
                crossing = int(cross[starts[1:]].max()) if (n > 1 and s == 0) else 0
                if crossing > tol_lines:
                    continue
                amounts = csum[ends] - csum[starts]
                filled = n
                while filled > 1 and amounts[filled - 1] == 0:
                    filled -= 1
                empty = int((amounts[:filled] == 0).sum()) + (n - filled)
                if (
                    n > 1
                    and not n_given
                    and (int((amounts[:filled] == 0).sum()) > n // 4 or filled < max(2, n - n // 2))
                ):
                    continue
                cost = gaps / total + crossing / h
                out.append(
                    SpriteAxis(n, cell, m, s, cost, empty, _drift(amounts, msum[ends] - msum[starts], starts, ends, nz))
                )
    return out


def _drift(amounts: np.ndarray, moments: np.ndarray, starts: np.ndarray, ends: np.ndarray, nz: np.ndarray) -> float:
    """Slope (px per cell) of the content's place within its cell, along the sheet.

    Sprites sit the same way in every cell -- centred, or feet on the bottom line, with one design
    per row -- so under the sheet's own pitch their centre or one of their edges does not slide;
    a lattice whose pitch is 1 px off slides 1 px per cell.
    """
    k = np.flatnonzero(amounts > 0)
    if len(k) < 4:  # three rows of different designs slide by chance
        return 0.0
    first = nz[np.searchsorted(nz, starts[k])]
    last = nz[np.searchsorted(nz, ends[k]) - 1]
    kc = k - k.mean()
    best = np.inf
    for pos in (moments[k] / amounts[k], first, last):
        offset = pos - starts[k]
        best = min(best, abs(float((kc * (offset - offset.mean())).sum() / (kc * kc).sum())))
    return best


def _drawn(pool: list[SpriteAxis]) -> set[int]:
    """The round cell sizes the artist drew, among lattices that all hold: artists pick the cell size
    and packers add margin and spacing, each setting on its own (TexturePacker's border and shape
    padding, Aseprite's border and spacing), so a round cell beats a plainer lattice that takes the
    padding into its cells -- 64 px cells with margin 2 and spacing 4 over 68 px cells that abut.

    A lattice of abutting cells that holds stays the plainer reading when the round cell needs padding
    of more than an eighth of it: sprites with wide empty borders are not spacing. Between paddings of
    one cell size the later keys decide.
    """
    spaced = not any(a.spacing == 0 for a in pool if a.n > 1)
    return {a.cell for a in pool if a.round and (spaced or 8 * max(a.margin, a.spacing) <= a.cell)}


def _steady(cands: list[SpriteAxis]) -> list[SpriteAxis]:
    """The candidates whose pitch the sprites follow, when one clearly does (integer pitches differ by >= 1 px)."""
    best = min(a.drift for a in cands)
    return [a for a in cands if a.drift <= best + 0.5] if best < 0.35 else cands


def _exact_division(length: int, n: int | None, occ: np.ndarray | None = None) -> list[SpriteAxis]:
    """With the count given and no lattice that holds (sprites touching across cuts): whole-pixel even
    cells, inside a border of empty lines when the length does not divide (a packer's border padding)."""
    if not n:
        return []
    border = 0
    if occ is not None and occ.any():
        nz = np.flatnonzero(occ)
        border = min(int(nz[0]), length - 1 - int(nz[-1]), MAX_GAP)
    fits = [
        SpriteAxis(n, (length - 2 * m) // n, m, 0, 1.0, 0)
        for m in range(border + 1)
        if (length - 2 * m) % n == 0 and (length - 2 * m) // n >= max(MIN_SPRITE_CELL, 2 * m)
    ]
    # a round cell inside an empty border beats an odd one over the whole sheet; else no border
    return sorted(fits, key=lambda a: (not a.round, a.margin))[:1]


def _pick(cands: list[SpriteAxis], like: SpriteAxis | None = None) -> SpriteAxis | None:
    """The finest lattice; then the one that shares the other axis' margin and spacing (a sheet has one
    of each), then the least space in gaps, then the cleanest."""
    if not cands:
        return None
    n = max(a.n for a in cands)
    pool = _steady([a for a in cands if a.n == n])
    drawn = _drawn(pool)

    def key(a):
        same = like is not None and (a.margin, a.spacing) == (like.margin, like.spacing)
        return (
            a.cell in drawn,
            a.typical,
            a.round,
            same,
            -(2 * a.margin + (a.n - 1) * a.spacing),
            -max(a.margin, a.spacing),
            -a.cost,
            -a.margin,
        )

    return max(pool, key=key)


def _joint(xs: list[SpriteAxis], ys: list[SpriteAxis]) -> tuple[SpriteAxis, SpriteAxis]:
    """The finest lattice on each axis; between equals, one margin and one spacing for the whole sheet
    (as a sheet packer writes it), then square cells, then the least space in gaps."""
    nx, ny = max(a.n for a in xs), max(a.n for a in ys)
    px = _steady([a for a in xs if a.n == nx])
    py = _steady([a for a in ys if a.n == ny])
    drawn_x, drawn_y = _drawn(px), _drawn(py)

    def key(pair):
        a, b = pair
        same_margin = a.margin == b.margin
        same_spacing = a.spacing == b.spacing or a.n == 1 or b.n == 1
        gaps = 2 * a.margin + (a.n - 1) * a.spacing + 2 * b.margin + (b.n - 1) * b.spacing
        return (
            same_margin and same_spacing,
            (a.cell in drawn_x) + (b.cell in drawn_y),
            a.typical + b.typical,
            a.round + b.round,
            a.cell == b.cell,
            -gaps,
            -max(a.margin, a.spacing, b.margin, b.spacing),
            -(a.cost + b.cost),
            -a.margin,
        )

    return max(((a, b) for a in px for b in py), key=key)


@dataclass(frozen=True)
class SpriteLattice:
    x: SpriteAxis
    y: SpriteAxis
    alternatives: tuple[tuple[int, int], ...]  # other (rows, cols) that also hold
    scale: int = 1  # pixel-art enlargement the lattice was solved at


def pixel_scale(fg: np.ndarray) -> int:
    """The factor k a pixel-art sheet was enlarged by (every k x k block one value), else 1."""
    h, w = fg.shape
    for k in range(8, 1, -1):
        if h % k or w % k or h // k < MIN_SPRITE_CELL or w // k < MIN_SPRITE_CELL:
            continue
        rows_ok = all(np.array_equal(fg[i::k], fg[::k]) for i in range(1, k))
        if rows_ok and all(np.array_equal(fg[::k, i::k], fg[::k, ::k]) for i in range(1, k)):
            return k
    return 1


def sprite_lattice(fg: np.ndarray, rows: int | None, cols: int | None) -> SpriteLattice | None:
    """The exact lattice of a sprite sheet's foreground mask, or None when none holds.

    An enlarged pixel-art sheet is solved at its own pixel size, where its margin, spacing and cell
    size are the small whole numbers it was drawn with, then scaled back.
    """
    if fg is None or not fg.any():
        return None
    k = pixel_scale(fg)
    h, w = fg.shape
    if (
        k > 1
        and (rows is None or h // k // rows >= MIN_SPRITE_CELL)
        and (cols is None or w // k // cols >= MIN_SPRITE_CELL)
    ):
        lat = _solve(np.ascontiguousarray(fg[::k, ::k]), rows, cols)
        if lat is not None:
            return SpriteLattice(lat.x.scaled(k), lat.y.scaled(k), lat.alternatives, k)
    return _solve(fg, rows, cols)


def _solve(fg: np.ndarray, rows: int | None, cols: int | None) -> SpriteLattice | None:
    xs = _axis_candidates(fg, cols) or _exact_division(fg.shape[1], cols, fg.any(axis=0))
    ys = _axis_candidates(fg.T, rows) or _exact_division(fg.shape[0], rows, fg.any(axis=1))
    if not xs or not ys:
        return None
    # a strip whose frames touch across every cut: square frames, as strips are drawn
    h, w = fg.shape
    if (
        cols is None
        and rows in (None, 1)
        and max(a.n for a in xs) == 1
        and w % h == 0
        and 2 <= w // h <= MAX_SPRITE_CELLS
    ):
        xs = _exact_division(w, w // h)
    elif (
        rows is None
        and cols in (None, 1)
        and max(a.n for a in ys) == 1
        and h % w == 0
        and 2 <= h // w <= MAX_SPRITE_CELLS
    ):
        ys = _exact_division(h, h // w)
    x, y = _joint(xs, ys)
    # square cells are the usual sheet: between two lattices that both hold on one
    # axis, prefer the one whose cell matches the other axis' cell
    if x.cell != y.cell:
        sq_x = [a for a in xs if a.cell == y.cell]
        sq_y = [a for a in ys if a.cell == x.cell]
        if y.n == 1 and sq_x and rows is None:
            x = _joint(sq_x, [y])[0] if _pick(sq_x).n >= x.n else x
        elif x.n == 1 and sq_y and cols is None:
            y = _joint([x], sq_y)[1] if _pick(sq_y).n >= y.n else y
    if rows is None and cols is None and x.n * y.n < 2:
        return None
    # coarser views of the chosen lattice (every k-th cut) always hold too: they are no alternative
    alts = sorted({(b.n, a.n) for a in xs for b in ys if not (y.n % b.n == 0 and x.n % a.n == 0)}, reverse=True)
    return SpriteLattice(x, y, tuple(alts[:3]))
