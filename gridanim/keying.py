"""Background -> real alpha: flat colour, green/magenta screen, fake checkerboard (pure numpy).

:func:`key_background` looks at the image border to decide what the
background is, then gives every pixel an alpha:

* ``flat``: one colour around the subject (taken from the border);
* ``green`` / ``magenta``: a chroma screen, keyed by how much the key channel
  dominates the others, so shadows and antialiased edges on the screen go too;
* ``checker``: the grey-and-white "transparency" checkerboard that image
  models paint instead of real alpha (two light greys in squares).

For flat and checker backgrounds only pixels connected to the border (and
enclosed holes that look like the background) are keyed: a white shirt
inside a dark outline is not background even if its colour is. Edge pixels
get a soft alpha and their colour is un-mixed from the background, and
screen colours are despilled near the edges, so no halo or green fringe is
left. The grid is keyed as a whole before it is cut.

:func:`over` composites frames with alpha onto a colour (MP4, GIF matte).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import Frame

RING = 3  # border rows/columns sampled for the background


@dataclass
class Keyed:
    """The result of :func:`key_background`."""

    rgb: Frame  # colours with spill and edge blending removed
    alpha: np.ndarray  # H x W uint8, 255 = opaque
    kind: str  # flat | green | magenta | checker
    colors: list[tuple[int, int, int]]  # the background colour(s) keyed

    @property
    def transparent_fraction(self) -> float:
        return float(np.count_nonzero(self.alpha == 0)) / self.alpha.size


# --------------------------------------------------------------------------- border analysis


def _border(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    r = RING
    parts = [
        rgb[:r].reshape(-1, 3),
        rgb[-r:].reshape(-1, 3),
        rgb[r:-r, :r].reshape(-1, 3),
        rgb[r:-r, -r:].reshape(-1, 3),
    ]
    px = np.concatenate(parts).astype(np.int16)
    if alpha is not None:
        a = np.concatenate([alpha[:r].ravel(), alpha[-r:].ravel(), alpha[r:-r, :r].ravel(), alpha[r:-r, -r:].ravel()])
        px = px[a >= 128]
    return px


def classify_border(rgb: np.ndarray, alpha: np.ndarray | None = None) -> tuple[str, list[np.ndarray]] | None:
    """(kind, key colours) of the background seen on the border, or None when there is none."""
    px = _border(rgb, alpha)
    if len(px) < 16:
        return None
    med = np.median(px, axis=0)
    r, g, b = (float(v) for v in med)
    if g - max(r, b) >= 60:
        return "green", [med]
    if min(r, b) - g >= 60:
        return "magenta", [med]
    d = np.abs(px - med).max(axis=1)
    lum = px.mean(axis=1)
    sat = px.max(axis=1) - px.min(axis=1)
    lo, hi = np.percentile(lum, [10, 90])
    if hi - lo >= 5 and np.mean(sat <= 12) >= 0.9:  # two greys?
        cut = (lo + hi) / 2
        dark, light = px[lum < cut], px[lum >= cut]
        if min(len(dark), len(light)) >= 0.2 * len(px):
            t1, t2 = np.median(dark, axis=0), np.median(light, axis=0)
            spread = max(np.abs(dark - t1).mean(), np.abs(light - t2).mean())
            # squares, not noise: the top row changes tone rarely
            top = rgb[1, :, :].astype(np.int16).mean(axis=1) >= cut
            changes = np.count_nonzero(top[1:] != top[:-1]) / max(1, len(top))
            if spread <= (hi - lo) / 3 and changes <= 0.25:
                return "checker", [t1, t2]
    if np.mean(d <= 16) >= 0.75:  # sprites packed edge to edge still leave most of the border
        return "flat", [med]
    return None


# --------------------------------------------------------------------------- connected regions


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start index of every run, run id of every pixel) for the horizontal runs of ``mask`` and of its gaps."""
    m = mask.ravel()
    start = np.empty(m.shape, np.bool_)
    start[0] = True
    np.not_equal(m[1:], m[:-1], out=start[1:])
    start[:: mask.shape[1]] = True
    seg = np.cumsum(start, dtype=np.int32)
    seg -= 1
    return np.flatnonzero(start), seg


def components(mask: np.ndarray, max_iter: int = 200) -> np.ndarray:
    """4-connected component labels of ``mask`` (int32, -1 outside), by alternating run sweeps.

    Every sweep gives each horizontal (then vertical) run its smallest label,
    so a label crosses a whole run at once and the sweeps needed follow the
    number of turns in a region, not its size (7 on a 1254 x 1254 sprite grid).
    """
    h, w = mask.shape
    big = np.int32(h * w)
    lab = np.where(mask, np.arange(h * w, dtype=np.int32).reshape(h, w), big).ravel()
    idx_h, seg_h = _runs(mask)
    idx_v, seg_v = _runs(np.ascontiguousarray(mask.T))
    perm = np.arange(h * w, dtype=np.int32).reshape(h, w).T.ravel()  # vertical scan order -> flat index
    for _ in range(max_iter):
        new = np.minimum.reduceat(lab, idx_h)[seg_h]  # gaps hold only `big`, so they stay `big`
        lab_t = new[perm]
        new_t = np.minimum.reduceat(lab_t, idx_v)[seg_v]
        changed = not np.array_equal(new_t, lab_t) or not np.array_equal(new, lab)
        lab = np.empty_like(new)
        lab[perm] = new_t
        if not changed:
            break
    lab = lab.reshape(h, w)
    lab[~mask] = -1
    return lab


