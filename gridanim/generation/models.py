"""Which image models exist, which gridanim offers, and what sizes each accepts.

Everything here is read from ``gridanim/data/models.toml`` (one dated table, with
its source): statuses, shutdown dates, replacements, prices, quality tiers and
size rules. Code never hard-codes a model id; when OpenAI retires a model, edit
the TOML.

A model is *refused before any request* (:class:`ModelUnavailableError`, naming
the replacement) when it is unknown, shut down, past its shutdown date, or has
no price (gridanim will not spend money it cannot estimate). A deprecated model
whose date is still ahead is accepted with a warning but not offered.
Dates are compared against ``today`` (default ``datetime.date.today()``), which
tests inject.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import tomllib

from ..errors import InputError, ModelUnavailableError

QUALITY_ORDER = ("low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class SizeRules:
    """What ``size`` values a model accepts."""

    kind: str  # "custom" or "fixed"
    fixed: tuple[tuple[int, int], ...] = ()
    step: int = 16
    max_edge: int = 3840
    max_aspect: float = 3.0
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400
    experimental_above: int = 3_686_400

    def problem(self, w: int, h: int) -> str | None:
        """Why ``w x h`` is invalid for this model, or None when it is fine."""
        if self.kind == "fixed":
            if (w, h) in self.fixed:
                return None
            return f"this model only makes {', '.join(f'{a}x{b}' for a, b in self.fixed)}"
        if w <= 0 or h <= 0:
            return "width and height must be positive"
        if w % self.step or h % self.step:
            return f"width and height must both be multiples of {self.step}"
        if max(w, h) > self.max_edge:
            return f"the long side must be at most {self.max_edge} px"
        if max(w, h) > self.max_aspect * min(w, h):
            return f"the long side may be at most {self.max_aspect:g}x the short side"
        if not self.min_pixels <= w * h <= self.max_pixels:
            return f"the image must have between {self.min_pixels:,} and {self.max_pixels:,} pixels"
        return None


@dataclass(frozen=True)
class GifRules:
    """A model's native GIF output (``output_format="gif"``): frame counts and frame-size limits."""

    min_frames: int = 2
    max_frames: int = 16
    default_frames: int = 9
    default_frame_ms: int = 200
    max_frame_edge: tuple[tuple[int, int], ...] = ()  # (up to N frames, longest frame side px), ascending
    access: str = ""
    source: str = ""
    limits_source: str = ""
    step: int = 16
    max_aspect: float = 3.0

    def edge_limit(self, frames: int) -> int | None:
        """The longest frame side allowed for ``frames`` frames (None when no limit is listed)."""
        return next((edge for upto, edge in self.max_frame_edge if frames <= upto), None)

    def problem(self, frames: int, w: int, h: int) -> str | None:
        """Why ``frames`` frames of ``w x h`` cannot be asked for, naming the limit; None when fine."""
        if not self.min_frames <= frames <= self.max_frames:
            return f"a GIF has {self.min_frames} to {self.max_frames} frames, not {frames}"
        if w <= 0 or h <= 0 or w % self.step or h % self.step:
            return f"GIF frame sides must be positive multiples of {self.step} px"
        if max(w, h) > self.max_aspect * min(w, h):
            return f"a GIF frame's long side may be at most {self.max_aspect:g}x its short side"
        limit = self.edge_limit(frames)
        if limit is not None and max(w, h) > limit:
            return f"the GIF limit for {frames} frames is {limit} px on the longest side (reported by {self.limits_source or 'models.toml'})"
        return None


def _gif_rules(raw: dict | None) -> GifRules | None:
    if not raw:
        return None
    lo, hi = raw.get("frames", (2, 16))
    return GifRules(
        min_frames=int(lo),
        max_frames=int(hi),
        default_frames=int(raw.get("default_frames", 9)),
        default_frame_ms=int(raw.get("default_frame_ms", 200)),
        max_frame_edge=tuple(sorted((int(a), int(b)) for a, b in raw.get("max_frame_edge", ()))),
        access=str(raw.get("access", "")),
        source=str(raw.get("source", "")),
        limits_source=str(raw.get("limits_source", "")),
    )


@dataclass(frozen=True)
class ModelInfo:
    """One row of the model table."""

    id: str
    status: str
    aliases: tuple[str, ...] = ()
    released: _dt.date | None = None
    shutdown: _dt.date | None = None
    replacement: str | None = None
    text_input: Decimal | None = None  # USD per 1M tokens
    image_input: Decimal | None = None
    image_output: Decimal | None = None
    text_output: Decimal | None = None
    sizes: SizeRules = field(default_factory=lambda: SizeRules("fixed"))
    qualities: tuple[str, ...] = ()
    output_formula: str = ""
    grid: dict[str, int] = field(default_factory=dict)
    estimate_multiplier: dict[str, float] = field(default_factory=dict)
    confidence: str = ""
    source: str = ""
    transparency: str = ""  # "supported" | "preview" | "" (unknown: treated as unsupported)
    gif: GifRules | None = None

    @property
    def transparent_background(self) -> bool:
        """Whether sprites ask this model for ``background="transparent"`` (else a key colour)."""
        return self.transparency == "supported"

    @property
    def priced(self) -> bool:
        return None not in (self.text_input, self.image_input, self.image_output) and bool(self.output_formula)

    @property
    def approximate(self) -> bool:
        """True when estimates for this model rest on unconfirmed or conflicting figures."""
        return self.confidence not in ("official-formula", "official-table")

    def status_on(self, today: _dt.date) -> str:
        """``active``, ``deprecated`` or ``shutdown`` as of ``today``."""
        if self.status == "shutdown" or (self.shutdown is not None and self.shutdown <= today):
            return "shutdown"
        return self.status


