"""gridanim's web app: Generate, Animate and History tabs (Gradio 6 layout and event wiring only).

Run it three ways with the same file: ``python app.py [--share] [--host H] [--port P]`` (host/port also
from ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``); a Hugging Face Space (README front matter;
``python -m gridanim deploy``); imported: ``import app; app.demo.launch(**app.launch_options())`` (tests).

API endpoints (stable; every input after the first has a default): ``/animate`` (grid image file, rows,
cols, inset, fps, order, custom_order, drop, stabilize, smooth, gif_quality, gif_max_kb, max_size,
transparent, scale, sprite_sheet, inbetween, hold) -> (GIF, MP4, downloads, summary, numbered cut);
``/generate`` (prompt, style, rows, cols, shape, model, quality, fps, partial_images, reference,
layout_guide, api_key, route, gif_frames, transparent, stylise_first) -> (GIF, MP4, cost text, numbered
cut, frames, downloads, status); ``/stylise`` makes the still that stylise-first keeps; ``/redraw`` (id,
frames, fix, api_key) -> (GIF, MP4, cost text, new id); ``/history`` -> this visitor's saved generations;
``/detect`` (grid, rows, cols, inset) -> (numbered cut, layout text); ``/estimate`` -> the cost estimate.

The handlers are :mod:`gridanim.hosting.handlers` (each wrapped in its one error decorator); serving is
:mod:`gridanim.hosting.launch`. A visitor's key is used for that one request and nowhere else.
"""

from __future__ import annotations

import os

# Before gradio is imported: no telemetry, no version check.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in gridanim/__main__.py

