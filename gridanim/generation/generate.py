"""Prompt + style -> one OpenAI image call -> a saved grid, with its cost.

The ``openai`` client is a parameter (build it with :func:`gridanim.hosting.keys.make_client`);
nothing here constructs one or reads a key. Steps:

1. :func:`prepare` (no network, no key): resolve the preset and the model (a
   shut-down model is refused here, before any request), plan the grid
   (:mod:`gridanim.generation.plan`), build the prompt, read reference photos, and quote
   the cost (:class:`Quote`: estimate, per frame, and one-by-one).
2. :func:`stream_generation` / :func:`run_generation`: call ``images.generate``
   (text to grid) or ``images.edit`` (photo to animation, optionally with a
   layout-guide image), streaming partial images when asked; map SDK errors to
   :mod:`gridanim.errors`; save the grid + sidecar (:mod:`gridanim.hosting.storage`)
   *before* anything else can fail; price the call exactly from ``usage``; then
   check the returned grid with the engine's ``detect_layout`` (guided and
   unguided) and warn where it disagrees with the plan.

:func:`result_to_dict` is the ``--json`` shape shared by the CLI and the app.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import io
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors as E
from ..errors import GridanimError, InputError
from ..hosting.storage import Record, ensure_writable, save_generation
from ..images import LoadedImage, load_image, to_png_bytes
from ..layout import Layout, detect_layout
from ..options import MAX_FPS
from .models import GifRules, ModelInfo, check_model, check_quality, load_catalog, offered_models
from .plan import GridPlan, build_prompt, draw_layout_guide, parse_shape, parse_size, plan_grid, smallest_size
from .presets import Preset, get_preset
from .pricing import CostLedger, Estimate, Usage, actual_cost, estimate, usd

ImageInput = str | os.PathLike | bytes | tuple
"""A reference photo: a path, raw bytes, or ``(filename, bytes)``."""

MAX_PARTIAL_IMAGES = 3
MAX_REFERENCES = 15  # the API takes 16 input images; one slot stays free for the layout guide
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_SENDABLE = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
# Error codes meaning "no money left" (429 insufficient_quota, newer credit code, 400 hard limit).
_NO_CREDIT = frozenset({"insufficient_quota", "credit_balance_exhausted", "billing_hard_limit_reached"})


@dataclass(frozen=True)
class GenerationRequest:
    """What the user asked for. ``None`` means "the preset's default, else gridanim's"."""

    prompt: str
    style: str | None = None
    rows: int | None = None
    cols: int | None = None
    shape: str | None = None
    fps: int | None = None
    model: str | None = None
    size: str | None = None
    quality: str | None = None
    images: tuple[ImageInput, ...] = ()
    layout_guide: bool = False
    partial_images: int = 0
    route: str = "grid"  # "grid": one sheet we cut; "gif": the model's own animated GIF
    gif_frames: int | None = None  # GIF route only: frame_count (default: the model's)
    frame_ms: int | None = None  # GIF route only: frame_duration_ms (default: from fps)
    transparent: bool | None = None  # None: the preset decides (sprite presets say yes)
    stylise_first: bool = False  # with images: one call styles the photo, a second animates the approved still


@dataclass(frozen=True)
class Reference:
    """A photo ready to upload."""

    filename: str
    data: bytes
    mime: str
    size: tuple[int, int]


@dataclass(frozen=True)
class Quote:
    """The cost before the call: the estimate, per frame, and one image per frame."""

    estimate: Estimate
    frames: int
    one_by_one_size: tuple[int, int]
    one_by_one: Estimate  # ONE call at the smallest valid size with the frame's shape

    @property
    def per_frame_usd(self) -> tuple[Decimal, Decimal]:
        return self.estimate.low_usd / self.frames, self.estimate.high_usd / self.frames

    @property
    def one_by_one_usd(self) -> tuple[Decimal, Decimal]:
        """``frames`` separate calls, each one image at :attr:`one_by_one_size`."""
        return self.one_by_one.low_usd * self.frames, self.one_by_one.high_usd * self.frames

    def to_dict(self) -> dict:
        e = self.estimate
        return {
            "estimated_usd": usd(e.usd),
            "estimated_range_usd": [usd(e.low_usd), usd(e.high_usd)],
            "approximate": e.approximate,
            "estimated_tokens": {
                "input_text_tokens": e.text_tokens,
                "input_image_tokens": e.input_image_tokens,
                "output_image_tokens": list(e.output_tokens),
            },
            "per_frame_usd": [usd(x) for x in self.per_frame_usd],
            "one_by_one_usd": [usd(x) for x in self.one_by_one_usd],
            "one_by_one_size": f"{self.one_by_one_size[0]}x{self.one_by_one_size[1]}",
            "notes": list(e.notes),
        }


@dataclass(frozen=True)
class GifAsk:
    """The GIF route's ask: ``frame_count`` frames of ``size``, ``frame_ms`` each."""

    frames: int
    frame_ms: int
    size: tuple[int, int]

    @property
    def sheet(self) -> tuple[int, int]:
        """(cols, rows) of the sheet the returned frames are laid out on (and billed as, approximately)."""
        cols = math.ceil(math.sqrt(self.frames))
        return cols, math.ceil(self.frames / cols)

    @property
    def sheet_size(self) -> tuple[int, int]:
        cols, rows = self.sheet
        return cols * self.size[0], rows * self.size[1]


