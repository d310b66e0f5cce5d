"""Prompt + style -> one OpenAI image call -> a saved grid, with its cost.

The ``openai`` client is a parameter (build it with :func:`gridanim.keys.make_client`);
nothing here constructs one or reads a key. Steps:

1. :func:`prepare` (no network, no key): resolve the preset and the model (a
   shut-down model is refused here, before any request), plan the grid
   (:mod:`gridanim.plan`), build the prompt, read reference photos, and quote
   the cost (:class:`Quote`: estimate, per frame, and one-by-one).
2. :func:`stream_generation` / :func:`run_generation`: call ``images.generate``
   (text to grid) or ``images.edit`` (photo to animation, optionally with a
   layout-guide image), streaming partial images when asked; map SDK errors to
   :mod:`gridanim.errors`; save the grid + sidecar (:mod:`gridanim.storage`)
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
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Union

from . import errors as E
from .errors import GridanimError, InputError
from .images import load_image, to_png_bytes
from .layout import Layout, detect_layout
from .models import ModelInfo, check_model, check_quality, load_catalog
from .plan import GridPlan, build_prompt, draw_layout_guide, parse_shape, parse_size, plan_grid, smallest_size
from .presets import Preset, get_preset
from .pricing import CostLedger, Estimate, Usage, actual_cost, estimate, usd
from .storage import Record, ensure_writable, save_generation, update_record

ImageInput = Union[str, os.PathLike, bytes, tuple]
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

    @property
    def is_edit(self) -> bool:
        return bool(self.references)


@dataclass(frozen=True)
class PartialImage:
    """A partial image arrived while streaming (``type == "partial"``)."""

    index: int
    png: bytes
    type: str = "partial"


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

    @property
    def grid_path(self) -> Path:
        return self.record.png_path


@dataclass(frozen=True)
class Completed:
    """The last event of :func:`stream_generation` (``type == "completed"``)."""

    result: GenerationResult
    type: str = "completed"


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


def prepare(request: GenerationRequest, *, today: _dt.date | None = None) -> Prepared:
    """Validate the request and quote its cost; makes no request and needs no key."""
    model, warnings = check_model(request.model, today)
    quality = check_quality(model, request.quality)
    preset = get_preset(request.style) if request.style else None
    rows = request.rows or (preset.rows if preset else 3)
    cols = request.cols or (preset.cols if preset else 4)
    shape = parse_shape(request.shape or (preset.shape if preset else "square"))
    fps = request.fps or (preset.fps if preset else 8)
    if not 1 <= fps <= 50:
        raise InputError(f"--fps must be from 1 to 50, got {fps}")
    if not 0 <= request.partial_images <= MAX_PARTIAL_IMAGES:
        raise InputError(f"--partial-images must be from 0 to {MAX_PARTIAL_IMAGES}, got {request.partial_images}")
    size = parse_size(request.size) if request.size else None
    plan = plan_grid(rows, cols, shape, model, size=size)
    if len(request.images) > MAX_REFERENCES:
        raise InputError(f"at most {MAX_REFERENCES} reference photos per generation, got {len(request.images)}")
    refs = tuple(_read_reference(item, i) for i, item in enumerate(request.images))
    guide = draw_layout_guide(plan) if request.layout_guide else None
    if guide and not refs:
        warnings.append("the layout guide is only sent with reference photos (an edit); ignored")
        guide = None
    prompt = build_prompt(
        request.prompt,
        plan,
        style_name=preset.name if preset else None,
        style=preset.style if preset else None,
        references=len(refs),
        guide=guide is not None,
    )
    inputs = [r.size for r in refs] + ([plan.canvas] if guide else [])
    est = estimate(model, plan.canvas, quality, prompt, input_images=inputs, partial_images=request.partial_images)
    one_size = smallest_size(model, plan.panel[0] / plan.panel[1])
    one = estimate(model, one_size, quality, prompt, input_images=[r.size for r in refs])
    quote = Quote(est, plan.frames, one_size, one)
    return Prepared(request, preset, model, quality, plan, fps, prompt, refs, guide, quote, tuple(warnings + list(plan.warnings)))


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
        return E.SafetyError(f"OpenAI's safety system blocked this request{what}{ref}: rephrase the prompt or use a different photo")
    if isinstance(e, openai.AuthenticationError):
        return E.AuthError("OpenAI rejected the API key (401): check OPENAI_API_KEY (export OPENAI_API_KEY=sk-...) or the key pasted in the app")
    if isinstance(e, openai.PermissionDeniedError):
        return E.AuthError(f"OpenAI refused access (403): {msg} - verify your organization at platform.openai.com/settings/organization/general or use another key")
    if code in _NO_CREDIT or getattr(e, "type", None) == "insufficient_quota":
        return E.RateLimitError(
            f"your OpenAI account is out of credit or at its spending limit ({code or 'insufficient_quota'}): "
            "add credit at platform.openai.com/settings/organization/billing, then try again"
        )
    if isinstance(e, openai.RateLimitError):
        return E.RateLimitError("OpenAI's rate limit was reached (429): wait a minute and try again")
    if isinstance(e, openai.NotFoundError):
        return E.ModelUnavailableError(f"OpenAI does not offer this model to your key (404: {msg}): choose another --model")
    if isinstance(e, openai.InternalServerError):
        return E.ServerError(f"OpenAI had a server error ({getattr(e, 'status_code', '5xx')}){ref}: try again in a minute")
    if isinstance(e, openai.BadRequestError) and (getattr(e, "param", None) == "size" or "size" in msg.lower()):
        return E.BadRequestError(f"OpenAI rejected the size: {msg} - pass a different --size or leave it out")
    why = " ".join(str(x) for x in (getattr(e, "status_code", None), code) if x)
    return E.BadRequestError(f"OpenAI rejected the request ({why}): {msg}")


def map_openai_error(e: BaseException) -> GridanimError:
    """Translate an ``openai`` exception into a one-line :mod:`gridanim.errors` error."""
    import openai

    if isinstance(e, openai.APITimeoutError):
        return E.ConnectionFailed("OpenAI did not answer in time: try again, or a lower --quality (high can take minutes); a timed-out call may still be billed")
    if isinstance(e, openai.APIConnectionError):
        return E.ConnectionFailed("could not reach OpenAI: check your internet connection (and OPENAI_BASE_URL if you set it), then try again")
    if isinstance(e, openai.APIStatusError):
        return _status_error_message(e)
    if isinstance(e, openai.APIError):  # an error event in the middle of a stream
        code = getattr(e, "code", None) or ""
        msg = _api_message(e)
        if code == "moderation_blocked":
            return E.SafetyError("OpenAI's safety system blocked the image while it was being made: rephrase the prompt or use a different photo")
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
    kw: dict[str, Any] = {"model": p.model.id, "prompt": p.prompt, "size": p.plan.size, "quality": p.quality, "n": 1, "output_format": "png"}
    if p.request.partial_images:
        kw.update(stream=True, partial_images=p.request.partial_images)
    if p.references:
        files = [(r.filename, r.data, r.mime) for r in p.references]
        if p.guide_png:
            files.append(("layout-guide.png", p.guide_png, "image/png"))
        kw["image"] = files[0] if len(files) == 1 else files
    return kw


def _call(p: Prepared, client: Any) -> Iterator[PartialImage | tuple[bytes, Any, str | None]]:
    """Yield partial images, then ``(png, usage, request_id)``; openai errors escape."""
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


def _check_layout(png: bytes, plan: GridPlan) -> tuple[Layout, tuple[int, int], list[str]]:
    """Run the engine's detector (guided and unguided) on the returned grid."""
    img = load_image(png)
    w, h = img.size
    warnings = list(img.notes)
    if (w, h) != plan.canvas:
        warnings.append(f"OpenAI returned a {w}x{h} image instead of the asked {plan.size}: frames are cut from what came back")
    guided = detect_layout(img.rgb, img.alpha, rows=plan.rows, cols=plan.cols)
    warnings += list(guided.warnings)
    try:
        free = detect_layout(img.rgb, img.alpha)
    except GridanimError:
        free = None
    if free is not None and free.frames > 1 and (free.rows, free.cols) != (plan.rows, plan.cols):
        warnings.append(
            f"the returned image looks like a {free.rows}x{free.cols} grid, not the asked {plan.rows}x{plan.cols}: "
            "check the frames, or run `python -m gridanim detect` on the saved grid"
        )
    return guided, (w, h), warnings


