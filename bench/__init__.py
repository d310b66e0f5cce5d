"""Development benchmarks and metrics (not part of the app, never deployed).

* ``python -m gridanim.bench`` (or ``python -m bench.bench``): whole-process time and GIF quality against the
  naive slicer, on flat, painted and photo-like grids;
* ``python -m bench.motion``: optical-flow in-betweens, speed and SSIM against analytic truth;
* ``python bench/real_grids.py`` / ``python bench/unseen_grids.py``: the cut against box truth;
* ``python bench/load.py``: the app under concurrent visitors.
"""