@dataclass(frozen=True)
class Prepared:
    """Everything decided before the call."""

    request: GenerationRequest
    preset: Preset | None
    model: ModelInfo
    quality: str
    plan: GridPlan
    fps: int
    prompt: str  # as sent
    references: tuple[Reference, ...]
    guide_png: bytes | None
    quote: Quote
    warnings: tuple[str, ...]
    route: str = "grid"
    gif: GifAsk | None = None
    background: str | None = None  # "transparent" when sent; None = not sent
    key_colour: tuple[int, int, int] | None = None  # asked in the prompt instead, keyed out locally
    mask_png: bytes | None = None  # redraw: transparent exactly over the cells to re-draw
    redraw: Any = None  # redraw: a gridanim.generation.redraw.Redraw (keeps the other cells)

    @property
    def is_edit(self) -> bool:
        return bool(self.references)

    @property
    def transparent(self) -> bool:
        return self.background == "transparent" or self.key_colour is not None


@dataclass(frozen=True)
class PartialImage:
    """A partial image arrived while streaming (``kind == "partial"``, as in :mod:`gridanim.pipeline`)."""

    index: int
    png: bytes
    kind: str = "partial"


@dataclass
class GenerationResult:
    """A finished generation: the saved grid, what it cost, and how it was checked."""

    prepared: Prepared
    record: Record
    png: bytes
    layout: Layout | None
    usage: Usage | None
    actual_usd: Decimal | None
    request_id: str | None
    returned_size: tuple[int, int]
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    image: LoadedImage | None = None  # the saved grid, decoded once (the animation starts from it)

    @property
    def grid_path(self) -> Path:
        return self.record.png_path


@dataclass(frozen=True)
class Completed:
    """The last event of :func:`stream_generation`: the image is saved (``kind == "saved"``)."""

    result: GenerationResult
    kind: str = "saved"


# ------------------------------------------------------------------ preparing


def _read_reference(item: ImageInput, i: int) -> Reference:
    if isinstance(item, tuple):
        name, data = str(item[0]), item[1]
    elif isinstance(item, (bytes, bytearray)):
        name, data = f"reference-{i + 1}.png", bytes(item)
    else:
        p = Path(item)
        name = p.name
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise InputError(f"no such photo: {p}") from None
        except OSError as e:
            raise InputError(f"cannot read the photo {p} ({e.strerror or e})") from None
    loaded = load_image(data)  # refuses non-images, bombs, truncated files with one line
    from PIL import Image

    fmt = Image.open(io.BytesIO(data)).format
    if fmt in _SENDABLE and len(data) <= MAX_UPLOAD_BYTES and not loaded.notes:
        return Reference(name, data, _SENDABLE[fmt], loaded.size)
    png = to_png_bytes(loaded.rgb)  # GIF/BMP/TIFF/huge: send a PNG of what we loaded
    if len(png) > MAX_UPLOAD_BYTES:
        raise InputError(f"{name} is over 50 MB even as PNG: use a smaller photo")
    return Reference(Path(name).stem + ".png", png, "image/png", loaded.size)


ROUTES = ("grid", "gif")
GIF_DEFAULT_EDGE = 512  # default frame side: a sheet of 9 costs about what the grid route's canvas does
KEY_COLOUR = (255, 0, 255)  # asked as the flat background when a model cannot make transparency itself


