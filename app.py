"""gridanim's web app: Generate, Animate and History tabs (Gradio 6 wiring only).

Run it three ways with the same file:

* ``python app.py [--share] [--host H] [--port P]`` (host/port also from
  ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``; ``--share`` falls back to
  local serving with a note when no public link can be made);
* a Hugging Face Space (README front matter; ``python -m gridanim deploy``);
* imported: ``import app; app.demo.launch(**app.launch_options())`` (tests).

API endpoints (stable; every input after the first has a default):

* ``/animate`` (grid image file, rows, cols, inset, fps, order, custom_order,
  drop, stabilize, smooth, gif_quality, gif_max_kb, max_size, transparent,
  scale, sprite_sheet, inbetween, hold) -> (GIF, MP4, downloads, summary,
  numbered cut); the loop-seam hint, its plot and the per-frame timing table
  follow in the page;
* ``/generate`` (prompt, style, rows, cols, shape, model, quality, fps,
  partial_images, reference, layout_guide, api_key, route, gif_frames,
  transparent, stylise_first) -> (GIF, MP4, cost text, numbered cut, frames,
  downloads, status); ``/stylise`` makes the still that stylise-first keeps;
* ``/redraw`` (id, frames, fix, api_key) -> (GIF, MP4, cost text, new id);
  ``/history`` -> this visitor's saved generations as data;
* ``/detect`` (grid, rows, cols, inset) -> (numbered cut, layout text);
* ``/estimate`` (the generate settings) -> the cost estimate text.

Handlers only translate between Gradio values and the package (paid flows:
:mod:`gridanim.pipeline`; forms: :mod:`gridanim.hosting.webform`; texts:
:mod:`gridanim.hosting.summary`); ``_gr_errors`` turns every
:class:`~gridanim.errors.GridanimError` into a specific ``gr.Error``. A
visitor's key is passed to ``make_client`` for that one request and nowhere
else (``run_history=False`` keeps it out of the browser's storage too).
"""

from __future__ import annotations

import os

# Before gradio is imported: no telemetry, no version check.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in gridanim/__main__.py

import argparse  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from gridanim import pipeline  # noqa: E402
from gridanim.animate import AnimateOptions  # noqa: E402
from gridanim.errors import GridanimError, LimitError, MissingKeyError  # noqa: E402
from gridanim.generation.generate import MAX_PARTIAL_IMAGES, prepare, route_quotes  # noqa: E402
from gridanim.generation.models import load_catalog, offered_models  # noqa: E402
from gridanim.generation.plan import MAX_SIDE_CELLS  # noqa: E402
from gridanim.generation.presets import load_presets  # noqa: E402
from gridanim.generation.pricing import CostLedger  # noqa: E402
from gridanim.hosting import policy as hosting  # noqa: E402
from gridanim.hosting import session, summary  # noqa: E402
from gridanim.hosting.keys import ENV_KEY, make_client, resolve_key  # noqa: E402
from gridanim.hosting.storage import data_dir  # noqa: E402
from gridanim.hosting.webform import file_path as _path  # noqa: E402
from gridanim.hosting.webform import form_request as _request  # noqa: E402
from gridanim.hosting.webform import history_note as _history_note  # noqa: E402
from gridanim.hosting.webform import offers_gif, preset_sample, qualities, style_choices, style_markdown  # noqa: E402

HERE = Path(__file__).resolve().parent
APP_FORMATS = ("gif", "mp4", "webp", "zip")  # the downloads every run offers (APNG: CLI --apng)
EXAMPLES_DIR = HERE / "examples"
AUTO = "auto"
COUNTS = [AUTO] + [str(n) for n in range(1, MAX_SIDE_CELLS + 1)]
SHAPES = ["square", "portrait", "landscape", "wide", "tall"]
ORDERS = ["forward", "reverse", "pingpong", "custom"]
ESTIMATE_PLACEHOLDER = "a short looping animation"
MAX_FILE_SIZE = "25mb"
HISTORY_LIMIT = 60

CSS = """
#gen-status, #anim-summary { min-height: 1.5em; }
#gen-estimate { border-left: 3px solid var(--color-accent); padding-left: .75em; }
.gridanim-note { font-size: .85em; opacity: .8; }
"""

PRESETS = load_presets()
MODELS = offered_models()
CATALOG = load_catalog()


# ------------------------------------------------------------------ small helpers