def _saved_but(record: Record, e: GridanimError) -> GridanimError:
    return type(e)(f"the grid was saved to {record.png_path}, but {e}")


def stream_generation(
    request: GenerationRequest | Prepared,
    client: Any,
    *,
    ledger: CostLedger | None = None,
    data_dir: str | os.PathLike | None = None,
    today: _dt.date | None = None,
) -> Iterator[PartialImage | Completed]:
    """Generate one grid, yielding :class:`PartialImage` events then one :class:`Completed`.

    Dispatch on ``event.type`` (``"partial"`` / ``"completed"``). Raises
    :class:`~gridanim.errors.GenerationError` subclasses for API failures,
    before saving anything; once the grid is saved, later failures name its path.
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
                png, raw_usage, rid = item
    except openai.OpenAIError as e:
        raise map_openai_error(e) from None
    elapsed = time.monotonic() - t0
    usage = Usage.from_api(raw_usage)
    warnings = list(p.warnings)
    actual = actual_cost(p.model, usage) if usage else None
    if actual is None:
        warnings.append(f"OpenAI returned no usage, so the exact cost is unknown (estimate {p.quote.estimate.describe()})")
    elif ledger is not None:
        ledger.add(p.model.id, actual)
    catalog = load_catalog()
    meta = {
        "prompt": p.prompt,
        "user_prompt": p.request.prompt,
        "preset": p.preset.id if p.preset else None,
        "model": p.model.id,
        "size": p.plan.size,
        "quality": p.quality,
        "plan": p.plan.to_dict(),
        "fps": p.fps,
        "references": [{"filename": r.filename, "size": list(r.size)} for r in p.references],
        "layout_guide": p.guide_png is not None,
        "partial_images": p.request.partial_images,
        "usage": usage.to_dict() if usage else None,
        "cost": _cost_dict(p, usage, actual),
        "request_id": rid,
        "elapsed_s": round(elapsed, 1),
        "prices": {"as_of": catalog.as_of, "source": catalog.source},
    }
    record = save_generation(png, meta, directory=data_dir)  # nothing after this can lose the image
    try:
        layout, returned, more = _check_layout(png, p.plan)
    except GridanimError as e:
        raise _saved_but(record, e) from None
    warnings += more
    record = update_record(record, layout=layout.to_dict(), warnings=warnings)
    yield Completed(GenerationResult(p, record, png, layout, usage, actual, rid, returned, warnings, elapsed))


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
        if event.type == "partial":
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
    d["actual_per_frame_usd"] = usd(actual / p.plan.frames) if actual is not None else None
    d["usage"] = usage.to_dict() if usage else None
    return d


def result_to_dict(result: GenerationResult, outputs: dict[str, str] | None = None, ledger: CostLedger | None = None) -> dict:
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
        "size": p.plan.size,
        "quality": p.quality,
        "plan": p.plan.to_dict(),
        "grid": str(result.grid_path),
        "sidecar": str(result.record.json_path),
        "returned_size": f"{result.returned_size[0]}x{result.returned_size[1]}",
        "layout": layout,
        "cost": cost,
        "request_id": result.request_id,
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
        "cost": p.quote.to_dict(),
        "warnings": list(p.warnings),
    }
