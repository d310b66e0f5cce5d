"""Lattice fit along one axis: how many cells, where the cuts are (working scale).

The cell count on an axis is the largest ``n`` for which a nearly regular
lattice of ``n`` cells has every cut on a good separator (between a pair of
outer bounds, so borders and caption blocks outside the grid are left out),
that repeats at its pitch and whose cells look alike. Cuts follow drift within
``SNAP`` of the pitch; per band of the other axis they may follow ragged rows.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from .evidence import _median0, _median1, _Profile, _profile, _runs

MAX_CELLS_PER_AXIS = 16
MIN_CELL_PX = 8
CUT_OK = 0.5  # separator strength a cut needs to count as real
SIM_DROP = 0.25  # a lattice whose cells look much less alike than the best one is not the grid
SIM_MAX = 1.01  # no similarity exceeds this (correlations of unit vectors, plus float32 rounding)
PERIOD_MIN = 0.2  # autocorrelation of the separator profile at the pitch
SNAP = 0.2  # how far (fraction of the pitch) a cut may move from even spacing

# --------------------------------------------------------------------------- #
# Choosing cuts on one axis


@dataclass
class _AxisFit:
    n: int
    lo: int
    hi: int
    cuts: list[int]  # interior cut positions (n - 1)
    strength: float  # weakest cut's separator strength
    score: float
    strengths: tuple[float, ...] = ()  # per interior cut


def _snap(sep: np.ndarray, nominal: float, radius: float, prof: _Profile | None = None) -> tuple[int, float]:
    """Best separator within ``radius`` of ``nominal``: centre of its plateau, nearest to nominal."""
    L = len(sep)
    a = int(max(1, np.floor(nominal - radius)))
    b = int(min(L - 1, np.ceil(nominal + radius)))
    if b <= a:
        x = int(np.clip(round(nominal), 0, L - 1))
        return x, float(sep[x])
    win = sep[a : b + 1]
    best = float(win.max())
    good = win >= best - 0.05
    runs = _runs(good)
    pieces, flat = (
        ([], []) if prof is None or prof.jumps is None else _flat_regions(prof, a, runs, len(win), best - 0.05)
    )
    if any(flat) and not all(flat):
        # a divider line beside a panel's own flat floor or sky: the line is the cut
        runs = [r for r, f in zip(pieces, flat, strict=True) if not f]
    elif good.all():
        return int(round(nominal)), best

    # wide plateaus (real gutters) beat thin lines (a line drawn inside a panel),
    # up to 6 px; between thin ones, the one nearest the expected place wins
    def merit(run):
        s, e = run
        centre = a + (s + e - 1) / 2.0
        return min(e - s, 6) / 6.0 - 0.5 * abs(centre - nominal) / max(radius, 1.0), centre

    _, centre = max(merit(r) for r in runs)
    return int(round(centre)), best


def _flat_regions(prof: _Profile, a: int, runs: list, n: int, level: float) -> tuple[list, list[bool]]:
    """``runs`` (window positions from ``a``, ``n`` long) split where the line colour jumps, and which
    pieces are a panel's own flat region: lines mostly foreground, of one colour that goes on past an
    end of the run (the floor a figure stands on, a sky above it), where a divider stands apart from
    both sides. A piece the window cuts off is followed to its real end (separator >= ``level``)."""
    jumps = prof.jumps
    pieces = []
    for s, e in runs:
        lo, hi = a + s, a + e
        cut = jumps[bisect_right(jumps, lo) : bisect_left(jumps, hi)]
        bounds = [lo, *cut, hi]
        pieces += [(x - a, y - a) for x, y in zip(bounds[:-1], bounds[1:], strict=False)]
    if len(pieces) < 2:
        return pieces, [False] * len(pieces)
    sep, L = prof.sep, len(prof.sep)
    flat = []
    for s, e in pieces:
        lo, hi = a + s, a + e
        if s == 0:  # back to the line after the last weak one or colour jump before it
            k = bisect_right(jumps, lo) - 1
            weak = np.flatnonzero(sep[:lo] < level)
            lo = max(jumps[k] if k >= 0 else 0, int(weak[-1]) + 1 if len(weak) else 0)
        if e == n:
            k = bisect_left(jumps, hi)
            weak = np.flatnonzero(sep[hi:] < level)
            hi = min(jumps[k] if k < len(jumps) else L, hi + int(weak[0]) if len(weak) else L)
        goes_on = bool(prof.same_before[lo]) or bool(prof.same_after[hi])
        flat.append(goes_on and 2 * (int(prof.filled[hi]) - int(prof.filled[lo])) >= hi - lo)
    return pieces, flat


def _fit_axis(prof: _Profile, n: int, lo: int, hi: int, *, strict: bool = True) -> _AxisFit:
    sep = prof.sep
    span = hi - lo
    pitch = span / n
    cuts, strengths = [], []
    prev = lo
    for k in range(1, n):
        # follow drift: aim one pitch past the previous cut, pulled toward even spacing
        nominal = 0.5 * (lo + k * pitch) + 0.5 * (prev + pitch)
        x, s = _snap(sep, nominal, SNAP * pitch, prof)
        if strict and s < CUT_OK:
            return _AxisFit(n, lo, hi, cuts, 0.0, -1.0)
        cuts.append(x)
        strengths.append(s)
        prev = x
    edges = [lo] + cuts + [hi]
    sizes = np.diff(edges)
    bad = _AxisFit(n, lo, hi, cuts, 0.0, -1.0)
    if n > 1 and (sizes.min() <= 0 or sizes.max() / max(sizes.min(), 1) > 1.45):
        return bad
    if strict and n > 1:
        # every band between cuts must hold content: a lattice finer than the
        # real one puts whole bands in the empty space between subjects
        amounts = np.array([prof.content[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=False)])
        # trailing blank bands are allowed (a grid with its last cells empty)
        filled = len(amounts)
        while filled > 1 and amounts[filled - 1] < 0.05 * amounts[:filled].max():
            filled -= 1
        if filled < len(amounts) and filled < 2:
            return bad
        if amounts[:filled].min() < 0.3 * _median1(amounts[:filled]):
            return bad
    strength = min(strengths) if strengths else 1.0
    return _AxisFit(n, lo, hi, cuts, strength, float(np.mean(strengths)) if strengths else 1.0, tuple(strengths))


def _acf(v: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of a profile, all lags at once (FFT)."""
    v = v.astype(np.float64) - v.mean()
    n = len(v)
    f = np.fft.rfft(v, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return ac / ac[0] if ac[0] > 1e-9 else np.zeros(n)


def _periodicity(sep: np.ndarray, lo: int, hi: int, n: int, cache: dict) -> float:
    """Autocorrelation of the separator profile between the bounds, at the pitch (+-6 %)."""
    pitch = (hi - lo) / n
    if "acf" not in cache:  # one transform per pair of bounds, padded to catch outer borders
        pad = int((hi - lo) * 0.05)
        cache["acf"] = _acf(sep[max(0, lo - pad) : hi + pad])
    acf = cache["acf"]
    a, b = max(1, int(pitch * 0.94)), min(len(acf) - 1, int(np.ceil(pitch * 1.06)))
    return float(acf[a : b + 1].max()) if b >= a else 0.0


def _similarity(small: np.ndarray, length: int, edges: list[int]) -> float:
    """How alike the bands between ``edges`` look (mean correlation with the median band).

    ``small`` is the grey image squeezed to 24 px across the axis (24 x length).
    Each band is squeezed to 12 px along the axis (sums over 12 spans), centred
    and normalised. All bands are done at once, with the same per-band
    arithmetic as one at a time (spans from the same linspace steps, one
    reduceat over the contiguous bands, per-band sums and dot products).
    """
    if len(edges) <= 2:
        return 0.0
    e = np.asarray(edges)
    a, b = e[:-1], e[1:]
    nb = len(a)
    if (b > a).all():  # numpy's linspace of a row of bands: per row, the same steps as for one band
        pos = np.linspace(a, b, 13, axis=1)
    else:
        pos = np.array([np.linspace(x, y, 13) for x, y in zip(a, b, strict=False)])
    idx = np.minimum(pos.astype(int), length - 1)
    rel = np.clip(idx[:, :-1] - a[:, None], 0, np.maximum(b - a - 1, 0)[:, None])
    starts = (rel + a[:, None]).ravel()
    contiguous = bool(np.all(a[1:] == b[:-1])) and bool(np.all(rel[:, 0] == 0)) and b[-1] <= small.shape[1]
    if contiguous:
        # a band's last span ends where the next band starts; one more start
        # (its sum unused) ends the last band where it ends
        if b[-1] < small.shape[1]:
            starts = np.append(starts, b[-1])
        sums = np.add.reduceat(small, starts, axis=1)[:, : nb * 12]
    else:
        sums = np.concatenate(
            [np.add.reduceat(small[:, x:y], r, axis=1) for x, y, r in zip(a, b, rel, strict=False)], axis=1
        )
    t = np.ascontiguousarray(sums.astype(np.float32).reshape(small.shape[0], nb, 12).transpose(1, 0, 2))
    t = t - t.mean(axis=(1, 2))[:, None, None]
    flat = t.reshape(nb, -1)
    norms = np.array([np.sqrt(v.dot(v)) for v in flat], dtype=np.float32)  # np.linalg.norm of each band
    thumbs = t / (norms + 1e-3)[:, None, None]
    ref = _median0(thumbs)
    ref = ref / (np.linalg.norm(ref) + 1e-3)
    return float(np.mean((thumbs * ref).sum(axis=(1, 2)).astype(np.float64)))


def _filled_edges(prof: _Profile, fit: _AxisFit) -> list[int]:
    """Band edges without a partly empty last band (a grid whose last row is not full)."""
    edges = [fit.lo] + fit.cuts + [fit.hi]
    if len(edges) > 3:
        amounts = [prof.content[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=False)]
        if amounts[-1] < 0.8 * _median1(amounts[:-1]):
            return edges[:-1]
    return edges


def _squeeze(gray: np.ndarray) -> np.ndarray:
    """``gray`` BOX-resized to 24 rows (Pillow), as float32.

    A transposed image (the rows axis) is resized to 24 columns untransposed:
    the same taps and arithmetic in Pillow's horizontal pass, without
    copying the transposed pixels first.
    """
    from PIL import Image

    if (
        gray.ndim == 2
        and gray.T.flags.c_contiguous
        and not gray.flags.c_contiguous
        and gray.shape[0] <= gray.shape[1] * 100
    ):
        small = Image.fromarray(gray.T).resize((24, gray.shape[1]), Image.Resampling.BOX)
        return np.asarray(small, dtype=np.float32).T
    return np.asarray(Image.fromarray(gray).resize((gray.shape[1], 24), Image.Resampling.BOX), dtype=np.float32)


def _bounds(prof: _Profile, length: int) -> list[tuple[int, int]]:
    """Candidate outer bounds: the whole line, or inside strong separators near the ends.

    Borders, paper margins and caption blocks under a plate sit outside the
    lattice; any strong separator in the outer 30 % may be where it starts.
    """
    margin = int(length * 0.3)
    head = [int(e) for s, e in _runs(prof.sep[:margin] >= 0.8)]
    tail = [int(length - margin + s) for s, e in _runs(prof.sep[length - margin :] >= 0.8)]
    # the outermost and the innermost few: margins on the outside, borders inside
    los = sorted({0, *head[:3], *head[-3:]})
    his = sorted({length, *tail[:3], *tail[-3:]})
    if prof.has_fg:
        # subjects on a background: an empty margin is part of the outer cells (a caption or a
        # border outside the lattice holds something)
        los = [a for a in los if a == 0 or prof.content[:a].max() > 0.01]
        his = [b for b in his if b == length or prof.content[b:].max() > 0.01]
    return [(a, b) for a in los for b in his if b - a >= length * 0.4]


def _choose_count(
    prof: _Profile,
    length: int,
    n_given: int | None,
    gray: np.ndarray | None = None,
    *,
    finer_than: _AxisFit | None = None,
) -> _AxisFit:
    """The lattice along one axis: of ``n_given`` cells, or the count the image shows.

    ``finer_than=fit`` looks only at multiples of ``fit.n`` between its bounds (for a lattice already
    confirmed on clean separators, the only other layout the image can show is a finer one that contains
    its cuts) and returns a 1-cell fit when none holds.
    """
    bounds = _bounds(prof, length) if finer_than is None else [(finer_than.lo, finer_than.hi)]
    if n_given is not None:
        best = None
        for lo, hi in bounds:
            fit = _fit_axis(prof, n_given, lo, hi, strict=False)
            key = (fit.score >= 0, fit.strength, fit.score, hi - lo)
            if best is None or key > best[0]:
                best = (key, fit)
        fit = best[1]
        if fit.score < 0:  # irregular: fall back to even division of the whole line
            fit = _even(n_given, 0, length)
        return fit
    n_max = max(1, min(MAX_CELLS_PER_AXIS, length // MIN_CELL_PX))
    acfs: list[dict] = [{} for _ in bounds]

    def fits(n: int) -> list[_AxisFit]:
        """The lattices of ``n`` cells whose cuts all hold, in the order of ``bounds``."""
        out = []
        for (lo, hi), acf in zip(bounds, acfs, strict=False):
            if (hi - lo) / n < MIN_CELL_PX:
                continue
            # a real grid repeats at its pitch; a finer lattice that happens to
            # find empty lines (waists, gaps between legs) does not
            if n > 2 and _periodicity(prof.sep, lo, hi, n, acf) < PERIOD_MIN:
                continue
            fit = _fit_axis(prof, n, lo, hi)
            if fit.score < 0 or fit.strength < CUT_OK:
                continue
            out.append(fit)
        return out

    def regular(f: _AxisFit) -> float:
        sizes = np.diff([f.lo] + f.cuts + [f.hi])
        return f.score - 2.0 * float(sizes.std() / sizes.mean())

    def rank(f: _AxisFit):
        # the finest lattice; among equals, the most even one (a bound that takes in
        # a margin or caption makes one cell taller than the rest), then the first
        return (f.n, round(regular(f), 1), f.hi - f.lo)

    # The finest lattice that holds wins unless it is dropped for looking less
    # alike than another (SIM_DROP), so look from the finest down.
    n_top, finest = n_max, []
    if finer_than is not None:
        step = finer_than.n
        for n in range(n_max - n_max % step, step, -step):
            finest = fits(n)
            if finest:
                n_top = n - 1
                break
        if not finest:
            return _AxisFit(1, 0, length, [], 1.0, 1.0)
    while n_top >= 2 and not finest:
        finest = fits(n_top)
        n_top -= 1
    if not finest:
        return _AxisFit(1, 0, length, [], 1.0, 1.0)
    if gray is None:
        return max(finest, key=rank)
    small = _squeeze(gray)
    sims = [_similarity(small, length, _filled_edges(prof, f)) for f in finest]
    if all(s >= SIM_MAX - SIM_DROP for s in sims):
        # kept whatever the coarser lattices score (no similarity exceeds SIM_MAX):
        # the coarser lattices cannot change the choice
        return max(finest, key=rank)
    # Otherwise all of them: a coarser lattice may look more alike by SIM_DROP.
    found = finest + [f for n in range(n_top, 1, -1) for f in fits(n)]
    every = list(found)
    if len(found) > 1:
        sims += [_similarity(small, length, _filled_edges(prof, f)) for f in found[len(finest) :]]
        top = max(sims)
        found = [f for f, s in zip(found, sims, strict=False) if s >= top - SIM_DROP]
    # (different n never rank equal, so only the order within one n matters: bounds order)
    best = max(found, key=rank)
    # A bound that leaves out whole cells of the same pitch, cut as strongly, is no margin:
    # the lattice that takes them in explains them (photo tiles that look unalike).
    ext = [g for g in every if g.n > best.n and _extends(g, best)]
    return max(ext, key=rank) if ext else best


def _extends(g: _AxisFit, f: _AxisFit) -> bool:
    """``g`` is ``f`` with whole cells of the same pitch added at the ends: every cut and inner bound of f is one of g's."""
    pitch_f, pitch_g = (f.hi - f.lo) / f.n, (g.hi - g.lo) / g.n
    if g.lo > f.lo + 2 or g.hi < f.hi - 2 or abs(pitch_f - pitch_g) > 0.05 * pitch_f:
        return False
    marks = list(f.cuts) + [b for b, outer in ((f.lo, g.lo), (f.hi, g.hi)) if abs(b - outer) > 2]
    return all(min(abs(m - c) for c in g.cuts) <= max(2, 0.02 * pitch_g) for m in marks) if g.cuts else False


def _even(n: int, lo: int, hi: int) -> _AxisFit:
    cuts = [round(lo + k * (hi - lo) / n) for k in range(1, n)]
    return _AxisFit(n, lo, hi, cuts, 0.0, 0.0)


def _refine(sep: np.ndarray, fit: _AxisFit) -> list[int]:
    """Re-snap interior cuts on a band's own profile (ragged rows, drift)."""
    if fit.n == 1:
        return [fit.lo, fit.hi]
    pitch = (fit.hi - fit.lo) / fit.n
    out = []
    for c in fit.cuts:
        x, s = _snap(sep, c, 0.12 * pitch)
        out.append(x if s >= sep[c] + 0.15 else c)
    return [fit.lo] + out + [fit.hi]


def _band(img, fg, band: slice, axis: int):
    """The sub-image of a row band (axis=1: look for columns) or column band (axis=0: rows), as columns."""
    if axis == 1:
        return img[band], None if fg is None else fg[band]
    return img[:, band].transpose(1, 0, 2), None if fg is None else fg[:, band].T


def _band_cuts(img, fg, tol, fit: _AxisFit, band: slice, axis: int) -> list[int]:
    if fit.n == 1 or band.stop - band.start < 8:
        return [fit.lo] + fit.cuts + [fit.hi]
    if fit.strengths and min(fit.strengths) >= 0.95:
        return [fit.lo] + fit.cuts + [fit.hi]  # clean, straight gutters: nothing to follow
    sub, subfg = _band(img, fg, band, axis)
    return _refine(_profile(sub, subfg, tol).sep, fit)


def _per_band_count(img, fg, tol, gray, edges, axis: int) -> _AxisFit | None:
    """Count cells along one axis inside each band of the other; agree on one n."""
    fits = []
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        sub, subfg = _band(img, fg, slice(a, b), axis)
        g = gray[a:b] if axis == 1 else gray[:, a:b].T
        prof = _profile(sub, subfg, tol)
        fits.append(_choose_count(prof, sub.shape[1], None, g))
    ns = [f.n for f in fits]
    n = max(set(ns), key=ns.count)
    if n == 1 or ns.count(n) < max(2, (len(ns) + 1) // 2):
        return None
    agree = [f for f in fits if f.n == n]
    lo = int(_median1([f.lo for f in agree]))
    hi = int(_median1([f.hi for f in agree]))
    cuts = [int(_median1(c)) for c in zip(*[f.cuts for f in agree], strict=False)]
    return _AxisFit(n, lo, hi, cuts, min(f.strength for f in agree), float(np.mean([f.score for f in agree])))
