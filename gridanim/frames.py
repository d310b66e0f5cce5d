"""Frame maths between a detected layout and an encoder (pure numpy).

This module owns everything that happens to the list of frames once the grid
has been cut: cropping every frame to one size (:func:`extract_frames`),
removing positional jitter (:func:`stabilize`), choosing and ordering frames
(:func:`frame_sequence`, :func:`apply_order`), turning a rate into GIF delays
(:func:`frame_timing`), in-betweens (:func:`inbetween`: optical flow or
cross-fade), holds (:func:`parse_holds`, :func:`apply_holds`) and downscaling
(:func:`fit_size`).

Units: durations are milliseconds, always multiples of 10 because GIF stores
delays in centiseconds; frame numbers typed by users are 1-based, indices in
code are 0-based.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .errors import InputError
from .types import Frame

# Browsers replace GIF delays under 20 ms with 100 ms, so never write less.
MIN_FRAME_MS = 20
MAX_FRAME_MS = 655_350  # GIF stores delays as 16-bit centiseconds
GIF_TICK_MS = 10


# --------------------------------------------------------------------------- crop


def extract_frames(
    rgb: Frame,
    layout,
    *,
    inset: int = 0,
    alpha: np.ndarray | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
) -> list[Frame]:
    """Cut every box of ``layout`` out of ``rgb`` at one common size.

    Each frame is ``layout.frame_size`` minus ``inset`` pixels on every side,
    centre-cropped from its box (boxes may differ by a few pixels). With
    ``alpha`` the crop is composited onto ``background``.
    """
    if inset < 0:
        raise InputError(f"--inset must be 0 or more, got {inset}")
    fw, fh = layout.frame_size
    w, h = fw - 2 * inset, fh - 2 * inset
    if w < 1 or h < 1:
        raise InputError(f"--inset {inset} leaves nothing of {fw}x{fh} frames: use an inset under {min(fw, fh) // 2}")
    ih, iw = rgb.shape[:2]
    bg = np.asarray(background, dtype=np.float32)
    out: list[Frame] = []
    for bx, by, bw, bh in layout.boxes:
        x0 = bx + (bw - w) // 2
        y0 = by + (bh - h) // 2
        x0 = min(max(x0, 0), iw - w)
        y0 = min(max(y0, 0), ih - h)
        crop = rgb[y0 : y0 + h, x0 : x0 + w]
        if alpha is not None:
            a = alpha[y0 : y0 + h, x0 : x0 + w].astype(np.float32)[..., None] / 255.0
            crop = (crop.astype(np.float32) * a + bg * (1.0 - a) + 0.5).astype(np.uint8)
        out.append(np.ascontiguousarray(crop))
    return out


# --------------------------------------------------------------------------- stabilise


def _gray_small(frame: Frame, step: int) -> np.ndarray:
    g = frame[..., 0] * 0.299 + frame[..., 1] * 0.587 + frame[..., 2] * 0.114 if frame.ndim == 3 else frame
    g = np.asarray(g, dtype=np.float64)
    if step > 1:
        h, w = (g.shape[0] // step) * step, (g.shape[1] // step) * step
        g = g[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    return g


def _spectrum(g: np.ndarray) -> np.ndarray:
    g = g - g.mean()
    win = np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
    return np.fft.rfft2(g * win)


def _peak_shift(fa: np.ndarray, fb: np.ndarray, shape: tuple[int, int], limit: tuple[int, int]) -> tuple[float, float]:
    """(dy, dx) to move image b by so it lines up with image a (phase correlation)."""
    cross = fa * np.conj(fb)
    cross /= np.abs(cross) + 1e-9
    corr = np.fft.irfft2(cross, s=shape)
    corr = np.fft.fftshift(corr)
    cy, cx = shape[0] // 2, shape[1] // 2
    ly, lx = limit
    win = corr[cy - ly : cy + ly + 1, cx - lx : cx + lx + 1]
    iy, ix = np.unravel_index(int(np.argmax(win)), win.shape)
    dy, dx = float(iy - ly), float(ix - lx)
    # sub-pixel refinement by a parabola through the peak and its neighbours
    py, px = cy + int(dy), cx + int(dx)
    if 0 < py < shape[0] - 1:
        a, b, c = corr[py - 1, px], corr[py, px], corr[py + 1, px]
        den = a - 2 * b + c
        if den < 0:
            dy += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    if 0 < px < shape[1] - 1:
        a, b, c = corr[py, px - 1], corr[py, px], corr[py, px + 1]
        den = a - 2 * b + c
        if den < 0:
            dx += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return dy, dx


def estimate_shifts(frames: Sequence[Frame], *, max_shift: float = 0.15) -> np.ndarray:
    """Per-frame (dy, dx) in pixels that registers each frame to the median frame.

    The reference is the pixel-wise median of all frames, so a subject that
    wanders by a few pixels is pulled to its average position. Shifts are
    limited to ``max_shift`` of the frame size.
    """
    if not frames:
        return np.zeros((0, 2))
    h, w = frames[0].shape[:2]
    step = max(1, int(max(h, w) // 256))  # registration on <= ~256 px images is plenty
    smalls = [_gray_small(f, step) for f in frames]
    ref = np.median(np.stack(smalls), axis=0)
    shape = ref.shape
    limit = (max(1, int(shape[0] * max_shift)), max(1, int(shape[1] * max_shift)))
    fref = _spectrum(ref)
    shifts = np.array([_peak_shift(fref, _spectrum(s), shape, limit) for s in smalls]) * step
    return shifts


def _shift(frame: Frame, dy: int, dx: int) -> Frame:
    """Translate by whole pixels, replicating the edge into the uncovered band."""
    if dy == 0 and dx == 0:
        return frame
    h, w = frame.shape[:2]
    py, px = abs(dy), abs(dx)
    padded = np.pad(frame, ((py, py), (px, px), (0, 0)), mode="edge")
    y0, x0 = py - dy, px - dx
    return np.ascontiguousarray(padded[y0 : y0 + h, x0 : x0 + w])


def _jitter(shifts: np.ndarray) -> float:
    if len(shifts) == 0:
        return 0.0
    d = shifts - shifts.mean(axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).mean())


def stabilize(frames: Sequence[Frame], *, max_shift: float = 0.15) -> tuple[list[Frame], float, float]:
    """Line every frame up with the median frame by whole-pixel shifts.

    Returns ``(frames, jitter_before_px, jitter_after_px)`` where jitter is the
    mean distance of each frame's measured offset from the average offset
    (same measurement before and after, so the two numbers compare).
    """
    frames = list(frames)
    if len(frames) < 2:
        return frames, 0.0, 0.0
    shifts = estimate_shifts(frames, max_shift=max_shift)
    before = _jitter(shifts)
    rel = shifts - np.median(shifts, axis=0)
    out = [_shift(f, int(round(dy)), int(round(dx))) for f, (dy, dx) in zip(frames, rel)]
    after = _jitter(estimate_shifts(out, max_shift=max_shift))
    if after > before:  # registration made it worse (e.g. no texture): keep the input
        return frames, before, before
    return out, before, after


# --------------------------------------------------------------------------- order

_ITEM = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")


def parse_frame_list(spec: str, n: int) -> list[int]:
    """``"1-4,6,8"`` -> ``[0, 1, 2, 3, 5, 7]`` for a grid of ``n`` frames.

    Numbers are 1-based; ``a-b`` with ``a > b`` counts down; repeats are kept
    (``"1,1,2"`` holds frame 1 twice as long).
    """
    text = (spec or "").strip()
    if not text:
        raise InputError("the frame list is empty: give frame numbers like 1-4,6,8")
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = _ITEM.match(part)
        if not m:
            raise InputError(f"cannot read {part!r} in frame list {spec!r}: use numbers and ranges like 1-4,6,8")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        for v in (a, b):
            if not 1 <= v <= n:
                raise InputError(f"frame {v} in {spec!r} is out of range: this grid has frames 1-{n}")
        out.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
    return [v - 1 for v in out]


def frame_sequence(n: int, order: str = "forward", drop: str = "") -> list[int]:
    """Indices (0-based, into the ``n`` extracted frames) in playback order.

    ``order`` is ``forward``, ``reverse``, ``pingpong`` (1 2 3 4 3 2, then the
    loop returns to 1: no end frame is shown twice) or a frame list such as
    ``"1-4,6,8"``. ``drop`` is a frame list removed first.
    """
    if n < 1:
        raise InputError("there are no frames to animate")
    dropped = set(parse_frame_list(drop, n)) if drop and drop.strip() else set()
    key = (order or "forward").strip().lower()
    keep = [i for i in range(n) if i not in dropped]
    if key == "forward":
        seq = keep
    elif key == "reverse":
        seq = keep[::-1]
    elif key == "pingpong":
        seq = keep + keep[-2:0:-1]
    elif key and (key[0].isdigit()):
        seq = [i for i in parse_frame_list(key, n) if i not in dropped]
    else:
        raise InputError(f"unknown order {order!r}: use forward, reverse, pingpong or a frame list like 1-4,6,8")
    if not seq:
        raise InputError(f"no frames left after dropping {drop!r}: keep at least one frame")
    return seq


def apply_order(frames: Sequence[Frame], order: str = "forward", drop: str = "") -> list[Frame]:
    """Frames in playback order (see :func:`frame_sequence`)."""
    return [frames[i] for i in frame_sequence(len(frames), order, drop)]


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Per-frame GIF delays and what rate they really give."""

    durations_ms: list[int]
    effective_fps: float
    warnings: list[str] = field(default_factory=list)

    @property
    def total_ms(self) -> int:
        return sum(self.durations_ms)


