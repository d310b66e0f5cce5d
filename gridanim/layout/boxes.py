"""From a lattice to pixel-exact boxes, at full resolution.

Three kinds of grid, three ways a cut lands:

* **shared background** (subjects on one flat / noisy / keyed / transparent
  background, no gutters): a cut is a position no subject runs across. The even
  lattice is kept wherever its cut is free (inside the middle of its gap when
  the rows or columns came out uneven); a cut moves when a subject crosses it,
  to the nearest free run (pushed a little inside it), and bends per band of
  the other axis only when no straight cut is free.
* **divided** (gutters, divider lines, borders of a colour absent from the
  panels): the cut snaps into the divider, and each box ends where the divider
  lines end, so dividers, guide-line frames and borders are in no frame.
* **touching** (photo tiles edge to edge): the cut snaps to the strongest seam
  (a step or a 1-3 px line) near the even position, per band, since plate seams
  are rarely collinear; without a seam it stays on the even line.
"""

from __future__ import annotations

import numpy as np

from .evidence import _cheb, _dense, _median0, _median1, _median_lines, _runs, _share

GAP_MIDDLE = 0.4  # a free lattice line is kept within the middle (1 - 2 * 0.4) of its gap
GAP_CLEAN = 0.9  # share of a gap's cut positions with no line touching across: a gap of background
GAP_STEADY = 0.02  # gap ends repeating at the pitch to this share of it: the sheet's own lattice
GAP_DEBRIS = 0.05  # content across fewer than this share of the lines does not end a subject


def _cross(fg: np.ndarray) -> np.ndarray:
    """cross[c]: lines along which content runs across the cut between columns c-1 and c.

    Content runs across when it covers columns c-2 .. c+1: a subject (even a hair
    crossing the cut runs along the line), not a speck of background noise or
    JPEG ringing (c = 0 and L: none).
    """
    h, length = fg.shape
    out = np.zeros(length + 1, np.int64)
    if length > 3:
        run = fg[:, :-3] & fg[:, 1:-2] & fg[:, 2:-1] & fg[:, 3:]  # run[:, i]: columns i .. i+3
        out[2 : length - 1] = run.sum(axis=0)
    return out


def _cross2(fg: np.ndarray) -> np.ndarray:
    """Lines along which content touches across the cut (columns c-1 and c both foreground): the exact count."""
    h, length = fg.shape
    out = np.zeros(length + 1, np.int64)
    if length > 1:
        out[1:length] = (fg[:, :-1] & fg[:, 1:]).sum(axis=0)
    return out


def _free_cut(
    cross: np.ndarray,
    nominal: float,
    radius: float,
    tol: int,
    alt: float | None = None,
    exact: np.ndarray | None = None,
    line: np.ndarray | None = None,
) -> int | None:
    """A cut no subject runs across, near ``nominal`` (None when there is none within ``radius``).

    Inside a narrow gap the cut goes where the fewest pixels touch across it (``exact``). In a gap one
    line wide, the line the cut starts the next cell on (``line``: foreground per line) counts too, one
    line either side.
    """
    c = _free_cut_run(cross, nominal, radius, tol, alt)
    if c is None or exact is None:
        return c
    c, (lo, hi), kept = c
    if kept or exact[c] == 0:
        return c
    cost = exact.astype(np.float64)
    if line is not None and hi - lo < 2:
        lo, hi = max(1, lo - 1), min(len(exact) - 2, hi + 1)
        cost = cost + np.concatenate([line, [0]])
    win = cost[lo : hi + 1] + 1e-3 * np.abs(np.arange(lo, hi + 1) - c)
    return lo + int(np.argmin(win))


