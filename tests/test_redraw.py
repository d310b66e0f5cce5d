"""gridanim.generation.redraw's pure parts: the mask, the prompt and the compositing that keeps the other cells."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gridanim.errors import InputError
from gridanim.generation.redraw import Redraw, build_mask, cell_boxes, redraw_prompt


def test_mask_is_the_grid_size_and_clear_exactly_over_the_chosen_cells():
    size = (1001, 750)  # does not divide evenly: cells are rounded, and the mask follows them
    boxes = cell_boxes(size, 3, 4)
    mask = Image.open(io.BytesIO(build_mask(size, boxes, [2, 6])))
    assert mask.size == size and mask.mode == "RGBA"
    alpha = np.asarray(mask.getchannel("A"))
    for i, (x, y, w, h) in enumerate(boxes):
        assert set(np.unique(alpha[y : y + h, x : x + w])) == ({0} if i in (2, 6) else {255}), i
    assert sum(w * h for w, h in [b[2:] for b in boxes]) == size[0] * size[1]  # the cells tile the grid


def test_prompt_names_the_frames_one_based_and_the_fix():
    text = redraw_prompt(3, 4, [2, 6], "  the tail curls up. ")
    assert "Re-draw only panels 3, 7: the tail curls up." in text and "3 rows and 4 columns" in text
    assert "Re-draw only panel 1:" in redraw_prompt(2, 2, [0], None)


def _redraw(rgb, alpha, chosen, rows=2, cols=2):
    h, w = rgb.shape[:2]
    return Redraw(None, tuple(chosen), tuple(cell_boxes((w, h), rows, cols)), rgb, alpha, None)


def test_composite_takes_only_the_chosen_cells_even_from_another_size():
    old = np.zeros((100, 200, 3), np.uint8)
    new = np.full((50, 100, 3), 200, np.uint8)  # the model answered at half size
    rgb, alpha = _redraw(old, None, [3]).composite(new, None)
    assert alpha is None and rgb.shape == old.shape
    assert (rgb[50:, 100:] == 200).all() and (rgb[:50].sum() == 0) and (rgb[50:, :100].sum() == 0)


def test_composite_keeps_alpha_of_both_sides():
    old = np.zeros((40, 40, 3), np.uint8)
    old_a = np.full((40, 40), 255, np.uint8)
    new_a = np.zeros((40, 40), np.uint8)
    rgb, alpha = _redraw(old, old_a, [0]).composite(np.full((40, 40, 3), 9, np.uint8), new_a)
    assert (alpha[:20, :20] == 0).all() and (alpha[20:] == 255).all() and (alpha[:20, 20:] == 255).all()
    _, alpha2 = _redraw(old, None, [1]).composite(np.zeros((40, 40, 3), np.uint8), new_a)
    assert (alpha2[:20, 20:] == 0).all() and (alpha2[20:] == 255).all()


def test_redrawing_every_frame_is_refused(tmp_path, monkeypatch):
    from gridanim.generation.redraw import prepare_redraw
    from gridanim.hosting.storage import save_generation

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 9)).save(buf, format="PNG")
    rec = save_generation(
        buf.getvalue(), {"plan": {"rows": 2, "cols": 2}, "model": "gpt-image-2", "quality": "low"}, directory=tmp_path
    )
    with pytest.raises(InputError, match="new generation"):
        prepare_redraw(rec, "1-4")
