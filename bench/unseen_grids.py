"""Measure layout detection on held-out grids drawn in code (``bench/unseen_corpus.py``).

    python bench/unseen_grids.py [--fast] [--only FAMILY] [--keep DIR] [--seed N] [--quiet]

Each grid is saved (PNG, or JPEG for photo-like ones) and cut twice: with no hints, and with its
true ``--rows R --cols C``. By default through ``python -m gridanim detect GRID --json``; with
``--fast`` in-process (``load_image`` + ``detect_layout``, the same two calls the CLI makes).

Predicted boxes are matched one-to-one to the true boxes of content cells, greedily by IoU.
A content frame is *lost* when nothing matches it with IoU >= 0.5. Printed per grid and family:

- free: rows, cols and frame count right with no hints
- iou: the mean IoU of a grid's content frames with the layout given (0 for a lost frame)
- lost: content frames lost with the layout given
- exact: sprite sheets, every content cell cut exactly (given; and hint-free, ``exact0``)
- cuts: no-gutter sheets, box edges outside the pure-background ``cut_ranges`` (given)
- ok: every box right by the issue's rule (IoU >= 0.95, <= 2 px past, <= 2 px clipped; sprites 0 px
  clipped; no-gutter sheets: every cut inside ``cut_ranges``), with the layout given
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.unseen_corpus import FAMILIES, Grid, build_corpus  # noqa: E402

LOST_IOU = 0.5


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def match(pred: list, truth: list) -> list[tuple[int, int, float]]:
    """Greedy one-to-one: (truth index, pred index or -1, IoU) for every true box."""
    pairs = sorted(((iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(pred)), key=lambda x: -x[0])
    used_t, used_p, out = set(), set(), {}
    for v, i, j in pairs:
        if v <= 0:
            break
        if i in used_t or j in used_p:
            continue
        used_t.add(i)
        used_p.add(j)
        out[i] = (i, j, v)
    return [out.get(i, (i, -1, 0.0)) for i in range(len(truth))]


def past_clip(p, t) -> tuple[int, int]:
    """How far box p reaches past box t, and how much of t it clips (max over the four sides, px)."""
    px0, py0, px1, py1 = p[0], p[1], p[0] + p[2], p[1] + p[3]
    tx0, ty0, tx1, ty1 = t[0], t[1], t[0] + t[2], t[1] + t[3]
    past = max(tx0 - px0, ty0 - py0, px1 - tx1, py1 - ty1, 0)
    clip = max(px0 - tx0, py0 - ty0, tx1 - px1, ty1 - py1, 0)
    return past, clip


def cuts_outside(grid: Grid, pred: list, m: list) -> int:
    """Box edges of matched frames that fall outside the true pure-background cut range."""
    if not grid.cut_ranges:
        return 0
    cells = grid.content_cells()
    bad = 0
    xr, yr = grid.cut_ranges.get("x", []), grid.cut_ranges.get("y", [])
    for ti, pj, _ in m:
        if pj < 0:
            continue
        r, c = cells[ti]
        x, y, w, h = pred[pj]
        checks = []
        if c > 0:
            checks.append((x, xr[c - 1]))
        if c < grid.cols - 1:
            checks.append((x + w, xr[c]))
        if r > 0:
            checks.append((y, yr[r - 1]))
        if r < grid.rows - 1:
            checks.append((y + h, yr[r]))
        bad += sum(not (lo <= v <= hi) for v, (lo, hi) in checks)
    return bad


@dataclass
class Result:
    grid: Grid
    free: dict
    given: dict
    ms_free: float
    ms_given: float

    def __post_init__(self) -> None:
        g = self.grid
        truth = g.truth_boxes()
        self.free_ok = (self.free["rows"], self.free["cols"], self.free["frames"]) == (g.rows, g.cols, g.frames)
        self.free_rc = (self.free["rows"], self.free["cols"]) == (g.rows, g.cols)
        mg = match(self.given["boxes"], truth)
        mf = match(self.free["boxes"], truth)
        ious = [v for _, _, v in mg]
        self.iou = float(np.mean(ious)) if ious else 1.0
        self.min_frame_iou = float(min(ious)) if ious else 1.0
        self.lost = sum(v < LOST_IOU for v in ious)
        self.extra = len(self.given["boxes"]) - sum(j >= 0 for _, j, _ in mg)
        pg = self.given["boxes"]
        self.exact_cells = sum(j >= 0 and list(pg[j]) == list(truth[i]) for i, j, _ in mg)
        self.exact = self.exact_cells == len(truth) and len(pg) == len(truth)
        pf = self.free["boxes"]
        self.exact0 = sum(j >= 0 and list(pf[j]) == list(truth[i]) for i, j, _ in mf) == len(truth) and len(pf) == len(
            truth
        )
        self.cuts = cuts_outside(g, pg, mg)
        worst_past = worst_clip = 0
        rule = True
        for i, j, v in mg:
            if j < 0:
                rule = False
                continue
            past, clip = past_clip(pg[j], truth[i])
            worst_past, worst_clip = max(worst_past, past), max(worst_clip, clip)
            if g.kind in ("divided", "touching", "sprite"):
                rule &= v >= 0.95 and past <= 2 and clip <= (0 if g.kind == "sprite" else 2)
        if g.kind == "nogutter":
            rule = self.lost == 0 and self.cuts == 0
        self.rule_ok = bool(rule) and self.extra == 0
        self.worst_past, self.worst_clip = worst_past, worst_clip


def save(grid: Grid, folder: Path) -> Path:
    path = folder / f"{grid.name}.{grid.fmt}"
    img = Image.fromarray(grid.image, "RGBA" if grid.image.shape[2] == 4 else "RGB")
    if grid.fmt == "jpg":
        img.save(path, quality=90)
    else:
        img.save(path)
    return path


def detect_cli(path: Path, rows: int | None, cols: int | None) -> dict:
    cmd = [sys.executable, "-m", "gridanim", "detect", str(path), "--json"]
    if rows is not None:
        cmd += ["--rows", str(rows), "--cols", str(cols)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        return {"rows": 0, "cols": 0, "frames": 0, "boxes": [], "warnings": [], "error": p.stdout + p.stderr}
    return json.loads(p.stdout)


def detect_fast(path: Path, rows: int | None, cols: int | None) -> dict:
    from gridanim.errors import GridanimError
    from gridanim.images import load_image
    from gridanim.layout import detect_layout

    try:
        img = load_image(path)
        layout = detect_layout(img.rgb, img.alpha, rows=rows, cols=cols)
    except GridanimError as e:
        return {"rows": 0, "cols": 0, "frames": 0, "boxes": [], "warnings": [], "error": str(e)}
    if layout.frames < 1:  # the CLI reports this as an error too
        return {"rows": 0, "cols": 0, "frames": 0, "boxes": [], "warnings": [], "error": "no frames"}
    d = layout.to_dict()
    if img.scale != 1.0:  # as the CLI does: boxes in source pixels when the loader downscaled
        d["boxes"] = [[round(v * img.scale) for v in b] for b in layout.boxes]
    return d


def rcf(rows: int, cols: int, frames: int) -> str:
    return f"{rows}x{cols}/{frames}"


def pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="detect in-process instead of one CLI process per cut")
    ap.add_argument("--only", choices=FAMILIES, help="one family only")
    ap.add_argument("--keep", type=Path, help="save the grids (and manifest.json) here")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--quiet", action="store_true", help="family and total figures only")
    ap.add_argument("--json", type=Path, help="also write per-grid figures and predicted boxes to this file")
    args = ap.parse_args(argv)
    detect = detect_fast if args.fast else detect_cli

    tmp = None
    if args.keep:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="unseen_grids_")
        folder = Path(tmp.name)

    t0 = time.perf_counter()
    results: list[Result] = []
    manifest = []
    if not args.quiet:
        print(
            f"{'grid':34} {'fam':10} {'truth':>9} {'free':>9} {'iou':>6} {'min':>5} {'lost':>4} "
            f"{'exact':>5} {'cuts':>4} {'past/clip':>9} ok  ms"
        )
    for grid in build_corpus(args.seed, args.only):
        path = save(grid, folder)
        manifest.append(grid.manifest())
        t = time.perf_counter()
        free = detect(path, None, None)
        t1 = time.perf_counter()
        given = detect(path, grid.rows, grid.cols)
        t2 = time.perf_counter()
        res = Result(grid, free, given, (t1 - t) * 1000, (t2 - t1) * 1000)
        results.append(res)
        if not args.quiet:
            ex = ("yes" if res.exact else f"{res.exact_cells}/{grid.frames}") if grid.kind == "sprite" else "-"
            cuts = str(res.cuts) if grid.cut_ranges else "-"
            print(
                f"{grid.name[:34]:34} {grid.family:10} {rcf(grid.rows, grid.cols, grid.frames):>9} "
                f"{rcf(free['rows'], free['cols'], free['frames']):>9}{' ' if res.free_ok else '*'}"
                f"{res.iou:6.3f} {res.min_frame_iou:5.2f} {res.lost:4d} {ex:>5} {cuts:>4} "
                f"{f'{res.worst_past}/{res.worst_clip}':>9} {'ok' if res.rule_ok else 'XX'}"
                f" {res.ms_free + res.ms_given:5.0f}"
                + "".join(f"  error ({k}): {d['error']}" for k, d in (("free", free), ("given", given)) if "error" in d)
            )
    if args.keep:
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if args.json:
        rows = [
            {
                "name": r.grid.name,
                "family": r.grid.family,
                "free_right": r.free_ok,
                "iou": round(r.iou, 4),
                "lost": r.lost,
                "exact": r.exact,
                "exact_free": r.exact0,
                "cuts_outside": r.cuts,
                "boxes_ok": r.rule_ok,
                "free": {k: r.free.get(k) for k in ("rows", "cols", "frames", "boxes", "warnings")},
                "given": {k: r.given.get(k) for k in ("rows", "cols", "frames", "boxes", "warnings")},
            }
            for r in results
        ]
        args.json.write_text(json.dumps(rows, indent=1))
    wall = time.perf_counter() - t0

    print(
        f"\n{'family':10} {'n':>3} {'free right':>12} {'mean iou':>8} {'min iou':>7} {'lost':>4} "
        f"{'exact(given)':>13} {'exact(free)':>12} {'cuts out':>8} {'boxes ok':>12}"
    )
    for fam in FAMILIES:
        rs = [r for r in results if r.grid.family == fam]
        if not rs:
            continue
        spr = [r for r in rs if r.grid.kind == "sprite"]
        print(
            f"{fam:10} {len(rs):3d} {pct(sum(r.free_ok for r in rs), len(rs)):>12} "
            f"{np.mean([r.iou for r in rs]):8.3f} {min(r.iou for r in rs):7.3f} {sum(r.lost for r in rs):4d} "
            f"{pct(sum(r.exact for r in spr), len(spr)):>13} {pct(sum(r.exact0 for r in spr), len(spr)):>12} "
            f"{sum(r.cuts for r in rs):8d} {pct(sum(r.rule_ok for r in rs), len(rs)):>12}"
        )

    n = len(results)
    vis = [r for r in results if r.grid.visible]
    real = [r for r in results if r.grid.real_like]
    lost = sum(r.lost for r in results)
    frames = sum(r.grid.frames for r in results)
    worst = min(results, key=lambda r: r.iou)
    print(f"\ntotals over {n} grids ({frames} content frames), {'in-process' if args.fast else 'CLI'}, {wall:.0f} s")
    print(
        f"  hint-free: rows/cols/frames right {pct(sum(r.free_ok for r in vis), len(vis))}"
        f"  (rows x cols right {pct(sum(r.free_rc for r in vis), len(vis))})   [target >= 90%]"
    )
    silent = [r for r in vis if not r.free_ok and not r.free.get("warnings")]
    print(f"    wrong with no warning: {len(silent)}")
    print(
        f"  layout given: min per-grid IoU {worst.iou:.3f} ({worst.grid.name}), "
        f"mean IoU {np.mean([r.iou for r in results]):.3f}, frames lost {lost}"
        f" in {sum(r.lost > 0 for r in results)} grids   [target >= 0.90, >= 0.97, 0]"
    )
    print(
        f"    grids below 0.90 IoU: {sum(r.iou < 0.90 for r in results)}; "
        f"boxes right by the issue's rule: {pct(sum(r.rule_ok for r in results), n)}"
    )
    if real:
        print(
            f"  real-sheet-like ({len(real)} game-engine sheets): rows x cols right "
            f"{pct(sum(r.free_rc for r in real), len(real))}, exact cells with layout given "
            f"{pct(sum(r.exact for r in real), len(real))}   [target >= 90%, >= 90%]"
        )
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
