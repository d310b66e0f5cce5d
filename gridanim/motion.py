"""Motion between frames: optical-flow in-betweens and the loop-seam check.

:func:`flow_pair` makes the frames between two neighbours by following the
motion instead of cross-fading them:

1. dense DIS optical flow both ways (OpenCV, on a grey copy of at most
   :data:`FLOW_SIDE` pixels a side: DIS's own pyramid handles the large
   motions and the flow is smooth enough to upsample);
2. a forward-backward consistency check marks where each frame's flow can be
   trusted (a pixel of ``a`` that disappears behind something in ``b`` fails
   it, so occlusions are found without a separate model), weighted down
   where the flow does not match the colours;
3. for every pixel of the in-between at time ``t``, where it came from in
   ``a`` and in ``b`` (fixed points of the scaled flows, found by a few
   remaps), and both frames are warped there (``cv2.remap``, full size);
4. where both sides are trusted they are blended ``(1 - t, t)``, where only
   one is it is used alone, and where neither is, or the two warps disagree
   more than the raw frames do, the plain cross-fade fills in.

A pair falls back to a cross-fade as a whole when the flow cannot be trusted:
too few of the changing pixels pass the check, the motion is a large part of
the frame, or the two warped halves disagree about as much as the raw frames
do. Pixel art is never flow-interpolated: new in-between colours would break
its palette (:func:`looks_like_pixel_art`).

:func:`loop_seam` measures how the last -> first step compares with the
typical step, and :func:`seam_hint` turns a high value into advice.

OpenCV is imported only inside the flow functions, so the CLI start-up does
not pay for it unless flow smoothing runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .stats import median
from .types import Frame

FLOW_SIDE = 256  # longest side the flow is computed at
MIN_FLOW_SIDE = 24  # DIS needs a side of at least ~17 px; smaller frames are cross-faded
DIS_PATCH = 12
DIS_BIG_PATCH_SIDE = 200  # flow images up to this side use DIS_PATCH
MIN_CONSISTENT = 0.5  # share of changing pixels whose flow must pass the check
MAX_MOTION = 0.25  # 95th-percentile motion, as a share of the longer side, above which a pair is not trusted
AGREE_RATIO = 0.95  # warped halves must disagree less than this share of the raw frames' difference
PHOTO_SIGMA = 8.0  # grey levels: how fast a colour mismatch lowers a side's say in a pixel
SEAM_HIGH = 2.0  # loop_seam above this is a visible jump


# --------------------------------------------------------------------------- pixel art


def looks_like_pixel_art(frames: Sequence[Frame], *, max_colors: int = 256, min_flat: float = 0.5) -> bool:
    """Mostly flat runs and few distinct colours: a palette image whose pixels must stay exact.

    Cheap: painted, photographed and AI-drawn frames have tens of thousands of
    colours, sprites dozens; a grey-scale photo has <= 256 colours too, which
    is why the share of pixels equal to their right-hand neighbour must also
    be high. Both are measured on at most ~200k pixels (whole rows, so the
    flat runs are real).
    """
    if not frames:
        return False
    h = frames[0].shape[0]
    row_step = max(1, int(np.ceil(h * frames[0].shape[1] * len(frames) / 200_000)))
    rows = [f[::row_step] for f in frames]
    flat = float(np.mean([np.all(r[:, 1:] == r[:, :-1], axis=-1).mean() for r in rows]))
    if flat < min_flat:
        return False
    s = np.concatenate([r.reshape(-1, 3) for r in rows])
    packed = (s[:, 0].astype(np.int32) << 16) | (s[:, 1].astype(np.int32) << 8) | s[:, 2]
    return np.unique(packed).size <= max_colors


# --------------------------------------------------------------------------- flow


def _cv2():
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the install
        from .errors import InputError

        raise InputError(
            "flow in-betweens need OpenCV: pip install opencv-python-headless, or use --inbetween blend"
        ) from None
    return cv2


def _gray(cv2, f: Frame, size: tuple[int, int] | None) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY)
    if size is not None:
        g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
    return g


class FlowEngine:
    """DIS flow on grey copies of at most :data:`FLOW_SIDE` a side (one instance per run: DIS keeps buffers)."""

    def __init__(self, shape: tuple[int, int]):
        cv2 = self.cv2 = _cv2()
        h, w = shape
        f = min(1.0, FLOW_SIDE / max(h, w))
        self.size = (w, h) if f >= 1.0 else (max(8, round(w * f)), max(8, round(h * f)))
        self.shape = (h, w)
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        # larger patches than the preset's 8 px hold on to textured subjects that move 20+ px a frame
        # (rotating disc at 160 px: +0.012 SSIM); they cost 3x, so only where the flow image is small
        if max(self.size) <= DIS_BIG_PATCH_SIDE:
            self.dis.setPatchSize(DIS_PATCH)
        lw, lh = self.size
        self.grid = np.meshgrid(np.arange(lw, dtype=np.float32), np.arange(lh, dtype=np.float32))
        self.full_grid = self.grid if self.size == (w, h) else None
        self._grays: dict[int, tuple[Frame, np.ndarray]] = {}

    def gray(self, f: Frame) -> np.ndarray:
        """Small grey copy, cached per frame object (each frame is in two pairs)."""
        hit = self._grays.get(id(f))
        if hit is not None and hit[0] is f:
            return hit[1]
        g = _gray(self.cv2, f, None if self.size == (self.shape[1], self.shape[0]) else self.size)
        self._grays[id(f)] = (f, g)
        return g

    def flow(self, a: Frame, b: Frame) -> tuple[np.ndarray, np.ndarray]:
        """(flow a -> b, flow b -> a) at the small size, in small pixels, HxWx2 float32 (dx, dy)."""
        ga, gb = self.gray(a), self.gray(b)
        return self.dis.calc(ga, gb, None), self.dis.calc(gb, ga, None)

    def full(self) -> tuple[np.ndarray, np.ndarray]:
        if self.full_grid is None:
            h, w = self.shape
            self.full_grid = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return self.full_grid


def _consistent(cv2, fab: np.ndarray, fba: np.ndarray, grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where following a -> b and then b -> a comes back to the start (float mask 0/1)."""
    gx, gy = grid
    mx, my = gx + fab[..., 0], gy + fab[..., 1]
    back = cv2.remap(fba, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    err = np.hypot(fab[..., 0] + back[..., 0], fab[..., 1] + back[..., 1])
    mag = np.hypot(fab[..., 0], fab[..., 1])
    h, w = fab.shape[:2]
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return ((err <= 0.7 + 0.1 * mag) & inside).astype(np.float32)


def _photo_error(cv2, g1: np.ndarray, g2: np.ndarray, flow: np.ndarray, grid) -> np.ndarray:
    """|g2(p + flow(p)) - g1(p)|: how well the flow explains the colours."""
    gx, gy = grid
    moved = cv2.remap(g2, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.abs(moved - g1)


def _source(cv2, flow: np.ndarray, t: float, grid, iters: int = 6) -> np.ndarray:
    """Displacement ``d`` to where the pixel seen at ``q`` at time ``t`` started.

    That start is ``p = q + d`` with ``p + t * flow(p) = q``.

    Fixed-point iteration ``d <- -t * flow(q + d)``; it converges wherever the
    motion is smooth (``t * |grad flow| < 1``). At a motion edge it settles on
    one of the two surfaces, and the consistency masks decide whether that
    surface may be shown.
    """
    gx, gy = grid
    d = -t * flow
    for _ in range(iters):
        d = -t * cv2.remap(flow, gx + d[..., 0], gy + d[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return d


@dataclass
class PairResult:
    """The in-betweens of one pair, and how they were made."""

    frames: list[Frame]
    alphas: list[np.ndarray] | None
    method: str  # "flow" or "blend"
    reason: str = ""  # why a flow pair fell back to a blend
    stats: dict = field(default_factory=dict)


def crossfade(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """``(1 - t) a + t b`` rounded to uint8 (frames or HxW masks)."""
    return (a.astype(np.float32) * (1.0 - t) + b.astype(np.float32) * t + 0.5).astype(np.uint8)


def _blend_pair(a, b, n, aa, ab) -> PairResult:
    ts = [k / (n + 1) for k in range(1, n + 1)]
    frames = [crossfade(a, b, t) for t in ts]
    alphas = None if aa is None else [crossfade(aa, ab, t) for t in ts]
    return PairResult(frames, alphas, "blend")


def _fallback(a, b, n, aa, ab, reason: str, stats: dict) -> PairResult:
    r = _blend_pair(a, b, n, aa, ab)
    r.reason, r.stats = reason, stats
    return r


def flow_pair(
    engine: FlowEngine,
    a: Frame,
    b: Frame,
    n: int,
    alpha_a: np.ndarray | None = None,
    alpha_b: np.ndarray | None = None,
) -> PairResult:
    """``n`` in-betweens from ``a`` to ``b`` at ``t = k / (n + 1)``, following the motion where it can be trusted.

    All flow reasoning happens at the small size; only the final warps of
    ``a`` and ``b`` and the blends (``cv2.remap`` / ``cv2.blendLinear`` on
    uint8) run at full size.
    """
    cv2 = engine.cv2
    h, w = a.shape[:2]
    lw, lh = engine.size
    ga, gb = engine.gray(a).astype(np.float32), engine.gray(b).astype(np.float32)
    raw = np.abs(ga - gb)
    changed = raw > 12.0
    if changed.mean() < 0.002:  # nothing moves: a cross-fade is exact enough and free
        return _blend_pair(a, b, n, alpha_a, alpha_b)
    fab, fba = engine.flow(a, b)
    grid = engine.grid
    gx, gy = grid
    ea = _photo_error(cv2, ga, gb, fab, grid)
    eb = _photo_error(cv2, gb, ga, fba, grid)
    ca = _consistent(cv2, fab, fba, grid)
    cb = _consistent(cv2, fba, fab, grid)
    # a side's say in a pixel: its flow passes the round trip and also matches in colour
    pa, pb = ca * np.exp(-ea / PHOTO_SIGMA), cb * np.exp(-eb / PHOTO_SIGMA)
    share = float(((ca > 0) & changed).sum() + ((cb > 0) & changed).sum()) / (2.0 * changed.sum())
    scale = w / lw
    mag = np.hypot(fab[..., 0], fab[..., 1])[changed] * scale
    p95 = float(np.percentile(mag, 95)) if mag.size else 0.0
    stats = {"consistent": round(share, 3), "motion_p95_px": round(p95, 1)}
    if share < MIN_CONSISTENT:
        return _fallback(a, b, n, alpha_a, alpha_b, f"only {share:.0%} of the moving pixels could be followed", stats)
    if p95 > MAX_MOTION * max(h, w):
        return _fallback(a, b, n, alpha_a, alpha_b, f"the motion ({p95:.0f} px) is too large to follow", stats)
    has_alpha = alpha_a is not None and alpha_b is not None
    if has_alpha:  # the mask travels as a fourth channel, warped and blended exactly like the colours
        ia, ib = np.dstack([a, alpha_a]), np.dstack([b, alpha_b])
    else:
        ia, ib = np.ascontiguousarray(a), np.ascontiguousarray(b)
    full = (lw, lh) != (w, h)
    fgx, fgy = engine.full() if full else grid
    frames: list[Frame] = []
    alphas: list[np.ndarray] | None = [] if has_alpha else None
    disagree = 0.0
    for k in range(1, n + 1):
        t = k / (n + 1)
        # where each pixel at time t comes from in a and in b: the fixed points of
        # p = q - t * fab(p) and p' = q + (1 - t) * (-fba(p')), found by iterating remaps
        da = _source(cv2, fab, t, grid)
        db = _source(cv2, fba, 1 - t, grid)
        ax_, ay_ = gx + da[..., 0], gy + da[..., 1]
        bx_, by_ = gx + db[..., 0], gy + db[..., 1]
        # each side may show the pixel where its own flow is trusted
        va = cv2.remap(pa, ax_, ay_, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        vb = cv2.remap(pb, bx_, by_, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        wa_t, wb_t = va * (1 - t), vb * t
        tot = wa_t + wb_t
        conf = np.clip(tot / (0.5 * min(t, 1 - t)), 0.0, 1.0).astype(np.float32)
        both = (va > 0.5) & (vb > 0.5)
        la = cv2.remap(ga, ax_, ay_, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        lb = cv2.remap(gb, bx_, by_, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        dw = np.abs(la - lb)
        disagree += float(dw[both].sum() + raw[~both].sum())
        # per region: where both sides are trusted yet their warps disagree more than the raw frames
        # differ, the flow is wrong there and the cross-fade is the better guess
        dwb = cv2.GaussianBlur(dw, (0, 0), 2.0)
        dxb = cv2.GaussianBlur(raw, (0, 0), 2.0)
        worse = np.clip(2.0 * dwb / (dxb + 2.0) - 1.0, 0.0, 1.0) * np.minimum(va, vb)
        conf = conf * (1.0 - worse)
        ka = np.where(tot > 1e-6, wa_t / np.maximum(tot, 1e-6), 1 - t).astype(np.float32)
        if full:
            da = cv2.resize(da, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(scale)
            db = cv2.resize(db, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(scale)
            ka = cv2.resize(ka, (w, h), interpolation=cv2.INTER_LINEAR)
            conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
        wa_img = cv2.remap(ia, fgx + da[..., 0], fgy + da[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        wb_img = cv2.remap(ib, fgx + db[..., 0], fgy + db[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # warped blend where the flow is trusted, the plain cross-fade where it is not (all in OpenCV: uint8 in C)
        warped = cv2.blendLinear(wa_img, wb_img, ka, 1.0 - ka)
        fade = cv2.addWeighted(ia, 1.0 - t, ib, t, 0.0)
        out = cv2.blendLinear(warped, fade, conf, 1.0 - conf)
        frames.append(np.ascontiguousarray(out[..., :3]))
        if alphas is not None:
            alphas.append(np.ascontiguousarray(out[..., 3]))
    disagree /= n * raw.size
    stats.update({"disagree": round(disagree, 2), "raw_diff": round(float(raw.mean()), 2)})
    if disagree > AGREE_RATIO * float(raw.mean()):
        return _fallback(a, b, n, alpha_a, alpha_b, "the two warped frames disagree (the flow is unreliable)", stats)
    return PairResult(frames, alphas, "flow", stats=stats)


# --------------------------------------------------------------------------- loop seam


def _small(f: Frame, side: int = 96) -> np.ndarray:
    """A subsampled float copy (colour kept: two colours of equal luma are still a change)."""
    h, w = f.shape[:2]
    step = max(1, max(h, w) // side)
    return f[::step, ::step].astype(np.float32)


def step_changes(frames: Sequence[Frame]) -> list[float]:
    """Mean absolute change (per channel value) of every step of the loop, the last -> first step included (last)."""
    n = len(frames)
    if n < 2:
        return []
    small = [_small(f) for f in frames]
    return [float(np.abs(small[(i + 1) % n] - small[i]).mean()) for i in range(n)]


NOISE_FLOOR = 0.5  # channel levels: steps below this count as "no change" so still loops do not score wildly


def loop_seam(frames: Sequence[Frame]) -> tuple[float, list[float]]:
    """``(loop_seam, step changes)``: the last -> first change over the median step (1.0 = a typical step)."""
    steps = step_changes(frames)
    if len(steps) < 3:
        return 1.0, steps
    typical = median(steps[:-1])
    return (steps[-1] + NOISE_FLOOR) / (typical + NOISE_FLOOR), steps


def seam_hint(
    frames: Sequence[Frame],
    sequence: Sequence[int],
    score: float,
    *,
    smoothing: int = 0,
    order: str = "forward",
    steps: Sequence[float] | None = None,
) -> str | None:
    """One concrete suggestion when the seam is a visible jump (or a stall), else None.

    ``sequence`` holds the 0-based grid frame of every played frame, so the
    hint names frames as the user numbers them; ``steps`` are
    :func:`loop_seam`'s step changes (measured again when not given).
    """
    n = len(frames)
    if n < 3:
        return None
    last, first = sequence[-1] + 1, sequence[0] + 1
    if 0.25 <= score <= SEAM_HIGH:
        return None
    steps = list(steps) if steps is not None else step_changes(frames)
    typical = median(steps[:-1])
    if score < 0.25 and typical > 2 * NOISE_FLOOR:
        return (
            f"frame {last} looks the same as frame {first}, so the loop stalls on it: "
            f"drop it with --drop {last} (app: Leave out frames)"
        )
    if score <= SEAM_HIGH:
        return None
    jump = (
        f"the loop jumps from frame {last} back to frame {first} ({score:.1f}x a typical step, loop_seam {score:.2f})"
    )
    # would ending one frame earlier close the loop?
    s = [_small(frames[i]) for i in (-2, 0)]
    without_last = (float(np.abs(s[1] - s[0]).mean()) + NOISE_FLOOR) / (typical + NOISE_FLOOR)
    tips = []
    if without_last <= SEAM_HIGH and without_last < 0.6 * score:
        tips.append(f"drop the last frame (--drop {last}; seam would be {without_last:.1f})")
    if (order or "forward") != "pingpong":
        tips.append("play it back and forth (--order pingpong), which has no seam")
    if smoothing == 0:
        tips.append("add in-betweens (--smooth 2) so the jump becomes motion")
    if not tips:
        return f"{jump}"
    return f"{jump}: " + "; or ".join(tips)


def seam_plot_png(steps: Sequence[float], sequence: Sequence[int], *, width: int = 360, height: int = 120) -> bytes:
    """A small bar chart of the frame-to-frame change, the seam (last bar) in red (PNG bytes)."""
    import io

    from PIL import Image, ImageDraw

    im = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(im)
    n = len(steps)
    if n:
        top = max(max(steps), 1e-6)
        pad_l, pad_b, pad_t = 6, 16, 6
        bw = (width - 2 * pad_l) / n
        typical = median(steps[:-1]) if n > 1 else steps[0]
        ty = height - pad_b - (height - pad_b - pad_t) * typical / top
        d.line([(pad_l, ty), (width - pad_l, ty)], fill=(160, 160, 160), width=1)
        for i, v in enumerate(steps):
            x0 = pad_l + i * bw + 1
            y0 = height - pad_b - (height - pad_b - pad_t) * v / top
            seam = i == n - 1
            d.rectangle([x0, y0, x0 + max(1.0, bw - 2), height - pad_b], fill=(220, 50, 40) if seam else (90, 120, 200))
        d.text((pad_l, height - pad_b + 2), f"{sequence[0] + 1}>{sequence[1 % len(sequence)] + 1}", fill=(80, 80, 80))
        label = f"seam {sequence[-1] + 1}>{sequence[0] + 1}"
        d.text((width - pad_l - 7 * len(label), height - pad_b + 2), label, fill=(200, 40, 30))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()
