"""Checks every encoder runs first: frame shapes, per-frame delays, alpha masks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..types import Frame

GIF_QUALITIES = ("high", "fast")


def check_frames(frames: Sequence[Frame]) -> tuple[int, int]:
    """Validate a clip (non-empty, same-size uint8 RGB frames); return (h, w)."""
    if len(frames) == 0:
        raise InputError("there are no frames to encode")
    h, w = frames[0].shape[:2]
    for i, f in enumerate(frames):
        if not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise InputError(f"frame {i + 1} is not an H x W x 3 uint8 RGB array")
        if f.shape[:2] != (h, w):
            raise InputError(
                f"frame {i + 1} is {f.shape[1]}x{f.shape[0]} but frame 1 is {w}x{h}: all frames must be the same size"
            )
    return h, w


def _check_durations(durations_ms: Sequence[int] | int, n: int) -> list[int]:
    if isinstance(durations_ms, (int, float, np.integer, np.floating)):
        durations_ms = [durations_ms] * n
    d = [float(x) for x in durations_ms]
    if len(d) != n:
        raise InputError(f"got {len(d)} durations for {n} frames: give one per frame")
    if any(not math.isfinite(x) or x <= 0 for x in d):
        raise InputError("frame durations must be positive milliseconds")
    return [int(x) for x in d]


def check_alphas(alphas: Sequence[np.ndarray], frames: Sequence[Frame]) -> None:
    if len(alphas) != len(frames):
        raise InputError(f"got {len(alphas)} alpha masks for {len(frames)} frames: give one per frame")
    for i, (a, f) in enumerate(zip(alphas, frames, strict=True)):
        if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.shape != f.shape[:2]:
            raise InputError(f"alpha mask {i + 1} is not an H x W uint8 array the size of its frame")
