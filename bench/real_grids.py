"""Print how layout detection does on the real grids in ../shared/grids.

    python bench/real_grids.py [GRIDS_DIR]

For each grid in manifest.json: expected rows x cols / frames, detected ones,
the box figures against the manifest's box truth (worst IoU, px past and px
clipped; for ``nogutter`` grids the cuts outside ``cut_ranges``), the detection
time, confidence and warnings. Ends with the number of grids that match.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from synth_grids import grade_boxes  # noqa: E402

from gridanim.images import load_image  # noqa: E402
from gridanim.layout import detect_layout  # noqa: E402


def main(argv: list[str]) -> int:
    grids = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "grids"
    manifest = grids / "manifest.json"
    if not manifest.exists():
        print(f"no manifest at {manifest}: pass the grids folder as the first argument")
        return 2
    entries = json.loads(manifest.read_text())
    ok = boxes_ok = 0
    print(f"{'file':44} {'expected':>9} {'detected':>9} {'ms':>5}  boxes")
    for e in entries:
        img = load_image(grids / e["file"])
        t = time.perf_counter()
        lay = detect_layout(img.rgb, img.alpha)
        ms = (time.perf_counter() - t) * 1000
        exp = (e["rows"], e["cols"], e["frames"])
        got = (lay.rows, lay.cols, lay.frames)
        hit = exp == got
        ok += hit
        g = grade_boxes(e, [tuple(round(v * img.scale) for v in b) for b in lay.boxes], lay.cells, lay.rows, lay.cols)
        boxes_ok += g["ok"]
        conf = getattr(lay, "confidence", None)
        extra = f" conf={conf}" if conf else ""
        print(
            f"{e['file'][:44]:44} {'{}x{}/{}'.format(*exp):>9} {'{}x{}/{}'.format(*got):>9} {ms:5.0f}  "
            f"{'ok' if g['ok'] else 'XX'} {e['box_kind'][:5]} {g['worst']}{extra}"
        )
        for w in lay.warnings:
            print(f"{'':46}warning: {w}")
    print(f"\n{ok} of {len(entries)} grids: rows, cols and frame count all match")
    print(f"{boxes_ok} of {len(entries)} grids: every box right against the manifest's box truth")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
