"""gridanim.generation.plan: shapes, canvas choice per model, the prompt, the layout guide."""

from __future__ import annotations

import datetime as dt
import io
import math

import pytest
from PIL import Image

from gridanim.errors import InputError
from gridanim.generation.models import check_model
from gridanim.generation.plan import (
    TARGET_MAX_PX,
    TARGET_MIN_PX,
    build_prompt,
    draw_layout_guide,
    parse_shape,
    parse_size,
    plan_grid,
    smallest_size,
)

TODAY = dt.date(2026, 11, 21)
G2 = check_model("gpt-image-2", TODAY)[0]
G25 = check_model("gpt-image-2.5-flare", TODAY)[0]
G15 = check_model("gpt-image-1.5", TODAY)[0]


@pytest.mark.parametrize(
    "text, aspect",
    [
        (None, 1.0),
        ("square", 1.0),
        ("Portrait", 2 / 3),
        ("landscape", 1.5),
        ("portrait 2:3", 2 / 3),
        ("landscape 4:3", 4 / 3),
        ("16:9", 16 / 9),
        ("9x16", 9 / 16),
        ("1.85:1", 1.85),
        ("wide", 16 / 9),
        ("tall", 9 / 16),
    ],
)
def test_parse_shape(text, aspect):
    assert parse_shape(text).aspect == pytest.approx(aspect)


@pytest.mark.parametrize("text", ["round", "portrait 3:2", "landscape 1:2", "square 4:3", "0:1", "10:1", "3:"])
def test_parse_shape_refuses_nonsense(text):
    with pytest.raises(InputError):
        parse_shape(text)


def test_parse_size():
    assert parse_size("1536x1024") == (1536, 1024)
    assert parse_size(" 1024 X 1536 ") == (1024, 1536)
    with pytest.raises(InputError, match="auto"):
        parse_size("auto")
    with pytest.raises(InputError):
        parse_size("big")


GRIDS = [
    (r, c, s)
    for r, c in [(2, 2), (3, 3), (3, 4), (4, 4), (2, 4), (4, 3), (3, 5), (6, 6), (8, 8)]
    for s in ("square", "portrait", "landscape", "16:9")
]


@pytest.mark.parametrize("rows, cols, shape", GRIDS)
@pytest.mark.parametrize("model", [G2, G25], ids=["gpt-image-2", "gpt-image-2.5"])
def test_custom_canvas_is_valid_divides_exactly_and_keeps_the_shape_when_possible(rows, cols, shape, model):
    plan = plan_grid(rows, cols, shape, model)
    w, h = plan.canvas
    assert model.sizes.problem(w, h) is None
    assert plan.exact and w % cols == 0 and h % rows == 0
    asked = parse_shape(shape).aspect
    feasible = 1 / 3 <= cols * asked / rows <= 3
    got = plan.cell[0] / plan.cell[1]
    if feasible:
        assert abs(math.log(got / asked)) < 0.03, plan
        assert not any("do not fit" in x for x in plan.warnings)
        assert model.sizes.min_pixels <= w * h <= TARGET_MAX_PX * 1.1
    else:
        assert any("do not fit" in x for x in plan.warnings)
    assert plan.panel == (plan.cell[0] - plan.gutter, plan.cell[1] - plan.gutter)
    assert plan.gutter % 2 == 0 and 4 <= plan.gutter <= plan.cell[1] // 10


def test_more_frames_get_more_pixels_within_the_target_range():
    small, big = plan_grid(2, 2, "square", G2), plan_grid(4, 4, "square", G2)
    assert TARGET_MIN_PX <= small.canvas[0] * small.canvas[1] < big.canvas[0] * big.canvas[1] <= TARGET_MAX_PX


def test_the_3x4_square_plan():
    plan = plan_grid(3, 4, "square", G2)
    assert plan.cell[0] == plan.cell[1] and plan.cell[0] % 16 == 0
    assert plan.size == f"{plan.canvas[0]}x{plan.canvas[1]}"
    assert plan.frames == 12
    d = plan.to_dict()
    assert d["rows"] == 3 and d["cols"] == 4 and d["panel_size"] == list(plan.panel) and d["exact"]