def _error(e: Exception, title: str = "Error") -> gr.Error:
    return gr.Error(str(e), title=title, print_exception=False)


def _count(value) -> int | None:
    """A rows/cols choice: "auto", "", 0 or None -> None (detect), else the number."""
    if value in (None, "", AUTO):
        return None
    n = int(float(value))
    return n if n > 0 else None


@contextmanager
def _gr_errors():
    """The package's one-line errors as specific ``gr.Error`` toasts (the key is never in them)."""
    try:
        yield
    except MissingKeyError:
        raise gr.Error(summary.NO_KEY, title="OpenAI key needed", duration=None, print_exception=False) from None
    except LimitError as e:
        raise _error(e, title="Free limit reached") from None
    except GridanimError as e:
        raise _error(e, title=summary.error_title(e)) from None


def _paid(api_key, request, make_events):
    """Run one paid pipeline flow with the visitor's (or the host's) key; yields its events, closes the client."""
    with _gr_errors():
        key = resolve_key(api_key)
        client = make_client(key)
    del key
    try:
        with _gr_errors():
            yield from make_events(client, hosting.billing(request, bool((api_key or "").strip())))
    finally:
        client.close()


# ------------------------------------------------------------------ Generate tab


def style_changed(style):
    """Show the preset's description (and sample) and adopt its grid defaults (sprites: transparency on)."""
    if not style:
        return style_markdown(None), gr.update(value=None, visible=False), *[gr.skip()] * 5
    with _gr_errors():
        p = PRESETS.get(style)
    sample = preset_sample(p)
    return style_markdown(p), gr.update(value=sample, visible=bool(sample)), p.rows, p.cols, p.shape, p.fps, p.transparent


def model_changed(model):
    choices = qualities(model)
    default = CATALOG.default_quality if CATALOG.default_quality in choices else choices[0]
    gif = offers_gif(model)
    return gr.update(choices=choices, value=default), gr.update(visible=gif, value="grid"), gr.update(visible=gif)


def estimate(prompt=None, style=None, rows=None, cols=None, shape=None, model=None, quality=None, fps=None, partial_images=None,
             reference=None, layout_guide=None, route="grid", gif_frames=None, transparent=None, stylise_first=False):
    """The live cost estimate of both routes (no network, no key)."""
    req = _request(prompt or ESTIMATE_PLACEHOLDER, style, rows, cols, shape, model, quality, fps, partial_images, reference,
                   layout_guide, route, gif_frames, transparent, stylise_first)
    return summary.routes_markdown(route_quotes(req), req.route)


def key_hint():
    return summary.KEY_HINT_SERVER if os.environ.get(ENV_KEY, "").strip() else summary.KEY_HINT_NONE


def _live(ev, run_dir, partials):
    """A pipeline event as the Generate tab's status (and picture, for previews and the saved image)."""
    out = {gen_status: summary.event_markdown(ev, partials)}
    if ev.kind in ("partial", "saved"):
        name = f"partial_{ev.index + 1}.png" if ev.kind == "partial" else f"{ev.step}.png"
        out[gen_grid] = str(session.write_bytes(run_dir, name, ev.png))
    return out


def generate(prompt, style="", rows=3, cols=4, shape="square", model=None, quality=None, fps=8, partial_images=2, reference=None,
             layout_guide=False, api_key=None, route="grid", gif_frames=9, transparent=None, stylise_first=False,
             ledger=None, still=None, request: gr.Request = None):
    """One paid flow (the still first, if asked), streamed, then the grid cut into GIF / MP4 / WebP / frames."""
    ledger = ledger if isinstance(ledger, CostLedger) else CostLedger()
    with _gr_errors():
        req = _request(prompt, style, rows, cols, shape, model, quality, fps, partial_images, reference, layout_guide,
                       route, gif_frames, transparent, stylise_first)
        prepared = prepare(req)
        kept = hosting.load_visible(request, still) if still and req.stylise_first else None
    run_dir = session.new_run_dir()
    yield {gen_status: f"Working: sending the request to OpenAI (estimate {prepared.quote.estimate.describe()})…", ledger_state: ledger}
    flow = _paid(api_key, request, lambda client, billing: pipeline.generate_and_animate(
        prepared, client, formats=APP_FORMATS, ledger=ledger, billing=billing, heartbeat=1.0, still=kept))
    for ev in flow:  # to the end, so the client is closed before the last yield
        if ev.kind != "result":
            yield _live(ev, run_dir, req.partial_images)
    files = session.result_files(ev, run_dir=run_dir)
    g = ev.generation
    yield {
        gen_gif: str(files.files["gif"]),
        gen_mp4: str(files.files["mp4"]),
        gen_cost: summary.cost_markdown(g, ledger) + "\n\n" + summary.steps_markdown(ev),
        gen_grid: str(files.cut),
        gen_frames: [str(p) for p in files.frames],
        gen_files: files.downloads + [str(session.copy_grid(g.grid_path, run_dir=run_dir))],
        gen_status: summary.event_markdown(ev, 0) + "\n\n" + summary.animation_markdown(files),
        ledger_state: ledger,
        last_grid: {"id": g.record.id, "rows": files.anim.layout.rows, "cols": files.anim.layout.cols, "fps": prepared.fps},
    }