def _split_ticks(total_ms: float, n: int) -> list[int]:
    """``n`` delays in 10 ms steps whose running sum tracks ``total_ms * k / n``."""
    out, prev = [], 0
    for k in range(1, n + 1):
        edge = int(np.floor(total_ms * k / n / GIF_TICK_MS + 0.5)) * GIF_TICK_MS
        out.append(edge - prev)
        prev = edge
    return out


def frame_timing(
    n: int,
    *,
    fps: float | None = 8.0,
    frame_ms: float | None = None,
    distribute: bool = True,
) -> Timing:
    """Delays for ``n`` frames from a rate (``fps``) or a delay (``frame_ms``).

    GIF delays are whole centiseconds, so 8 fps (125 ms) cannot be stored
    exactly. With ``distribute`` (default) the rounding error is spread over
    the loop (120, 130, 120, 130 ms...) so the average rate is the one asked;
    otherwise every frame gets the same rounded delay and the warning says what
    rate that really is. Delays never go under 20 ms (browsers slow those to
    100 ms). ``frame_ms`` wins over ``fps`` when both are given.
    """
    if n < 1:
        raise InputError("there are no frames to animate")
    warnings: list[str] = []
    if frame_ms is not None:
        if not np.isfinite(frame_ms) or frame_ms <= 0:
            raise InputError(f"--frame-ms must be a positive number of milliseconds, got {frame_ms:g}")
        target = float(frame_ms)
        asked = f"{frame_ms:g} ms per frame"
    else:
        if fps is None or not np.isfinite(fps) or fps <= 0:
            raise InputError(f"--fps must be a positive number, got {fps}")
        target = 1000.0 / float(fps)
        asked = f"{fps:g} fps"
    if target > MAX_FRAME_MS:
        raise InputError(f"{asked} is too slow: a GIF frame can show for at most {MAX_FRAME_MS // 1000} s")
    if target < MIN_FRAME_MS:
        warnings.append(f"{asked} is faster than GIFs play in browsers: using {MIN_FRAME_MS} ms per frame (50 fps)")
        target = float(MIN_FRAME_MS)
    if distribute:
        durations = _split_ticks(target * n, n)
        if min(durations) < MIN_FRAME_MS:
            durations = [max(MIN_FRAME_MS, d) for d in durations]
    else:
        d = max(MIN_FRAME_MS, int(np.floor(target / GIF_TICK_MS + 0.5)) * GIF_TICK_MS)
        durations = [d] * n
    effective = 1000.0 * n / sum(durations)
    if abs(sum(durations) - target * n) > 0.5 and not warnings:
        if len(set(durations)) == 1:
            warnings.append(
                f"{asked} is not a whole number of centiseconds: every frame shows {durations[0]} ms, i.e. {effective:.3g} fps"
            )
        else:
            warnings.append(
                f"{asked} is not a whole number of centiseconds: delays of "
                f"{'/'.join(str(d) for d in sorted(set(durations)))} ms give {effective:.4g} fps on average"
            )
    return Timing(durations, effective, warnings)


