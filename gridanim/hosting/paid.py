"""The app's paid flows (generate, stylise, re-draw) as the values its pages show (no Gradio import).

Billing is the pipeline's: :func:`paid_events` only picks the key (the visitor's,
else the host's, metered by :func:`~gridanim.hosting.policy.billing`), runs one
flow of :mod:`gridanim.pipeline` with a client made for this one request and
closes it. The other functions turn that flow's events into named outputs
(``"status"``, ``"grid"``, ...), which the app maps onto its components.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .. import pipeline
from ..generation.generate import GenerationRequest, prepare
from ..generation.pricing import CostLedger
from . import policy, session, summary
from .animate_view import APP_FORMATS
from .keys import make_client, resolve_key


def paid_events(api_key: str | None, request: Any, make_events: Callable[[Any, Any], Iterator[Any]]) -> Iterator[Any]:
    """One paid pipeline flow with the visitor's (or the host's) key; yields its events, then closes the client."""
    key = resolve_key(api_key)
    client = make_client(key)
    del key
    try:
        yield from make_events(client, policy.billing(request, bool((api_key or "").strip())))
    finally:
        client.close()


def _live(ev: Any, run_dir, partials: int) -> dict:
    """A pipeline event as the Generate tab's status (and picture, for previews and the saved image)."""
    out = {"status": summary.event_markdown(ev, partials)}
    if ev.kind in ("partial", "saved"):
        name = f"partial_{ev.index + 1}.png" if ev.kind == "partial" else f"{ev.step}.png"
        out["grid"] = str(session.write_bytes(run_dir, name, ev.png))
    return out


def generate_outputs(
    req: GenerationRequest, api_key: str | None, request: Any, ledger: Any = None, still: str | None = None
) -> Iterator[dict]:
    """One generation (the kept still first, if asked), streamed, then the grid cut into GIF / MP4 / WebP / frames."""
    ledger = ledger if isinstance(ledger, CostLedger) else CostLedger()
    prepared = prepare(req)
    kept = policy.load_visible(request, still) if still and req.stylise_first else None
    run_dir = session.new_run_dir()
    yield {
        "status": f"Working: sending the request to OpenAI (estimate {prepared.quote.estimate.describe()})…",
        "ledger": ledger,
    }
    flow = paid_events(
        api_key,
        request,
        lambda client, billing: pipeline.generate_and_animate(
            prepared, client, formats=APP_FORMATS, ledger=ledger, billing=billing, heartbeat=1.0, still=kept
        ),
    )
    for ev in flow:  # to the end, so the client is closed before the last yield
        if ev.kind != "result":
            yield _live(ev, run_dir, req.partial_images)
    files = session.result_files(ev, run_dir=run_dir)
    g = ev.generation
    yield {
        "gif": str(files.files["gif"]),
        "mp4": str(files.files["mp4"]),
        "cost": summary.cost_markdown(g, ledger) + "\n\n" + summary.steps_markdown(ev),
        "grid": str(files.cut),
        "frames": [str(p) for p in files.frames],
        "files": files.downloads + [str(session.copy_grid(g.grid_path, run_dir=run_dir))],
        "status": summary.event_markdown(ev, 0) + "\n\n" + summary.animation_markdown(files),
        "ledger": ledger,
        "last": {
            "id": g.record.id,
            "rows": files.anim.layout.rows,
            "cols": files.anim.layout.cols,
            "fps": prepared.fps,
        },
    }


def stylise_outputs(req: GenerationRequest, api_key: str | None, request: Any) -> tuple[str, str, str]:
    """Stylise first, step one: the styled still (a copy to show), its cost text and its id (to keep)."""
    *_, ev = paid_events(api_key, request, lambda client, billing: pipeline.stylise(req, client, billing=billing))
    g = ev.generation  # the last event is the Result; running to the end closes the client
    return str(session.copy_grid(g.grid_path)), summary.cost_markdown(g, None), g.record.id


def redraw_outputs(
    rid: str, frames: str | None, fix: str | None, api_key: str | None, request: Any
) -> tuple[str, str, str, str]:
    """Re-draw some frames of one of this visitor's grids (one masked edit): GIF, MP4, text, new id."""
    parent = policy.load_visible(request, rid)  # another visitor's grid is "not found"
    *_, ev = paid_events(
        api_key,
        request,
        lambda client, billing: pipeline.redraw_and_animate(
            parent, frames or "", client, fix=fix or None, formats=APP_FORMATS, billing=billing, heartbeat=None
        ),
    )
    files = session.result_files(ev)
    return str(files.files["gif"]), str(files.files["mp4"]), summary.redraw_markdown(ev), ev.record.id