def stylise_still(prompt, style="", model=None, quality=None, reference=None, api_key=None, request: gr.Request = None):
    """Stylise first, step one: the photo as the styled character, to keep (then Generate) or retry (click again)."""
    with _gr_errors():
        req = _request(prompt, style, None, None, None, model, quality, None, 0, reference, False, stylise_first=True)
    flow = _paid(api_key, request, lambda client, billing: pipeline.stylise(req, client, billing=billing))
    *_, ev = flow  # the last event is the Result; running to the end closes the client
    g = ev.generation
    path = session.copy_grid(g.grid_path)
    return str(path), summary.cost_markdown(g, None), g.record.id


def allowance(request: gr.Request = None):
    """What this visitor has left on the app's key (on load and after each generation)."""
    return hosting.allowance_markdown(request)


def recut(last, request: gr.Request = None):
    """Load the last generated grid into Animate (no new request)."""
    if not last:
        raise gr.Error("Generate a grid first (or pick one in History).", print_exception=False)
    return history_open(last["id"], request)


def fix_frames(last):
    """After a generation: pick its frames to re-draw in History."""
    if not last:
        raise gr.Error("Generate a grid first (or pick one in History).", print_exception=False)
    return last["id"], gr.Tabs(selected="history")


# ------------------------------------------------------------------ Animate tab


def detect(grid, rows=AUTO, cols=AUTO, inset=0):
    """Detect the layout of an uploaded grid and draw the numbered cut."""
    path = _path(grid)
    if not path:
        return None, ""
    try:
        pv = session.preview_cut(path, _count(rows), _count(cols), int(inset or 0))
    except GridanimError as e:
        raise _error(e) from None
    return str(pv.cut), summary.layout_markdown(pv.layout, pv.notes)


SCALE_AUTO = "Auto"
SCALES = [SCALE_AUTO, "1×", "2×", "3×", "4×", "6×", "8×"]


def _scale(value) -> int | None:
    """"Auto" (small pixel art is enlarged to about 256 px) -> None; "4×" -> 4."""
    text = str(value or SCALE_AUTO).strip().rstrip("×x")
    return None if not text or text == SCALE_AUTO else int(text)


def animate_grid(
    grid,
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
    scale=SCALE_AUTO,
    sprite_sheet=True,
    inbetween="flow",
    hold="",
):
    """Cut a grid into frames and write GIF, MP4, WebP, a frames ZIP and (by default) a sprite sheet ZIP."""
    path = _path(grid)
    if not path:
        raise gr.Error("Upload a grid image first (PNG, JPEG or WebP), or click an example.", print_exception=False)
    opts = AnimateOptions(
        rows=_count(rows),
        cols=_count(cols),
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
        scale=_scale(scale),
        inbetween=inbetween or "flow",
        hold=(hold or "").strip(),
    )
    try:
        formats = APP_FORMATS + (("sheet",) if sprite_sheet else ())
        run = session.animate_to_files(path, opts, formats=formats)
    except GridanimError as e:
        raise _error(e) from None
    motion_view = _motion_view(run)
    return (
        str(run.files["gif"]), str(run.files["mp4"]), run.downloads, summary.animation_markdown(run), str(run.cut),
        motion_view,
    )