def _free_cut_run(cross, nominal, radius, tol, alt=None):
    length = len(cross) - 1
    a = int(max(1, np.floor(nominal - radius)))
    b = int(min(length - 1, np.ceil(nominal + radius)))
    if b < a:
        return None
    free = cross[a : b + 1] <= tol
    runs = [(a + s, a + e - 1) for s, e in _runs(free)]
    if not runs:
        return None

    def place(run, target):
        lo, hi = run
        q = min(8, (hi - lo) // 4)
        return int(round(min(max(target, lo + q), hi - q))), run, False

    for run in runs:  # the lattice line itself is free: keep it
        if run[0] <= nominal <= run[1]:
            return int(round(nominal)), run, True
    for target in [alt] if alt is not None else []:
        for run in runs:
            if run[0] <= target <= run[1]:
                return place(run, target)
    dist = [min(abs(r[0] - nominal), abs(r[1] - nominal)) for r in runs]
    return place(runs[int(np.argmin(dist))], nominal)


def _min_cost_cut(cross: np.ndarray, nominal: float, radius: float) -> int:
    length = len(cross) - 1
    a = int(max(1, np.floor(nominal - radius)))
    b = int(min(length - 1, np.ceil(nominal + radius)))
    if b < a:
        return int(np.clip(round(nominal), 1, max(1, length - 1)))
    win = cross[a : b + 1].astype(np.float64)
    win = win + 1e-3 * np.abs(np.arange(a, b + 1) - nominal)  # ties: nearest the lattice
    return a + int(np.argmin(win))


def _gaps(cross, exact, nominal, radius, tol, straight, lines):
    """Per cut: the gap of background its lattice line was kept in, ((lo, hi), (lo, hi) between
    the subjects) or None; and whether any line is a cell edge the content stands on.

    A gap of background is seen whole inside the window and has no line touching across nearly
    anywhere in it (photo texture that happens to match the background leaves free runs that are
    no gap). A run that starts on the lattice line (within 2 px) is content standing on it, or a
    tile whose edge matches the background: the cells meet on the line. The subjects' own ends
    leave out debris crossing a few lines (specks, a stray fragment).
    """
    length = len(cross) - 1
    out, on_line = [], False
    for nom, c in zip(nominal, straight, strict=True):
        run = _free_cut_run(cross, nom, radius, tol)
        if run is None or not run[2] or c != run[0]:
            out.append(None)
            continue
        lo, hi = (int(v) for v in run[1])
        if min(c - lo, hi - c) <= 2:
            on_line = True
        seen = max(1, np.floor(nom - radius)) < lo and hi < min(length - 1, np.ceil(nom + radius))
        clean = (exact[lo : hi + 1] == 0).mean() >= GAP_CLEAN
        if not (seen and clean):
            out.append(None)
            continue
        wide = _free_cut_run(cross, nom, radius, max(tol, int(GAP_DEBRIS * lines)))
        out.append(((lo, hi), tuple(int(v) for v in wide[1])))
    return out, on_line


def _centred(straight: list[int], nominal: list[float], gaps: list, on_line: bool, pitch: float) -> list[int]:
    """Lattice lines that hug one side of their gap of background, moved into its middle fifth.

    Subjects sit in the middle of their cells, so a line right beside one subject with the gap
    opening wide on the other side is a sheet whose rows or columns came out uneven (ragged rows,
    drift). Only where every line of the axis lies in such a gap (subjects on background all
    along it; a subject reaching its cell edge somewhere says they are not all centred), and at
    least two do (with one, nothing tells an uneven sheet from off-centre subjects). And not when
    the content shows the lattice is the sheet's own: it stands on a line, or the subjects end at
    the same place in every cell (feet on one line in every row) even though they are not centred.
    """
    if on_line or len(gaps) < 2 or any(g is None for g in gaps):
        return straight
    lows, highs = np.array([(g[1][0] - n, g[1][1] - n) for g, n in zip(gaps, nominal, strict=True)]).T
    if min(np.ptp(lows), np.ptp(highs)) <= max(2.0, GAP_STEADY * pitch):
        return straight
    out = list(straight)
    for k, g in enumerate(gaps):
        lo, hi = g[0]
        q = GAP_MIDDLE * (hi - lo)
        if out[k] < lo + q:
            out[k] = int(np.ceil(lo + q))
        elif out[k] > hi - q:
            out[k] = int(np.floor(hi - q))
    return out


def shared_cuts(fg: np.ndarray, nominal: list[float], alts: list[float], pitch: float, bands: list[tuple[int, int]]):
    """Cuts along the columns of ``fg`` (H x L bool, full resolution) for every band of rows.

    Returns (straight cuts, per-band cuts: list over bands of lists).
    """
    h = fg.shape[0]
    radius = 0.3 * pitch
    cross = _cross(fg)
    exact = _cross2(fg)
    line = fg.sum(axis=0)
    tol = max(1, h // 150)
    straight, bent = [], {}
    for k, (nom, alt) in enumerate(zip(nominal, alts, strict=False)):
        c = _free_cut(cross, nom, radius, tol, alt, exact, line)
        if c is None:
            bent[k] = nom
            c = _min_cost_cut(cross, nom, radius)
        straight.append(c)
    gaps, on_line = _gaps(cross, exact, nominal, radius, tol, straight, h)
    straight = _centred(straight, nominal, gaps, on_line, pitch)
    per_band = [list(straight) for _ in bands]
    for k, nom in bent.items():
        for b, (y0, y1) in enumerate(bands):
            sub = fg[y0:y1]
            cb = _cross(sub)
            c = _free_cut(cb, nom, radius, max(1, (y1 - y0) // 150), straight[k], _cross2(sub))
            # no free cut in this band either: a subject really crosses; keep the lattice line
            per_band[b][k] = c if c is not None else int(round(nom))
    return straight, per_band


def _sample(band_len: int, want: int = 160) -> slice:
    return slice(None, None, max(1, band_len // want))


def _blend(line: np.ndarray, colour: np.ndarray, panel: np.ndarray, thr: float) -> bool:
    """A line's colour lies between the divider's and the panel's beyond it: the divider's blurred
    edge (JPEG, a thumbnail's resampling), not a frame line of a colour of its own."""
    d = np.asarray(colour, np.float32)
    span = np.asarray(panel, np.float32) - d
    t = float(np.clip(np.dot(line - d, span) / max(float(np.dot(span, span)), 1e-6), 0.0, 1.0))
    return float(_cheb(line, d + t * span)) < thr


def _nearer(line: np.ndarray, colour: np.ndarray, other: np.ndarray) -> bool:
    """A line's median colour is nearer ``colour`` than ``other``: a divider's blurred edge, pulled
    toward the panel beside it, is still nearer the divider."""
    return float(_cheb(line, colour)) < float(_cheb(line, other))


def _steps(lines: np.ndarray, nominal: float, radius: float) -> tuple[int, np.ndarray | None]:
    """(first position, colour step between neighbouring lines) in the window around ``nominal``.

    ``step[:, i]`` is the step between positions ``a - 1 + i`` and ``a + i`` on a sample of the band's rows;
    None when the window is empty.
    """
    a = int(max(1, np.floor(nominal - radius)))
    b = int(min(lines.shape[1] - 1, np.ceil(nominal + radius)))
    if b <= a:
        return a, None
    win = lines[_sample(lines.shape[0]), a - 1 : b + 1].astype(np.int16)
    return a, np.abs(np.diff(win, axis=1)).sum(axis=2)


def step_cut(lines: np.ndarray, nominal: float, radius: float) -> tuple[int, int]:
    """(end of the cell before, start of the cell after) at the strongest step near ``nominal``.

    The fallback of divided grids where no divider is found: the largest median step along the band.
    ``lines`` is (band, L, 3): the band's pixels, cut positions along axis 1.
    """
    a, step = _steps(lines, nominal, radius)
    if step is None:
        c = int(round(nominal))
        return c, c
    strength = np.median(step, axis=0)
    base = float(np.median(strength)) + 2.0
    best = int(np.argmax(strength))
    if strength[best] < 2.5 * base or strength[best] < 8:
        c = int(round(nominal))
        return c, c
    # a seam line of 1-3 px has a step on each side: cells end/start outside both
    strong = np.flatnonzero(strength >= 0.5 * strength[best])
    strong = strong[np.abs(strong - best) <= 3]
    return a + int(strong.min()), a + int(strong.max())


def seam_cut(lines: np.ndarray, nominal: float, radius: float) -> tuple[int, int]:
    """(end of the cell before, start of the cell after) at the seam near ``nominal``.

    ``lines`` is (band, L, 3): the band's pixels, cut positions along axis 1.
    A seam between two prints is a step along nearly all of the band, whatever
    the picture on either side; printed grid lines, posts and edges of the
    subject step along only part of it (the subject hides them) or weaker. So
    the seam is the position where the step is *consistent* along the line --
    the share of the band where it stands out -- not where the median step is
    largest.
    """
    a, step = _steps(lines, nominal, radius)
    if step is None:
        c = int(round(nominal))
        return c, c
    level = max(18.0, 2.0 * float(np.median(step)))
    share = _share(step > level)
    strength = np.median(step, axis=0)
    # near the lattice wins ties; the median step breaks them between neighbouring lines
    score = (
        share
        + 0.002 * np.minimum(strength, 50)
        - 0.15 * np.abs(np.arange(a, a + step.shape[1]) - nominal) / max(radius, 1)
    )
    best = int(np.argmax(score))
    if share[best] < 0.4 or strength[best] < 8:
        c = int(round(nominal))
        return c, c
    # a seam line of 1-3 px steps on each side: the cells end/start outside the steps next to it
    lo = hi = best
    floor = max(0.4, 0.6 * share[best])
    while lo > 0 and best - lo < 2 and share[lo - 1] >= floor:
        lo -= 1
    while hi < len(share) - 1 and hi - best < 2 and share[hi + 1] >= floor:
        hi += 1
    return a + lo, a + hi


def _window(length: int, nominal: float, radius: float, grow: int) -> tuple[float, float, int, int]:
    """(lo, hi, a, b): the cut must reach [lo, hi] (``radius`` either side of ``nominal``); lines
    [a, b) are looked at, ``grow`` more each side (a wide gutter), within the band's length."""
    lo, hi = nominal - radius, nominal + radius
    return lo, hi, int(max(0, np.floor(lo - grow))), int(min(length, np.ceil(hi + grow)))


def _nearest_run(runs: list[tuple[int, int]], nominal: float) -> tuple[int, int]:
    """The run that holds ``nominal``, else the one with an end nearest it (the first of equals)."""
    return min(runs, key=lambda r: 0 if r[0] <= nominal <= r[1] else min(abs(r[0] - nominal), abs(r[1] - nominal)))


def photo_band(lines: np.ndarray, nominal: float, radius: float, thr: float, grow: int = 0):
    """(end of the cell before, start of the cell after) of a band between photo tiles near ``nominal``, or None.

    A band is a run of uniform lines (a dark strip, a light paper gap) that
    stands apart from the tiles on *both* sides: a flat strip of one tile's own
    wall or paper margin is uniform too, but is the tile's colour on one side.
    """
    length = lines.shape[1]
    lo_, hi_, a, b = _window(length, nominal, radius, grow)
    if b - a < 3:
        return None
    raw = _dense(lines[_sample(lines.shape[0]), max(0, a - 5) : min(length, b + 5)])
    off = a - max(0, a - 5)
    med = _median_lines(raw) if raw.dtype == np.uint8 else np.median(raw.astype(np.float32), axis=0)
    win = raw.astype(np.float32)
    share = _share(_cheb(win, med[None]) < thr)
    n = len(med)
    # uniform lines, split where the colour jumps: a dark band next to a tile's own flat strip
    uniform = share >= 0.85
    jump = np.zeros(n, bool)
    jump[1:] = _cheb(med[1:], med[:-1]) > thr
    runs = []
    for s, e in _runs(uniform[off : off + (b - a)]):
        cuts = [s] + [i for i in range(s + 1, e) if jump[off + i]] + [e]
        runs += list(zip(cuts[:-1], cuts[1:], strict=True))
    best = None
    for s, e in runs:
        s, e = s + off, e + off  # [s, e) in raw
        if s < 2 or e > n - 2 or a - off + e < lo_ or a - off + s > hi_:
            continue  # touches the window (a strip of a tile) or lies outside the search range
        band = _median0(med[s:e])
        # the tiles next to it, past one blurred line
        before, after = _median0(med[max(0, s - 4) : max(1, s - 1)]), _median0(med[min(e + 1, n - 1) : e + 4])
        if float(_cheb(band, before)) <= 2 * thr or float(_cheb(band, after)) <= 2 * thr:
            continue
        mid = a - off + (s + e) / 2
        if best is None or abs(mid - nominal) < best[0]:
            best = (abs(mid - nominal), a - off + s, a - off + e, before, after)
    if best is None:
        return None
    _, s, e, before, after = best
    # blurred edges of the band: partly uniform lines not yet of the tile beyond them (a tile's own
    # flat sky or floor next to the band is uniform too, and of the tile's colour)
    part = share >= 0.5
    for _ in range(2):
        if s - 1 >= a and part[s - 1 - a + off] and float(_cheb(med[s - 1 - a + off], before)) > thr:
            s -= 1
        if e < b and part[e - a + off] and float(_cheb(med[e - a + off], after)) > thr:
            e += 1
    return int(s), int(e)


def _lum_lines(lines: np.ndarray, a: int, b: int) -> np.ndarray:
    """Median brightness (mean of the channels) of lines [a, b) of a band, on a sample along it."""
    raw = lines[_sample(lines.shape[0]), a:b].astype(np.int16)
    return _median_lines(raw[..., 0] + raw[..., 1] + raw[..., 2]) / 3.0


def paper_gap(lines: np.ndarray, seam: tuple[int, int], thr: float, reach: int = 4) -> tuple[int, int] | None:
    """(end of the print before, start of the print after) at the mount's paper showing between two
    prints next to ``seam``, or None.

    Prints mounted edge to edge leave a line or two of the card between them, lighter than both prints
    however faintly; a print's own edge is often darker. The seam's steps are strongest at that dark
    edge, but it belongs to its print: the cut is the light lines (and what lies between them), when
    they are lighter than the prints on both sides by half the colour tolerance.
    """
    lo, hi = seam
    length = lines.shape[1]
    s0, s1 = lo - reach, hi + reach  # the light lines are looked for in [s0, s1)
    a, b = s0 - 6, s1 + 6  # and the prints' level in the 5 lines beyond, either side
    if a < 0 or b > length or s1 - s0 < 2:
        return None
    lum = _lum_lines(lines, a, b)
    level = max(_median1(lum[:5]), _median1(lum[-5:]))
    peak = 6 + int(np.argmax(lum[6 : 6 + s1 - s0]))
    if float(lum[peak]) - level < thr / 2:
        return None
    light = np.flatnonzero(lum > level + (float(lum[peak]) - level) / 3)
    # the lines of one gap: the light ones around the lightest, at most two others between them
    k = int(np.searchsorted(light, peak))
    i = j = k
    while i > 0 and light[i] - light[i - 1] <= 3:
        i -= 1
    while j < len(light) - 1 and light[j + 1] - light[j] <= 3:
        j += 1
    if light[i] < 5 or light[j] >= len(lum) - 5:
        return None  # light up to where the prints were measured: a light strip of one tile, not a gap
    return a + int(light[i]), a + int(light[j]) + 1


def thin_edge(lines: np.ndarray, thr: float, reach: int = 3) -> int:
    """How many of the first lines of ``lines`` (band, L, 3) are a mounted print's ragged edge, at most ``reach``.

    A plate scanned on its card mount ends in a dark edge that wanders too much to be uniform along
    the band, or in a line or two of the card, lighter than the print; either way the lines' median
    stands apart from the print's level just inside (the card with a step down into the print).
    """
    n = reach + 8
    if lines.shape[1] < n:
        return 0
    lum = _lum_lines(lines, 0, n)
    level = _median1(lum[reach + 2 :])
    dark = 0
    while dark < reach and lum[dark] < level - thr:
        dark += 1
    # a card line steps down into the print; a print that darkens inward is lighter at its edge too
    light = np.flatnonzero((lum[:reach] > level + thr / 2) & (lum[:reach] > lum[1 : reach + 1] + thr / 2))
    return max(dark, int(light[-1]) + 1 if len(light) else 0)


def plate_edges(lines: np.ndarray, spans: list, ref: np.ndarray, thr: float, cap: int, paper: bool = False) -> list:
    """``spans`` (start, end) of a band's cells with the first start and last end moved past a plate's edge
    (``paper``: a plate scanned on its card mount, whose edges are ragged)."""
    (a, e0), *rest = spans
    head = lines[:, a:]
    a += max(edge_border(head, ref, thr, cap, one_colour=True), thin_edge(head, thr) if paper else 0)
    spans = [(a, e0)] + rest
    s1, b = spans[-1]
    tail = lines[:, :b][:, ::-1]
    b -= max(edge_border(tail, ref, thr, cap, one_colour=True), thin_edge(tail, thr) if paper else 0)
    return spans[:-1] + [(s1, b)]


def divider_cut(lines: np.ndarray, nominal: float, radius: float, colour: np.ndarray, thr: float, grow: int = 0):
    """(end of the cell before, start of the cell after) around the divider nearest ``nominal``, or None.

    The divider must reach within ``radius`` of ``nominal``; it is followed up to ``grow`` lines further
    (a wide gutter).
    """
    length = lines.shape[1]
    lo_, hi_, a, b = _window(length, nominal, radius, grow)
    if b <= a:
        return None
    raw = _dense(lines[_sample(lines.shape[0]), a:b])
    win = raw.astype(np.float32)
    near = _share(_cheb(win, colour) < thr * 1.5)
    # thin uniform lines of another colour: a guide line inside the gutter, a frame line along it
    med = _median_lines(raw) if raw.dtype == np.uint8 else np.median(win, axis=0)
    thin = (_share(_cheb(win, med[None]) < thr) >= 0.85) & (near < 0.6)
    good = near >= 0.6
    runs = _runs(good)
    merged = []
    for r in runs:
        if merged and r[0] - merged[-1][1] <= 3 and thin[merged[-1][1] : r[0]].all():
            merged[-1] = (merged[-1][0], r[1])
        else:
            merged.append(r)
    runs = [(a + s, a + e) for s, e in merged if a + e >= lo_ and a + s <= hi_]
    if not runs:
        return None
    run = _nearest_run(runs, nominal)
    s, e = run
    # a frame line is at most 3 lines of one colour; more are the panel's own (a flat sky)
    k = 0
    while k < 4 and s - 1 - k >= a and thin[s - 1 - k - a] and _cheb(med[s - 1 - k - a], med[s - 1 - a]) < thr:
        k += 1
    if 0 < k < 4 and s - 1 - k >= a and not _blend(med[s - 1 - a], colour, med[s - 1 - k - a], thr):
        s -= k
    k = 0
    while k < 4 and e + k < b and thin[e + k - a] and _cheb(med[e + k - a], med[e - a]) < thr:
        k += 1
    if 0 < k < 4 and e + k < b and not _blend(med[e - a], colour, med[e + k - a], thr):
        e += k
    # blurred edges of the line (JPEG, anti-aliasing): up to 2 lines each side that are partly divider,
    # or nearer its colour than the panel's beyond them
    for _ in range(2):
        if s - 1 >= a and (near[s - 1 - a] >= 0.35 or _nearer(med[s - 1 - a], colour, med[max(s - 3 - a, 0)])):
            s -= 1
    for _ in range(2):
        if e < b and (near[e - a] >= 0.35 or _nearer(med[e - a], colour, med[min(e + 2 - a, b - a - 1)])):
            e += 1
    return s, e


def border_walk(
    lines: np.ndarray, colour: np.ndarray, thr: float, interior: np.ndarray, cap: int, frame_w: int = 0
) -> int:
    """How many lines from the start of ``lines`` (band, L, 3) are border: divider colour or uniform non-panel strips.

    Lines of the divider colour always are; other uniform lines (a paper margin, guide lines) only when
    they end in a step to the panel. With ``frame_w``, the outermost divider-coloured line at most that
    wide within ``cap`` is the frame, whatever lies outside it.
    """
    cap = min(cap, lines.shape[1])
    if cap <= 0:
        return 0
    raw = _dense(lines[_sample(lines.shape[0], 64), :cap])
    win = raw.astype(np.float32)
    near = _share(_cheb(win, colour) < thr * 1.5)
    med = _median_lines(raw) if raw.dtype == np.uint8 else np.median(win, axis=0)  # (cap, 3)
    uniform = _share(_cheb(win, med[None]) < thr) >= 0.9
    unlike = _cheb(med, interior) > 2 * thr
    divider = near >= 0.6
    border = divider | (uniform & unlike)  # margins, frame and guide lines of any colour
    for i in np.flatnonzero(uniform & ~border):  # a thin guide line of any colour drawn across a margin
        if divider[max(0, i - 3) : i].any() and divider[i + 1 : i + 4].any():
            border[i] = True
    k = 0
    while k < cap and border[k]:
        k += 1
    if k > 0 and not divider[:k].all():
        # a margin of another colour ends in a step to the panel; a flat sky or floor inside the panel
        # ends where a subject starts (the line goes on in the same colour) or fades (no step)
        k_div = 0
        while k_div < k and divider[k_div]:
            k_div += 1
        if k >= cap or float(_cheb(med[k], med[k - 1])) <= thr:
            # back to the last step that only divider-coloured stretches and thin lines lie before
            steps = [0] + [i for i in range(1, k) if float(_cheb(med[i], med[i - 1])) > thr] + [k]
            best = k_div
            for j in range(1, len(steps) - 1):
                a, b = steps[j - 1], steps[j]
                if not (divider[a:b].all() or b - a <= 3):
                    break
                best = max(best, b)
            k = best
    if frame_w > 0:
        # a frame line of the divider colour (at most ``frame_w`` wide) beyond a caption, a blurred
        # edge or a margin that is not uniform: the panel starts inside it. Where no line of the
        # divider's colour was met, the frame may be a thin line blurred by JPEG or a thumbnail's
        # resampling, pulled toward the panel but still nearer the divider's colour
        framed = divider
        if not divider[:k].any():
            framed = divider | (_cheb(med, colour) < _cheb(med, interior))
        for s, e in _runs(framed):
            if e > k and e - s <= frame_w and e < cap:
                k = int(e)
                break
    for _ in range(2):  # blur
        if k < cap and (near[k] >= 0.35 or _nearer(med[k], colour, med[k + 2] if k + 2 < cap else interior)):
            k += 1
    return k


def uniform_runs(lines: np.ndarray, a: int, b: int, ref: np.ndarray, thr: float, with_colour: bool = False):
    """Per line in [a, b): (is a uniform line unlike ``ref``, is partly so), from ~400 samples along the band.

    With ``with_colour`` the lines' median colours (b - a, 3) come third.
    """
    raw = _dense(lines[_sample(lines.shape[0]), a:b])
    win = raw.astype(np.float32)
    med = _median_lines(raw) if raw.dtype == np.uint8 else np.median(win, axis=0)  # (b - a, 3)
    share = _share(_cheb(win, med[None]) < thr)
    unlike = _cheb(med, ref) > 2 * thr
    if with_colour:
        return (share >= 0.85) & unlike, (share >= 0.5) & unlike, med
    return (share >= 0.85) & unlike, (share >= 0.5) & unlike


def _line_colour(lines: np.ndarray, i: int) -> np.ndarray:
    return np.median(lines[_sample(lines.shape[0]), i].astype(np.float32), axis=0)


def _stands_out(lines: np.ndarray, s: int, e: int, thr: float) -> bool:
    """The run [s, e) differs from the lines just outside it: a drawn line, not a stretch of a gradient."""
    inside = _line_colour(lines, (s + e - 1) // 2)
    out = [_line_colour(lines, i) for i in (s - 1, e) if 0 <= i < lines.shape[1]]
    return not out or max(float(_cheb(inside, o)) for o in out) > 2 * thr


def divider_run(
    lines: np.ndarray, nominal: float, radius: float, ref: np.ndarray, thr: float, grow: int = 0, step: bool = False
):
    """(end of the cell before, start of the cell after) of a divider line/gutter near ``nominal``, or None.

    A divider is a run of uniform lines of a colour unlike the cells' background
    ``ref``, across the whole band: a black cross, a guide-grid frame, a gutter.
    With ``step``, it must also differ from the lines either side of it (a
    background gradient is uniform along each line, and unlike ``ref`` far
    from where ``ref`` was taken).
    """
    length = lines.shape[1]
    lo_, hi_, a, b = _window(length, nominal, radius, grow)
    if b <= a:
        return None
    full, part = uniform_runs(lines, a, b, ref, thr)
    runs = [(a + s, a + e) for s, e in _runs(full) if a + e >= lo_ and a + s <= hi_]
    if not runs:
        return None
    s, e = _nearest_run(runs, nominal)
    for _ in range(2):  # blurred edges of the line
        if s - 1 >= a and part[s - 1 - a]:
            s -= 1
        if e < b and part[e - a]:
            e += 1
    if step and not _stands_out(lines, s, e, thr):
        return None
    return s, e


def edge_border(
    lines: np.ndarray, ref: np.ndarray, thr: float, cap: int, one_colour: bool = False, step: bool = False
) -> int:
    """Uniform lines unlike ``ref`` from the start of ``lines``: a frame line or border to leave out.

    With ``one_colour`` (a plate's edge) the border is one colour and ends at a step into the tile: a
    run of flat paper that fades into the picture is the tile's own margin. With ``step`` (a shared
    background) the border must stand out from the lines beside it.
    """
    cap = min(cap, lines.shape[1])
    if cap <= 0:
        return 0
    full, part, med = uniform_runs(lines, 0, min(lines.shape[1], cap + 4), ref, thr, with_colour=True)
    # the first lines of a scan or a plate can be ragged: they belong to a border that follows them
    first = np.flatnonzero(full[: min(3, cap)])
    k = int(first[0]) if len(first) else 0
    if not one_colour:
        while k < cap and (full[k] or (part[k] and k + 1 < cap and full[k + 1])):
            k += 1
        k = k + 1 if k and k < cap and part[k] else k
        if step and k and not _stands_out(lines, 0, k, thr):
            return 0
        return k
    # layer by layer (a paper margin, then a frame line): each a uniform run that ends in a step
    done = 0
    while k < cap and (full[k] or (part[k] and k + 1 < cap and full[k + 1])):
        k0, stop = k, None
        for split in (True, False):  # up to its first change of colour, else the whole uniform run
            k = k0
            while k < cap and (full[k] or (part[k] and k + 1 < cap and full[k + 1])):
                if split and k > k0 and float(_cheb(med[k], med[k - 1])) > thr:
                    break
                k += 1
            if k > k0 and k < len(med) and float(_cheb(_median0(med[k0:k]), _median0(med[k : k + 4]))) > 2 * thr:
                stop = k
                break
        if stop is None:
            break
        done = k = stop
    return done + 1 if done and done < cap and part[done] and not full[done] else done
