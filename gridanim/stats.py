"""Order statistics of small 1-D samples with numpy's values, without numpy's masked-array checks.

``np.median`` and ``np.percentile`` of a 1-D sample look for masked arrays and NaNs by importing
``numpy.ma`` (a cost paid once per process, on every CLI run that measures a cell or a loop seam).
These give the same numbers for finite integer and float64 data (numpy interpolates a float32 sample in
float32; these do not): the same selection and numpy's ``linear`` interpolation.
"""

from __future__ import annotations

import numpy as np


def percentile(values, q: float) -> float:
    """``float(np.percentile(values, q))`` (linear method) of finite integer or float64 values, any shape."""
    v = np.asarray(values).ravel()
    if v.dtype == np.float32:
        raise TypeError("percentile() follows numpy for integer and float64 samples only")
    n = v.size
    if n == 0:
        raise ValueError("percentile of an empty sample")
    vi = (n - 1) * (q / 100)
    lo = int(np.floor(vi))
    if lo >= n - 1:
        return float(v.max())
    part = np.partition(v, lo)  # one index: numpy's fast selection
    a, b = float(part[lo]), float(part[lo + 1 :].min())
    t = vi - lo
    d = b - a
    return b - d * (1 - t) if t >= 0.5 else a + d * t  # numpy's _lerp, in float64


def median(values) -> float:
    """``float(np.median(values))`` of finite values, any shape (flattened): numpy's own steps."""
    v = np.asarray(values).ravel()
    n = v.size
    if n == 0:
        raise ValueError("median of an empty sample")
    k = n // 2
    if n % 2:
        return float(np.mean(np.partition(v, k)[k : k + 1]))
    return float(np.mean(np.partition(v, [k - 1, k])[k - 1 : k + 1]))