def _motion_view(run) -> dict:
    """The loop-seam hint, its plot (a PNG in the run folder) and the per-frame timing rows of one animate run."""
    from gridanim.motion import seam_plot_png

    a = run.anim
    plot = run.run_dir / "loop_seam.png"
    plot.write_bytes(seam_plot_png(a.step_changes, a.sequence))
    return {"hint": summary.seam_markdown(a), "plot": str(plot), "rows": summary.timing_rows(a)}


def timing_edited(table, view, hold=""):
    """Edits in the timing table's "shows (ms)" column become holds (the Hold frames box)."""
    if not view:
        return gr.skip()
    rows = table.values.tolist() if hasattr(table, "values") else list((table or {}).get("data", table) or [])
    try:
        return summary.holds_from_table(rows, view["rows"], hold or "")
    except GridanimError as e:
        raise _error(e) from None


def show_motion(view):
    """Fill the seam hint, plot and timing table from :func:`animate_grid`'s state."""
    if not view:
        return "", None, None
    return view["hint"], view["plot"], view["rows"]


def order_changed(order):
    return gr.update(visible=order == "custom")


# ------------------------------------------------------------------ History tab


def history_list(request: gr.Request = None):
    records = hosting.visible_history(request, HISTORY_LIMIT)  # on a Space: this visitor's own only
    items = [(str(session.thumbnail(r.png_path)), summary.history_caption(r)) for r in records]
    return items, [r.id for r in records], _history_note(len(records), hosting.history_is_private(), str(data_dir())), None, ""


def history_api(request: gr.Request = None) -> list[dict]:
    """This visitor's saved generations as data: id, prompt, cost, parent (the API twin of the gallery)."""
    return [summary.history_row(r) for r in hosting.visible_history(request, HISTORY_LIMIT)]


def history_select(ids, evt: gr.SelectData, request: gr.Request = None):
    if not ids or evt.index is None or evt.index >= len(ids):
        return None, ""
    return ids[evt.index], history_details(ids[evt.index], request)


def history_details(rid, request: gr.Request = None):
    if not rid:
        return ""
    with _gr_errors():
        return summary.history_markdown(hosting.load_visible(request, rid))


def history_open(rid, request: gr.Request = None):
    """Open a saved generation in Animate at no cost."""
    if not rid:
        raise gr.Error("Pick a generation in the gallery first.", print_exception=False)
    with _gr_errors():
        rec = hosting.load_visible(request, rid)
    plan = rec.meta.get("plan") or {}
    path = session.copy_grid(rec.png_path)
    return str(path), str(plan.get("rows") or AUTO), str(plan.get("cols") or AUTO), rec.meta.get("fps") or 8, gr.Tabs(selected="animate")


def redraw_estimate(rid, frames, request: gr.Request = None):
    """The cost of a re-draw before the click (no network, no key)."""
    if not rid or not (frames or "").strip():
        return ""
    try:
        q = pipeline.prepare_redraw(hosting.load_visible(request, rid), frames).quote.estimate
    except GridanimError as e:
        return f"Cannot re-draw: {e}"
    return f"Estimated cost of this re-draw: **{q.describe()}** (one edit of the whole grid; only these frames are kept)"


def redraw(rid, frames, fix="", api_key=None, request: gr.Request = None):
    """Re-draw some frames of one of this visitor's grids (one masked edit); the others stay pixel-identical."""
    if not rid:
        raise gr.Error("Pick a generation in the gallery first.", print_exception=False)
    with _gr_errors():
        parent = hosting.load_visible(request, rid)  # another visitor's grid is "not found"
    flow = _paid(api_key, request, lambda client, billing: pipeline.redraw_and_animate(
        parent, frames or "", client, fix=fix or None, formats=APP_FORMATS, billing=billing, heartbeat=None))
    *_, ev = flow
    files = session.result_files(ev)
    return (str(files.files["gif"]), str(files.files["mp4"]), summary.redraw_markdown(ev), ev.record.id)


# ------------------------------------------------------------------ layout


# Examples whose layout detection needs a hint (faint column seams); the rest show auto-detection.
EXAMPLE_HINTS = {"photo_muybridge_horse_4x4_numbered.jpg": ("4", "4")}


