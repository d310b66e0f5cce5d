"""The Generate and History forms' values -> the package's objects (no Gradio import: testable without a browser).

A Gradio control hands over ``""``, ``None``, floats for sliders and a path (or a
dict from gradio_client) for files; these helpers turn them into a
:class:`~gridanim.generation.generate.GenerationRequest`, the quality and route choices a
model offers, and the style preset's texts.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import GridanimError
from ..generation.generate import GenerationRequest
from ..generation.models import check_model, load_catalog

SAMPLE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".gif")
ESTIMATE_PLACEHOLDER = "a short looping animation"


def file_path(value) -> str | None:
    """A file input's value as a path (gr.File gives a str; gradio_client may send a dict)."""
    if not value:
        return None
    if isinstance(value, dict):
        return value.get("path")
    return str(value)


def form_request(
    prompt,
    style,
    rows,
    cols,
    shape,
    model,
    quality,
    fps,
    partial_images,
    reference,
    layout_guide,
    route="grid",
    gif_frames=None,
    transparent=None,
    stylise_first=False,
) -> GenerationRequest:
    """The Generate form as a request; ``transparent=None`` lets the style preset decide."""
    ref = file_path(reference)
    return GenerationRequest(
        prompt=prompt or "",
        style=style or None,
        rows=int(rows) if rows else None,
        cols=int(cols) if cols else None,
        shape=shape or None,
        fps=int(fps) if fps else None,
        model=model or None,
        quality=quality or None,
        images=(ref,) if ref else (),
        layout_guide=bool(layout_guide),
        partial_images=int(partial_images or 0),
        route=route or "grid",
        gif_frames=int(gif_frames) if route == "gif" and gif_frames else None,
        transparent=None if transparent is None else bool(transparent),
        stylise_first=bool(stylise_first),
    )


def qualities(model_id: str | None) -> list[str]:
    """The qualities a model offers, plus ``auto``."""
    try:
        return list(check_model(model_id)[0].qualities) + ["auto"]
    except GridanimError:
        return [load_catalog().default_quality, "auto"]


def offers_gif(model_id: str | None) -> bool:
    """Whether the route choice is shown: only for models whose models.toml row lists GIF output."""
    try:
        return check_model(model_id)[0].gif is not None
    except GridanimError:
        return False


def style_choices(presets) -> list[tuple[str, str]]:
    return [("No preset (describe the style yourself)", "")] + [(presets.presets[k].name, k) for k in presets.names()]


def preset_sample(preset) -> str | None:
    """A sample image next to the preset file (``presets/<id>.png`` ...), if there is one."""
    if not preset.path:
        return None
    base = Path(preset.path).with_suffix("")
    return next((str(base.with_suffix(e)) for e in SAMPLE_EXTS if base.with_suffix(e).is_file()), None)


def style_markdown(preset) -> str:
    if preset is None:
        return "Plain prompt, 3×4 square frames at 8 fps unless you change them."
    sprite = " Transparent sprite." if preset.transparent else ""
    suggests = f"{preset.rows}×{preset.cols} {preset.shape}, {preset.fps} fps"
    return f"**{preset.name}**: {preset.description} _(suggests {suggests})_{sprite}"


def history_note(count: int, private: bool, where: str) -> str:
    if private:
        return (
            f"Your {count} saved generation(s) in this session (each visitor sees only their own). "
            "Open one in Animate for free."
        )
    if count:
        return f"{count} saved generation(s) in `{where}`. Pick one, then open it in Animate (free: no new request)."
    return f"No generations yet in `{where}`. Grids you generate are saved there with their settings and cost."


OPTION_LABELS = {
    "rows": "Rows",
    "cols": "Columns",
    "inset": "Inset",
    "fps": "Frames per second",
    "order": "Order",
    "drop": "Leave out frames",
    "smooth": "Smoothing",
    "inbetween": "In-betweens",
    "hold": "Hold frames",
    "max_size": "Longest side",
    "gif_quality": "GIF quality",
    "gif_max_bytes": "Fit GIF under (KB)",
    "scale": "Pixel-art scale",
    "background": "Background",
    "matte": "Matte",
}
"""Animation option field -> the Animate tab's label, for :meth:`gridanim.errors.OptionError.worded`."""


def default_quality(model_id: str | None) -> str:
    """The catalog's default quality if the model offers it, else the model's first."""
    choices = qualities(model_id)
    default = load_catalog().default_quality
    return default if default in choices else choices[0]


def estimate_markdown(req: GenerationRequest) -> str:
    """The live cost estimate of both routes for a Generate form request (no network, no key)."""
    from ..generation.generate import route_quotes
    from .summary import routes_markdown

    return routes_markdown(route_quotes(req), req.route)


def key_hint(environ: dict | None = None) -> str:
    """Whether generations are paid by the host's key or need the visitor's."""
    from .keys import ENV_KEY
    from .summary import KEY_HINT_NONE, KEY_HINT_SERVER

    env = os.environ if environ is None else environ
    return KEY_HINT_SERVER if env.get(ENV_KEY, "").strip() else KEY_HINT_NONE