from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from gridanim.generation.generate import MAX_PARTIAL_IMAGES  # noqa: E402
from gridanim.generation.plan import MAX_SIDE_CELLS  # noqa: E402
from gridanim.hosting import animate_view, launch, summary, webform  # noqa: E402
from gridanim.hosting import handlers as h  # noqa: E402
from gridanim.hosting.animate_view import AUTO, ORDERS, SCALE_AUTO, SCALES  # noqa: E402
from gridanim.hosting.handlers import CATALOG, MODELS, PRESETS  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES_DIR = HERE / "examples"
COUNTS = [AUTO] + [str(n) for n in range(1, MAX_SIDE_CELLS + 1)]
SHAPES = ["square", "portrait", "landscape", "wide", "tall"]
_GIF_MODEL = bool(MODELS) and webform.offers_gif(MODELS[0])

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
                    style = gr.Dropdown(webform.style_choices(PRESETS), value="", label="Style preset",
                                        elem_id="gen-style")
                    style_md = gr.Markdown(webform.style_markdown(None), elem_classes="gridanim-note")
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
                        stylise_btn = gr.Button("1. Make the styled still (click again to retry)", size="sm",
                                                elem_id="gen-stylise")
                    with gr.Row():
                        route = gr.Radio([("Grid (cut here)", "grid"), ("Native GIF", "gif")], value="grid",
                                         label="Route", visible=_GIF_MODEL, elem_id="gen-route")
                        gif_frames = gr.Slider(2, 16, value=9, step=1, label="GIF frames", visible=_GIF_MODEL,
                                               elem_id="gen-gif-frames")
                        g_transparent = gr.Checkbox(False, label="Transparent sprite (real alpha)",
                                                    elem_id="gen-transparent")
                    with gr.Accordion("Advanced", open=False, elem_id="gen-advanced"):
                        with gr.Row():
                            model = gr.Dropdown(MODELS, value=MODELS[0] if MODELS else None, label="Model",
                                                elem_id="gen-model")
                            quality = gr.Dropdown(webform.qualities(MODELS[0]) if MODELS else ["auto"],
                                                  value=CATALOG.default_quality, label="Quality")
                        with gr.Row():
                            g_fps = gr.Slider(1, 30, value=8, step=1, label="Frames per second")
                            partials = gr.Slider(0, MAX_PARTIAL_IMAGES, value=2, step=1, label="Live previews",
                                                 info="partial images while it draws (+100 tokens each)")
                        layout_guide = gr.Checkbox(False, label="Send a numbered layout guide with the reference photo")
                    api_key = gr.Textbox("", label="Your own OpenAI key (optional)", type="password",
                                         placeholder="sk-...", elem_id="gen-key",
                                         info="Used for this request only; never stored or logged.")
                    key_md = gr.Markdown(webform.key_hint(), elem_classes="gridanim-note")
                    allowance_md = gr.Markdown("", elem_classes="gridanim-note", elem_id="gen-allowance")
                    estimate_md = gr.Markdown(h.estimate(
                        "", "", 3, 4, "square", MODELS[0] if MODELS else None, CATALOG.default_quality, 8, 2, None,
                        False), label="Estimate", elem_id="gen-estimate")
                    gen_btn = gr.Button("Generate", variant="primary", elem_id="gen-btn")
                with gr.Column(scale=6):
                    gen_status = gr.Markdown("", label="Status", elem_id="gen-status")
                    gen_grid = gr.Image(label="Grid (numbered cut)", show_label=False, type="filepath", format="png",
                                        interactive=False, elem_id="gen-grid", buttons=["download", "fullscreen"],
                                        height=360)
                    with gr.Row():
                        gen_gif = gr.Image(label="GIF", type="filepath", interactive=False, elem_id="gen-gif",
                                           buttons=["download", "fullscreen"], height=260)
                        gen_mp4 = gr.Video(label="MP4", interactive=False, elem_id="gen-mp4", height=260,
                                           autoplay=True, loop=True)
                    gen_cost = gr.Markdown("", label="Cost", elem_id="gen-cost")
                    gen_frames = gr.Gallery(label="Frames", columns=6, height=180, elem_id="gen-frames",
                                            interactive=False)
                    gen_files = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                        elem_id="gen-files")
                    with gr.Row():
                        recut_btn = gr.Button("Re-cut / re-time in Animate (free)", elem_id="gen-to-animate")
                        fix_btn = gr.Button("Fix some frames (History)", elem_id="gen-fix")

        # -------------------------------------------------------------- Animate
        with gr.Tab("Animate a grid", id="animate"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    grid_in = gr.File(label="Grid image (PNG, JPEG, WebP)", file_types=["image"], elem_id="grid-in",
                                      height=140)
                    cut_img = gr.Image(label="Detected cut (numbered frames)", show_label=False, type="filepath",
                                       interactive=False, elem_id="cut-out", buttons=["fullscreen"], height=340)
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
                        transparent = gr.Checkbox(False, label="Transparent background (removes a flat colour, "
                                                  "green screen or fake checkerboard)", elem_id="a-transparent")
                        scale = gr.Radio(SCALES, value=SCALE_AUTO, elem_id="a-scale",
                                         label="Pixel-art scale (Auto enlarges small sprites)")
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
                    gr.Examples(animate_view.examples(EXAMPLES_DIR), inputs=[grid_in, a_rows, a_cols],
                                label="Examples: click one", examples_per_page=6)
                with gr.Column(scale=6):
                    a_gif = gr.Image(label="GIF", type="filepath", interactive=False, elem_id="gif-out",
                                     buttons=["download", "fullscreen"], height=380)
                    a_mp4 = gr.Video(label="MP4", interactive=False, elem_id="mp4-out", height=320, autoplay=True,
                                     loop=True)
                    a_summary = gr.Markdown("", label="Summary", elem_id="anim-summary")
                    with gr.Row(equal_height=False):
                        seam_md = gr.Markdown("", elem_id="seam-hint")
                        seam_plot = gr.Image(label="Change per step (red: last → first)", type="filepath",
                                             interactive=False, elem_id="seam-plot", height=150, buttons=[])
                    timing_table = gr.Dataframe(headers=summary.TIMING_HEADERS,
                                                label="Per-frame timing (edit a frame's ms to hold it, "
                                                "then Make animation)",
                                                interactive=True, static_columns=[0, 1, 3], elem_id="timing-table",
                                                max_height=260)
                    a_files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="anim-files")

        # -------------------------------------------------------------- History
        with gr.Tab("History", id="history"):
            history_note = gr.Markdown("")
            with gr.Row(equal_height=False):
                with gr.Column(scale=7):
                    history_gallery = gr.Gallery(label="Earlier generations", show_label=False, columns=4, height=460,
                                                 elem_id="history-gallery", interactive=False, allow_preview=False,
                                                 fit_columns=False, object_fit="contain")
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
                        redraw_gif = gr.Image(label="Re-drawn GIF", type="filepath", interactive=False,
                                              elem_id="redraw-gif", height=240)
                        redraw_mp4 = gr.Video(label="Re-drawn MP4", interactive=False, elem_id="redraw-mp4",
                                              height=240, autoplay=True, loop=True)

    gr.Markdown(summary.SHARE_NOTE, elem_classes="gridanim-note")
    motion_state = gr.State(None)  # the last run's seam hint, plot and timing rows

    # -------------------------------------------------------------- events
    gen_inputs = [prompt, style, g_rows, g_cols, shape, model, quality, g_fps, partials, reference, layout_guide]
    route_inputs = [route, gif_frames, g_transparent, stylise_first]
    gen_outputs = [gen_gif, gen_mp4, gen_cost, gen_grid, gen_frames, gen_files, gen_status, ledger_state, last_grid]
    to_animate = [grid_in, a_rows, a_cols, a_fps, tabs]
    history_outputs = [history_gallery, history_ids, history_note, history_pick, history_md]
    private = {"api_visibility": "private"}
    quiet = {"api_visibility": "private", "show_progress": "hidden"}

    style.change(h.style_changed, style, [style_md, style_sample, g_rows, g_cols, shape, g_fps, g_transparent],
                 **private)
    model.change(h.model_changed, model, [quality, route, gif_frames], **private)
    reference.change(lambda _: None, reference, still_state, **private)
    gr.on([c.change for c in gen_inputs + route_inputs], h.estimate, gen_inputs + route_inputs, estimate_md,
          api_name="estimate", trigger_mode="always_last", show_progress="hidden", concurrency_limit=4,
          concurrency_id="estimate")
    stylise_btn.click(h.stylise_still, [prompt, style, model, quality, reference, api_key],
                      [gen_grid, gen_cost, still_state], api_name="stylise", concurrency_limit=2,
                      concurrency_id="openai")
    gen_btn.click(h.generate, gen_inputs + [api_key] + route_inputs + [ledger_state, still_state], gen_outputs,
                  api_name="generate", concurrency_limit=2, concurrency_id="openai", show_progress="minimal").then(
        h.history_list, None, history_outputs, **private).then(
        h.allowance, None, allowance_md, api_name="allowance_refresh", **quiet)
    recut_btn.click(h.recut, last_grid, to_animate, **private)
    fix_btn.click(h.fix_frames, last_grid, [history_pick, tabs], **private).then(
        h.history_details, history_pick, history_md, **private)

    gr.on([grid_in.change, a_rows.change, a_cols.change, inset.release], h.detect, [grid_in, a_rows, a_cols, inset],
          [cut_img, layout_md], api_name="detect", trigger_mode="always_last", concurrency_limit=2,
          concurrency_id="detect")
    order.change(h.order_changed, order, custom_order, **private)
    anim_btn.click(
        h.animate_grid,
        [grid_in, a_rows, a_cols, inset, a_fps, order, custom_order, drop, stabilize, smooth, gif_quality, gif_max_kb,
         max_size, transparent, scale, sprite_sheet, inbetween, hold],
        [a_gif, a_mp4, a_files, a_summary, cut_img, motion_state],
        api_name="animate", concurrency_limit=2, concurrency_id="animate",
    ).then(h.show_motion, motion_state, [seam_md, seam_plot, timing_table], **quiet)
    timing_table.input(h.timing_edited, [timing_table, motion_state, hold], hold, **quiet)

    history_refresh.click(h.history_list, None, history_outputs, **private)
    history_gallery.select(h.history_select, history_ids, [history_pick, history_md], **quiet)
    history_open_btn.click(h.history_open, history_pick, to_animate, **private)
    redraw_btn.click(h.redraw, [history_pick, redraw_frames, redraw_fix, api_key],
                     [redraw_gif, redraw_mp4, redraw_md, redraw_id], api_name="redraw", concurrency_limit=2,
                     concurrency_id="openai").then(h.history_list, None, history_outputs, **private)
    gr.api(h.history_api, api_name="history")
    gr.on([redraw_frames.change, history_pick.change], h.redraw_estimate, [history_pick, redraw_frames], redraw_est,
          trigger_mode="always_last", **quiet)

    demo.load(h.key_hint, None, key_md, **quiet)
    demo.load(h.allowance, None, allowance_md, api_name="allowance", api_visibility="undocumented",
              show_progress="hidden")
    demo.load(h.history_list, None, history_outputs, **quiet)

demo.queue(max_size=20, default_concurrency_limit=2)


def launch_options() -> dict:
    """``launch()`` settings shared by ``python app.py`` and tests (theme, limits, paths)."""
    return launch.launch_options(EXAMPLES_DIR)


def main(argv=None) -> None:
    launch.serve(demo, launch_options(), argv)


if __name__ == "__main__":
    main()