def _examples() -> list[list[str]]:
    """[path, rows, cols] for every bundled example image."""
    if not EXAMPLES_DIR.is_dir():
        return []
    images = sorted(p for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    return [[str(p), *EXAMPLE_HINTS.get(p.name, (AUTO, AUTO))] for p in images]


_INITIAL_ESTIMATE = estimate("", "", 3, 4, "square", MODELS[0] if MODELS else None, CATALOG.default_quality, 8, 2, None, False)
_GIF_MODEL = bool(MODELS) and offers_gif(MODELS[0])

with gr.Blocks(title="gridanim: grid to GIF and MP4", delete_cache=(3600, 3600)) as demo:
    gr.Markdown(
        "# gridanim\nTurn a grid of animation panels into a clean looping **GIF** and **MP4**, "
        "or generate the grid with **one** OpenAI image call."
    )
    ledger_state = gr.State(None)
    last_grid = gr.State(None)
    still_state = gr.State(None)
    history_ids = gr.State([])
    history_pick = gr.Textbox(None, visible=False, label="Generation id")  # a real input: /redraw takes the id

    with gr.Tabs() as tabs:
        # -------------------------------------------------------------- Generate
        with gr.Tab("Generate", id="generate"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    prompt = gr.Textbox(
                        label="Prompt", placeholder="a cat chasing its tail", lines=2, elem_id="gen-prompt",
                        info="The subject and its motion. The grid layout is added for you.",
                    )
                    style = gr.Dropdown(style_choices(PRESETS), value="", label="Style preset", elem_id="gen-style")
                    style_md = gr.Markdown(style_markdown(None), elem_classes="gridanim-note")
                    style_sample = gr.Image(label="Style sample", visible=False, interactive=False, height=200)
                    with gr.Row():
                        g_rows = gr.Slider(1, MAX_SIDE_CELLS, value=3, step=1, label="Rows", elem_id="gen-rows")
                        g_cols = gr.Slider(1, MAX_SIDE_CELLS, value=4, step=1, label="Columns")
                    shape = gr.Dropdown(SHAPES, value="square", label="Frame shape", allow_custom_value=True,
                                        info="square, portrait, landscape, wide, tall, or a ratio like 16:9")
                    reference = gr.File(label="Reference photo (optional: photo → animation)", file_types=["image"],
                                        elem_id="gen-reference", height=140)
                    with gr.Row():
                        stylise_first = gr.Checkbox(False, label="Stylise the photo first (better likeness: two calls)")
                        stylise_btn = gr.Button("1. Make the styled still (click again to retry)", size="sm", elem_id="gen-stylise")
                    with gr.Row():
                        route = gr.Radio([("Grid (cut here)", "grid"), ("Native GIF", "gif")], value="grid", label="Route",
                                         visible=_GIF_MODEL, elem_id="gen-route")
                        gif_frames = gr.Slider(2, 16, value=9, step=1, label="GIF frames", visible=_GIF_MODEL, elem_id="gen-gif-frames")
                        g_transparent = gr.Checkbox(False, label="Transparent sprite (real alpha)", elem_id="gen-transparent")
                    with gr.Accordion("Advanced", open=False, elem_id="gen-advanced"):
                        with gr.Row():
                            model = gr.Dropdown(MODELS, value=MODELS[0] if MODELS else None, label="Model", elem_id="gen-model")
                            quality = gr.Dropdown(qualities(MODELS[0]) if MODELS else ["auto"],
                                                  value=CATALOG.default_quality, label="Quality")
                        with gr.Row():
                            g_fps = gr.Slider(1, 30, value=8, step=1, label="Frames per second")
                            partials = gr.Slider(0, MAX_PARTIAL_IMAGES, value=2, step=1, label="Live previews",
                                                 info="partial images while it draws (+100 tokens each)")
                        layout_guide = gr.Checkbox(False, label="Send a numbered layout guide with the reference photo")
                    api_key = gr.Textbox("", label="Your own OpenAI key (optional)", type="password", placeholder="sk-...",
                                         elem_id="gen-key", info="Used for this request only; never stored or logged.")
                    key_md = gr.Markdown(key_hint(), elem_classes="gridanim-note")
                    allowance_md = gr.Markdown("", elem_classes="gridanim-note", elem_id="gen-allowance")
                    estimate_md = gr.Markdown(_INITIAL_ESTIMATE, label="Estimate", elem_id="gen-estimate")
                    gen_btn = gr.Button("Generate", variant="primary", elem_id="gen-btn")
                with gr.Column(scale=6):
                    gen_status = gr.Markdown("", label="Status", elem_id="gen-status")
                    gen_grid = gr.Image(label="Grid (numbered cut)", show_label=False, type="filepath", format="png", interactive=False,
                                        elem_id="gen-grid", buttons=["download", "fullscreen"], height=360)
                    with gr.Row():
                        gen_gif = gr.Image(label="GIF", type="filepath", interactive=False, elem_id="gen-gif",
                                           buttons=["download", "fullscreen"], height=260)
                        gen_mp4 = gr.Video(label="MP4", interactive=False, elem_id="gen-mp4", height=260,
                                           autoplay=True, loop=True)
                    gen_cost = gr.Markdown("", label="Cost", elem_id="gen-cost")
                    gen_frames = gr.Gallery(label="Frames", columns=6, height=180, elem_id="gen-frames", interactive=False)
                    gen_files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="gen-files")
                    with gr.Row():
                        recut_btn = gr.Button("Re-cut / re-time in Animate (free)", elem_id="gen-to-animate")
                        fix_btn = gr.Button("Fix some frames (History)", elem_id="gen-fix")

        # -------------------------------------------------------------- Animate
        with gr.Tab("Animate a grid", id="animate"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    grid_in = gr.File(label="Grid image (PNG, JPEG, WebP)", file_types=["image"], elem_id="grid-in", height=140)
                    cut_img = gr.Image(label="Detected cut (numbered frames)", show_label=False, type="filepath", interactive=False,
                                       elem_id="cut-out", buttons=["fullscreen"], height=340)
                    layout_md = gr.Markdown("", label="Layout", elem_id="layout-md")
                    with gr.Row():
                        a_rows = gr.Dropdown(COUNTS, value=AUTO, label="Rows", elem_id="a-rows")
                        a_cols = gr.Dropdown(COUNTS, value=AUTO, label="Columns", elem_id="a-cols")
                        inset = gr.Slider(0, 40, value=0, step=1, label="Inset (px trimmed per side)")
                    with gr.Row():
                        a_fps = gr.Slider(1, 30, value=8, step=1, label="Frames per second")
                        order = gr.Dropdown(ORDERS, value="forward", label="Order")
                    custom_order = gr.Textbox("", label="Custom order", placeholder="1-4,6,8", visible=False)
                    with gr.Row():
                        stabilize = gr.Checkbox(False, label="Stabilise (remove jitter)")
                        smooth = gr.Slider(0, 4, value=0, step=1, label="Smoothing (in-between frames)",
                                           elem_id="a-smooth")
                    with gr.Row():
                        inbetween = gr.Radio(
                            [("Follow the motion (optical flow)", "flow"), ("Cross-fade", "blend")], value="flow",
                            label="In-betweens", elem_id="a-inbetween",
                            info="Flow falls back to cross-fades where it cannot follow; off for pixel art.",
                        )
                        hold = gr.Textbox("", label="Hold frames (frame:ms)", placeholder="e.g. 1:300,12:500",
                                          elem_id="a-hold", info="Numbers as in the cut; other frames keep the fps.")
                    with gr.Row():
                        transparent = gr.Checkbox(False, label="Transparent background (removes a flat colour, green screen or fake checkerboard)",
                                                  elem_id="a-transparent")
                        scale = gr.Radio(SCALES, value=SCALE_AUTO, label="Pixel-art scale (Auto enlarges small sprites)",
                                         elem_id="a-scale")
                    sprite_sheet = gr.Checkbox(True, label="Sprite sheet (PNG + JSON) download", elem_id="a-sheet",
                                               info="Aseprite JSON for Phaser/PixiJS, and a Godot 4 .tres")
                    with gr.Accordion("Size and more", open=False):
                        with gr.Row():
                            gif_quality = gr.Radio(["high", "fast"], value="high", label="GIF quality")
                            gif_max_kb = gr.Number(0, label="Fit GIF under (KB, 0 = no limit)", minimum=0)
                        with gr.Row():
                            max_size = gr.Number(0, label="Longest side (px, 0 = as cut)", minimum=0, precision=0)
                            drop = gr.Textbox("", label="Leave out frames", placeholder="e.g. 12 or 5,7-8")
                    anim_btn = gr.Button("Make animation", variant="primary", elem_id="anim-btn")
                    gr.Examples(_examples(), inputs=[grid_in, a_rows, a_cols], label="Examples: click one", examples_per_page=6)
                with gr.Column(scale=6):
                    a_gif = gr.Image(label="GIF", type="filepath", interactive=False, elem_id="gif-out",
                                     buttons=["download", "fullscreen"], height=380)
                    a_mp4 = gr.Video(label="MP4", interactive=False, elem_id="mp4-out", height=320, autoplay=True, loop=True)
                    a_summary = gr.Markdown("", label="Summary", elem_id="anim-summary")
                    with gr.Row(equal_height=False):
                        seam_md = gr.Markdown("", elem_id="seam-hint")
                        seam_plot = gr.Image(label="Change per step (red: last → first)", type="filepath",
                                             interactive=False, elem_id="seam-plot", height=150, buttons=[])
                    timing_table = gr.Dataframe(headers=summary.TIMING_HEADERS, label="Per-frame timing (edit a frame's ms "
                                                "to hold it, then Make animation)", interactive=True,
                                                static_columns=[0, 1, 3], elem_id="timing-table", max_height=260)
                    a_files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="anim-files")

        # -------------------------------------------------------------- History
        with gr.Tab("History", id="history"):
            history_note = gr.Markdown("")
            with gr.Row(equal_height=False):
                with gr.Column(scale=7):
                    history = gr.Gallery(label="Earlier generations", show_label=False, columns=4, height=460, elem_id="history-gallery",
                                         interactive=False, allow_preview=False, fit_columns=False, object_fit="contain")
                with gr.Column(scale=4):
                    history_md = gr.Markdown("", elem_id="history-details")
                    history_open_btn = gr.Button("Open in Animate (free)", variant="primary", elem_id="history-open")
                    history_refresh = gr.Button("Refresh", elem_id="history-refresh")
                    with gr.Accordion("Re-draw some frames (one paid edit; the others stay as they are)", open=True):
                        redraw_frames = gr.Textbox("", label="Frames", placeholder="e.g. 3,7", elem_id="redraw-frames")
                        redraw_fix = gr.Textbox("", label="What to fix (optional)", elem_id="redraw-fix")
                        redraw_est = gr.Markdown("", elem_id="redraw-estimate")
                        redraw_btn = gr.Button("Re-draw these frames", elem_id="redraw-btn")
                        redraw_md = gr.Markdown("", elem_id="redraw-md")
                        redraw_id = gr.Textbox(None, visible=False, label="New version id")
                        redraw_gif = gr.Image(label="Re-drawn GIF", type="filepath", interactive=False, elem_id="redraw-gif", height=240)
                        redraw_mp4 = gr.Video(label="Re-drawn MP4", interactive=False, elem_id="redraw-mp4", height=240, autoplay=True, loop=True)

    gr.Markdown(summary.SHARE_NOTE, elem_classes="gridanim-note")

    # ------------------------------------------------------------------ events
    gen_inputs = [prompt, style, g_rows, g_cols, shape, model, quality, g_fps, partials, reference, layout_guide]
    route_inputs = [route, gif_frames, g_transparent, stylise_first]
    style.change(style_changed, style, [style_md, style_sample, g_rows, g_cols, shape, g_fps, g_transparent], api_visibility="private")
    model.change(model_changed, model, [quality, route, gif_frames], api_visibility="private")
    reference.change(lambda _: None, reference, still_state, api_visibility="private")
    gr.on(
        [c.change for c in gen_inputs + route_inputs],
        estimate,
        gen_inputs + route_inputs,
        estimate_md,
        api_name="estimate",
        trigger_mode="always_last",
        show_progress="hidden",
        concurrency_limit=4,
        concurrency_id="estimate",
    )
    stylise_btn.click(stylise_still, [prompt, style, model, quality, reference, api_key], [gen_grid, gen_cost, still_state],
                      api_name="stylise", concurrency_limit=2, concurrency_id="openai")
    gen_btn.click(
        generate,
        gen_inputs + [api_key] + route_inputs + [ledger_state, still_state],
        [gen_gif, gen_mp4, gen_cost, gen_grid, gen_frames, gen_files, gen_status, ledger_state, last_grid],
        api_name="generate",
        concurrency_limit=2,
        concurrency_id="openai",
        show_progress="minimal",
    ).then(history_list, None, [history, history_ids, history_note, history_pick, history_md], api_visibility="private").then(
        allowance, None, allowance_md, api_name="allowance_refresh", api_visibility="private", show_progress="hidden"
    )
    recut_btn.click(recut, last_grid, [grid_in, a_rows, a_cols, a_fps, tabs], api_visibility="private")
    fix_btn.click(fix_frames, last_grid, [history_pick, tabs], api_visibility="private").then(
        history_details, history_pick, history_md, api_visibility="private")

    gr.on(
        [grid_in.change, a_rows.change, a_cols.change, inset.release],
        detect,
        [grid_in, a_rows, a_cols, inset],
        [cut_img, layout_md],
        api_name="detect",
        trigger_mode="always_last",
        concurrency_limit=2,
        concurrency_id="detect",
    )
    order.change(order_changed, order, custom_order, api_visibility="private")
    motion_state = gr.State(None)
    anim_btn.click(
        animate_grid,
        [grid_in, a_rows, a_cols, inset, a_fps, order, custom_order, drop, stabilize, smooth, gif_quality, gif_max_kb, max_size,
         transparent, scale, sprite_sheet, inbetween, hold],
        [a_gif, a_mp4, a_files, a_summary, cut_img, motion_state],
        api_name="animate",
        concurrency_limit=2,
        concurrency_id="animate",
    ).then(
        show_motion, motion_state, [seam_md, seam_plot, timing_table], api_visibility="private", show_progress="hidden"
    )
    timing_table.input(timing_edited, [timing_table, motion_state, hold], hold, api_visibility="private",
                       show_progress="hidden")

    history_outputs = [history, history_ids, history_note, history_pick, history_md]
    history_refresh.click(history_list, None, history_outputs, api_visibility="private")
    history.select(history_select, history_ids, [history_pick, history_md], api_visibility="private", show_progress="hidden")
    history_open_btn.click(history_open, history_pick, [grid_in, a_rows, a_cols, a_fps, tabs], api_visibility="private")
    redraw_btn.click(redraw, [history_pick, redraw_frames, redraw_fix, api_key], [redraw_gif, redraw_mp4, redraw_md, redraw_id],
                     api_name="redraw", concurrency_limit=2, concurrency_id="openai").then(
        history_list, None, history_outputs, api_visibility="private")
    gr.api(history_api, api_name="history")
    gr.on([redraw_frames.change, history_pick.change], redraw_estimate, [history_pick, redraw_frames], redraw_est,
          api_visibility="private", show_progress="hidden", trigger_mode="always_last")

    demo.load(key_hint, None, key_md, api_visibility="private", show_progress="hidden")
    demo.load(allowance, None, allowance_md, api_name="allowance", api_visibility="undocumented", show_progress="hidden")
    demo.load(history_list, None, history_outputs, api_visibility="private", show_progress="hidden")

demo.queue(max_size=20, default_concurrency_limit=2)


# ------------------------------------------------------------------ launching


def launch_options() -> dict:
    """``launch()`` settings shared by ``python app.py`` and tests (theme, limits, paths)."""
    return {
        "theme": gr.themes.Soft(),
        "css": CSS,
        "max_file_size": MAX_FILE_SIZE,
        "run_history": False,  # keeps pasted keys out of the browser's localStorage
        "allowed_paths": [str(EXAMPLES_DIR)],  # never the data dir: grids are copied into run folders per visitor
        "blocked_paths": hosting.private_paths(),  # the usage store lives in the data dir: never serve it
    }


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python app.py", description="Run the gridanim web app.")
    p.add_argument("--share", action="store_true", help="also make a public gradio.live link (public to anyone with it; expires after 72 h)")
    p.add_argument("--host", help="address to listen on (default: $GRADIO_SERVER_NAME, else 127.0.0.1; 0.0.0.0 = every interface)")
    p.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT, else the first free one from 7860)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        print(f"gridanim: {hosting.Policy.from_env().describe()}", flush=True)  # also checks the limits' env vars
    except GridanimError as e:
        raise SystemExit(f"error: {e}") from None
    share = args.share or os.environ.get("GRADIO_SHARE", "").lower() == "true"
    kw = launch_options()
    if args.host:
        kw["server_name"] = args.host
    if args.port:
        kw["server_port"] = args.port
    demo.launch(share=share, prevent_thread_lock=True, **kw)
    if share and not demo.share_url:
        print(f"note: no public share link could be made (offline or blocked); still serving locally at {demo.local_url}", flush=True)
    elif share:
        print(f"note: {demo.share_url} is public to anyone who has it and expires after 72 hours", flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