def effective_fps(durations_ms: Sequence[int]) -> float:
    """1000 / mean delay."""
    return 1000.0 * len(durations_ms) / sum(durations_ms) if durations_ms else 0.0


# --------------------------------------------------------------------------- smoothing

INBETWEEN_METHODS = ("flow", "blend")


def smooth(frames: Sequence[Frame], n: int) -> list[Frame]:
    """Insert ``n`` cross-fades between every pair, including last -> first.

    ``k`` frames become ``k * (n + 1)`` so the loop stays seamless. Pair with
    :func:`smooth_durations`, which keeps the loop's length (motion speed is
    unchanged, the frame rate goes up). :func:`inbetween` is the general
    entry (flow or cross-fade, with alphas).
    """
    return inbetween(frames, n, method="blend").frames


@dataclass
class Inbetweens:
    """Frames with in-betweens inserted, and how each pair was bridged."""

    frames: list[Frame]
    alphas: list[np.ndarray] | None
    per_pair: int  # in-betweens after every real frame (0 when smoothing was skipped)
    pair_methods: list[str]  # "flow" / "blend" per pair (pair i = frame i -> i + 1), [] when skipped
    warnings: list[str] = field(default_factory=list)


def _pairs_text(pairs: list[tuple[int, int]], sequence: Sequence[int] | None) -> str:
    names = [(sequence[i] + 1, sequence[j] + 1) if sequence is not None else (i + 1, j + 1) for i, j in pairs]
    text = ", ".join(f"{a}->{b}" for a, b in names[:6])
    return text + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def inbetween(
    frames: Sequence[Frame],
    n: int,
    *,
    method: str = "flow",
    alphas: Sequence[np.ndarray] | None = None,
    wrap: bool = True,
    sequence: Sequence[int] | None = None,
    pixel_art: bool | None = None,
) -> Inbetweens:
    """Insert ``n`` in-betweens after every frame (``wrap``: the last -> first pair too).

    ``method`` ``flow`` follows the motion (:mod:`gridanim.motion`) and falls
    back to a cross-fade per region, or per pair when the flow cannot be
    trusted (said in the warnings); ``blend`` cross-fades. On pixel art the
    flow method inserts nothing, so no new colour appears (a warning says so).
    ``alphas`` (one HxW mask per frame) get the same in-betweens.
    ``sequence`` (grid frame per played frame, 0-based) only names frames in
    warnings. ``pixel_art`` is what the caller already knows about the grid
    (None: :func:`gridanim.motion.looks_like_pixel_art` checks the frames).
    """
    if n < 0:
        raise InputError(f"--smooth must be 0 or more, got {n}")
    if method not in INBETWEEN_METHODS:
        raise InputError(f"unknown in-between method {method!r}: use flow or blend")
    frames = list(frames)
    al = None if alphas is None else list(alphas)
    if al is not None and len(al) != len(frames):
        raise InputError(f"got {len(al)} alpha masks for {len(frames)} frames")
    if n == 0 or len(frames) < 2:
        return Inbetweens(frames, al, 0, [])
    from . import motion

    warnings: list[str] = []
    if pixel_art is None and method == "flow":
        pixel_art = motion.looks_like_pixel_art(frames)
    if method == "flow" and pixel_art:
        warnings.append(
            f"--smooth {n} was skipped: these look like pixel art, whose frames must stay exact "
            "(in-betweens would add colours); use --inbetween blend to cross-fade anyway"
        )
        return Inbetweens(frames, al, 0, [], warnings)
    fh, fw = frames[0].shape[:2]
    if method == "flow" and (max(fh, fw) < motion.MIN_FLOW_SIDE or min(fh, fw) < 8):
        warnings.append(f"frames of {fw}x{fh} are too small to follow the motion: in-betweens are cross-fades")
        method = "blend"
    engine = motion.FlowEngine((fh, fw)) if method == "flow" else None
    count = len(frames) if wrap else len(frames) - 1
    out: list[Frame] = []
    out_a: list[np.ndarray] | None = [] if al is not None else None
    methods: list[str] = []
    failed: dict[str, list[tuple[int, int]]] = {}
    for i in range(count):
        j = (i + 1) % len(frames)
        a, b = frames[i], frames[j]
        aa, ab = (al[i], al[j]) if al is not None else (None, None)
        if engine is not None:
            r = motion.flow_pair(engine, a, b, n, aa, ab)
        else:
            r = motion._blend_pair(a, b, n, aa, ab)
        methods.append(r.method)
        if r.reason:
            failed.setdefault(r.reason, []).append((i, j))
        out.append(a)
        out.extend(r.frames)
        if out_a is not None:
            out_a.append(aa)
            out_a.extend(r.alphas or [])
    if not wrap:
        out.append(frames[-1])
        if out_a is not None:
            out_a.append(al[-1])
    for reason, pairs in failed.items():
        pairs_text = _pairs_text(pairs, sequence)
        warnings.append(f"flow in-betweens fell back to cross-fades for frames {pairs_text}: {reason}")
    return Inbetweens(out, out_a, n, methods, warnings)


