"""What an image call costs: an estimate before it, the exact figure after it.

Pure functions over numbers; prices come from ``data/models.toml`` via
:mod:`gridanim.generation.models` (USD per 1M tokens, which is micro-dollars per token).
Money is :class:`~decimal.Decimal` throughout, so an actual cost equals
``usage x price`` exactly; :func:`usd` rounds to the micro-dollar for display.

* :func:`output_tokens` - image output tokens per image (the guide's calculator
  formula for gpt-image-2 / 2.5 / 2.6, the fixed table for older models).
* :func:`input_image_tokens` - tokens for one reference image in an edit (the
  third-party 32-px patch rule; OpenAI publishes none for 2.x).
* :func:`estimate` - a range before the call (a single figure unless quality is
  ``auto``); ``approximate`` when the model's figures are unconfirmed.
* :class:`Usage` / :func:`actual_cost` - the exact cost from a response's usage.
* :class:`CostLedger` - a running session total.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .models import QUALITY_ORDER, ModelInfo, load_catalog

MICRO = Decimal("0.000001")
PER_TOKEN = Decimal(1_000_000)


def usd(x: Decimal) -> float:
    """Round a dollar amount to the micro-dollar for display / JSON."""
    return float(x.quantize(MICRO, rounding=ROUND_HALF_UP))


def format_usd(lo: Decimal, hi: Decimal | None = None, approximate: bool = False) -> str:
    """``$0.0482``, ``$0.0031-$0.1117``, ``~$0.0482`` (4 decimals under $1, else cents)."""

    def one(x: Decimal) -> str:
        return f"${usd(x):.4f}" if x < 1 else f"${usd(x):.2f}"

    a = "~" if approximate else ""
    return f"{a}{one(lo)}" if hi is None or hi == lo else f"{a}{one(lo)}-{one(hi)}"


def text_tokens(text: str) -> int:
    """Approximate text tokens: one per 4 characters, rounded up (good to a few %)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def input_image_tokens(w: int, h: int) -> int:
    """Tokens for one input image by the 32-px patch rule (third-party, unconfirmed).

    Scale up so the long side is at least 1024 px, count 32x32 patches; above 1536
    patches, scale down to fit 1536 (shrinking a little more so whole patches fit).
    Observed: 1024x1024 -> 1024, 1536x1024 -> 1536, 341x512 -> 704, 1179x2556 -> 1482.
    """
    if w <= 0 or h <= 0:
        return 0
    if max(w, h) < 1024:
        f = 1024 / max(w, h)
        w, h = w * f, h * f
    eps = 1e-9
    patches = math.ceil(w / 32 - eps) * math.ceil(h / 32 - eps)
    if patches <= 1536:
        return patches
    r = math.sqrt(32 * 32 * 1536 / (w * h))
    r *= min(math.floor(w * r / 32 + eps) / (w * r / 32), math.floor(h * r / 32 + eps) / (h * r / 32))
    return math.ceil(w * r / 32 - eps) * math.ceil(h * r / 32 - eps)