def test_impossible_shape_warns_and_suggests_a_better_arrangement():
    plan = plan_grid(1, 12, "square", G2)
    assert G2.sizes.problem(*plan.canvas) is None
    assert any("--rows 3 --cols 4" in w for w in plan.warnings)


def test_fixed_size_model_picks_the_closest_fixed_size_and_says_when_it_does_not_divide():
    plan = plan_grid(2, 2, "square", G15)
    assert plan.canvas == (1024, 1024) and plan.exact and plan.warnings == ()
    plan = plan_grid(3, 3, "portrait", G15)
    assert plan.canvas == (1024, 1536)
    assert not plan.exact and any("does not divide evenly" in w for w in plan.warnings)


def test_explicit_size_is_validated_and_used():
    plan = plan_grid(3, 4, "square", G2, size=(1536, 1024))
    assert plan.canvas == (1536, 1024) and not plan.exact
    with pytest.raises(InputError, match="multiples of 16"):
        plan_grid(3, 4, "square", G2, size=(1792, 936))
    with pytest.raises(InputError, match="1024x1024"):
        plan_grid(3, 4, "square", G15, size=(1472, 1104))


@pytest.mark.parametrize("rows, cols", [(0, 4), (3, 13), (1, 1), (3, True)])
def test_grid_size_limits(rows, cols):
    with pytest.raises(InputError):
        plan_grid(rows, cols, "square", G2)


def test_too_many_panels_for_the_canvas():
    with pytest.raises(InputError, match="too small"):
        plan_grid(12, 12, "square", G2, size=(1024, 1024))


def test_boxes_tile_the_canvas_without_overlap():
    plan = plan_grid(3, 4, "square", G2)
    cells = plan.cell_boxes()
    assert len(cells) == 12 and sum(w * h for _, _, w, h in cells) == plan.canvas[0] * plan.canvas[1]
    for (x, y, w, h), (cx, cy, cw, ch) in zip(plan.panel_boxes(), cells, strict=False):
        assert cx < x and cy < y and x + w < cx + cw and y + h < cy + ch


@pytest.mark.parametrize(
    "model, aspect", [(G2, 1.0), (G2, 2 / 3), (G2, 16 / 9), (G2, 4.0), (G25, 0.2), (G15, 1.0), (G15, 0.6)]
)
def test_smallest_size_is_valid_and_close_to_the_shape(model, aspect):
    w, h = smallest_size(model, aspect)
    assert model.sizes.problem(w, h) is None
    clamped = min(max(aspect, 1 / 3), 3)
    if model.sizes.kind == "custom":
        assert abs(math.log(w / h / clamped)) < 0.03
        assert w * h < model.sizes.min_pixels * 1.1


def test_smallest_square_is_816():
    assert smallest_size(G2, 1.0) == (816, 816)  # 800x800 is under 655,360 px


def test_prompt_states_the_layout_motion_and_rules():
    plan = plan_grid(3, 4, "square", G2)
    p = build_prompt("  a cat chasing its tail. ", plan, style_name="Studio Ghibli", style="soft hand-painted look")
    for must in (
        "a cat chasing its tail",
        "3 rows",
        "4 columns",
        "12 panels",
        "left to right, top to bottom",
        "looping",
        "same background",
        "camera",
        f"{plan.panel[0]}x{plan.panel[1]} px",
        f"gutters {plan.gutter} px",
        "Studio Ghibli",
        "soft hand-painted look",
        "No numbers, captions",
    ):
        assert must in p, must
    assert "reference" not in p and "layout guide" not in p


def test_prompt_for_edits_mentions_references_and_the_guide():
    plan = plan_grid(2, 2, "square", G2)
    p = build_prompt("wave", plan, references=2, guide=True)
    assert "the 2 reference photos" in p and "layout guide" in p and "Style" not in p


def test_empty_prompt_is_refused():
    with pytest.raises(InputError, match="empty"):
        build_prompt("   ", plan_grid(2, 2, "square", G2))


def test_layout_guide_is_a_faint_png_at_the_canvas_size():
    plan = plan_grid(3, 4, "square", G2)
    im = Image.open(io.BytesIO(draw_layout_guide(plan)))
    assert im.format == "PNG" and im.size == plan.canvas
    lo, hi = im.convert("L").getextrema()
    assert lo >= 150 and hi == 255  # faint lines on white