def smooth_durations(durations_ms: Sequence[int], n: int) -> tuple[list[int], list[str]]:
    """Split each delay into ``n + 1`` centisecond delays with the same total.

    When a share would fall under 20 ms it is raised to 20 ms and a warning
    says the loop got longer.
    """
    if n <= 0 or len(durations_ms) < 2:
        return list(durations_ms), []
    out: list[int] = []
    for d in durations_ms:
        out.extend(_split_ticks(d, n + 1))
    warnings: list[str] = []
    if min(out) < MIN_FRAME_MS:
        before = sum(out)
        out = [max(MIN_FRAME_MS, d) for d in out]
        warnings.append(
            f"--smooth {n} needs delays under {MIN_FRAME_MS} ms: in-betweens use {MIN_FRAME_MS} ms, "
            f"so the loop gets longer ({sum(out)} ms instead of {before} ms); lower --smooth or --fps"
        )
    return out, warnings


# --------------------------------------------------------------------------- holds

_HOLD = re.compile(r"^(\d+)\s*:\s*(\d+(?:\.\d*)?)\s*(?:ms)?$")


def parse_holds(spec: str | None, n: int) -> dict[int, int]:
    """``"1:300,12:500"`` -> ``{0: 300, 11: 500}``: grid frame (1-based in the text) -> delay in ms.

    Delays are rounded to whole centiseconds (GIF's unit) and must be 20 ms to
    655 s. An empty spec means no holds.
    """
    text = (spec or "").strip()
    if not text:
        return {}
    out: dict[int, int] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = _HOLD.match(part)
        if not m:
            raise InputError(f"cannot read {part!r} in --hold {spec!r}: use FRAME:MS pairs like 1:300,12:500")
        k, ms = int(m.group(1)), float(m.group(2))
        if not 1 <= k <= n:
            raise InputError(f"--hold frame {k} is out of range: this grid has frames 1-{n}")
        rounded = int(np.floor(ms / GIF_TICK_MS + 0.5)) * GIF_TICK_MS
        if not MIN_FRAME_MS <= rounded <= MAX_FRAME_MS:
            raise InputError(f"--hold {k}:{ms:g} must be between {MIN_FRAME_MS} ms and {MAX_FRAME_MS // 1000} s")
        out[k - 1] = rounded
    return out