def output_tokens(model: ModelInfo, w: int, h: int, quality: str) -> int:
    """Image output tokens for ONE image of ``w x h`` at ``quality`` (not ``auto``)."""
    cat = load_catalog()
    if model.output_formula == "fixed_output_tokens":
        table = cat.fixed_output_tokens[quality]
        key = f"{w}x{h}"
        if key not in table:
            raise KeyError(f"no token figure for {key} on {model.id}")
        return int(table[key])
    f = cat.formulas[model.output_formula]
    G = model.grid[quality]
    long, short = max(w, h), min(w, h)
    g = round(G * short / long)  # Python's round is half-to-even, as the 2026-09 calculator
    num = G * g * (f["area_offset_px"] + w * h)
    return -(-num // f["area_divisor"])  # exact integer ceiling


def partial_image_tokens(partial_images: int) -> int:
    cat = load_catalog()
    return partial_images * cat.formulas["calculator_v1"]["partial_image_extra_output_tokens"]


def qualities_for(model: ModelInfo, quality: str) -> tuple[str, ...]:
    """The qualities an estimate must cover: the one asked, or all of them for ``auto``."""
    if quality == "auto":
        return tuple(q for q in QUALITY_ORDER if q in model.qualities)
    return (quality,)


@dataclass(frozen=True)
class Estimate:
    """A pre-call cost estimate; ``low_usd == high_usd`` unless quality is ``auto``."""

    model: str
    size: tuple[int, int]
    quality: str
    n: int
    text_tokens: int
    input_image_tokens: int
    output_tokens: tuple[int, int]  # (low, high) for all n images, partial-image tokens included
    low_usd: Decimal
    high_usd: Decimal
    approximate: bool
    notes: tuple[str, ...] = ()

    @property
    def usd(self) -> Decimal:
        """The figure to show when one number is wanted: the high end (conservative)."""
        return self.high_usd

    def describe(self) -> str:
        return format_usd(self.low_usd, self.high_usd, self.approximate)


def estimate(
    model: ModelInfo,
    size: tuple[int, int],
    quality: str,
    prompt: str,
    *,
    input_images: Iterable[tuple[int, int]] = (),
    partial_images: int = 0,
    n: int = 1,
) -> Estimate:
    """Estimate one images call: text + input images + n x (output + partial-image tokens)."""
    w, h = size
    t_in = text_tokens(prompt)
    i_in = sum(input_image_tokens(a, b) for a, b in input_images)
    extra = partial_image_tokens(partial_images)
    notes = []
    totals = []
    for q in qualities_for(model, quality):
        per = output_tokens(model, w, h, q)
        mult = model.estimate_multiplier.get(q, 1.0)
        if mult != 1.0:
            per = math.ceil(per * mult)
        totals.append(n * (per + extra))
    if model.estimate_multiplier and any(
        model.estimate_multiplier.get(q, 1.0) != 1.0 for q in qualities_for(model, quality)
    ):
        notes.append(
            f"{model.id}: output tokens at this quality are unconfirmed; estimated x{max(model.estimate_multiplier.values()):g} the 2.5 figure"
        )
    elif model.approximate:
        notes.append(f"{model.id}: price figures are {model.confidence}; the estimate is approximate")
    if i_in:
        notes.append("input-image tokens use an unconfirmed 32-px patch rule")
    if quality == "auto":
        notes.append("quality auto: the model picks the quality, so the cost is a range")
    base = t_in * model.text_input + i_in * model.image_input
    lo = (base + min(totals) * model.image_output) / PER_TOKEN
    hi = (base + max(totals) * model.image_output) / PER_TOKEN
    return Estimate(
        model=model.id,
        size=(w, h),
        quality=quality,
        n=n,
        text_tokens=t_in,
        input_image_tokens=i_in,
        output_tokens=(min(totals), max(totals)),
        low_usd=lo,
        high_usd=hi,
        approximate=model.approximate or quality == "auto",
        notes=tuple(notes),
    )


def _get(obj: Any, name: str) -> Any:
    """Read a field from a pydantic object, an extra attribute holding a dict, or a dict."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    v = getattr(obj, name, None)
    if v is None:
        extra = getattr(obj, "model_extra", None) or {}
        v = extra.get(name)
    return v


def _int(v: Any) -> int:
    try:
        return max(0, int(v or 0))
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Usage:
    """Token usage of one call, split the way prices are."""

    text_in: int = 0
    image_in: int = 0
    image_out: int = 0
    text_out: int = 0

    @classmethod
    def from_api(cls, usage: Any) -> Usage | None:
        """Read an SDK usage object (or dict) defensively; None when there is none.

        Missing ``input_tokens_details`` -> all input counted as text; missing
        ``output_tokens_details`` -> all output counted as image (research §3.3).
        """
        if usage is None:
            return None
        inp = _int(_get(usage, "input_tokens"))
        out = _int(_get(usage, "output_tokens"))
        idet = _get(usage, "input_tokens_details")
        odet = _get(usage, "output_tokens_details")
        if idet is not None:
            text_in, image_in = _int(_get(idet, "text_tokens")), _int(_get(idet, "image_tokens"))
        else:
            text_in, image_in = inp, 0
        if odet is not None:
            image_out, text_out = _int(_get(odet, "image_tokens")), _int(_get(odet, "text_tokens"))
        else:
            image_out, text_out = out, 0
        return cls(text_in, image_in, image_out, text_out)

    def to_dict(self) -> dict:
        return {
            "input_text_tokens": self.text_in,
            "input_image_tokens": self.image_in,
            "output_image_tokens": self.image_out,
            "output_text_tokens": self.text_out,
        }


def actual_cost(model: ModelInfo, usage: Usage) -> Decimal:
    """The exact cost of a call from its usage (text in, image in, image out, text out)."""
    total = usage.text_in * model.text_input + usage.image_in * model.image_input + usage.image_out * model.image_output
    if usage.text_out and model.text_output is not None:
        total += usage.text_out * model.text_output
    return total / PER_TOKEN


@dataclass
class CostLedger:
    """A session's running total (one per CLI run or per app visitor)."""

    entries: list[tuple[str, Decimal]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, label: str, amount: Decimal) -> None:
        with self._lock:
            self.entries.append((label, amount))

    @property
    def total_usd(self) -> Decimal:
        with self._lock:
            return sum((a for _, a in self.entries), Decimal(0))

    @property
    def count(self) -> int:
        return len(self.entries)
