"""In-between benchmark: ``python -m bench.motion [--runs N] [--json]``.

Two figures for issue #13, printed (never asserted on time):

* **speed**: how long ``--smooth 1`` in-betweening adds for 12 frames of
  512x512 (flow method: :func:`gridanim.frames.inbetween`, and the cross-fade
  for comparison), median of ``--runs``, the OpenCV import included once;
* **quality**: SSIM against the true in-between of three synthetic motions
  whose every instant is drawn analytically (:func:`render`), for the flow
  in-betweens and for cross-fades.

The scenes are rendered from closed-form functions of time (a textured disc
translating, the same disc rotating, a painted-style sprite crossing a flat
background), so the true frame at ``t = 0.5`` is drawn the same way as the key
frames and never by the method under test. ``tests/test_motion.py`` uses the
same scenes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

CASES = ("translate", "rotate", "sprite")
ROTATE_DEG = 20.0  # per key frame: the rim moves ~25 px at 160 px


def _texture(u: np.ndarray, v: np.ndarray, seed: int) -> np.ndarray:
    """A colourful texture with a natural (1/f) spectrum as an analytic function of (u, v): sums of random sinusoids."""
    rng = np.random.default_rng(seed)
    out = np.zeros(u.shape + (3,), np.float32)
    for _ in range(16):
        f = float(np.exp(rng.uniform(np.log(0.05), np.log(0.45))))  # wavelengths of 14-125 px, a 1/f spectrum
        th = rng.uniform(0, np.pi)
        ph = rng.uniform(0, 2 * np.pi)
        amp = 2.0 / f * np.array([rng.uniform(0.3, 1) for _ in range(3)], np.float32)
        out += amp * np.sin(f * (u * np.cos(th) + v * np.sin(th)) + ph)[..., None]
    return out


def render(case: str, t: float, size: int = 160, ss: int = 3) -> np.ndarray:
    """Frame of ``case`` at time ``t`` (key frames at whole numbers), ``ss`` x supersampled for clean edges."""
    n = size * ss
    yy, xx = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) / ss
    c = size / 2
    if case == "translate":
        bg = 110 + 0.5 * _texture(xx, yy, 7) + np.array([10, 0, -10], np.float32)
        cx, cy = size * 0.34 + 0.14 * size * t, c + 0.04 * size * t
        r = size * 0.36
        u, v = xx - cx, yy - cy
        fg = 128 + _texture(u, v, 3)
        inside = np.hypot(u, v) <= r
    elif case == "rotate":
        bg = 110 + 0.5 * _texture(xx, yy, 7) + np.array([10, 0, -10], np.float32)
        ang = np.deg2rad(ROTATE_DEG) * t
        r = size * 0.46
        dx, dy = xx - c, yy - c
        u = dx * np.cos(ang) + dy * np.sin(ang)
        v = -dx * np.sin(ang) + dy * np.cos(ang)
        fg = 128 + _texture(u, v, 3)
        inside = np.hypot(dx, dy) <= r
    elif case == "sprite":
        bg = np.broadcast_to(np.array([232, 224, 205], np.float32), (n, n, 3))
        cx = size * 0.30 + 0.08 * size * t
        cy = size * 0.55 - 0.02 * size * np.sin(np.pi * t)
        u, v = xx - cx, yy - cy
        body = (u / (size * 0.16)) ** 2 + (v / (size * 0.22)) ** 2 <= 1
        head = (u - size * 0.02) ** 2 + (v + size * 0.26) ** 2 <= (size * 0.11) ** 2
        inside = body | head
        shade = np.clip(0.75 + 0.5 * (-u / (size * 0.3) - v / (size * 0.5)), 0.4, 1.2)[..., None]
        base = np.where(head[..., None], np.array([240, 196, 150], np.float32), np.array([196, 72, 60], np.float32))
        strokes = 0.35 * _texture(u * 1.4, v * 0.5, 11)  # brush marks that travel with the sprite
        fg = base * shade + strokes
    else:
        raise ValueError(f"unknown case {case!r}: use one of {', '.join(CASES)}")
    img = np.where(inside[..., None], fg, bg)
    img = img.reshape(size, ss, size, ss, 3).mean(axis=(1, 3))
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def quality(case: str, size: int = 160) -> dict:
    """SSIM of the flow and the cross-fade in-between against the truth at t = 0.5."""
    from bench.metrics import ssim
    from gridanim import frames as fr

    a, b, truth = render(case, 0.0, size), render(case, 1.0, size), render(case, 0.5, size)
    res = fr.inbetween([a, b], 1, method="flow", wrap=False)
    flow = res.frames[1]
    blend = fr.smooth([a, b], 1)[1]
    return {
        "case": case,
        "flow_ssim": round(ssim(flow, truth), 4),
        "blend_ssim": round(ssim(blend, truth), 4),
        "pair_method": res.pair_methods[0],
    }


def speed_frames(n: int = 12, size: int = 512) -> list[np.ndarray]:
    """``n`` 512x512 frames of a textured disc going round in a circle (a loop, like a grid's frames)."""
    out = []
    for k in range(n):
        ang = 2 * np.pi * k / n
        frame = render("translate", 0.0, size, ss=1)
        # move the whole disc scene along a circle by rolling: cheap and still a real motion for the flow
        out.append(np.roll(frame, (int(18 * np.sin(ang)), int(18 * np.cos(ang))), axis=(0, 1)))
    return out


def speed(runs: int = 3) -> dict:
    from gridanim import frames as fr

    frames = speed_frames()
    t0 = time.perf_counter()
    import cv2  # noqa: F401  (the import is part of what --smooth costs a fresh process)

    import_s = time.perf_counter() - t0
    flow_t, flow_cpu, blend_t = [], [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fr.inbetween(frames, 1, method="flow")
        flow_t.append(time.perf_counter() - t0)
        flow_cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        fr.inbetween(frames, 1, method="blend")
        blend_t.append(time.perf_counter() - t0)
    return {
        "frames": len(frames),
        "size": "512x512",
        "cv2_import_s": round(import_s, 3),
        "flow_s": round(statistics.median(flow_t), 3),
        "flow_first_s": round(flow_t[0], 3),  # a fresh process's first run (what one CLI call pays)
        "flow_cpu_s": round(statistics.median(flow_cpu), 3),  # all threads; the wall time depends on the load
        "load_avg": round(os.getloadavg()[0], 2),
        "blend_s": round(statistics.median(blend_t), 3),
        "flow_pairs": res.pair_methods.count("flow"),
        "target_s": 1.5,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.motion", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    report = {"speed": speed(args.runs), "quality": [quality(c) for c in CASES]}
    if args.json:
        print(json.dumps(report))
        return 0
    s = report["speed"]
    print(
        f"--smooth 1, {s['frames']} frames of {s['size']}: flow {s['flow_s']:.3f} s wall "
        f"(first run {s['flow_first_s']:.3f} s), {s['flow_cpu_s']:.3f} s CPU "
        f"(+ cv2 import {s['cv2_import_s']:.3f} s; {s['flow_pairs']} of {s['frames']} pairs by flow; "
        f"load average {s['load_avg']}), "
        f"cross-fade {s['blend_s']:.3f} s; target <= {s['target_s']} s"
    )
    for q in report["quality"]:
        print(
            f"{q['case']:>9}: SSIM vs truth flow {q['flow_ssim']:.4f}, cross-fade {q['blend_ssim']:.4f} "
            f"(+{q['flow_ssim'] - q['blend_ssim']:.4f}; pair by {q['pair_method']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