def format_holds(holds: dict[int, int]) -> str:
    """Inverse of :func:`parse_holds` (1-based frame numbers, sorted)."""
    return ",".join(f"{k + 1}:{v}" for k, v in sorted(holds.items()))


def apply_holds(
    durations_ms: Sequence[int], sequence: Sequence[int], holds: dict[int, int], per_pair: int = 0
) -> list[int]:
    """Give every played occurrence of a held grid frame its hold delay.

    ``durations_ms`` are the output delays (in-betweens included, ``per_pair``
    after every real frame); ``sequence[i]`` is the grid frame of real frame
    ``i``. The real frame itself shows for the hold; its in-betweens keep
    their share, so the motion out of the held pose is as fast as before.
    """
    out = list(durations_ms)
    if not holds:
        return out
    step = per_pair + 1
    if len(out) != len(sequence) * step:
        raise InputError(f"{len(out)} delays do not match {len(sequence)} frames with {per_pair} in-betweens each")
    for i, g in enumerate(sequence):
        if g in holds:
            out[i * step] = holds[g]
    return out


# --------------------------------------------------------------------------- size


def fit_size(frames: Sequence[Frame], max_side: int | None) -> list[Frame]:
    """Downscale (Lanczos) so the longer side is at most ``max_side``; never upscale."""
    frames = list(frames)
    if not frames or not max_side:
        return frames
    if max_side < 8:
        raise InputError(f"--max-size must be at least 8 pixels, got {max_side}")
    h, w = frames[0].shape[:2]
    if max(h, w) <= max_side:
        return frames
    from PIL import Image

    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return [np.asarray(Image.fromarray(fr).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)) for fr in frames]
