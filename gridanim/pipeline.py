"""The two flows, each written once: the CLI and the app both call only these.

* :func:`animate_grid` - image -> :class:`~gridanim.animate.Animation` -> bytes per format. It is
  defined in :mod:`gridanim.animate` and re-exported here, so ``python -m gridanim animate`` can run it
  without importing the OpenAI side (start-up time is part of the benchmark);
* :func:`generate_and_animate` - one OpenAI call -> saved grid -> the same animation.

:func:`generate_and_animate` (and :func:`redraw_and_animate` for "fix these frames")
yield ONE typed event stream; dispatch on ``event.kind``:

* ``"progress"`` - :class:`Progress`, a heartbeat while OpenAI works (``heartbeat=`` seconds);
* ``"partial"`` - :class:`Partial`, a partial image while it draws;
* ``"saved"`` - :class:`Saved`, the image is on disk with its sidecar (paid-for images are never lost);
* ``"cost"`` - :class:`Cost`, the exact cost of that call from ``usage`` beside its estimate;
* ``"result"`` - :class:`Result`, the last event: the generation, the animation and the encoded bytes.

``step`` says which call an event belongs to: ``"stylise"`` (the still of "stylise first"),
``"generate"`` or ``"redraw"``.

Bytes flow through: the returned image is decoded once (:mod:`gridanim.generation.generate`), its
layout found once and handed to :func:`gridanim.animate.animate`, the sidecar written once
and updated once with the outputs. Billing is a pair of hooks (:class:`Billing`): ``reserve``
before any request (it may refuse), ``settle`` with the exact cost as soon as the last image
is saved, ``fail`` when the flow stops first, and ``claim`` to mark each saved record as the
visitor's. The flow knows nothing of Gradio or argparse.
"""

from __future__ import annotations

import datetime as _dt
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, ClassVar

from .animate import AnimateOptions, Animation, animate, animate_grid, render  # noqa: F401  (animate_grid: re-exported)
from .errors import GridanimError
from .generation.generate import (
    GenerationRequest,
    GenerationResult,
    Prepared,
    prepare,
    prepare_still,
    stream_generation,
)
from .generation.pricing import CostLedger, Estimate, Usage, usd
from .generation.redraw import prepare_redraw
from .hosting.storage import Record, load_record, update_record
from .output import write_output

# ------------------------------------------------------------------ events


@dataclass(frozen=True)
class Progress:
    elapsed_s: float
    step: str
    partials: int = 0
    kind: ClassVar[str] = "progress"


@dataclass(frozen=True)
class Partial:
    index: int
    png: bytes
    elapsed_s: float
    step: str
    kind: ClassVar[str] = "partial"


@dataclass(frozen=True)
class Saved:
    record: Record
    png: bytes
    step: str
    elapsed_s: float
    kind: ClassVar[str] = "saved"


@dataclass(frozen=True)
class Cost:
    step: str
    estimate: Estimate
    actual_usd: Decimal | None
    usage: Usage | None
    frames: int
    elapsed_s: float = 0.0
    kind: ClassVar[str] = "cost"

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "estimated_usd": usd(self.estimate.usd),
            "estimated_range_usd": [usd(self.estimate.low_usd), usd(self.estimate.high_usd)],
            "actual_usd": usd(self.actual_usd) if self.actual_usd is not None else None,
            "usage": self.usage.to_dict() if self.usage else None,
        }


@dataclass(frozen=True)
class Result:
    generation: GenerationResult
    animation: Animation | None
    data: dict[str, bytes]
    outputs: dict[str, str]
    costs: tuple[Cost, ...]
    elapsed_s: float
    kind: ClassVar[str] = "result"

    @property
    def record(self) -> Record:
        return self.generation.record

    @property
    def total_usd(self) -> Decimal | None:
        """The sum of every call's exact cost (None when one of them reported no usage)."""
        actual = [c.actual_usd for c in self.costs]
        return None if any(a is None for a in actual) else sum(actual, Decimal(0))

    def steps(self) -> list[dict]:
        return [c.to_dict() for c in self.costs]


Event = Progress | Partial | Saved | Cost | Result


# ------------------------------------------------------------------ billing hooks


class _Unmetered:
    def settle(self, actual_usd: Decimal | None) -> None:
        pass

    def fail(self, error: BaseException | None = None) -> None:
        pass


@dataclass
class Billing:
    """How a flow is paid for: ``reserve(estimate_usd)`` returns a ticket with ``settle``/``fail`` (or raises)."""

    reserve: Callable[[Decimal], Any] = lambda usd_: _Unmetered()
    claim: Callable[[Record], Any] | None = None


