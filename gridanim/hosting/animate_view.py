"""The Animate tab's values -> an animate run and back (no Gradio import: testable without a browser).

Form values arrive as Gradio hands them over (``"auto"``, ``""``, floats, ``"4×"``);
:func:`animate_options` turns them into one :class:`~gridanim.animate.AnimateOptions`,
:func:`run` writes the files of one run and :func:`motion_view` the loop-seam hint,
its plot and the per-frame timing rows shown next to the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..animate import AnimateOptions
from ..errors import InputError
from . import session, summary

AUTO = "auto"
SCALE_AUTO = "Auto"
SCALES = [SCALE_AUTO, "1×", "2×", "3×", "4×", "6×", "8×"]
ORDERS = ["forward", "reverse", "pingpong", "custom"]
APP_FORMATS = ("gif", "mp4", "webp", "zip")  # the downloads every run offers (APNG: CLI --apng)
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp")
# Examples whose layout detection needs a hint (faint column seams); the rest show auto-detection.
EXAMPLE_HINTS = {"photo_muybridge_horse_4x4_numbered.jpg": ("4", "4")}
NO_GRID = "Upload a grid image first (PNG, JPEG or WebP), or click an example."


def count(value) -> int | None:
    """A rows/cols choice: "auto", "", 0 or None -> None (detect), else the number."""
    if value in (None, "", AUTO):
        return None
    n = int(float(value))
    return n if n > 0 else None


def scale(value) -> int | None:
    """ "Auto" (small pixel art is enlarged to about 256 px) -> None; "4×" -> 4."""
    text = str(value or SCALE_AUTO).strip().rstrip("×x")
    return None if not text or text == SCALE_AUTO else int(text)


def animate_options(
    rows=AUTO,
    cols=AUTO,
    inset=0,
    fps=8,
    order="forward",
    custom_order=None,
    drop=None,
    stabilize=False,
    smooth=0,
    gif_quality="high",
    gif_max_kb=0,
    max_size=0,
    transparent=False,
    scale_choice=SCALE_AUTO,
    inbetween="flow",
    hold="",
) -> AnimateOptions:
    """The Animate form as options (validated once, by :class:`AnimateOptions`)."""
    return AnimateOptions(
        rows=count(rows),
        cols=count(cols),
        inset=int(inset or 0),
        fps=float(fps or 8),
        order=(custom_order or "").strip() if order == "custom" else (order or "forward"),
        drop=(drop or "").strip(),
        stabilize=bool(stabilize),
        smooth=int(smooth or 0),
        gif_quality=gif_quality or "high",
        gif_max_bytes=int(float(gif_max_kb) * 1024) if gif_max_kb else None,
        max_size=int(max_size) if max_size else None,
        transparent=bool(transparent),
        scale=scale(scale_choice),
        inbetween=inbetween or "flow",
        hold=(hold or "").strip(),
    )


def preview(path: str | None, rows=AUTO, cols=AUTO, inset=0) -> tuple[str | None, str]:
    """The numbered cut and the layout text of an uploaded grid (nothing uploaded: nothing shown)."""
    if not path:
        return None, ""
    pv = session.preview_cut(path, count(rows), count(cols), int(inset or 0))
    return str(pv.cut), summary.layout_markdown(pv.layout, pv.notes)


def motion_view(run: Any) -> dict:
    """The loop-seam hint, its plot (a PNG in the run folder) and the per-frame timing rows of one animate run."""
    from ..motion import seam_plot_png

    a = run.anim
    plot = run.run_dir / "loop_seam.png"
    plot.write_bytes(seam_plot_png(a.step_changes, a.sequence))
    return {"hint": summary.seam_markdown(a), "plot": str(plot), "rows": summary.timing_rows(a)}


def run(path: str | None, opts: AnimateOptions, sprite_sheet: bool = True) -> tuple:
    """One animate run's outputs: GIF, MP4, downloads, summary, numbered cut and the motion view."""
    if not path:
        raise InputError(NO_GRID)
    files = session.animate_to_files(path, opts, formats=APP_FORMATS + (("sheet",) if sprite_sheet else ()))
    return (
        str(files.files["gif"]),
        str(files.files["mp4"]),
        files.downloads,
        summary.animation_markdown(files),
        str(files.cut),
        motion_view(files),
    )


def motion_outputs(view: dict | None) -> tuple:
    """The seam hint, plot and timing table from :func:`run`'s motion view (nothing yet: empty)."""
    if not view:
        return "", None, None
    return view["hint"], view["plot"], view["rows"]


def table_rows(table: Any) -> list:
    """A Dataframe value (pandas, or the ``{"data": ...}`` dict of an API call, or rows) as a list of rows."""
    if isinstance(table, dict):  # before pandas: a dict has a ``values`` method too
        return list(table.get("data") or [])
    if hasattr(table, "values"):
        return table.values.tolist()
    return list(table or [])


def holds_after_edit(table: Any, view: dict, hold: str = "") -> str:
    """Edits in the timing table's "shows (ms)" column as the Hold frames text."""
    return summary.holds_from_table(table_rows(table), view["rows"], hold or "")


def examples(directory: str | Path) -> list[list[str]]:
    """[path, rows, cols] for every bundled example image."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    images = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    return [[str(p), *EXAMPLE_HINTS.get(p.name, (AUTO, AUTO))] for p in images]
