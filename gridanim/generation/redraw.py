"""Re-draw chosen frames of a saved grid with one ``images.edit``, keeping every other frame pixel-identical.

:func:`prepare_redraw` (no network) reads the saved grid, builds the mask (the grid's
size, alpha 0 exactly over the chosen cells, 255 elsewhere), a prompt that names the
frames, and the quote. After the call, :meth:`Redraw.composite` takes only the chosen
cells from what came back; whatever the model changed elsewhere is discarded. The new
version is saved as its own record with a ``parent`` link, so History keeps both.
"""

from __future__ import annotations

import datetime as _dt
import io
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..frames import parse_frame_list
from ..hosting.storage import Record
from ..images import load_image
from ..layout import Layout
from .generate import GenerationRequest, Prepared, Quote, Reference, key_sentence
from .models import check_model, check_quality
from .plan import GridPlan, parse_shape
from .pricing import estimate

Box = tuple[int, int, int, int]


def cell_boxes(size: tuple[int, int], rows: int, cols: int) -> list[Box]:
    """Row-major (x, y, w, h) of each cell of the evenly divided grid (gutters shared out)."""
    w, h = size
    xs = [round(i * w / cols) for i in range(cols + 1)]
    ys = [round(i * h / rows) for i in range(rows + 1)]
    return [(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r]) for r in range(rows) for c in range(cols)]


def layout_from_dict(d: dict | None) -> Layout | None:
    """A sidecar's ``layout`` back into a :class:`Layout` (None when it has none)."""
    if not d or not d.get("boxes"):
        return None
    return Layout(
        rows=int(d["rows"]),
        cols=int(d["cols"]),
        boxes=tuple(tuple(int(v) for v in b) for b in d["boxes"]),
        cells=tuple(tuple(int(v) for v in c) for c in d.get("cells") or ()),
        image_size=tuple(int(v) for v in d["image_size"]),
        warnings=tuple(d.get("warnings") or ()),
        method=str(d.get("method") or ""),
    )


def build_mask(size: tuple[int, int], boxes: list[Box], chosen: list[int]) -> bytes:
    """A PNG the grid's size: alpha 0 exactly over the chosen (0-based) cells, 255 elsewhere."""
    from PIL import Image

    w, h = size
    alpha = np.full((h, w), 255, np.uint8)
    for i in chosen:
        x, y, bw, bh = boxes[i]
        alpha[y : y + bh, x : x + bw] = 0
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = alpha
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


def redraw_prompt(rows: int, cols: int, chosen: list[int], fix: str | None) -> str:
    """Names the grid and the frames (1-based) so the model edits only those panels."""
    names = ", ".join(str(i + 1) for i in chosen)
    what = (
        " ".join((fix or "").split()).rstrip(".")
        or "draw them again so the motion flows smoothly from the panel before to the panel after"
    )
    return (
        f"This image is an animation sprite sheet: a grid of {rows} rows and {cols} columns ({rows * cols} panels), "
        f"read left to right, top to bottom. Re-draw only panel{'s' if len(chosen) > 1 else ''} {names}: {what}. "
        "Keep the same subject, size, position, style, background and gutters as in the other panels, "
        "and leave every other panel exactly as it is. No numbers, text or borders."
    )


@dataclass(frozen=True)
class Redraw:
    """What a redraw keeps: the parent grid, the chosen cells and its layout."""

    parent: Record
    chosen: tuple[int, ...]  # 0-based cells
    boxes: tuple[Box, ...]
    rgb: np.ndarray
    alpha: np.ndarray | None
    layout: Layout | None

    @property
    def frames(self) -> list[int]:
        """The re-drawn frame numbers, 1-based."""
        return [i + 1 for i in self.chosen]

    def composite(self, rgb: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The parent grid with only the chosen cells taken from the returned image (resized to fit if needed)."""
        h, w = self.rgb.shape[:2]
        if rgb.shape[:2] != (h, w):
            from PIL import Image

            rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.LANCZOS))
            if alpha is not None:
                alpha = np.asarray(Image.fromarray(alpha).resize((w, h), Image.Resampling.LANCZOS))
        out = self.rgb.copy()
        keep_alpha = self.alpha is not None or alpha is not None
        out_a = (
            (self.alpha.copy() if self.alpha is not None else np.full((h, w), 255, np.uint8)) if keep_alpha else None
        )
        for i in self.chosen:
            x, y, bw, bh = self.boxes[i]
            out[y : y + bh, x : x + bw] = rgb[y : y + bh, x : x + bw]
            if out_a is not None:
                out_a[y : y + bh, x : x + bw] = 255 if alpha is None else alpha[y : y + bh, x : x + bw]
        return out, out_a


def prepare_redraw(record: Record, frames: str, fix: str | None = None, *, today: _dt.date | None = None):
    """A :class:`~gridanim.generation.generate.Prepared` for re-drawing ``frames`` (same syntax as ``--order``) of ``record``."""
    meta = record.meta
    plan_d = meta.get("plan") or {}
    img = load_image(record.png_path.read_bytes())
    size = img.size
    rows, cols = int(plan_d.get("rows") or 0), int(plan_d.get("cols") or 0)
    if rows < 1 or cols < 1:
        raise InputError(f"{record.id} has no saved grid plan, so its cells are unknown: it cannot be re-drawn")
    layout = layout_from_dict(meta.get("layout"))
    n = layout.frames if layout else rows * cols
    chosen = sorted(set(parse_frame_list(frames, n)))
    if len(chosen) >= n:
        raise InputError(f"re-drawing all {n} frames is a new generation: pick fewer frames, or run generate again")
    model, warnings = check_model(meta.get("model"), today)
    quality = check_quality(model, meta.get("quality"))
    boxes = cell_boxes(size, rows, cols)
    plan = GridPlan(rows, cols, size, int(plan_d.get("gutter") or 0), parse_shape(plan_d.get("shape") or "square"))
    prompt = redraw_prompt(rows, cols, chosen, fix)
    grid_png = record.png_path.read_bytes()
    ref = Reference(f"{record.id}.png", grid_png, "image/png", size)
    est = estimate(model, size, quality, prompt, input_images=[size])
    quote = Quote(est, len(chosen), size, est)
    keyed = meta.get("keyed") or {}
    if keyed.get("colour"):
        prompt += " " + key_sentence(tuple(keyed["colour"]))
    redraw = Redraw(record, tuple(chosen), tuple(boxes), img.rgb, img.alpha, layout)
    request = GenerationRequest(
        prompt=str(meta.get("user_prompt") or meta.get("prompt") or ""), model=model.id, quality=quality, size=plan.size
    )
    return Prepared(
        request,
        None,
        model,
        quality,
        plan,
        int(meta.get("fps") or 8),
        prompt,
        (ref,),
        None,
        quote,
        tuple(warnings),
        route="redraw",
        background=meta.get("background"),
        key_colour=tuple(keyed["colour"]) if keyed.get("colour") else None,
        mask_png=build_mask(size, boxes, chosen),
        redraw=redraw,
    )