# ------------------------------------------------------------------ heartbeat

_END = object()


def with_heartbeat(events: Iterator[Any], every: float | None) -> Iterator[Any]:
    """Yield ``events``' items as they come, and ``None`` after each ``every`` seconds of silence.

    ``every=None`` passes the items straight through. Otherwise the iterator runs in a
    daemon thread; its exception is re-raised here, and the thread stops at the next item
    if the consumer stops early.
    """
    if not every:
        yield from events
        return
    q: queue.Queue = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in events:
                q.put(("item", item))
                if stop.is_set():
                    return
            q.put(("end", _END))
        except BaseException as e:  # handed to the consumer
            q.put(("error", e))

    threading.Thread(target=pump, name="gridanim-stream", daemon=True).start()
    try:
        while True:
            try:
                kind, item = q.get(timeout=every)
            except queue.Empty:
                yield None
                continue
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()


# ------------------------------------------------------------------ the flow


@dataclass
class _Run:
    client: Any
    ledger: CostLedger | None
    data_dir: str | os.PathLike | None
    heartbeat: float | None
    billing: Billing
    t0: float = field(default_factory=time.monotonic)
    costs: list[Cost] = field(default_factory=list)

    def call(self, p: Prepared, step: str, meta: dict | None = None) -> Generator[Event, None, GenerationResult]:
        """One paid call: yields its events and returns its :class:`GenerationResult` (``yield from``)."""
        partials = 0
        result = None
        stream = stream_generation(p, self.client, ledger=self.ledger, data_dir=self.data_dir, meta=meta)
        for ev in with_heartbeat(stream, self.heartbeat):
            elapsed = time.monotonic() - self.t0
            if ev is None:
                yield Progress(elapsed, step, partials)
            elif ev.kind == "partial":
                partials += 1
                yield Partial(ev.index, ev.png, elapsed, step)
            else:
                result = ev.result
        assert result is not None  # stream_generation always completes or raises
        if self.billing.claim is not None:
            result.record = self.billing.claim(result.record) or result.record
        yield Saved(result.record, result.png, step, time.monotonic() - self.t0)
        cost = Cost(step, p.quote.estimate, result.actual_usd, result.usage, p.quote.frames, time.monotonic() - self.t0)
        self.costs.append(cost)
        yield cost
        return result

    def billed(self, estimate_usd: Decimal, body: Iterator[Any]) -> Iterator[Event]:
        """Reserve before ``body`` runs, settle when it yields :data:`_PAID`, fail if it stops before that."""
        ticket = self.billing.reserve(estimate_usd)  # may refuse (limit, no key): nothing was sent
        settled = False
        try:
            for ev in body:
                if ev is _PAID:
                    actual = [c.actual_usd for c in self.costs]
                    ticket.settle(None if any(a is None for a in actual) else sum(actual, Decimal(0)))
                    settled = True
                else:
                    yield ev
        except BaseException as e:
            if not settled:
                ticket.fail(e)
            raise


_PAID = object()  # a flow's marker: every paid call is saved, so the exact cost can be settled


def animation_options(p: Prepared, result: GenerationResult, base: AnimateOptions | None = None) -> AnimateOptions:
    """The options the saved grid is animated with: the caller's, with the grid's rows, cols and timing."""
    opts = base or AnimateOptions()
    lay = result.layout
    rows, cols = (lay.rows, lay.cols) if lay else (p.plan.rows, p.plan.cols)
    gif = result.record.meta.get("gif")
    if gif and base is None:
        return replace(opts, rows=rows, cols=cols, frame_ms=int(gif["frame_ms"]))
    return replace(opts, rows=rows, cols=cols, fps=opts.fps if base is not None else p.fps)


def _animate(
    run: _Run,
    p: Prepared,
    result: GenerationResult,
    options: AnimateOptions | None,
    formats: Iterable[str],
    targets: dict[str, str] | None,
    extra_meta: dict,
) -> Result:
    formats = list(dict.fromkeys(list(formats) + list(targets or {})))
    anim = None
    data: dict[str, bytes] = {}
    outputs: dict[str, str] = {}
    warnings = list(result.warnings)
    if formats:
        try:
            anim = animate(
                result.image or str(result.grid_path), animation_options(p, result, options), layout=result.layout
            )
            data = render(anim, formats)
            for fmt, path in (targets or {}).items():
                write_output(path, data[fmt])
                outputs[fmt] = str(path)
        except GridanimError as e:
            raise type(e)(f"the grid was saved to {result.grid_path}, but making the animation failed: {e}") from None
        warnings += [w for w in anim.warnings if w not in warnings]
        extra_meta["animation"] = {
            "frames": len(anim.frames),
            "fps": round(anim.effective_fps, 2),
            "durations_ms": anim.durations_ms,
        }
    result.warnings = warnings
    if formats or extra_meta:
        result.record = update_record(result.record, outputs=outputs, warnings=warnings, **extra_meta)
    return Result(result, anim, data, outputs, tuple(run.costs), time.monotonic() - run.t0)


