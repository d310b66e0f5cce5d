"""The grid -> animation pipeline shared by the CLI and the app.

:func:`animate` goes from an image to frames and delays (load, detect, crop,
stabilise, resize, order, time, smooth) and says what it did in
``Animation.warnings``; :func:`render` turns that into file bytes, running the
MP4 encode (ffmpeg, its own process) while the GIF is quantised here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from . import frames as fr
from .errors import EncodeError, InputError
from .images import LoadedImage, load_image
from .layout import Layout, detect_layout
from .types import Frame

FORMATS = ("gif", "mp4", "webp", "zip")


@dataclass
class AnimateOptions:
    """Everything :func:`animate` and :func:`render` can be asked (CLI flags mirror these)."""

    rows: int | None = None
    cols: int | None = None
    inset: int = 0  # pixels trimmed from every side of every frame
    fps: float = 8.0
    frame_ms: int | None = None  # per-frame delay; wins over fps
    order: str = "forward"  # forward | reverse | pingpong | "1-4,6,8"
    drop: str = ""  # frame list removed before ordering
    stabilize: bool = False
    smooth: int = 0  # cross-fade in-betweens per pair (loop length kept)
    loop: int = 0  # GIF loop count: 0 = forever
    max_size: int | None = None  # longest side of the output frames
    gif_quality: str = "high"  # high | fast
    gif_max_bytes: int | None = None
    mp4_repeat: int = 0  # times the loop plays in the MP4; 0 = enough for 3 s
    uniform_delays: bool = False  # same rounded delay for every frame instead of spreading rounding
    background: tuple[int, int, int] = (255, 255, 255)  # behind transparent pixels

    def validate(self) -> None:
        """Raise :class:`InputError` for values no image could make sense of."""
        for name in ("rows", "cols"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v <= 0):
                raise InputError(f"--{name} must be a positive whole number, got {v}")
        if self.frame_ms is None and (self.fps is None or not math.isfinite(self.fps) or self.fps <= 0):
            raise InputError(f"--fps must be a positive number, got {self.fps}")
        if self.frame_ms is not None and (not math.isfinite(self.frame_ms) or self.frame_ms <= 0):
            raise InputError(f"--frame-ms must be a positive number of milliseconds, got {self.frame_ms}")
        if self.inset < 0:
            raise InputError(f"--inset must be 0 or more, got {self.inset}")
        if self.smooth < 0 or self.smooth > 8:
            raise InputError(f"--smooth must be between 0 and 8, got {self.smooth}")
        if not 0 <= self.loop <= 65535:
            raise InputError(f"--loop must be between 0 (forever) and 65535, got {self.loop}")
        if self.max_size is not None and self.max_size < 8:
            raise InputError(f"--max-size must be at least 8 pixels, got {self.max_size}")
        if self.gif_quality not in ("high", "fast"):
            raise InputError(f"--gif-quality must be high or fast, got {self.gif_quality!r}")
        if self.gif_max_bytes is not None and self.gif_max_bytes <= 0:
            raise InputError(f"--gif-max-kb must be positive, got {self.gif_max_bytes / 1024:g}")
        if self.mp4_repeat < 0:
            raise InputError(f"--mp4-repeat must be 0 (auto) or more, got {self.mp4_repeat}")
        if len(self.background) != 3 or any(not 0 <= int(c) <= 255 for c in self.background):
            raise InputError(f"--background must be three values 0-255, got {self.background}")


@dataclass
class Animation:
    """Frames ready to encode, and what it took to get them."""

    layout: Layout
    frames: list[Frame]  # playback order, in-betweens included
    durations_ms: list[int]  # one per frame, multiples of 10
    effective_fps: float
    jitter_before: float | None
    jitter_after: float | None
    warnings: list[str] = field(default_factory=list)
    sequence: list[int] = field(default_factory=list)  # 0-based real frame per played frame (before smoothing)
    options: AnimateOptions = field(default_factory=AnimateOptions)
    source_scale: float = 1.0  # source pixels per layout pixel (> 1 when the loader downscaled)
    pads: list[tuple[int, int, int, int]] = field(default_factory=list)  # (left, top, right, bottom) per real frame
    stabilize_info: dict | None = None  # what --stabilize did (method, anchor, shifts)
    alphas: list[np.ndarray] | None = None  # H x W uint8 per frame (255 = opaque), None when the grid is opaque

    @property
    def frame_size(self) -> tuple[int, int]:
        """(w, h) of the output frames."""
        h, w = self.frames[0].shape[:2]
        return w, h

    @property
    def loop_ms(self) -> int:
        return sum(self.durations_ms)


def _load(source) -> LoadedImage:
    return source if isinstance(source, LoadedImage) else load_image(source)


def animate(source, options: AnimateOptions | None = None, *, layout: Layout | None = None) -> Animation:
    """Image (path, bytes, array or :class:`LoadedImage`) -> :class:`Animation`.

    ``layout`` skips detection (the app passes the one the user corrected).
    Raises :class:`InputError` / :class:`LayoutError` with one-line messages.
    """
    opts = options or AnimateOptions()
    opts.validate()
    img = _load(source)
    warnings = list(img.notes)
    if layout is None:
        layout = detect_layout(img.rgb, img.alpha, rows=opts.rows, cols=opts.cols)
    warnings.extend(layout.warnings)
    if layout.frames < 1:
        raise InputError("no frames were found in the grid: set --rows and --cols")
    cut = fr.cut_frames(img.rgb, layout, inset=opts.inset, alpha=img.alpha)
    frames, alphas = cut.frames, cut.alphas
    jb = ja = None
    stab = None
    if opts.stabilize:
        stab = fr.stabilize_frames(frames, alphas)
        frames, alphas, jb, ja = stab.frames, stab.alphas, stab.jitter_before, stab.jitter_after
        if ja >= jb and jb > 0.5:
            warnings.append(f"--stabilize found no consistent shift to correct (jitter {jb:.1f} px): frames were left in place")
    frames = fr.flatten(frames, alphas, opts.background)  # the stages below and the encoders take RGB
    frames = fr.fit_size(frames, opts.max_size)
    alphas = None if alphas is None else _masks(fr.fit_size([_grey(a) for a in alphas], opts.max_size))
    seq = fr.frame_sequence(len(frames), opts.order, opts.drop)
    frames = [frames[i] for i in seq]
    alphas = None if alphas is None else [alphas[i] for i in seq]
    timing = fr.frame_timing(len(frames), fps=opts.fps, frame_ms=opts.frame_ms, distribute=not opts.uniform_delays)
    warnings.extend(timing.warnings)
    durations = timing.durations_ms
    if opts.smooth and len(frames) > 1:
        frames = fr.smooth(frames, opts.smooth)
        alphas = None if alphas is None else _masks(fr.smooth([_grey(a) for a in alphas], opts.smooth))
        durations, sw = fr.smooth_durations(durations, opts.smooth)
        warnings.extend(sw)
    return Animation(
        layout=layout,
        frames=frames,
        durations_ms=durations,
        effective_fps=fr.effective_fps(durations),
        jitter_before=jb,
        jitter_after=ja,
        pads=cut.pads,
        stabilize_info=None if stab is None else stab.info(),
        warnings=warnings,
        sequence=seq,
        options=opts,
        source_scale=img.scale,
        alphas=alphas,
    )


def _grey(mask: np.ndarray, view: bool = False) -> np.ndarray:
    """A mask as a grey RGB frame, so the frame stages can move it (``view``: no copy, for cropping only)."""
    return np.broadcast_to(mask[..., None], mask.shape + (3,)) if view else np.repeat(mask[..., None], 3, axis=2)


def _masks(greys: list) -> list[np.ndarray]:
    return [np.ascontiguousarray(g[..., 0]) for g in greys]


def render(anim: Animation, formats: Iterable[str]) -> dict[str, bytes]:
    """Encode ``anim`` to each of ``formats`` (subset of gif, mp4, webp, zip).

    The MP4 encode starts first and runs in ffmpeg while the GIF is built.
    Notes from size limits are appended to ``anim.warnings``. If only the MP4
    fails, the :class:`EncodeError` carries the other outputs as ``.partial``.
    """
    from . import encode

    wanted = [f.lower() for f in formats]
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise InputError(f"unknown output format {bad[0]!r}: use {', '.join(FORMATS)}")
    opts = anim.options
    out: dict[str, bytes] = {}
    job = encode.start_mp4(anim.frames, anim.durations_ms, repeat=opts.mp4_repeat) if "mp4" in wanted else None
    try:
        if "gif" in wanted:
            data, notes = encode.encode_gif_fit(
                anim.frames, anim.durations_ms, loop=opts.loop, quality=opts.gif_quality, max_bytes=opts.gif_max_bytes
            )
            out["gif"] = data
            anim.warnings.extend(notes)
        if "webp" in wanted:
            out["webp"] = encode.encode_webp(anim.frames, anim.durations_ms, loop=opts.loop)
        if "zip" in wanted:
            out["zip"] = encode.encode_zip(anim.frames)
    except BaseException:
        if job is not None:
            job.cancel()
        raise
    if job is not None:
        try:
            out["mp4"] = job.result()
        except EncodeError as e:
            if out:  # hand back what did work; the caller decides whether to keep it
                e.partial = {f: out[f] for f in wanted if f in out}  # type: ignore[attr-defined]
            raise
    return {f: out[f] for f in wanted if f in out}
