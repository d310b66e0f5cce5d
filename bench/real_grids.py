"""Print how layout detection does on the real grids in ../shared/grids.

    python bench/real_grids.py [GRIDS_DIR]

For each grid in manifest.json: expected rows x cols / frames, detected ones,
the method used and the detection time. Ends with the number that match.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridanim.images import load_image  # noqa: E402
from gridanim.layout import detect_layout  # noqa: E402


def main(argv: list[str]) -> int:
    grids = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "grids"
    manifest = grids / "manifest.json"
    if not manifest.exists():
        print(f"no manifest at {manifest}: pass the grids folder as the first argument")
        return 2
    entries = json.loads(manifest.read_text())
    ok = 0
    print(f"{'file':48} {'expected':>12} {'detected':>12}  {'ms':>5}  method / warnings")
    for e in entries:
        img = load_image(grids / e["file"])
        t = time.perf_counter()
        lay = detect_layout(img.rgb, img.alpha)
        ms = (time.perf_counter() - t) * 1000
        exp = (e["rows"], e["cols"], e["frames"])
        got = (lay.rows, lay.cols, lay.frames)
        hit = exp == got
        ok += hit
        print(
            f"{e['file'][:48]:48} {'%dx%d/%d' % exp:>12} {'%dx%d/%d' % got:>12}  {ms:5.0f}  "
            f"{'ok ' if hit else 'XX '}{lay.method} {'; '.join(lay.warnings)}"
        )
    print(f"\n{ok} of {len(entries)} grids: rows, cols and frame count all match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
