"""The grid -> animation pipeline shared by the CLI and the app.

:func:`animate` goes from an image to frames and delays (load, detect, crop,
stabilise, resize, order, time, smooth, hold, check the loop seam) and says what it did in
``Animation.warnings``; :func:`render` turns that into file bytes, running the
MP4 encode (ffmpeg, its own process) while the GIF is quantised here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from . import frames as fr
from . import pixelart
from .errors import EncodeError, InputError
from .images import LoadedImage, load_image
from .layout import Layout, detect_layout
from .options import AnimateOptions
from .types import Frame

FORMATS = ("gif", "mp4", "webp", "zip", "apng")


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
    alphas: list[np.ndarray] | None = None  # one H x W uint8 mask per frame (255 = opaque), None when opaque
    pixel_art: pixelart.PixelArt = pixelart.NOT_PIXEL_ART
    keyed: str | None = None  # the background --transparent removed: flat | green | magenta | checker
    scale: int = 1  # upscale the encoders apply (resolved from options.scale)
    loop_seam: float = 1.0  # last -> first change over the typical step (1.0 = seamless, > 2 = a visible jump)
    step_changes: list[float] = field(default_factory=list)  # change of every real step, the seam last
    seam_hint: str | None = None  # advice when the seam is a jump (also in warnings)
    per_pair: int = 0  # in-betweens after every real frame in ``frames``
    pair_methods: list[str] = field(default_factory=list)  # flow / blend for each smoothed pair

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
        layout = detect_layout(img.rgb, img.alpha, rows=opts.rows, cols=opts.cols, work=img.work)
    warnings.extend(layout.warnings)
    if layout.frames < 1:
        raise InputError("no frames were found in the grid: set --rows and --cols")
    rgb, alpha = img.rgb, img.alpha
    art = pixelart.detect(rgb, alpha)
    keyed = None
    if opts.transparent:
        rgb, alpha, keyed = _key(rgb, alpha, art, warnings)
    cut = fr.cut_frames(rgb, layout, inset=opts.inset, alpha=alpha)
    frames, alphas = cut.frames, cut.alphas
    jb = ja = None
    stab = None
    if opts.stabilize:
        stab = fr.stabilize_frames(frames, alphas)
        frames, alphas, jb, ja = stab.frames, stab.alphas, stab.jitter_before, stab.jitter_after
        if ja >= jb and jb > 0.5:
            warnings.append(
                f"--stabilize found no consistent shift to correct (jitter {jb:.1f} px): frames were left in place"
            )
    frames, alphas = _fit(frames, alphas, opts.max_size, art, warnings)
    seq = fr.frame_sequence(len(frames), opts.order, opts.drop)
    frames = [frames[i] for i in seq]
    alphas = None if alphas is None else [alphas[i] for i in seq]
    timing = fr.frame_timing(len(frames), fps=opts.fps, frame_ms=opts.frame_ms, distribute=not opts.uniform_delays)
    warnings.extend(timing.warnings)
    durations = timing.durations_ms
    holds = fr.parse_holds(opts.hold, layout.frames)
    from .motion import loop_seam, seam_hint

    seam, steps = loop_seam(frames)
    hint = seam_hint(frames, seq, seam, smoothing=opts.smooth, order=opts.order, steps=steps)
    if hint:
        warnings.append(hint)
    per_pair, methods = 0, []
    if opts.smooth and len(frames) > 1:
        ib = fr.inbetween(
            frames, opts.smooth, method=opts.inbetween, alphas=alphas, sequence=seq, pixel_art=art.is_pixel_art
        )
        frames, alphas, per_pair, methods = ib.frames, ib.alphas, ib.per_pair, ib.pair_methods
        warnings.extend(ib.warnings)
        if per_pair:
            durations, sw = fr.smooth_durations(durations, per_pair)
            warnings.extend(sw)
    durations = fr.apply_holds(durations, seq, holds, per_pair)
    scale = (
        opts.scale
        if opts.scale is not None
        else (pixelart.auto_scale(frames[0].shape[1::-1]) if art.is_pixel_art else 1)
    )
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
        pixel_art=art,
        keyed=keyed,
        scale=scale,
        loop_seam=seam,
        step_changes=steps,
        seam_hint=hint,
        per_pair=per_pair,
        pair_methods=methods,
    )


# Alpha travels next to the frames. Stages in frames.py that only know H x W x 3
# frames (stabilise, smoothing) get the mask as a fourth channel, so it moves
# exactly like its frame; a Lanczos resize of RGBA premultiplies, so no
# background colour bleeds into the edges.


def _join(frames: list[Frame], alphas: list[np.ndarray] | None) -> list[np.ndarray]:
    return frames if alphas is None else [np.dstack([f, a]) for f, a in zip(frames, alphas, strict=True)]


def _split(frames: list[np.ndarray], alphas) -> tuple[list[Frame], list[np.ndarray] | None]:
    if alphas is None:
        return list(frames), None
    return [np.ascontiguousarray(f[..., :3]) for f in frames], [np.ascontiguousarray(f[..., 3]) for f in frames]


def _key(rgb: Frame, alpha, art: pixelart.PixelArt, warnings: list[str]):
    from . import keying

    k = keying.key_background(rgb, alpha)
    if k is None:
        if alpha is not None:
            warnings.append(
                "--transparent: the grid already has transparency and no background to remove on its border"
            )
        else:
            warnings.append(
                "--transparent found no background to remove (no flat colour, green/magenta screen or checkerboard "
                "on the border): the outputs stay opaque"
            )
        return rgb, alpha, None
    if art.is_pixel_art:  # no blended edges or new colours: a pixel is background or it is not
        a = np.where(k.alpha >= 128, 255, 0).astype(np.uint8)
        if alpha is not None:
            a = np.minimum(a, alpha)
        return rgb, a, k.kind
    return k.rgb, k.alpha, k.kind


def _fit(frames, alphas, max_size, art: pixelart.PixelArt, warnings: list[str]):
    if not max_size or max(frames[0].shape[:2]) <= max_size:
        return frames, alphas
    if art.is_pixel_art:  # no Lanczos: whole source pixels only, so no blended colour appears
        both, exact = pixelart.shrink(_join(frames, alphas), art.block, max_size)
        if not exact:
            warnings.append(
                f"pixel art was shrunk to fit --max-size {max_size} by dropping pixels (no colour blended), "
                "so its pixels are now uneven: leave --max-size off to keep it exact"
            )
        return _split(both, alphas)
    return _split(fr.fit_size(_join(frames, alphas), max_size), alphas)


def animate_grid(
    source, options: AnimateOptions | None = None, *, formats: Iterable[str] = (), layout: Layout | None = None
) -> tuple[Animation, dict[str, bytes]]:
    """The Animate flow, written once (also :func:`gridanim.pipeline.animate_grid`): image -> :class:`Animation` -> bytes for each of ``formats``.

    ``layout`` (the one a preview already found or the user corrected) skips detection. If only the MP4
    fails, the :class:`~gridanim.errors.EncodeError` carries the other outputs as ``.partial``.
    """
    formats = list(formats)
    if formats:
        _import_encoders_meanwhile()
    anim = animate(source, options or AnimateOptions(), layout=layout)
    return anim, render(anim, formats)


def _import_encoders_meanwhile() -> None:
    """Import what comes after detection (the encoders, libimagequant, the MP4 repeats, the loop-seam
    measure) in a thread while the grid is read and cut.

    The main thread waits on the reader and then spends most of detection inside numpy loops, which
    release the GIL, so these imports run beside it instead of at the start of :func:`render`, which
    imports them again (a lookup, or a wait for this thread) and reports any failure itself. What these
    modules import themselves is loaded already or not detection's, so the two threads never wait on
    each other's module locks.
    """
    import sys
    import threading

    if "gridanim.encode.gif" in sys.modules:
        return

    def run() -> None:
        try:
            import imagequant._libimagequant  # noqa: F401

            from . import encode, motion  # noqa: F401  (motion: the loop-seam measure after the cut)
            from .encode import mp4loop  # noqa: F401  (the MP4's repeats, written while the GIF is built)
        except Exception:  # pragma: no cover - render() raises the real error
            pass

    threading.Thread(target=run, name="gridanim-imports", daemon=True).start()


def render(anim: Animation, formats: Iterable[str]) -> dict[str, bytes]:
    """Encode ``anim`` to each of ``formats`` (subset of gif, mp4, webp, zip, apng).

    GIF, WebP and APNG are upscaled by ``anim.scale`` (nearest neighbour) and
    keep the alpha (1-bit in the GIF); the MP4 has none, so it is laid over
    ``options.background``; the ZIP holds the frames at their own size.

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
    n = anim.scale
    frames = pixelart.upscale(anim.frames, n)
    alphas = None if anim.alphas is None else pixelart.upscale(anim.alphas, n)
    job = None
    if "mp4" in wanted:
        job = encode.start_mp4(_mp4_frames(anim), anim.durations_ms, repeat=opts.mp4_repeat)
    try:
        if "gif" in wanted:
            data, notes = encode.encode_gif_fit(
                frames, anim.durations_ms, loop=opts.loop, quality=opts.gif_quality, max_bytes=opts.gif_max_bytes,
                alphas=alphas, matte=opts.matte,
            )  # fmt: skip
            out["gif"] = data
            anim.warnings.extend(notes)
        if "webp" in wanted:
            out["webp"] = encode.encode_webp(
                frames, anim.durations_ms, loop=opts.loop, alphas=alphas, lossless=anim.pixel_art.is_pixel_art
            )
        if "apng" in wanted:
            out["apng"] = encode.encode_apng(frames, anim.durations_ms, loop=opts.loop, alphas=alphas)
        if "zip" in wanted:
            out["zip"] = encode.encode_zip(anim.frames, alphas=anim.alphas)
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


def _mp4_frames(anim: Animation) -> list[Frame]:
    """Opaque frames for H.264: over the background, pixel art scaled up by whole pixels to even sides."""
    frames = anim.frames
    if anim.alphas is not None:
        from .keying import over

        frames = over(frames, anim.alphas, anim.options.background)
    if not anim.pixel_art.is_pixel_art:
        return pixelart.upscale(frames, anim.scale)
    n = pixelart.mp4_scale(anim.frame_size, anim.scale)
    return pixelart.even_pad(pixelart.upscale(frames, n), anim.options.background)
