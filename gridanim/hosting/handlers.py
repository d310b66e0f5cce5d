"""The web app's event handlers: Gradio values in, package calls, Gradio values out (nothing else).

``app.py`` lays the page out and wires these to its components; every handler is
wrapped in :func:`gr_errors`, the one place where the package's errors become
``gr.Error`` toasts. The work is elsewhere: paid flows and billing in
:mod:`.paid` (over :mod:`gridanim.pipeline`), the Animate tab in
:mod:`.animate_view`, History in :mod:`.history`, forms in :mod:`.webform`, texts
in :mod:`.summary`. Handlers take ``request: gr.Request`` (that annotation is how
Gradio passes the visitor) and their parameter names are the API's.
"""

from __future__ import annotations

import functools
import inspect

import gradio as gr

from ..errors import GridanimError, LimitError, MissingKeyError, OptionError
from ..generation.models import load_catalog, offered_models
from ..generation.presets import load_presets
from . import animate_view, history, paid, policy, summary, webform
from .animate_view import AUTO, SCALE_AUTO
from .webform import file_path

PRESETS = load_presets()
MODELS = offered_models()
CATALOG = load_catalog()
# The order of the /generate outputs (the app wires its components in this order).
GENERATE_OUTPUTS = ("gif", "mp4", "cost", "grid", "frames", "files", "status", "ledger", "last")


def _translated(e: GridanimError) -> gr.Error:
    if isinstance(e, MissingKeyError):
        return gr.Error(summary.NO_KEY, title="OpenAI key needed", duration=None, print_exception=False)
    title = "Free limit reached" if isinstance(e, LimitError) else summary.error_title(e)
    text = e.worded(webform.OPTION_LABELS) if isinstance(e, OptionError) else str(e)  # labels, not CLI flags
    return gr.Error(text, title=title, print_exception=False)


def gr_errors(fn):
    """The package's one-line errors as specific ``gr.Error`` toasts (the key is never in them)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except GridanimError as e:
                raise _translated(e) from None

        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GridanimError as e:
            raise _translated(e) from None

    return call


# ------------------------------------------------------------------ Generate tab


@gr_errors
def style_changed(style):
    """Show the preset's description (and sample) and adopt its grid defaults (sprites: transparency on)."""
    if not style:
        return webform.style_markdown(None), gr.update(value=None, visible=False), *[gr.skip()] * 5
    p = PRESETS.get(style)
    sample = webform.preset_sample(p)
    return (
        webform.style_markdown(p),
        gr.update(value=sample, visible=bool(sample)),
        p.rows,
        p.cols,
        p.shape,
        p.fps,
        p.transparent,
    )


@gr_errors
def model_changed(model):
    gif = webform.offers_gif(model)
    return (
        gr.update(choices=webform.qualities(model), value=webform.default_quality(model)),
        gr.update(visible=gif, value="grid"),
        gr.update(visible=gif),
    )


@gr_errors
def estimate(
    prompt=None,
    style=None,
    rows=None,
    cols=None,
    shape=None,
    model=None,
    quality=None,
    fps=None,
    partial_images=None,
    reference=None,
    layout_guide=None,
    route="grid",
    gif_frames=None,
    transparent=None,
    stylise_first=False,
):
    """The live cost estimate of both routes (no network, no key)."""
    req = webform.form_request(
        prompt or webform.ESTIMATE_PLACEHOLDER,
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
        route,
        gif_frames,
        transparent,
        stylise_first,
    )
    return webform.estimate_markdown(req)


def key_hint():
    return webform.key_hint()


