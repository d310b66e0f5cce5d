"""One layout definition for the prompt, the API ``size`` and the slicer.

From rows, columns and a frame shape ("square", "portrait", "landscape 3:2",
"16:9", any ``w:h``) :func:`plan_grid` picks a canvas the model accepts that the
grid divides well:

* custom-size models: both sides multiples of 16, at most 3:1, 655,360-8,294,400
  pixels, long side at most 3840; fixed-size models: 1024x1024 / 1536x1024 /
  1024x1536;
* every cell an integer number of pixels (exact division preferred), cells as
  close to the asked shape as the rules allow, and about 1-2.4 megapixels in
  total (output tokens grow with pixels);
* thin, even, light gutters between panels: they give the slicer's detector a
  clean line to find, and the prompt states the exact panel size in pixels.

:func:`build_prompt` turns a plan into the prompt, :func:`draw_layout_guide`
into an optional faint guide image for edits, :func:`smallest_size` gives the
smallest valid image of one frame's shape (for the one-by-one price).
Pure functions except :func:`draw_layout_guide`, which returns PNG bytes.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field

from ..errors import InputError
from ..types import Box
from .models import ModelInfo, SizeRules

MAX_SIDE_CELLS = 12  # rows or columns (a 1x12 strip is a common sprite layout)
MIN_PANEL_PX = 96
PX_PER_FRAME = 360 * 360  # ~360 px panels before clamping to the range below
TARGET_MIN_PX = 1_048_576  # 1 MP
TARGET_MAX_PX = 2_400_000  # 2.4 MP

_NAMED = {"square": (1, 1), "portrait": (2, 3), "landscape": (3, 2), "wide": (16, 9), "tall": (9, 16)}


@dataclass(frozen=True)
class Shape:
    """A frame shape: ``label`` as the user wrote it (normalised) and ``aspect`` = width / height."""

    label: str
    aspect: float


def parse_shape(text: str | None) -> Shape:
    """Parse "square", "portrait", "landscape", "wide", "tall", "16:9", "portrait 2:3", "1.85:1".

    Raises :class:`InputError` with the accepted forms.
    """
    raw = (text or "square").strip().lower()
    s = " ".join(raw.replace("×", "x").split())
    m = re.fullmatch(r"(?:(square|portrait|landscape|wide|tall)\s*)?(?:(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?))?", s)
    if not s or not m or not (m.group(1) or m.group(2)):
        raise InputError(
            f"unknown frame shape '{text}': use square, portrait, landscape, wide, tall or a ratio like 16:9"
        )
    word = m.group(1)
    if m.group(2):
        w, h = float(m.group(2)), float(m.group(3))
        if w <= 0 or h <= 0:
            raise InputError(f"frame shape '{text}' needs two positive numbers, like 3:2")
        aspect = w / h
        if (
            word in ("portrait", "tall")
            and aspect > 1
            or word in ("landscape", "wide")
            and aspect < 1
            or word == "square"
            and aspect != 1
        ):
            raise InputError(f"frame shape '{text}' contradicts itself: {word} with a {m.group(2)}:{m.group(3)} ratio")
        label = f"{m.group(2)}:{m.group(3)}"
    else:
        a, b = _NAMED[word]
        aspect, label = a / b, word if word == "square" else f"{word} {a}:{b}"
    if not 0.25 <= aspect <= 4:
        raise InputError(f"frame shape '{text}' is too extreme: keep it between 1:4 and 4:1")
    return Shape(label, aspect)


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[x×X]\s*(\d+)\s*", text or "")
    if not m:
        hint = " (auto cannot be planned into a grid)" if (text or "").strip().lower() == "auto" else ""
        raise InputError(f"--size must look like 1536x1024, got '{text}'{hint}")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class GridPlan:
    """The grid the model is asked for and the slicer expects."""

    rows: int
    cols: int
    canvas: tuple[int, int]  # (w, h): the API size
    gutter: int  # px between neighbouring panels (half of it at the outer edge)
    shape: Shape
    warnings: tuple[str, ...] = field(default=())

    @property
    def frames(self) -> int:
        return self.rows * self.cols

    @property
    def size(self) -> str:
        return f"{self.canvas[0]}x{self.canvas[1]}"

    @property
    def exact(self) -> bool:
        return self.canvas[0] % self.cols == 0 and self.canvas[1] % self.rows == 0

    @property
    def cell(self) -> tuple[int, int]:
        """The (w, h) pitch of one cell, rounded down when the canvas does not divide exactly."""
        return self.canvas[0] // self.cols, self.canvas[1] // self.rows

    @property
    def panel(self) -> tuple[int, int]:
        """The (w, h) of one drawn panel: the cell minus the gutter."""
        return self.cell[0] - self.gutter, self.cell[1] - self.gutter

    def cell_boxes(self) -> list[Box]:
        """Row-major (x, y, w, h) of each cell (including its share of gutter)."""
        w, h = self.canvas
        xs = [round(i * w / self.cols) for i in range(self.cols + 1)]
        ys = [round(i * h / self.rows) for i in range(self.rows + 1)]
        return [
            (xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r]) for r in range(self.rows) for c in range(self.cols)
        ]

    def panel_boxes(self) -> list[Box]:
        """Row-major (x, y, w, h) of each panel, inset by half a gutter on every side."""
        g = self.gutter // 2
        return [(x + g, y + g, w - self.gutter, h - self.gutter) for x, y, w, h in self.cell_boxes()]

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "cols": self.cols,
            "frames": self.frames,
            "size": self.size,
            "cell_size": list(self.cell),
            "panel_size": list(self.panel),
            "gutter": self.gutter,
            "shape": self.shape.label,
            "exact": self.exact,
            "warnings": list(self.warnings),
        }


def check_grid(rows: int, cols: int) -> None:
    for name, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_SIDE_CELLS:
            raise InputError(f"--{name} must be a whole number from 1 to {MAX_SIDE_CELLS}, got {v}")
    if rows * cols < 2:
        raise InputError("an animation needs at least 2 panels: use --rows 2 or more, or --cols 2 or more")


def _gutter(cell_w: int, cell_h: int) -> int:
    """An even gutter of ~2.5 % of the short side, at least 4 px."""
    return max(4, 2 * round(min(cell_w, cell_h) / 80))


def _score(w: int, h: int, rows: int, cols: int, aspect: float, target_px: int) -> float:
    cell_aspect = (w / cols) / (h / rows)
    s = 30 * abs(math.log(cell_aspect / aspect)) + abs(math.log(w * h / target_px))
    if w % cols or h % rows:
        s += 0.5
    elif (w // cols) % 16 or (h // rows) % 16:
        s += 0.05  # x16 frames encode to MP4 without padding
    return s


def _custom_candidates(rules: SizeRules, rows: int, cols: int, aspect: float):
    step = rules.step
    lw = step * cols // math.gcd(step, cols)
    for h in range(step, rules.max_edge + 1, step):
        ideal = cols * (h / rows) * aspect
        seen = set()
        for unit in (lw, step):
            for k in (math.floor(ideal / unit), math.ceil(ideal / unit)):
                w = k * unit
                if w not in seen and rules.problem(w, h) is None:
                    seen.add(w)
                    yield w, h
        # when the asked shape breaks the 3:1 rule, the closest legal widths
        for w in (h * int(rules.max_aspect) // step * step, math.ceil(h / rules.max_aspect / step) * step):
            if w not in seen and rules.problem(w, h) is None:
                seen.add(w)
                yield w, h


def _better_arrangement(rows: int, cols: int, aspect: float, rules: SizeRules) -> tuple[int, int] | None:
    """Another rows x cols with the same frame count whose canvas fits the aspect rule, if any."""
    n = rows * cols
    limit = rules.max_aspect if rules.kind == "custom" else 1.5
    fits = [
        (r, n // r)
        for r in range(1, min(n, MAX_SIDE_CELLS) + 1)
        if n % r == 0 and n // r <= MAX_SIDE_CELLS and 1 / limit <= (n // r) * aspect / r <= limit
    ]
    return min(fits, key=lambda rc: abs(math.log(rc[1] * aspect / rc[0]))) if fits else None


def plan_grid(
    rows: int,
    cols: int,
    shape: Shape | str | None,
    model: ModelInfo,
    *,
    size: tuple[int, int] | None = None,
) -> GridPlan:
    """Pick the canvas for a ``rows x cols`` grid of ``shape`` panels on ``model``.

    ``size`` forces the canvas (validated against the model's rules).
    """
    check_grid(rows, cols)
    shape = shape if isinstance(shape, Shape) else parse_shape(shape)
    rules = model.sizes
    target = min(max(rows * cols * PX_PER_FRAME, TARGET_MIN_PX, rules.min_pixels), TARGET_MAX_PX)
    if size is not None:
        why = rules.problem(*size)
        if why:
            raise InputError(f"--size {size[0]}x{size[1]} is not valid for {model.id}: {why}")
        canvas = size
    elif rules.kind == "fixed":
        canvas = min(rules.fixed, key=lambda s: _score(s[0], s[1], rows, cols, shape.aspect, target))
    else:
        canvas = min(
            _custom_candidates(rules, rows, cols, shape.aspect),
            key=lambda s: _score(s[0], s[1], rows, cols, shape.aspect, target),
        )
    w, h = canvas
    cw, ch = w // cols, h // rows
    if min(cw, ch) < MIN_PANEL_PX:
        raise InputError(
            f"a {rows}x{cols} grid on {w}x{h} gives {cw}x{ch} px panels, too small to animate: use fewer rows or columns"
        )
    warnings = []
    got = (w / cols) / (h / rows)
    if abs(math.log(got / shape.aspect)) > 0.03:
        msg = (
            f"{rows}x{cols} {shape.label} panels do not fit a {w}x{h} canvas: panels will be {cw}x{ch} "
            f"({got:.2f}:1 instead of {shape.aspect:.2f}:1)"
        )
        better = _better_arrangement(rows, cols, shape.aspect, rules)
        warnings.append(msg + (f"; try --rows {better[0]} --cols {better[1]}" if better else ""))
    if w % cols or h % rows:
        warnings.append(f"{w}x{h} does not divide evenly into {rows}x{cols}: cells are about {cw}x{ch} px")
    if rules.kind == "custom" and w * h > rules.experimental_above:
        warnings.append(f"{w}x{h} is above 2560x1440, which OpenAI calls experimental")
    return GridPlan(rows, cols, (w, h), _gutter(cw, ch), shape, tuple(warnings))


def smallest_size(model: ModelInfo, aspect: float) -> tuple[int, int]:
    """The smallest image the model makes whose shape is closest to ``aspect`` (w / h)."""
    rules = model.sizes
    if rules.kind == "fixed":
        return min(rules.fixed, key=lambda s: (round(abs(math.log(s[0] / s[1] / aspect)), 3), s[0] * s[1]))
    step = rules.step
    aspect = min(max(aspect, 1 / rules.max_aspect), rules.max_aspect)
    best = None
    for h in range(step, rules.max_edge + 1, step):
        for w in (math.floor(h * aspect / step) * step, math.ceil(h * aspect / step) * step):
            if rules.problem(w, h) is None:
                key = (round(abs(math.log(w / h / aspect)), 2), w * h)
                if best is None or key < best[0]:
                    best = (key, (w, h))
    assert best is not None
    return best[1]


def build_prompt(
    subject: str,
    plan: GridPlan,
    *,
    style_name: str | None = None,
    style: str | None = None,
    references: int = 0,
    guide: bool = False,
) -> str:
    """The prompt sent to the model: layout, motion, consistency, style, and what not to draw."""
    subject = " ".join(subject.split()).rstrip(".")
    if not subject:
        raise InputError("the prompt is empty: describe the subject and its motion, e.g. 'a cat chasing its tail'")
    pw, ph = plan.panel
    W, H = plan.canvas
    parts = [
        f"An animation sprite sheet: a grid of {plan.rows} rows and {plan.cols} columns "
        f"({plan.frames} panels) on one {W}x{H} px image, read left to right, top to bottom.",
        f"Subject and motion: {subject}.",
        f"The {plan.frames} panels are consecutive frames of one continuous, smoothly looping motion, "
        "in small even steps; the last panel leads back into the first.",
        "Every panel shows the same subject at the same size, the same background and the same camera "
        "position and framing; only the motion changes.",
        f"Each panel is exactly {pw}x{ph} px; panels sit on a regular grid separated by thin, even, "
        f"plain light-grey gutters {plan.gutter} px wide. The subject stays fully inside its panel.",
    ]
    if style or style_name:
        label = f"{style_name}: " if style_name else ""
        parts.append(f"Style: {label}{style or style_name}.")
    if references:
        which = "the reference photo" if references == 1 else f"the {references} reference photos"
        parts.append(f"Animate the subject from {which}: keep its identity, colours and details.")
    if guide:
        parts.append(
            "The last input image is a layout guide: follow its grid exactly, but do not draw its lines or numbers."
        )
    parts.append("No numbers, captions, text, labels, borders, frames or watermarks anywhere.")
    return " ".join(parts)


def draw_layout_guide(plan: GridPlan) -> bytes:
    """A faint numbered grid at the canvas size (PNG bytes), sent as an extra edit input."""
    from PIL import Image, ImageDraw

    W, H = plan.canvas
    im = Image.new("RGB", (W, H), (250, 250, 250))
    d = ImageDraw.Draw(im)
    for i, (x, y, w, h) in enumerate(plan.panel_boxes(), start=1):
        d.rectangle((x, y, x + w - 1, y + h - 1), fill=(255, 255, 255), outline=(215, 215, 215), width=2)
        d.text((x + 8, y + 6), str(i), fill=(200, 200, 200))
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