def generate_and_animate(
    request: GenerationRequest | Prepared,
    client: Any,
    *,
    options: AnimateOptions | None = None,
    formats: Iterable[str] = (),
    targets: dict[str, str] | None = None,
    ledger: CostLedger | None = None,
    data_dir: str | os.PathLike | None = None,
    billing: Billing | None = None,
    heartbeat: float | None = None,
    still: Record | None = None,
    today: _dt.date | None = None,
) -> Iterator[Event]:
    """Prompt (and photo) -> saved grid -> animation, as one event stream (see the module docstring).

    ``formats`` are encoded and handed back in ``Result.data``; ``targets`` (format -> path)
    are also written there and recorded in the sidecar. With ``request.stylise_first`` the
    photo is first turned into a styled still (its own saved record and cost), and the grid
    call uses that still as its only reference; pass ``still`` to reuse an approved one.
    """
    p = request if isinstance(request, Prepared) else prepare(request, today=today)
    two_steps = p.request.stylise_first and still is None
    still_p = prepare_still(p.request, today=today) if two_steps else None
    run = _Run(client, ledger, data_dir, heartbeat, billing or Billing())

    def body():
        q, kept, meta = p, still, {}
        if still_p is not None:
            kept = (yield from run.call(still_p, "stylise", {"kind": "still"})).record
        if kept is not None:
            images = ((f"{kept.id}.png", kept.png_path.read_bytes()),)
            q = prepare(replace(p.request, images=images, stylise_first=False), today=today)
            meta = {"still": kept.id}
        result = yield from run.call(q, "generate", meta)
        yield _PAID
        extra = {"steps": [c.to_dict() for c in run.costs]} if len(run.costs) > 1 else {}
        yield _animate(run, q, result, options, formats, targets, extra)

    estimate_usd = p.quote.estimate.usd + (still_p.quote.estimate.usd if still_p else 0)
    yield from run.billed(estimate_usd, body())


def stylise(
    request: GenerationRequest,
    client: Any,
    *,
    ledger: CostLedger | None = None,
    data_dir: str | os.PathLike | None = None,
    billing: Billing | None = None,
    heartbeat: float | None = None,
    today: _dt.date | None = None,
) -> Iterator[Event]:
    """Step one of "stylise first" alone, for a person to keep or retry: the still's events, then a Result (no animation).

    Keep it by passing ``still=result.record`` to :func:`generate_and_animate`.
    """
    p = prepare_still(request, today=today)
    run = _Run(client, ledger, data_dir, heartbeat, billing or Billing())

    def body():
        result = yield from run.call(p, "stylise", {"kind": "still"})
        yield _PAID
        yield Result(result, None, {}, {}, tuple(run.costs), time.monotonic() - run.t0)

    yield from run.billed(p.quote.estimate.usd, body())


def redraw_and_animate(
    record: Record | str,
    frames: str,
    client: Any,
    *,
    fix: str | None = None,
    options: AnimateOptions | None = None,
    formats: Iterable[str] = (),
    targets: dict[str, str] | None = None,
    ledger: CostLedger | None = None,
    data_dir: str | os.PathLike | None = None,
    billing: Billing | None = None,
    heartbeat: float | None = None,
    today: _dt.date | None = None,
) -> Iterator[Event]:
    """Re-draw ``frames`` of a saved grid (one masked edit), save it as a child version, animate it."""
    parent = record if isinstance(record, Record) else load_record(record, data_dir)
    p = prepare_redraw(parent, frames, fix, today=today)
    run = _Run(client, ledger, data_dir, heartbeat, billing or Billing())
    meta = {"parent": parent.id, "redrawn": p.redraw.frames, "redraw_fix": fix or None}
    if parent.meta.get("gif"):
        meta["gif"] = parent.meta["gif"]

    def body():
        result = yield from run.call(p, "redraw", meta)
        yield _PAID
        yield _animate(run, p, result, options, formats, targets, {})

    yield from run.billed(p.quote.estimate.usd, body())