def _dilate(mask: np.ndarray, r: int = 1) -> np.ndarray:
    out = mask.copy()
    for _ in range(r):
        m = out.copy()
        m[1:] |= out[:-1]
        m[:-1] |= out[1:]
        m[:, 1:] |= out[:, :-1]
        m[:, :-1] |= out[:, 1:]
        out = m
    return out


def _border_mask(shape: tuple[int, int], r: int = 1) -> np.ndarray:
    m = np.zeros(shape, np.bool_)
    m[:r] = m[-r:] = True
    m[:, :r] = m[:, -r:] = True
    return m


# --------------------------------------------------------------------------- keying


def _dist(rgb: np.ndarray, color: np.ndarray) -> np.ndarray:
    return np.abs(rgb - color.astype(np.int16)).max(axis=2)


def key_background(rgb: Frame, alpha: np.ndarray | None = None) -> Keyed | None:
    """Key the background of a whole grid image out; None when no background is found.

    An existing ``alpha`` is kept (the keyed alpha can only lower it).
    """
    found = classify_border(rgb, alpha)
    if found is None:
        return None
    kind, keys = found
    c = rgb.astype(np.int16)
    h, w = rgb.shape[:2]
    if kind in ("green", "magenta"):
        a, bgcol = _chroma_alpha(c, keys[0], kind)
        out_rgb = _unmix(c, a, bgcol)
        out_rgb = _despill(out_rgb, a, kind)
    else:
        border = _border(rgb, alpha)
        if kind == "flat":
            dist = _dist(c, keys[0])
            bd = _dist(border[None], keys[0])[0]
            bgcol = np.broadcast_to(keys[0].astype(np.float32), c.shape)
        else:
            d1, d2 = _dist(c, keys[0]), _dist(c, keys[1])
            dist = np.minimum(d1, d2)
            bd = np.minimum(_dist(border[None], keys[0]), _dist(border[None], keys[1]))[0]
            bgcol = np.where((d1 <= d2)[..., None], keys[0].astype(np.float32), keys[1].astype(np.float32))
        bd = bd[bd <= 16]  # the noise of the background itself, not of a subject touching the border
        tol = float(np.clip(np.percentile(bd, 98) + 2 if len(bd) else 4, 4, 40))
        cand = dist <= tol
        lab = components(cand)
        seeds = np.unique(lab[_border_mask((h, w)) & cand])
        bg = np.isin(lab, seeds)
        bg |= _holes(lab, bg, cand, dist, tol, kind, c, keys)
        a, out_rgb = _soft_edges(bg, c, bgcol, dist, tol)
    if alpha is not None:
        a = np.minimum(a, alpha)
    if not np.any(a < 255):
        return None
    colors = [tuple(int(round(v)) for v in k) for k in keys]
    return Keyed(rgb=out_rgb, alpha=a, kind=kind, colors=colors)


def _holes(lab, bg, cand, dist, tol, kind, c, keys) -> np.ndarray:
    """Background-like regions the border flood did not reach that are large and look like the background."""
    inner = cand & ~bg
    if not inner.any():
        return np.zeros_like(bg)
    ids, inv, counts = np.unique(lab[inner], return_inverse=True, return_counts=True)
    min_area = max(48, int(lab.size * 2e-5))
    ok = counts >= min_area
    if kind == "flat":
        mean_d = np.bincount(inv, weights=dist[inner].astype(np.float64)) / counts
        ok &= mean_d <= tol / 2
    else:  # both tones of the checker, each a real share of the region
        lum = c[inner].mean(axis=1)
        cut = (float(keys[0].mean()) + float(keys[1].mean())) / 2
        light = np.bincount(inv, weights=(lum >= cut).astype(np.float64)) / counts
        ok &= (light >= 0.15) & (light <= 0.85)
    good = ids[ok]
    if len(good) == 0:
        return np.zeros_like(bg)
    return np.isin(lab, good)


