"""gridanim.stats gives numpy's median and percentile values, without importing numpy.ma."""

import subprocess
import sys

import numpy as np
import pytest

from gridanim.stats import median, percentile


def _samples():
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 5, 10, 11, 64, 257):
        yield rng.normal(size=n)
        yield rng.integers(0, 300, n).astype(np.int16)
        yield rng.integers(0, 4, n).astype(np.uint8)  # many ties
        yield [float(x) for x in rng.normal(size=n)]


@pytest.mark.parametrize("q", [0, 10, 50, 90, 95, 99, 100])
def test_percentile_equals_numpy(q):
    for v in _samples():
        assert percentile(v, q) == float(np.percentile(v, q))


def test_median_equals_numpy():
    for v in _samples():
        assert median(v) == float(np.median(v))
    f32 = np.random.default_rng(3).normal(size=20).astype(np.float32)
    assert median(f32) == float(np.median(f32))


def test_bad_samples_are_refused():
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError):
        percentile(np.array([]), 50)
    with pytest.raises(TypeError):
        percentile(np.zeros(3, np.float32), 50)


def test_numpy_ma_is_not_imported():
    code = (
        "import sys, numpy as np; from gridanim.stats import median, percentile; "
        "median([3.0, 1.0, 2.0, 5.0]); percentile(np.arange(9), 90); print('numpy.ma' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