@gr_errors
def generate(
    prompt,
    style="",
    rows=3,
    cols=4,
    shape="square",
    model=None,
    quality=None,
    fps=8,
    partial_images=2,
    reference=None,
    layout_guide=False,
    api_key=None,
    route="grid",
    gif_frames=9,
    transparent=None,
    stylise_first=False,
    ledger=None,
    still=None,
    request: gr.Request = None,
):
    """One paid flow (the still first, if asked), streamed, then the grid cut into GIF / MP4 / WebP / frames."""
    req = webform.form_request(
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
        route,
        gif_frames,
        transparent,
        stylise_first,
    )
    for out in paid.generate_outputs(req, api_key, request, ledger, still):
        yield tuple(out.get(name, gr.skip()) for name in GENERATE_OUTPUTS)


@gr_errors
def stylise_still(prompt, style="", model=None, quality=None, reference=None, api_key=None, request: gr.Request = None):
    """Stylise first, step one: the photo as the styled character, to keep (then Generate) or retry (click again)."""
    req = webform.form_request(
        prompt, style, None, None, None, model, quality, None, 0, reference, False, stylise_first=True
    )
    return paid.stylise_outputs(req, api_key, request)


def allowance(request: gr.Request = None):
    """What this visitor has left on the app's key (on load and after each generation)."""
    return policy.allowance_markdown(request)


@gr_errors
def recut(last, request: gr.Request = None):
    """Load the last generated grid into Animate (no new request)."""
    rid = (last or {}).get("id")
    return *history.open_values(request, rid, history.NOTHING_GENERATED), gr.Tabs(selected="animate")


def fix_frames(last):
    """After a generation: pick its frames to re-draw in History."""
    if not last:
        raise gr.Error(history.NOTHING_GENERATED, print_exception=False)
    return last["id"], gr.Tabs(selected="history")


# ------------------------------------------------------------------ Animate tab


@gr_errors
def detect(grid, rows=AUTO, cols=AUTO, inset=0):
    """Detect the layout of an uploaded grid and draw the numbered cut."""
    return animate_view.preview(file_path(grid), rows, cols, inset)


@gr_errors
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
    opts = animate_view.animate_options(
        rows,
        cols,
        inset,
        fps,
        order,
        custom_order,
        drop,
        stabilize,
        smooth,
        gif_quality,
        gif_max_kb,
        max_size,
        transparent,
        scale,
        inbetween,
        hold,
    )
    return animate_view.run(file_path(grid), opts, bool(sprite_sheet))


def show_motion(view):
    """Fill the seam hint, plot and timing table from :func:`animate_grid`'s state."""
    return animate_view.motion_outputs(view)


@gr_errors
def timing_edited(table, view, hold=""):
    """Edits in the timing table's "shows (ms)" column become holds (the Hold frames box)."""
    return animate_view.holds_after_edit(table, view, hold) if view else gr.skip()


def order_changed(order):
    return gr.update(visible=order == "custom")


# ------------------------------------------------------------------ History tab


@gr_errors
def history_list(request: gr.Request = None):
    return *history.gallery(request), None, ""


@gr_errors
def history_api(request: gr.Request = None) -> list[dict]:
    """This visitor's saved generations as data: id, prompt, cost, parent (the API twin of the gallery)."""
    return history.rows(request)


@gr_errors
def history_select(ids, evt: gr.SelectData, request: gr.Request = None):
    rid = history.picked(ids, evt.index)
    return rid, history.details(request, rid)


@gr_errors
def history_details(rid, request: gr.Request = None):
    return history.details(request, rid)


@gr_errors
def history_open(rid, request: gr.Request = None):
    """Open a saved generation in Animate at no cost."""
    return *history.open_values(request, rid), gr.Tabs(selected="animate")


def redraw_estimate(rid, frames, request: gr.Request = None):
    """The cost of a re-draw before the click (no network, no key)."""
    return history.redraw_estimate(request, rid, frames)


@gr_errors
def redraw(rid, frames, fix="", api_key=None, request: gr.Request = None):
    """Re-draw some frames of one of this visitor's grids (one masked edit); the others stay pixel-identical."""
    if not rid:
        raise gr.Error(history.NOTHING_PICKED, print_exception=False)
    return paid.redraw_outputs(rid, frames, fix, api_key, request)
