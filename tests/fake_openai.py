"""A small OpenAI-compatible images server for tests (real HTTP on 127.0.0.1).

The real ``openai`` client reaches it through ``base_url`` / ``OPENAI_BASE_URL``
(``server.base_url`` ends in ``/v1``). It answers ``POST /v1/images/generations``
(JSON) and ``POST /v1/images/edits`` (multipart) the way research §6.3 says the
API does:

* a real PNG of a rows x cols grid of a moving ball at the requested size; rows
  and columns are read from the prompt ("3 rows and 4 columns") and the gutter
  from "gutters N px wide", so a detector finds the asked layout;
* ``usage`` computed independently of gridanim: output tokens by the published
  calculator formula from the request's size and quality (+100 per partial image
  when streaming), text tokens ~ words x 4/3, input-image tokens for edits by the
  32-px patch rule on each uploaded image;
* SSE streams with ``partial_images`` partial events then a completed event;
* scripted answers per test: ``server.enqueue(status=429, body=error_body(...),
  headers={"retry-after-ms": "10"})`` (any ``body`` is sent as is, even with
  200), a mid-stream error, a delay, a different image size or grid, no usage;
* every request recorded (``server.requests``): path, headers (including
  ``authorization``), JSON body or multipart text fields and files;
* ``output_format="gif"``: a real animated GIF of ``frame_count`` frames at the
  asked size and ``frame_duration_ms``, billed as the sheet the model is said to
  draw; refused for models without GIF, over the reported frame-size limits, or
  when ``server.gif_enabled`` is False (the key has no GIF-preview access);
* ``background="transparent"``: an RGBA image whose background is alpha 0;
  refused for ``jpeg`` and for models in ``server.no_transparency``; a prompt
  asking for a flat ``#RRGGBB`` background gets exactly that colour;
* mask edits: the mask must be a PNG with alpha, the size of the image, with
  alpha 0 exactly over the cells the prompt names ("Re-draw only panels 3, 7")
  and 255 elsewhere, else 400; the answer is a visibly different grid everywhere
  (so a caller must keep the other cells itself).

Nothing here imports gridanim, so it can be reused by the app's tests.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
import math
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

# Output-token grids of the image generation guide's calculator, per model family.
GRIDS = {
    "gpt-image-2": {"low": 16, "medium": 48, "high": 96},
    "gpt-image-2.5": {"low": 16, "medium": 24, "high": 48, "xhigh": 64, "max": 96},
    # 2.6 is unconfirmed; the fake bills low/medium 3.5x the 2.5 figure (the relays' "3-4x").
    "gpt-image-2.6": {"low": 56, "medium": 84, "high": 48, "xhigh": 64, "max": 96},
}
FIXED = {  # models before gpt-image-2
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}


def error_body(
    message: str, type: str = "invalid_request_error", code: str | None = None, param: str | None = None, **extra
) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code, **extra}}


# Canned error answers: (status, body, headers). 429/5xx carry headers that keep retries fast.
ERRORS: dict[str, tuple[int, dict, dict]] = {
    "moderation_blocked": (
        400,
        error_body(
            "Your request was rejected by the safety system. If you believe this is an error, contact us at "
            "help.openai.com and include the request ID req_fake. safety_violations=[violence].",
            type="image_generation_user_error",
            code="moderation_blocked",
            moderation_details={"moderation_stage": "input", "categories": ["violence"]},
        ),
        {},
    ),
    "invalid_api_key": (
        401,
        error_body(
            "Incorrect API key provided: sk-test-****cdef. You can find your API key at https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        ),
        {},
    ),
    "permission_denied": (
        403,
        error_body("Your organization must be verified to use the model `gpt-image-2`.", type="invalid_request_error"),
        {},
    ),
    "rate_limit_exceeded": (
        429,
        error_body(
            "Rate limit reached for gpt-image-2 in organization org-x on images per minute (IPM): Limit 5, Used 5.",
            type="requests",
            code="rate_limit_exceeded",
        ),
        {"retry-after-ms": "10"},
    ),
    "insufficient_quota": (
        429,
        error_body(
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        ),
        {"x-should-retry": "false"},
    ),
    "invalid_size": (
        400,
        error_body("Invalid size '1792x936'. Width and height must both be divisible by 16.", param="size"),
        {},
    ),
    "billing_hard_limit": (
        400,
        error_body("Billing hard limit has been reached", code="billing_hard_limit_reached"),
        {},
    ),
    "server_error": (
        500,
        error_body("The server had an error while processing your request. Sorry about that!", type="server_error"),
        {"retry-after-ms": "10"},
    ),
    "gif_not_enabled": (
        403,
        error_body(
            "GIF output is in preview and is not enabled for this organization. Request access to use output_format 'gif'.",
            code="gif_output_not_enabled",
            param="output_format",
        ),
        {},
    ),
    "transparency_unsupported": (
        400,
        error_body(
            "Transparent backgrounds are not supported for this model.", code="unsupported_value", param="background"
        ),
        {},
    ),
    "model_not_found": (
        404,
        error_body("The model `gpt-image-9` does not exist or you do not have access to it.", code="model_not_found"),
        {},
    ),
}


@dataclass
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> tuple[int, int]:
        return Image.open(io.BytesIO(self.data)).size


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: dict | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        """A request parameter from the JSON body or the multipart text fields."""
        if self.json is not None:
            return self.json.get(name)
        vals = self.fields.get(name)
        return vals[0] if vals else None


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    image_size: tuple[int, int] | None = None
    grid: tuple[int, int] | None = None
    stream_error: dict | None = None  # {"code":..., "message":..., "type":...}
    after_partials: int = 0
    usage: Any = "compute"  # "compute", None (omit), or a dict


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (for 'no connection')."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/v1"


# ---------------------------------------------------------------- images and tokens


GIF_MODELS = ("gpt-image-2.6",)
GIF_EDGE = ((9, 960), (12, 816), (16, 720))  # reported frame-size limits (docs/openai-images.md §5.4)
CLEAR = (0, 0, 0, 0)


def draw_grid(
    w: int,
    h: int,
    rows: int,
    cols: int,
    gutter: int = 8,
    *,
    coarse: bool = False,
    background: Any = None,
    body=(230, 140, 40),
    fmt: str = "PNG",
) -> bytes:
    """A rows x cols sheet: light gutters, flat sky-blue panels, a bobbing body whose tail tip circles once per loop.

    ``background``: None (grey gutters, blue panels), ``"transparent"`` (RGBA, alpha 0 behind the body) or an
    (r, g, b) key colour behind the body everywhere.
    """
    im = _draw(w, h, rows, cols, gutter, coarse=coarse, background=background, body=body)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def _draw(w, h, rows, cols, gutter=8, *, coarse=False, background=None, body=(230, 140, 40), phase=0.0) -> Image.Image:
    clear = background == "transparent"
    flat = background if isinstance(background, tuple) else None
    im = Image.new("RGBA" if clear else "RGB", (w, h), CLEAR if clear else (flat or (238, 238, 238)))
    d = ImageDraw.Draw(im)
    n = rows * cols
    g2 = gutter // 2
    for i in range(n):
        r, c = divmod(i, cols)
        x0, x1 = round(c * w / cols) + g2, round((c + 1) * w / cols) - (gutter - g2)
        y0, y1 = round(r * h / rows) + g2, round((r + 1) * h / rows) - (gutter - g2)
        if x1 - x0 < 8 or y1 - y0 < 8:  # too small to draw a panel (tests of tiny images)
            continue
        if background is None:
            d.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(120, 170, 220))
        # a "cat": a big body that bobs, and a tail tip that goes round once per loop
        t = 2 * math.pi * i / n + phase
        pw, ph = x1 - x0, y1 - y0
        cx, cy = x0 + pw / 2, y0 + ph / 2 + math.sin(t) * ph / 20
        d.ellipse((cx - pw * 0.3, cy - ph * 0.25, cx + pw * 0.3, cy + ph * 0.25), fill=body)
        rad = max(3, min(pw, ph) // 12)
        bx, by = cx + math.cos(t) * pw * 0.3, cy + math.sin(t) * ph * 0.25
        d.ellipse((bx - rad, by - rad, bx + rad, by + rad), fill=(120, 50, 20))
    if coarse:  # a partial image: the same picture, blocky
        im = im.resize((max(1, w // 16), max(1, h // 16))).resize((w, h), Image.Resampling.NEAREST)
    return im


def draw_gif(w: int, h: int, frames: int, frame_ms: int, background: Any = None) -> bytes:
    """A real looping animated GIF: one panel per frame of the same moving body."""
    ims = [_draw(w, h, 1, 1, 0, background=background, phase=2 * math.pi * i / frames) for i in range(frames)]
    ims = [im.convert("RGB") for im in ims]
    buf = io.BytesIO()
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=frame_ms, loop=0, disposal=2)
    return buf.getvalue()


def cell_boxes(w: int, h: int, rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """Row-major (x0, y0, x1, y1) of each cell of an evenly divided grid."""
    xs = [round(i * w / cols) for i in range(cols + 1)]
    ys = [round(i * h / rows) for i in range(rows + 1)]
    return [(xs[c], ys[r], xs[c + 1], ys[r + 1]) for r in range(rows) for c in range(cols)]


def mask_problem(mask: bytes, image_size: tuple[int, int], rows: int, cols: int, chosen: list[int]) -> str | None:
    """Why a redraw mask is wrong: not a PNG with alpha, the wrong size, or alpha not 0 exactly over ``chosen``."""
    try:
        im = Image.open(io.BytesIO(mask))
    except OSError:
        return "The mask is not an image."
    if im.format != "PNG" or "A" not in im.getbands():
        return "The mask must be a PNG with an alpha channel."
    if im.size != image_size:
        return f"The mask size {im.size[0]}x{im.size[1]} does not match the image size {image_size[0]}x{image_size[1]}."
    alpha = im.getchannel("A")
    for i, (x0, y0, x1, y1) in enumerate(cell_boxes(*image_size, rows, cols), start=1):
        lo, hi = alpha.crop((x0, y0, x1, y1)).getextrema()
        want = 0 if i in chosen else 255
        if lo != want or hi != want:
            return f"The mask alpha over cell {i} is {lo}-{hi}, expected {want}."
    return None


def grid_output_tokens(model: str, w: int, h: int, quality: str) -> int:
    if model.startswith(("gpt-image-1", "chatgpt-image")):
        return FIXED[quality][f"{w}x{h}"]
    family = next(f for f in sorted(GRIDS, key=len, reverse=True) if model.startswith(f))
    G = GRIDS[family][quality]
    g = round(G * min(w, h) / max(w, h))
    return math.ceil(G * g * (2_000_000 + w * h) / 4_000_000)


def patch_tokens(w: float, h: float) -> int:
    """The 32-px patch rule for an input image."""
    if max(w, h) < 1024:
        w, h = w * 1024 / max(w, h), h * 1024 / max(w, h)
    n = math.ceil(w / 32 - 1e-9) * math.ceil(h / 32 - 1e-9)
    if n <= 1536:
        return n
    r = math.sqrt(1024 * 1536 / (w * h))
    r *= min(math.floor(w * r / 32 + 1e-9) / (w * r / 32), math.floor(h * r / 32 + 1e-9) / (h * r / 32))
    return math.ceil(w * r / 32 - 1e-9) * math.ceil(h * r / 32 - 1e-9)


def size_problem(model: str, w: int, h: int) -> str | None:
    if model.startswith(("gpt-image-1", "chatgpt-image")):
        return (
            None
            if f"{w}x{h}" in FIXED["low"]
            else f"Invalid size '{w}x{h}'. Supported sizes are 1024x1024, 1024x1536, 1536x1024, and auto."
        )
    if w % 16 or h % 16:
        return f"Invalid size '{w}x{h}'. Width and height must both be divisible by 16."
    if max(w, h) > 3840 or max(w, h) > 3 * min(w, h) or not 655_360 <= w * h <= 8_294_400:
        return f"Invalid size '{w}x{h}'. The requested size is outside the supported range."
    return None


# ---------------------------------------------------------------- the server


class FakeOpenAI:
    """Start with :meth:`start`; script answers with :meth:`enqueue`; read :attr:`requests`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._n = 0
        self.gif_enabled = True  # False: this key has no GIF-preview access
        self.no_transparency: set[str] = set()  # models that refuse background="transparent"

    # -- lifecycle
    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # keep test output clean
                pass

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._send_json(self, 404, error_body("Not found", code="not_found"), {})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # -- scripting
    def enqueue(self, status: int = 200, body: Any = None, headers: dict | None = None, **kw) -> None:
        """Script the next answer; unscripted requests get a computed success."""
        with self._lock:
            self._queue.append(Scripted(status=status, body=body, headers=dict(headers or {}), **kw))

    def enqueue_error(self, name: str) -> None:
        status, body, headers = ERRORS[name]
        self.enqueue(status=status, body=body, headers=headers)

    @property
    def image_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/v1/images/")]

    # -- handling
    def _read(self, h: BaseHTTPRequestHandler) -> bytes:
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(h.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    return out
                out += h.rfile.read(size)
                h.rfile.readline()
        return h.rfile.read(int(h.headers.get("Content-Length") or 0))

    def _parse(self, h: BaseHTTPRequestHandler, body: bytes) -> RecordedRequest:
        headers = {k.lower(): v for k, v in h.headers.items()}
        req = RecordedRequest(h.command, h.path, headers, body)
        ctype = headers.get("content-type", "")
        if ctype.startswith("application/json"):
            req.json = json.loads(body or b"{}")
        elif ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
            )
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if part.get_filename() is not None:
                    req.files.setdefault(name, []).append(Upload(part.get_filename(), part.get_content_type(), data))
                else:
                    req.fields.setdefault(name, []).append(data.decode("utf-8"))
        return req

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        req = self._parse(h, self._read(h))
        with self._lock:
            self.requests.append(req)
            self._n += 1
            rid = f"req_fake_{self._n:04d}"
            script = self._queue.popleft() if self._queue else Scripted()
        headers = {"x-request-id": rid, **script.headers}
        if script.delay:
            time.sleep(script.delay)
        try:
            if script.status != 200 or script.body is not None:  # a scripted body is sent as is
                self._send_json(h, script.status, script.body or error_body("scripted error"), headers)
            elif req.path not in ("/v1/images/generations", "/v1/images/edits"):
                self._send_json(h, 404, error_body(f"Unknown path {req.path}", code="not_found"), headers)
            else:
                self._answer_image(h, req, script, headers)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _refuse(self, req: RecordedRequest, model: str, w: int, h: int) -> tuple[int, dict] | None:
        """The API's refusals of GIF output, transparency and bad masks (checked before drawing)."""
        fmt = str(req.param("output_format") or "png")
        background = req.param("background")
        if fmt == "gif":
            if not model.startswith(GIF_MODELS):
                return 400, error_body(
                    f"output_format 'gif' is not supported for model '{model}'.", param="output_format"
                )
            if not self.gif_enabled:
                return ERRORS["gif_not_enabled"][:2]
            n = int(req.param("frame_count") or 9)
            limit = next((edge for upto, edge in GIF_EDGE if n <= upto), None)
            if not 2 <= n <= 16 or limit is None or max(w, h) > limit:
                return 400, error_body(
                    f"Invalid GIF: {n} frames of {w}x{h} exceed the GIF size limits for {model}.", param="size"
                )
        if background == "transparent" and (fmt == "jpeg" or model in self.no_transparency):
            return ERRORS["transparency_unsupported"][:2]
        if "mask" in req.files:
            rows, cols = self._grid_from_prompt(str(req.param("prompt") or ""))
            m = re.search(r"Re-draw only panels? ([\d, ]+)", str(req.param("prompt") or ""))
            chosen = [int(x) for x in re.findall(r"\d+", m.group(1))] if m else []
            image = (req.files.get("image") or req.files.get("image[]") or [None])[0]
            why = (
                "No image to edit."
                if image is None
                else mask_problem(req.files["mask"][0].data, image.size, rows, cols, chosen)
            )
            if why:
                return 400, error_body(why, param="mask")
        return None

    def _answer_image(self, h, req: RecordedRequest, script: Scripted, headers: dict) -> None:
        edit = req.path.endswith("/edits")
        model = str(req.param("model") or "gpt-image-2")
        quality = str(req.param("quality") or "auto")
        quality = "high" if quality == "auto" else quality
        size = str(req.param("size") or "1024x1024")
        prompt = str(req.param("prompt") or "")
        stream = str(req.param("stream")).lower() == "true"
        partials = int(req.param("partial_images") or 0) if stream else 0
        w, h_ = (int(v) for v in size.split("x")) if re.fullmatch(r"\d+x\d+", size) else (1024, 1024)
        fmt = str(req.param("output_format") or "png")
        why = None if fmt == "gif" else size_problem(model, w, h_)
        if why:
            self._send_json(h, 400, error_body(why, param="size"), headers)
            return
        refused = self._refuse(req, model, w, h_)
        if refused:
            self._send_json(h, refused[0], refused[1], headers)
            return
        rows, cols = script.grid or self._grid_from_prompt(prompt)
        gm = re.search(r"gutters (\d+) px", prompt)
        gutter = int(gm.group(1)) if gm else 8
        iw, ih = script.image_size or (w, h_)
        key = re.search(r"flat, uniform pure #([0-9A-Fa-f]{6})", prompt)
        bg: Any = "transparent" if req.param("background") == "transparent" else None
        if key:
            bg = tuple(int(key.group(1)[i : i + 2], 16) for i in (0, 2, 4))
        if fmt == "gif":
            n, ms = int(req.param("frame_count") or 9), int(req.param("frame_duration_ms") or 200)
            png = draw_gif(iw, ih, n, ms, None if bg == "transparent" else bg)
            sheet_cols = math.ceil(math.sqrt(n))
            bill_w, bill_h = sheet_cols * w, math.ceil(n / sheet_cols) * h_  # the sheet the model draws
        elif "mask" in req.files:  # a different picture everywhere: the caller must keep the other cells
            png = draw_grid(iw, ih, rows, cols, gutter, background=bg, body=(40, 160, 60))
            bill_w, bill_h = w, h_
        else:
            png = draw_grid(iw, ih, rows, cols, gutter, background=bg)
            bill_w, bill_h = w, h_
        usage: Any = script.usage
        if usage == "compute":
            text_tokens = len(prompt.split()) * 4 // 3 + 3
            image_in = (
                sum(patch_tokens(*u.size) for k, ups in req.files.items() if k != "mask" for u in ups) if edit else 0
            )
            out = grid_output_tokens(model, bill_w, bill_h, quality) + 100 * partials
            usage = {
                "input_tokens": text_tokens + image_in,
                "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_in},
                "output_tokens": out,
                "output_tokens_details": {"image_tokens": out, "text_tokens": 0},
                "total_tokens": text_tokens + image_in + out,
            }
        echo = {
            "background": "transparent" if bg == "transparent" else "opaque",
            "output_format": fmt,
            "quality": quality,
            "size": f"{iw}x{ih}",
        }
        if not stream:
            body = {"created": int(time.time()), "data": [{"b64_json": base64.b64encode(png).decode()}], **echo}
            if usage is not None:
                body["usage"] = usage
            self._send_json(h, 200, body, headers)
            return
        prefix = "image_edit" if edit else "image_generation"
        events = []
        n_partials = script.after_partials if script.stream_error else partials
        for i in range(n_partials):
            part = draw_grid(iw, ih, rows, cols, gutter, coarse=True)
            events.append(
                {
                    "type": f"{prefix}.partial_image",
                    "b64_json": base64.b64encode(part).decode(),
                    "partial_image_index": i,
                    "created_at": int(time.time()),
                    **echo,
                }
            )
        if script.stream_error:
            events.append({"type": "error", "error": {"type": "server_error", **script.stream_error}})
        else:
            done = {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(png).decode(),
                "created_at": int(time.time()),
                **echo,
            }
            if usage is not None:
                done["usage"] = usage
            events.append(done)
        h.send_response(200)
        for k, v in {
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Connection": "close",
            **headers,
        }.items():
            h.send_header(k, v)
        h.end_headers()
        for ev in events:
            name = "error" if ev["type"] == "error" else ev["type"]
            h.wfile.write(f"event: {name}\ndata: {json.dumps(ev)}\n\n".encode())
            h.wfile.flush()
        h.close_connection = True

    @staticmethod
    def _grid_from_prompt(prompt: str) -> tuple[int, int]:
        r = re.search(r"(\d+) rows?", prompt)
        c = re.search(r"(\d+) col(?:umn)?s?", prompt)
        return (int(r.group(1)) if r else 1), (int(c.group(1)) if c else 1)

    @staticmethod
    def _send_json(h, status: int, body: Any, headers: dict) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
