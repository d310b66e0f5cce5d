"""gridanim.overlay: the numbered cut drawn on a grid built in code."""

from __future__ import annotations

import numpy as np
from helpers import flat_grid, tile_color
from PIL import Image

from gridanim.overlay import DIM, OUTLINE, draw_cut, save_cut


def test_frames_keep_their_colour_and_everything_else_is_dimmed():
    img, layout = flat_grid(2, 3, cell=(60, 50), gutter=10, border=12)
    out = np.asarray(draw_cut(img, layout))
    assert out.shape == img.shape
    for k, (x, y, w, h) in enumerate(layout.boxes):
        assert tuple(out[y + h // 2, x + w // 2]) == tile_color(k)  # box centre untouched
    gx, gy = layout.boxes[0][0] + layout.boxes[0][2] + 5, layout.boxes[0][1] + 30  # in the first gutter
    assert tuple(out[gy, gx]) == tuple(int(255 * DIM) for _ in range(3))


def test_each_box_is_outlined_and_numbered_in_order():
    img, layout = flat_grid(2, 2, cell=(80, 80), gutter=10, border=10)
    out = np.asarray(draw_cut(img, layout))
    for x, y, w, h in layout.boxes:
        assert tuple(out[y + h // 2, x]) == OUTLINE  # left edge of the outline
        assert tuple(out[y + 1, x + 1]) == OUTLINE  # the badge in the top-left corner
        assert tuple(out[y + h - 1, x + w - 1]) == OUTLINE

    # the badge for "1" and the badge for "4" hold different white glyph shapes
    def glyph(box):
        x, y, _, _ = box
        return (out[y : y + 22, x : x + 22] == 255).all(axis=2)

    assert glyph(layout.boxes[0]).any() and not np.array_equal(glyph(layout.boxes[0]), glyph(layout.boxes[3]))


def test_inset_moves_the_outline_inwards():
    img, layout = flat_grid(1, 2, cell=(80, 60), gutter=10, border=10)
    x, y, w, h = layout.boxes[0]
    out = np.asarray(draw_cut(img, layout, inset=8))
    assert tuple(out[y + h // 2, x + 8]) == OUTLINE
    assert tuple(out[y + h // 2, x + 2]) != OUTLINE  # trimmed part is dimmed, not outlined
    assert tuple(out[y + h // 2, x + 2]) != tile_color(0)


def test_large_grids_are_scaled_down_for_display(tmp_path):
    img, layout = flat_grid(3, 4, cell=(600, 500), gutter=20, border=20)
    p = save_cut(img, layout, tmp_path / "grid_cut.png", max_side=800)
    with Image.open(p) as im:
        assert im.format == "PNG"
        assert max(im.size) == 800
        assert abs(im.size[0] / im.size[1] - img.shape[1] / img.shape[0]) < 0.01
