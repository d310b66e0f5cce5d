"""The History tab: this visitor's saved generations as gallery items, data, details and re-draw estimates.

No Gradio import: ``request`` is whatever :mod:`gridanim.hosting.policy` reads the
visitor from (a ``gr.Request`` in the app), so this is testable without a browser.
"""

from __future__ import annotations

from typing import Any

from ..errors import GridanimError, InputError
from . import policy, session, summary
from .storage import data_dir
from .webform import history_note

LIMIT = 60
NOTHING_PICKED = "Pick a generation in the gallery first."
NOTHING_GENERATED = "Generate a grid first (or pick one in History)."


def gallery(request: Any) -> tuple[list[tuple[str, str]], list[str], str]:
    """Thumbnails with captions, their ids and the note above them (on a Space: this visitor's own only)."""
    records = policy.visible_history(request, LIMIT)
    items = [(str(session.thumbnail(r.png_path)), summary.history_caption(r)) for r in records]
    return items, [r.id for r in records], history_note(len(records), policy.history_is_private(), str(data_dir()))


def rows(request: Any) -> list[dict]:
    """This visitor's saved generations as data: id, prompt, cost, parent (the API twin of the gallery)."""
    return [summary.history_row(r) for r in policy.visible_history(request, LIMIT)]


def picked(ids: list[str] | None, index: int | None) -> str | None:
    """The id of the gallery item at ``index`` (None when the pick is out of range)."""
    if not ids or index is None or index >= len(ids):
        return None
    return ids[index]


def details(request: Any, rid: str | None) -> str:
    return summary.history_markdown(policy.load_visible(request, rid)) if rid else ""


def open_values(request: Any, rid: str | None, missing: str = NOTHING_PICKED) -> tuple[str, str, str, int]:
    """A saved generation for Animate, at no cost: a copy of its grid, its rows, cols ("auto" if unknown) and fps."""
    if not rid:
        raise InputError(missing)
    rec = policy.load_visible(request, rid)
    plan = rec.meta.get("plan") or {}
    path = session.copy_grid(rec.png_path)
    return str(path), str(plan.get("rows") or "auto"), str(plan.get("cols") or "auto"), rec.meta.get("fps") or 8


def redraw_estimate(request: Any, rid: str | None, frames: str | None) -> str:
    """The cost of a re-draw before the click (no network, no key); a reason instead when it cannot be done."""
    from ..pipeline import prepare_redraw

    if not rid or not (frames or "").strip():
        return ""
    try:
        q = prepare_redraw(policy.load_visible(request, rid), frames).quote.estimate
    except GridanimError as e:
        return f"Cannot re-draw: {e}"
    return (
        f"Estimated cost of this re-draw: **{q.describe()}** (one edit of the whole grid; only these frames are kept)"
    )
