"""Image-quality numbers used by the tests and the benchmark (pure numpy).

:func:`ssim` is the classic Wang et al. structural similarity on luma with a
7x7 uniform window (scikit-image's default), so figures are comparable with the
usual tools without importing them. :func:`mean_abs_diff` is the cheap
per-channel check the codec tests use.
"""

from __future__ import annotations

import numpy as np

from gridanim.types import Frame


def luma(frame: Frame) -> np.ndarray:
    """BT.601 luma of an RGB frame as float64 in 0..255."""
    f = np.asarray(frame, dtype=np.float64)
    if f.ndim == 2:
        return f
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114


def _box(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over every full k x k window (valid region only), via cumulative sums."""
    c = np.cumsum(np.cumsum(np.pad(a, ((1, 0), (1, 0))), axis=0), axis=1)
    s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
    return s / (k * k)


def ssim(a: Frame, b: Frame, *, window: int = 7, data_range: float = 255.0) -> float:
    """Mean SSIM of two same-size images (RGB frames are compared on luma)."""
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"ssim needs same-size images, got {a.shape[:2]} and {b.shape[:2]}")
    x, y = luma(a), luma(b)
    k = min(window, x.shape[0], x.shape[1])
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = _box(x, k), _box(y, k)
    n = k * k
    cov = n / (n - 1) if n > 1 else 1.0  # sample covariance, as scikit-image
    vx = (_box(x * x, k) - mx * mx) * cov
    vy = (_box(y * y, k) - my * my) * cov
    vxy = (_box(x * y, k) - mx * my) * cov
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def mean_abs_diff(a: Frame, b: Frame) -> float:
    """Mean absolute difference per channel value (0..255)."""
    if a.shape != b.shape:
        raise ValueError(f"mean_abs_diff needs same-shape arrays, got {a.shape} and {b.shape}")
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def decode_gif(data: bytes) -> dict:
    """Decode a GIF for checking: composited RGB frames, per-frame delays (ms), loop count, size."""
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(data))
    frames, durations = [], []
    for i in range(im.n_frames):
        im.seek(i)
        durations.append(im.info.get("duration"))
        frames.append(np.asarray(im.convert("RGB")))
    return {"frames": frames, "durations": durations, "loop": im.info.get("loop"), "size": im.size}