@dataclass(frozen=True)
class Catalog:
    """The whole model table."""

    models: dict[str, ModelInfo]
    default_model: str
    default_quality: str
    formulas: dict[str, dict]
    fixed_output_tokens: dict[str, dict[str, int]]
    as_of: str
    source: str

    def lookup(self, name: str) -> ModelInfo | None:
        key = name.strip().lower()
        if key in self.models:
            return self.models[key]
        for m in self.models.values():
            if key in m.aliases:
                return m
        return None


def _date(v) -> _dt.date | None:
    if v is None:
        return None
    if isinstance(v, _dt.date):
        return v
    return _dt.date.fromisoformat(str(v))


def _dec(v) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def _parse_size(s: str) -> tuple[int, int]:
    w, h = s.lower().split("x")
    return int(w), int(h)


def parse_catalog(data: dict) -> Catalog:
    rules = data["size_rules"]
    c = rules["custom"]
    custom = SizeRules(
        "custom",
        step=c["step_px"],
        max_edge=c["max_edge_px"],
        max_aspect=float(c["max_aspect"]),
        min_pixels=c["min_pixels"],
        max_pixels=c["max_pixels"],
        experimental_above=c["experimental_above_pixels"],
    )
    fixed = SizeRules("fixed", fixed=tuple(_parse_size(s) for s in rules["fixed"]["sizes"]))
    models = {}
    for mid, m in data["models"].items():
        models[mid] = ModelInfo(
            id=mid,
            status=m["status"],
            aliases=tuple(a.lower() for a in m.get("aliases", ())),
            released=_date(m.get("released")),
            shutdown=_date(m.get("shutdown")),
            replacement=m.get("replacement"),
            text_input=_dec(m.get("text_input")),
            image_input=_dec(m.get("image_input")),
            image_output=_dec(m.get("image_output")),
            text_output=_dec(m.get("text_output")),
            sizes=custom if m.get("sizes") == "custom" else fixed,
            qualities=tuple(m.get("qualities", ())),
            output_formula=m.get("output_formula", ""),
            grid=dict(m.get("grid", {})),
            estimate_multiplier={k: float(v) for k, v in m.get("estimate_multiplier", {}).items()},
            confidence=m.get("confidence", ""),
            source=m.get("source", ""),
            transparency=m.get("transparency", ""),
            gif=_gif_rules(m.get("gif")),
        )
    return Catalog(
        models=models,
        default_model=data["defaults"]["model"],
        default_quality=data["defaults"]["quality"],
        formulas=dict(data.get("formula", {})),
        fixed_output_tokens=dict(data.get("fixed_output_tokens", {})),
        as_of=data["as_of"],
        source=data["source"],
    )


@cache
def load_catalog(path: str | None = None) -> Catalog:
    """Read the model table (the shipped one unless ``path`` is given); cached."""
    if path is None:
        text = resources.files("gridanim").joinpath("data/models.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return parse_catalog(tomllib.loads(text))


def _today(today: _dt.date | None) -> _dt.date:
    return today or _dt.date.today()


def offered_models(today: _dt.date | None = None) -> list[str]:
    """Model ids to offer users: active, priced, not past a shutdown date. Default first."""
    cat = load_catalog()
    day = _today(today)
    ids = [m.id for m in cat.models.values() if m.priced and m.status_on(day) == "active"]
    return sorted(ids, key=lambda i: (i != cat.default_model, i))


def check_model(name: str | None, today: _dt.date | None = None) -> tuple[ModelInfo, list[str]]:
    """Resolve ``name`` (default model when None) or refuse it; returns (model, warnings).

    Raises :class:`ModelUnavailableError` for unknown, shut-down or unpriced models.
    """
    cat = load_catalog()
    day = _today(today)
    name = name or cat.default_model
    m = cat.lookup(name)
    if m is None:
        raise ModelUnavailableError(f"unknown image model '{name}': use one of {', '.join(offered_models(day))}")
    instead = m.replacement or cat.default_model
    status = m.status_on(day)
    if status == "shutdown":
        when = f" on {m.shutdown.isoformat()}" if m.shutdown else ""
        raise ModelUnavailableError(f"{m.id} was shut down by OpenAI{when}: use {instead} instead (--model {instead})")
    if not m.priced:
        raise ModelUnavailableError(
            f"gridanim has no price for {m.id}, so it cannot estimate the cost: use {instead} instead"
        )
    warnings = []
    if status == "deprecated":
        when = f" on {m.shutdown.isoformat()}" if m.shutdown else " soon"
        warnings.append(f"{m.id} is deprecated and shuts down{when}: switch to {instead}")
    return m, warnings


def check_quality(model: ModelInfo, quality: str | None) -> str:
    """Return the quality to send (the default when None) or raise InputError."""
    q = (quality or load_catalog().default_quality).strip().lower()
    if q == "auto":
        return q
    if q not in model.qualities:
        # e.g. the default "medium" is always available; xhigh/max exist only on 2.5+
        raise InputError(f"{model.id} has no quality '{q}': use one of {', '.join(model.qualities)} or auto")
    return q