def _soft_edges(
    bg: np.ndarray, c: np.ndarray, bgcol: np.ndarray, dist: np.ndarray, tol: float
) -> tuple[np.ndarray, Frame]:
    """(alpha, colours): 255 inside the subject, 0 on the background, a ramp on the subject's outer ring.

    Ring pixels are blends of the background and the subject. Their alpha
    rises quickly with the distance from the background colour (a pixel
    visibly different from the background is kept, as the eye sees it);
    their colour is taken from the subject: the blend ``a * F + (1 - a) * B``
    is solved for ``F``'s share along the line to the neighbour within 2 px
    least like the background, and the pixel gets the un-mixed colour, so no
    light or green halo is left on the edge.
    """
    a = np.where(bg, 0, 255).astype(np.uint8)
    out = c.astype(np.float32)
    ring = _dilate(bg, 1) & ~bg
    ys, xs = np.nonzero(ring)
    if len(ys) == 0:
        return a, _to8(out, a)
    soft = np.clip((dist[ys, xs].astype(np.float32) - tol) / 16.0, 0.0, 1.0)
    a[ys, xs] = (soft * 255 + 0.5).astype(np.uint8)
    h, w = bg.shape
    best_d = np.full(len(ys), -1, np.int16)
    best = np.zeros((len(ys), 3), np.int16)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            yy, xx = np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)
            d = np.where(bg[yy, xx], -1, dist[yy, xx])
            take = d > best_d
            best_d[take] = d[take]
            best[take] = c[yy[take], xx[take]]
    B = bgcol[ys, xs].astype(np.float32)
    fb = best.astype(np.float32) - B
    cb = out[ys, xs] - B
    cov = np.clip((cb * fb).sum(axis=1) / np.maximum((fb * fb).sum(axis=1), 1.0), 0.0, 1.0)
    unmixed = B + cb / np.maximum(cov, 1e-3)[:, None]
    # a faint blend un-mixes badly (noise is divided by a small share): use the inner colour itself
    col = np.where((cov >= 0.5)[:, None], unmixed, best.astype(np.float32))
    sure = best_d > 2 * tol  # a subject colour near the background's cannot be told from a blend: keep it
    out[ys[sure], xs[sure]] = col[sure]
    return a, _to8(out, a)


def _to8(out: np.ndarray, a: np.ndarray) -> Frame:
    out[a == 0] = 0  # fully transparent: no colour (keeps PNG/WebP small and nothing bleeds when resized)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _chroma_alpha(c: np.ndarray, key: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Alpha from how strongly the screen's channel dominates (1 = the screen itself)."""
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    kr, kg, kb = (float(v) for v in key)
    if kind == "green":
        s = (g - np.maximum(r, b)).astype(np.float32) / max(1.0, kg - max(kr, kb))
    else:
        s = (np.minimum(r, b) - g).astype(np.float32) / max(1.0, min(kr, kb) - kg)
    lo, hi = 0.1, 0.85  # under lo: subject; over hi: screen; between: a blend, alpha about its coverage
    a = np.clip((hi - s) / (hi - lo), 0.0, 1.0)
    a8 = (a * 255 + 0.5).astype(np.uint8)
    bgcol = np.broadcast_to(key.astype(np.float32), c.shape)
    return a8, bgcol


def _unmix(c: np.ndarray, a: np.ndarray, bgcol: np.ndarray) -> Frame:
    """Colour of the subject alone where a pixel is a blend ``a * F + (1 - a) * B``."""
    out = c.astype(np.float32)
    part = (a > 0) & (a < 255)
    if part.any():
        af = a[part].astype(np.float32)[:, None] / 255.0
        bgp = bgcol[part]
        out[part] = bgp + (out[part] - bgp) / af
    out[a == 0] = 0  # fully transparent: no colour (keeps PNG/WebP small and no bleed when resized)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _despill(rgb: np.ndarray, a: np.ndarray, kind: str, band: int = 3) -> Frame:
    """Limit the screen channel to the others near the edges (green light bounced onto the subject)."""
    near = _dilate(a < 255, band) & (a > 0)
    if not near.any():
        return rgb
    out = rgb.copy()
    px = out[near].astype(np.int16)
    if kind == "green":
        px[:, 1] = np.minimum(px[:, 1], np.maximum(px[:, 0], px[:, 2]))
    else:
        spill = np.maximum(0, np.minimum(px[:, 0], px[:, 2]) - px[:, 1])
        px[:, 0] -= spill
        px[:, 2] -= spill
    out[near] = px.astype(np.uint8)
    return out


# --------------------------------------------------------------------------- compositing


def over(frames, alphas, color: tuple[int, int, int]) -> list[Frame]:
    """Each frame composited onto a flat ``color`` (frames without alpha are returned as they are)."""
    if alphas is None:
        return list(frames)
    bg = np.asarray(color, np.float32)
    out = []
    for f, a in zip(frames, alphas, strict=True):
        if a.min() == 255:
            out.append(f)
            continue
        af = a.astype(np.float32)[..., None] / 255.0
        out.append((f.astype(np.float32) * af + bg * (1.0 - af) + 0.5).astype(np.uint8))
    return out
