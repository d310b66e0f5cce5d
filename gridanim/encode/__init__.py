"""Frames -> animation file bytes: one module per format family, re-exported here.

Every encoder takes a list of ``H x W x 3`` uint8 frames (and optional ``H x W`` uint8 alpha masks), checks
them first, and returns the encoded file as ``bytes``; only the CLI and the app write files.

* :mod:`.gif` - GIF (our own container), with :mod:`.palette` for colour quantisation;
* :mod:`.ffmpeg` - MP4 (H.264);
* :mod:`.pillow` - animated WebP and APNG, ZIP of PNG frames;
* :mod:`.sheet` - sprite sheets: PNG + Aseprite json-hash, Godot 4 SpriteFrames.

A new output format: a function here that takes frames (+ alphas, durations) and returns bytes, re-exported
below, then its name in :data:`gridanim.animate.FORMATS` and a branch in :func:`gridanim.animate.render`.
"""

from __future__ import annotations

from .common import GIF_QUALITIES, check_alphas, check_frames
from .ffmpeg import (
    MP4_CRF,
    MP4_MAX_FPS,
    MP4_MIN_SECONDS,
    MP4_PRESET,
    Mp4Job,
    auto_repeat,
    encode_mp4,
    ffmpeg_exe,
    mp4_schedule,
    start_mp4,
)
from .gif import delta_frames, encode_gif, encode_gif_fit, gif_alpha_frames
from .palette import (
    EXACT_BINS,
    EXACT_COLORS,
    EXACT_SPEED,
    GRAINY_BINS,
    GRAINY_COLORS,
    LOCAL_FINE,
    LOCAL_GAIN,
    LOCAL_SHARE,
    REMAP_BITS,
    distinct_colors,
    local_palettes,
    palette_for,
    remap_binned,
    remap_exact,
)
from .pillow import encode_apng, encode_webp, encode_zip

__all__ = [
    "EXACT_BINS",
    "EXACT_COLORS",
    "EXACT_SPEED",
    "GIF_QUALITIES",
    "GRAINY_BINS",
    "GRAINY_COLORS",
    "LOCAL_FINE",
    "LOCAL_GAIN",
    "LOCAL_SHARE",
    "MP4_CRF",
    "MP4_MAX_FPS",
    "MP4_MIN_SECONDS",
    "MP4_PRESET",
    "Mp4Job",
    "REMAP_BITS",
    "auto_repeat",
    "check_alphas",
    "check_frames",
    "delta_frames",
    "distinct_colors",
    "encode_apng",
    "encode_gif",
    "encode_gif_fit",
    "encode_mp4",
    "encode_webp",
    "encode_zip",
    "ffmpeg_exe",
    "gif_alpha_frames",
    "local_palettes",
    "mp4_schedule",
    "palette_for",
    "remap_binned",
    "remap_exact",
    "start_mp4",
]
