"""Build the reference subject masks for the keying tests (run by hand; needs scipy).

The masks are made independently of gridanim.keying: hand-tuned colour rules
per grid, scipy's hole filling and small-speck removal, then checked by eye
(the mask drawn over the grid). They are stored as 1-bit PNGs.

    python tests/data/make_masks.py ../shared/grids
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

HERE = Path(__file__).parent


def camus(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.int16)
    lum = c.mean(axis=2)
    sat = c.max(axis=2) - c.min(axis=2)
    # the painted checker is two near-neutral greys, 241-255: anything darker
    # or coloured is the figure (the white shirt is enclosed by its outline and
    # comes back with the hole filling; the smoke is grey, under 236)
    solid = (lum < 236) | (sat > 14)
    solid = _fill_small_holes(solid, 60)
    lab, n = ndi.label(solid)
    sizes = ndi.sum(solid, lab, range(1, n + 1))
    keep = np.isin(lab, 1 + np.flatnonzero(sizes >= 40))
    return keep


def _fill_small_holes(solid: np.ndarray, max_area: int) -> np.ndarray:
    # Enclosed holes under max_area are shirt highlights and specks; the six
    # larger ones (checked by eye: gaps between arms and legs in frames 6, 7,
    # 10, 11 and 16, and the smoke ring of frame 16) show the checker: background.
    holes = ndi.binary_fill_holes(solid) & ~solid
    lab, n = ndi.label(holes)
    sizes = ndi.sum(holes, lab, range(1, n + 1))
    return solid | np.isin(lab, 1 + np.flatnonzero(sizes < max_area))


def grok(rgb: np.ndarray) -> np.ndarray:
    hsv = np.asarray(Image.fromarray(rgb).convert("HSV")).astype(np.int16)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    # Pillow hue 0-255: the screen is ~ hue 93 (131 degrees), saturated and bright
    screen = (h >= 70) & (h <= 115) & (s >= 120) & (v >= 120)
    solid = _fill_small_holes(~screen, 60)
    lab, n = ndi.label(solid)
    sizes = ndi.sum(solid, lab, range(1, n + 1))
    return np.isin(lab, 1 + np.flatnonzero(sizes >= 40))


RULES = {"ai_chatgpt_camus_4x4_fakechecker": camus, "ai_grok_backidle_1x4_greenscreen": grok}


def main(grids: Path) -> None:
    for name, rule in RULES.items():
        rgb = np.asarray(Image.open(grids / f"{name}.png").convert("RGB"))
        mask = rule(rgb)
        Image.fromarray(mask).convert("1").save(HERE / f"{name}_subject.png", optimize=True)
        print(name, f"{mask.mean():.4f} subject")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/grids"))