def _gif_size(rules: GifRules, frames: int, aspect: float, step: int = 16) -> tuple[int, int]:
    """A frame of ``aspect`` (w / h) at most GIF_DEFAULT_EDGE and inside the model's limit for ``frames`` frames."""
    edge = min(rules.edge_limit(frames) or GIF_DEFAULT_EDGE, GIF_DEFAULT_EDGE)
    w, h = (edge, edge / aspect) if aspect >= 1 else (edge * aspect, edge)
    return max(step, int(w) // step * step), max(step, int(h) // step * step)


def build_gif_prompt(subject: str, frames: int, *, style_name=None, style=None, references=0, key_colour=None) -> str:
    """The prompt for the GIF route: one looping motion in ``frames`` frames (no sheet layout to describe)."""
    subject = " ".join(subject.split()).rstrip(".")
    if not subject:
        raise InputError("the prompt is empty: describe the subject and its motion, e.g. 'a cat chasing its tail'")
    parts = [
        f"A smoothly looping animation in {frames} frames. Subject and motion: {subject}.",
        "Every frame shows the same subject at the same size, the same background and the same camera framing; "
        "only the motion changes, in small even steps, and the last frame leads back into the first.",
    ]
    if style or style_name:
        parts.append(f"Style: {(style_name + ': ') if style_name else ''}{style or style_name}.")
    if references:
        parts.append("Animate the subject from the reference photo: keep its identity, colours and details.")
    if key_colour:
        parts.append(key_sentence(key_colour))
    parts.append("No numbers, captions, text, borders or watermarks.")
    return " ".join(parts)


def key_sentence(colour: tuple[int, int, int]) -> str:
    hexa = "#{:02X}{:02X}{:02X}".format(*colour)
    return (
        f"Background: one flat, uniform pure {hexa} colour everywhere behind the subject (and in the gutters), "
        f"with no shading, gradient or texture; do not use {hexa} anywhere on the subject."
    )


def prepare(request: GenerationRequest, *, today: _dt.date | None = None) -> Prepared:
    """Validate the request and quote its cost; makes no request and needs no key."""
    model, warnings = check_model(request.model, today)
    quality = check_quality(model, request.quality)
    preset = get_preset(request.style) if request.style else None
    route = (request.route or "grid").strip().lower()
    if route not in ROUTES:
        raise InputError(f"route must be grid or gif, got {request.route!r}")
    rows = request.rows or (preset.rows if preset else 3)
    cols = request.cols or (preset.cols if preset else 4)
    shape = parse_shape(request.shape or (preset.shape if preset else "square"))
    fps = request.fps or (preset.fps if preset else 8)
    if not 1 <= fps <= MAX_FPS:
        raise InputError(f"fps must be a whole number from 1 to {MAX_FPS}, got {fps}")
    if not 0 <= request.partial_images <= MAX_PARTIAL_IMAGES:
        raise InputError(f"--partial-images must be from 0 to {MAX_PARTIAL_IMAGES}, got {request.partial_images}")
    size = parse_size(request.size) if request.size else None
    if len(request.images) > MAX_REFERENCES:
        raise InputError(f"at most {MAX_REFERENCES} reference photos per generation, got {len(request.images)}")
    if request.stylise_first and not request.images:
        raise InputError("stylise first needs a reference photo (--image PATH)")
    refs = tuple(_read_reference(item, i) for i, item in enumerate(request.images))
    transparent = request.transparent if request.transparent is not None else bool(preset and preset.transparent)
    background = key = None
    if transparent and route == "grid" and model.transparent_background:
        background = "transparent"
    elif transparent:
        key = KEY_COLOUR
        if route == "grid":
            why = "lists transparency as a preview" if model.transparency == "preview" else "lists no transparency"
            warnings.append(f"{model.id} {why} in models.toml: asking for a flat key colour and keying it out here")
    style_kw = {"style_name": preset.name if preset else None, "style": preset.style if preset else None}
    gif = None
    if route == "gif":
        rules = model.gif
        if rules is None:
            with_gif = ", ".join(m for m in offered_models(today) if load_catalog().lookup(m).gif) or "none"
            raise InputError(
                f"{model.id} has no GIF output in gridanim/data/models.toml: use the grid route "
                f"(--route grid) or a model with GIF output ({with_gif})"
            )
        n = request.gif_frames or rules.default_frames
        w, h = size or _gif_size(rules, n, shape.aspect)
        why = rules.problem(n, w, h)
        if why:
            raise InputError(f"{n} GIF frames of {w}x{h}: {why}: ask a smaller --size or fewer --frames")
        frame_ms = request.frame_ms or max(10, round(1000 / fps / 10) * 10)
        gif = GifAsk(n, frame_ms, (w, h))
        if request.partial_images:
            warnings.append("GIF output has no live previews: partial images are not asked")
        if request.layout_guide:
            warnings.append("the layout guide is for the grid route only; ignored")
        gcols, grows = gif.sheet
        plan = GridPlan(grows, gcols, gif.sheet_size, 0, shape)
        prompt = build_gif_prompt(request.prompt, n, references=len(refs), key_colour=key, **style_kw)
        guide = None
        est = estimate(model, gif.sheet_size, quality, prompt, input_images=[r.size for r in refs])
        est = replace(
            est,
            approximate=True,
            notes=est.notes
            + (
                f"GIF output is a preview with no published price: estimated as one {gif.sheet_size[0]}x{gif.sheet_size[1]} "
                "sheet of its frames; the exact cost comes from usage",
            ),
        )
        frames = n
    else:
        plan = plan_grid(rows, cols, shape, model, size=size)
        guide = draw_layout_guide(plan) if request.layout_guide else None
        if guide and not refs:
            warnings.append("the layout guide is only sent with reference photos (an edit); ignored")
            guide = None
        prompt = build_prompt(request.prompt, plan, references=len(refs), guide=guide is not None, **style_kw)
        if key:
            prompt += " " + key_sentence(key)
        elif background:
            prompt += " Background: fully transparent behind the subject and in the gutters."
        inputs = [r.size for r in refs] + ([plan.canvas] if guide else [])
        est = estimate(model, plan.canvas, quality, prompt, input_images=inputs, partial_images=request.partial_images)
        frames = plan.frames
    one_size = smallest_size(model, plan.panel[0] / plan.panel[1] if route == "grid" else shape.aspect)
    one = estimate(model, one_size, quality, prompt, input_images=[r.size for r in refs])
    quote = Quote(est, frames, one_size, one)
    return Prepared(
        request,
        preset,
        model,
        quality,
        plan,
        fps,
        prompt,
        refs,
        guide,
        quote,
        tuple(warnings + list(plan.warnings)),
        route,
        gif,
        background,
        key,
    )


def prepare_still(request: GenerationRequest, *, today: _dt.date | None = None) -> Prepared:
    """Step one of "stylise first": one edit turns the (first) photo into the styled character, nothing animated."""
    if not request.images:
        raise InputError("stylise first needs a reference photo (--image PATH)")
    model, warnings = check_model(request.model, today)
    quality = check_quality(model, request.quality)
    preset = get_preset(request.style) if request.style else None
    ref = _read_reference(request.images[0], 0)
    size = smallest_size(model, ref.size[0] / ref.size[1])
    style = f"{preset.name}: {preset.style}" if preset else "the style the prompt describes"
    subject = " ".join(request.prompt.split()).rstrip(".")
    prompt = (
        f"Turn the person or subject in this photo into one character drawn in this style: {style}. "
        "Keep the likeness: face shape, hairstyle, skin tone, clothing colours and any distinctive features. "
        "Show the whole character, centred, on a plain light background"
        + (f", ready to be animated ({subject})" if subject else "")
        + ". One single picture: no grid, no panels, no text."
    )
    plan = GridPlan(1, 1, size, 0, parse_shape("square"))
    est = estimate(model, size, quality, prompt, input_images=[ref.size])
    quote = Quote(est, 1, size, est)
    return Prepared(
        request, preset, model, quality, plan, 8, prompt, (ref,), None, quote, tuple(warnings), route="still"
    )


def route_quotes(request: GenerationRequest, *, today: _dt.date | None = None) -> dict[str, Prepared | GridanimError]:
    """Both routes prepared side by side (for the estimate before the click); a route that cannot run gives its error."""
    out: dict[str, Prepared | GridanimError] = {}
    for route in ROUTES:
        try:
            out[route] = prepare(replace(request, route=route), today=today)
        except GridanimError as e:
            out[route] = e
    return out


# ------------------------------------------------------------------ errors


def _api_message(e: Any) -> str:
    """The API's own message (the SDK prefixes status errors with "Error code: 400 - ")."""
    body = getattr(e, "body", None)
    msg = body.get("message") if isinstance(body, dict) else None
    if not isinstance(msg, str) or not msg:
        msg = str(getattr(e, "message", "") or e)
    return " ".join(msg.split())


def _status_error_message(e: Any) -> GridanimError:
    import openai

    code = getattr(e, "code", None) or ""
    msg = _api_message(e)
    rid = getattr(e, "request_id", None)
    ref = f" (request {rid})" if rid else ""
    body = getattr(e, "body", None)
    if code == "moderation_blocked":
        cats = []
        if isinstance(body, dict) and isinstance(body.get("moderation_details"), dict):
            cats = body["moderation_details"].get("categories") or []
        what = f" as {', '.join(cats)}" if cats else ""
        return E.SafetyError(
            f"OpenAI's safety system blocked this request{what}{ref}: rephrase the prompt or use a different photo"
        )
    if isinstance(e, openai.AuthenticationError):
        return E.AuthError(
            "OpenAI rejected the API key (401): check OPENAI_API_KEY (export OPENAI_API_KEY=sk-...) or the key pasted in the app"
        )
    if isinstance(e, openai.PermissionDeniedError):
        return E.AuthError(
            f"OpenAI refused access (403): {msg} - verify your organization at platform.openai.com/settings/organization/general or use another key"
        )
    if code in _NO_CREDIT or getattr(e, "type", None) == "insufficient_quota":
        return E.RateLimitError(
            f"your OpenAI account is out of credit or at its spending limit ({code or 'insufficient_quota'}): "
            "add credit at platform.openai.com/settings/organization/billing, then try again"
        )
    if isinstance(e, openai.RateLimitError):
        return E.RateLimitError("OpenAI's rate limit was reached (429): wait a minute and try again")
    if isinstance(e, openai.NotFoundError):
        return E.ModelUnavailableError(
            f"OpenAI does not offer this model to your key (404: {msg}): choose another --model"
        )
    if isinstance(e, openai.InternalServerError):
        return E.ServerError(
            f"OpenAI had a server error ({getattr(e, 'status_code', '5xx')}){ref}: try again in a minute"
        )
    if isinstance(e, openai.BadRequestError) and (getattr(e, "param", None) == "size" or "size" in msg.lower()):
        return E.BadRequestError(f"OpenAI rejected the size: {msg} - pass a different --size or leave it out")
    why = " ".join(str(x) for x in (getattr(e, "status_code", None), code) if x)
    return E.BadRequestError(f"OpenAI rejected the request ({why}): {msg}")


def map_openai_error(e: BaseException) -> GridanimError:
    """Translate an ``openai`` exception into a one-line :mod:`gridanim.errors` error."""
    import openai

    if isinstance(e, openai.APITimeoutError):
        return E.ConnectionFailed(
            "OpenAI did not answer in time: try again, or a lower --quality (high can take minutes); a timed-out call may still be billed"
        )
    if isinstance(e, openai.APIConnectionError):
        return E.ConnectionFailed(
            "could not reach OpenAI: check your internet connection (and OPENAI_BASE_URL if you set it), then try again"
        )
    if isinstance(e, openai.APIStatusError):
        return _status_error_message(e)
    if isinstance(e, openai.APIError):  # an error event in the middle of a stream
        code = getattr(e, "code", None) or ""
        msg = _api_message(e)
        if code == "moderation_blocked":
            return E.SafetyError(
                "OpenAI's safety system blocked the image while it was being made: rephrase the prompt or use a different photo"
            )
        return E.ServerError(f"the image stream failed ({code or 'error'}: {msg}): try again")
    return E.GenerationError(f"the image call failed: {e}")


# ------------------------------------------------------------------ calling


def _b64(data: str | None) -> bytes:
    if not data:
        raise E.ServerError("OpenAI answered without an image: try again")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise E.ServerError("OpenAI answered with an image that is not valid base64: try again") from None


def _call_kwargs(p: Prepared) -> dict:
    fmt = "gif" if p.gif else "png"
    size = f"{p.gif.size[0]}x{p.gif.size[1]}" if p.gif else p.plan.size
    kw: dict[str, Any] = {
        "model": p.model.id,
        "prompt": p.prompt,
        "size": size,
        "quality": p.quality,
        "n": 1,
        "output_format": fmt,
    }
    if p.gif:
        kw.update(frame_count=p.gif.frames, frame_duration_ms=p.gif.frame_ms)
    elif p.request.partial_images:
        kw.update(stream=True, partial_images=p.request.partial_images)
    if p.background:
        kw["background"] = p.background
    if p.references:
        files = [(r.filename, r.data, r.mime) for r in p.references]
        if p.guide_png:
            files.append(("layout-guide.png", p.guide_png, "image/png"))
        kw["image"] = files[0] if len(files) == 1 else files
    if p.mask_png is not None:
        kw["mask"] = ("mask.png", p.mask_png, "image/png")
    return kw


def _call(p: Prepared, client: Any) -> Iterator[PartialImage | tuple[bytes, Any, str | None]]:
    """Yield partial images, then ``(image bytes, usage, request_id)``; openai errors escape."""
    client = client.with_options(max_retries=min(getattr(client, "max_retries", 1), 1))
    kw = _call_kwargs(p)
    api = client.images.edit if p.references else client.images.generate
    if not kw.get("stream"):
        resp = api(**kw)
        data = (getattr(resp, "data", None) or [None])[0]
        yield _b64(getattr(data, "b64_json", None)), getattr(resp, "usage", None), getattr(resp, "_request_id", None)
        return
    stream = api(**kw)
    rid = None
    try:
        rid = stream.response.headers.get("x-request-id")
    except AttributeError:
        pass
    with stream:
        for event in stream:
            kind = str(getattr(event, "type", ""))
            if kind.endswith(".partial_image"):
                b64 = getattr(event, "b64_json", None)
                if b64:
                    yield PartialImage(int(getattr(event, "partial_image_index", 0) or 0), _b64(b64))
            elif kind.endswith(".completed"):
                yield _b64(getattr(event, "b64_json", None)), getattr(event, "usage", None), rid
                return
    raise E.ServerError("the image stream ended before the image was finished: try again")


def _refusal(p: Prepared, e: Any) -> GridanimError | None:
    """A refusal of what this route asked for (GIF output, a transparent background): one line, no retry."""
    import openai

    if not isinstance(e, (openai.BadRequestError, openai.PermissionDeniedError, openai.NotFoundError)):
        return None
    msg, code, param = _api_message(e), str(getattr(e, "code", "") or ""), str(getattr(e, "param", "") or "")
    said = f"{msg} {code} {param}".lower()
    if p.gif and ("gif" in said or param in ("output_format", "frame_count")):
        return E.ModelUnavailableError(
            f"{p.model.id} refused GIF output for this key ({msg}): use the grid route (--route grid); nothing was retried"
        )
    if p.background and ("transparen" in said or param == "background"):
        return E.ModelUnavailableError(
            f"{p.model.id} refused a transparent background ({msg}): generate without transparency, "
            'or with a model whose models.toml row says transparency = "preview" (a key colour is used); nothing was retried'
        )
    return None


def key_out(rgb: np.ndarray, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, str]:
    """(rgb, alpha, how) for a grid drawn on a flat key ``colour``: the one call into :mod:`gridanim.keying`.

    ``keying.key_background(rgb)`` finds the background on the border and returns its
    despilled colours and alpha (or None); until that module is present, or when it
    finds no background, a plain distance key on ``colour`` stands in.
    """
    try:
        from ..keying import key_background
    except ImportError:
        key_background = None
    keyed = key_background(rgb) if key_background is not None else None
    if keyed is None:
        return rgb, _distance_key(rgb, colour), "distance"
    return np.asarray(keyed.rgb, np.uint8), np.asarray(keyed.alpha, np.uint8), str(getattr(keyed, "kind", "keying"))


def _distance_key(
    rgb: np.ndarray, colour: tuple[int, int, int], inner: float = 60.0, outer: float = 120.0
) -> np.ndarray:
    d = np.sqrt(((rgb.astype(np.float32) - np.array(colour, np.float32)) ** 2).sum(axis=2))
    return (np.clip((d - inner) / (outer - inner), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def _decode_gif(data: bytes) -> tuple[list[np.ndarray], list[np.ndarray] | None, int | None]:
    """Every frame of an animated GIF as RGB (+ alpha masks when any pixel is transparent) and its delay."""
    from PIL import Image, ImageSequence

    try:
        im = Image.open(io.BytesIO(data))
        if im.format != "GIF":
            raise E.ServerError(f"OpenAI answered the GIF route with a {im.format} image, not a GIF: try again")
        frames, alphas, delay = [], [], im.info.get("duration")
        for f in ImageSequence.Iterator(im):
            rgba = np.asarray(f.convert("RGBA"))
            frames.append(np.ascontiguousarray(rgba[..., :3]))
            alphas.append(np.ascontiguousarray(rgba[..., 3]))
    except (OSError, ValueError) as e:
        raise E.ServerError(f"the GIF OpenAI returned cannot be read ({e}): try again") from None
    if not frames:
        raise E.ServerError("OpenAI returned a GIF without frames: try again")
    opaque = all(int(a.min()) == 255 for a in alphas)
    return frames, None if opaque else alphas, int(delay) if delay else None


def _sheet(
    frames: list[np.ndarray], alphas: list[np.ndarray] | None, cols: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Frames laid out row-major on one sheet without gutters (the grid the rest of gridanim works on)."""
    h, w = frames[0].shape[:2]
    rows = math.ceil(len(frames) / cols)
    rgb = np.full((rows * h, cols * w, 3), 255, np.uint8)
    alpha = np.zeros((rows * h, cols * w), np.uint8) if alphas is not None else None
    for i, f in enumerate(frames):
        r, c = divmod(i, cols)
        rgb[r * h : (r + 1) * h, c * w : (c + 1) * w] = f[:h, :w]
        if alpha is not None:
            alpha[r * h : (r + 1) * h, c * w : (c + 1) * w] = alphas[i][:h, :w]
    return rgb, alpha


def _exact_layout(rows: int, cols: int, frames: int, size: tuple[int, int], method: str) -> Layout:
    w, h = size[0] // cols, size[1] // rows
    cells = tuple(divmod(i, cols) for i in range(frames))
    boxes = tuple((c * w, r * h, w, h) for r, c in cells)
    return Layout(rows, cols, boxes, cells, size, (), method)


def _png(rgb: np.ndarray, alpha: np.ndarray | None) -> bytes:
    from PIL import Image

    im = Image.fromarray(rgb) if alpha is None else Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _disagreement(rgb: np.ndarray, alpha: np.ndarray | None, plan: GridPlan) -> list[str]:
    """A warning when the unguided detector sees another grid than the one asked (the model drew its own)."""
    try:
        free = detect_layout(rgb, alpha)
    except GridanimError:
        return []
    if free.frames > 1 and (free.rows, free.cols) != (plan.rows, plan.cols):
        return [
            f"the returned image looks like a {free.rows}x{free.cols} grid, not the asked {plan.rows}x{plan.cols}: "
            "check the frames, or run `python -m gridanim detect` on the saved grid"
        ]
    return []


@dataclass
class _Finished:
    png: bytes
    image: LoadedImage
    layout: Layout | None
    returned: tuple[int, int]
    warnings: list[str]
    meta: dict


def _finish(p: Prepared, raw: bytes) -> _Finished:
    """The returned bytes -> the grid to save, decoded once, with its layout (found once)."""
    meta: dict[str, Any] = {}
    if p.gif:
        frames, alphas, delay = _decode_gif(raw)
        fh, fw = frames[0].shape[:2]
        cols = math.ceil(math.sqrt(len(frames)))
        rgb, alpha = _sheet(frames, alphas, cols)
        rows = math.ceil(len(frames) / cols)
        warnings = []
        if len(frames) != p.gif.frames:
            warnings.append(f"OpenAI returned {len(frames)} GIF frames instead of the asked {p.gif.frames}")
        meta["gif"] = {
            "frames": len(frames),
            "frame_ms": delay or p.gif.frame_ms,
            "frame_size": [fw, fh],
            "bytes": len(raw),
        }
        layout = _exact_layout(rows, cols, len(frames), (rgb.shape[1], rgb.shape[0]), "gif")
        returned = (fw, fh)
    else:
        img = load_image(raw)
        rgb, alpha, returned = img.rgb, img.alpha, img.size
        warnings = list(img.notes)
        if returned != p.plan.canvas:
            warnings.append(
                f"OpenAI returned a {returned[0]}x{returned[1]} image instead of the asked {p.plan.size}: frames are cut from what came back"
            )
        layout = None
    if p.key_colour is not None:
        rgb, alpha, how = key_out(rgb, p.key_colour)
        meta["keyed"] = {"colour": list(p.key_colour), "how": how, "transparent_px": int((alpha < 128).sum())}
    if p.route == "redraw":
        rgb, alpha = p.redraw.composite(rgb, alpha)
        layout = p.redraw.layout
    if p.route == "grid" and layout is None:
        try:
            layout = detect_layout(rgb, alpha, rows=p.plan.rows, cols=p.plan.cols)
        except GridanimError as e:
            warnings.append(f"the layout could not be found ({e}): run `python -m gridanim detect` on the saved grid")
        else:
            warnings += list(layout.warnings) + _disagreement(rgb, alpha, p.plan)
    changed = p.gif or p.key_colour is not None or p.route == "redraw"
    png = _png(rgb, alpha) if changed else raw
    return _Finished(png, LoadedImage(rgb, alpha), layout, returned, warnings, meta)


def _saved_but(record: Record, e: GridanimError) -> GridanimError:
    return type(e)(f"the grid was saved to {record.png_path}, but {e}")


def stream_generation(
    request: GenerationRequest | Prepared,
    client: Any,
    *,
    ledger: CostLedger | None = None,
    data_dir: str | os.PathLike | None = None,
    today: _dt.date | None = None,
    meta: dict | None = None,
) -> Iterator[PartialImage | Completed]:
    """Generate one image, yielding :class:`PartialImage` events then one :class:`Completed`.

    Dispatch on ``event.kind`` (``"partial"`` / ``"saved"``). Raises
    :class:`~gridanim.errors.GenerationError` subclasses for API failures,
    before saving anything; once the grid is saved, later failures name its path.
    ``meta`` adds fields to the sidecar (a parent link, an owner).
    """
    p = request if isinstance(request, Prepared) else prepare(request, today=today)
    ensure_writable(data_dir)  # a grid that cannot be saved must not be paid for
    t0 = time.monotonic()
    import openai

    try:
        for item in _call(p, client):
            if isinstance(item, PartialImage):
                yield item
            else:
                raw, raw_usage, rid = item
    except openai.OpenAIError as e:
        raise (_refusal(p, e) or map_openai_error(e)) from None
    elapsed = time.monotonic() - t0
    usage = Usage.from_api(raw_usage)
    warnings = list(p.warnings)
    actual = actual_cost(p.model, usage) if usage else None
    if actual is None:
        warnings.append(
            f"OpenAI returned no usage, so the exact cost is unknown (estimate {p.quote.estimate.describe()})"
        )
    elif ledger is not None:
        ledger.add(p.model.id, actual)
    try:
        done = _finish(p, raw)
    except GridanimError as e:  # keep what was paid for, as it came
        record = save_generation(raw, {"prompt": p.prompt, "model": p.model.id, "route": p.route}, directory=data_dir)
        raise _saved_but(record, e) from None
    warnings += done.warnings
    catalog = load_catalog()
    full = {
        "prompt": p.prompt,
        "user_prompt": p.request.prompt,
        "preset": p.preset.id if p.preset else None,
        "model": p.model.id,
        "route": p.route,
        "size": p.plan.size,
        "quality": p.quality,
        "plan": p.plan.to_dict(),
        "fps": p.fps,
        "references": [{"filename": r.filename, "size": list(r.size)} for r in p.references],
        "layout_guide": p.guide_png is not None,
        "partial_images": p.request.partial_images,
        "background": p.background,
        "usage": usage.to_dict() if usage else None,
        "cost": _cost_dict(p, usage, actual),
        "request_id": rid,
        "elapsed_s": round(elapsed, 1),
        "prices": {"as_of": catalog.as_of, "source": catalog.source},
        **done.meta,
        **(meta or {}),
        "layout": done.layout.to_dict() if done.layout else None,
        "warnings": warnings,
    }
    record = save_generation(done.png, full, directory=data_dir)  # the one write; outputs are added later
    result = GenerationResult(
        p, record, done.png, done.layout, usage, actual, rid, done.returned, warnings, elapsed, done.image
    )
    yield Completed(result)


def run_generation(
    request: GenerationRequest | Prepared,
    client: Any,
    *,
    on_partial: Callable[[PartialImage], None] | None = None,
    ledger: CostLedger | None = None,
    data_dir: str | os.PathLike | None = None,
    today: _dt.date | None = None,
) -> GenerationResult:
    """:func:`stream_generation` with a callback for partial images; returns the result."""
    result = None
    for event in stream_generation(request, client, ledger=ledger, data_dir=data_dir, today=today):
        if event.kind == "partial":
            if on_partial is not None:
                on_partial(event)
        else:
            result = event.result
    assert result is not None
    return result


# ------------------------------------------------------------------ reporting


def _cost_dict(p: Prepared, usage: Usage | None, actual: Decimal | None) -> dict:
    d = p.quote.to_dict()
    d["actual_usd"] = usd(actual) if actual is not None else None
    d["actual_per_frame_usd"] = usd(actual / p.quote.frames) if actual is not None else None
    d["usage"] = usage.to_dict() if usage else None
    return d


def result_to_dict(
    result: GenerationResult, outputs: dict[str, str] | None = None, ledger: CostLedger | None = None
) -> dict:
    """The ``generate --json`` object."""
    p = result.prepared
    cost = _cost_dict(p, result.usage, result.actual_usd)
    if ledger is not None:
        cost["session_total_usd"] = usd(ledger.total_usd)
    layout = result.layout.to_dict() if result.layout else None
    return {
        "id": result.record.id,
        "prompt": p.prompt,
        "user_prompt": p.request.prompt,
        "style": p.preset.id if p.preset else None,
        "model": p.model.id,
        "route": p.route,
        "size": p.plan.size,
        "quality": p.quality,
        "plan": p.plan.to_dict(),
        "grid": str(result.grid_path),
        "sidecar": str(result.record.json_path),
        "returned_size": f"{result.returned_size[0]}x{result.returned_size[1]}",
        "layout": layout,
        "cost": cost,
        "request_id": result.request_id,
        "gif": result.record.meta.get("gif"),
        "background": "transparent" if p.transparent else None,
        "outputs": dict(outputs or {}),
        "warnings": list(result.warnings),
    }


def prepared_to_dict(p: Prepared) -> dict:
    """The ``generate --estimate --json`` object (no request made)."""
    return {
        "prompt": p.prompt,
        "style": p.preset.id if p.preset else None,
        "model": p.model.id,
        "size": p.plan.size,
        "quality": p.quality,
        "plan": p.plan.to_dict(),
        "references": [{"filename": r.filename, "size": list(r.size)} for r in p.references],
        "route": p.route,
        "gif": {"frames": p.gif.frames, "frame_ms": p.gif.frame_ms, "size": list(p.gif.size)} if p.gif else None,
        "cost": p.quote.to_dict(),
        "warnings": list(p.warnings),
    }
