"""Short Markdown texts the app shows: estimates, costs, layouts, animations, history.

Pure formatting over the package's own objects (numbers come from
:mod:`gridanim.generation.pricing` and friends, never computed here), so the app's
handlers stay wiring and the wording is tested without a browser.
"""

from __future__ import annotations

from typing import Any

from ..generation.pricing import CostLedger, format_usd, usd

NO_KEY = (
    "**No OpenAI key yet**, so nothing was sent. To generate, do one of these: "
    "paste your own key in *Your own OpenAI key* (used for this one request, never stored); "
    "or set `OPENAI_API_KEY` before `python app.py` (`export OPENAI_API_KEY=sk-...`); "
    "or, on a Hugging Face Space, add `OPENAI_API_KEY` under Settings → Variables and secrets. "
    "Animate and History work without a key."
)

KEY_HINT_SERVER = "A server key is set: generations are paid by this app's owner unless you paste your own key."
KEY_HINT_NONE = (
    "No server key is set: paste your own OpenAI key in the box above to generate "
    "(or set `OPENAI_API_KEY` / a Space secret). Estimates, Animate and History work without one."
)

SHARE_NOTE = (
    "Share links (`python app.py --share`) are **public**: anyone with the link can use this app "
    "(and the server's OpenAI key, if one is set). They expire after 72 hours."
)


_TITLES = {
    "InputError": "Check the settings",
    "LayoutError": "Could not cut the grid",
    "EncodeError": "Could not encode",
    "StorageError": "Saved grids",
    "ModelUnavailableError": "Not available for this model or key",
    "SafetyError": "Blocked by OpenAI's safety system",
    "AuthError": "OpenAI refused the key",
    "RateLimitError": "OpenAI limit reached",
    "ServerError": "OpenAI had a problem",
    "ConnectionFailed": "Could not reach OpenAI",
}


def error_title(e: Exception) -> str:
    """The toast title for one of the package's errors (the message itself says what to do)."""
    return next((_TITLES[c.__name__] for c in type(e).__mro__ if c.__name__ in _TITLES), "Error")


def quote_markdown(prepared: Any) -> str:
    """The live estimate: total, per frame, and the same frames one image per call."""
    q, e = prepared.quote, prepared.quote.estimate
    plan = prepared.plan
    ow, oh = q.one_by_one_size
    if prepared.gif:
        g = prepared.gif
        what = f"one animated GIF of {g.frames} frames of {g.size[0]}×{g.size[1]} ({g.frame_ms} ms each)"
    else:
        pw, ph = plan.panel
        what = f"one {plan.size} image ({plan.rows}×{plan.cols} = {plan.frames} frames of about {pw}×{ph})"
    head = [
        f"**Estimated cost: {e.describe()}** for {what}, {prepared.model.id}, quality {prepared.quality}",
        f"That is {format_usd(*q.per_frame_usd, e.approximate)} per frame; "
        f"{q.frames} separate {ow}×{oh} images would cost {format_usd(*q.one_by_one_usd, e.approximate)}.",
    ]
    if prepared.references:
        head.append(f"Photo → animation: {len(prepared.references)} reference photo(s) sent with images.edit.")
    if prepared.transparent:
        how = "a transparent background" if prepared.background else "a flat key colour, keyed out here"
        head.append(f"Transparent sprite: the model is asked for {how}.")
    bullets = [f"- {n}" for n in e.notes] + [f"- Note: {w}" for w in prepared.warnings]
    return "\n\n".join(head + (["\n".join(bullets)] if bullets else []))


ROUTE_NAMES = {"grid": "Grid (one sheet, cut here)", "gif": "Native GIF (the model animates)"}


def routes_markdown(quotes: dict, chosen: str) -> str:
    """The chosen route's estimate, then both routes side by side (a route that cannot run says why)."""
    mine = quotes.get(chosen)
    if isinstance(mine, Exception):
        return f"Cannot estimate: {mine}"
    rows = ["| Route | Estimate | Frames |", "|---|---|---|"]
    for route, q in quotes.items():
        mark = " ✓" if route == chosen else ""
        if isinstance(q, Exception):
            rows.append(f"| {ROUTE_NAMES[route]}{mark} | not available: {q} | |")
        else:
            rows.append(f"| {ROUTE_NAMES[route]}{mark} | {q.quote.estimate.describe()} | {q.quote.frames} |")
    return quote_markdown(mine) + "\n\n" + "\n".join(rows)


def event_markdown(ev: Any, partial_images: int) -> str:
    """The one status line under Generate while OpenAI works (plain text: no emoji font needed)."""
    s = f"{ev.elapsed_s:.0f} s"
    what = {"stylise": "the styled still", "redraw": "the re-drawn frames"}.get(getattr(ev, "step", ""), "the grid")
    if ev.kind == "progress":
        if ev.partials:
            return f"Working: the model is still drawing ({ev.partials} of {partial_images} previews received) · {s}"
        return f"Working: waiting for OpenAI to draw {what} (often 20-60 s) · {s}"
    if ev.kind == "partial":
        return f"Working: preview {ev.index + 1} of {partial_images} received · {s}"
    if ev.kind == "saved":
        return f"Working: {what} received and saved (id `{ev.record.id}`); cutting and encoding · {s}"
    if ev.kind == "cost":
        cost = format_usd(ev.actual_usd) if ev.actual_usd is not None else "unknown (no usage)"
        return f"Working: {what} cost {cost} (estimate {ev.estimate.describe()}); cutting and encoding · {s}"
    return f"**Done** in {s}"


def steps_markdown(result: Any) -> str:
    """Each paid call of a flow with its exact cost, and their sum (stylise first, redraw)."""
    if len(result.costs) < 2:
        return ""
    parts = [f"{c.step}: {format_usd(c.actual_usd) if c.actual_usd is not None else 'unknown'}" for c in result.costs]
    total = format_usd(result.total_usd) if result.total_usd is not None else "unknown"
    return "Steps: " + " + ".join(parts) + f" = **{total}**"


def ledger_line(ledger: CostLedger | None) -> str:
    if ledger is None or not ledger.count:
        return "Session total: $0.0000 (no images yet)"
    n = ledger.count
    return f"Session total: {format_usd(ledger.total_usd)} ({n} image{'s' if n != 1 else ''})"


def cost_markdown(result: Any, ledger: CostLedger | None) -> str:
    """The actual cost of a finished generation, from its usage, plus the session total."""
    p = result.prepared
    est = p.quote.estimate.describe()
    if result.actual_usd is None:
        first = f"**Cost: unknown** (OpenAI returned no usage; estimate was {est})"
    else:
        u = result.usage
        per = format_usd(result.actual_usd / max(1, p.quote.frames))
        first = (
            f"**Cost: ${usd(result.actual_usd):.4f}** ({per} per frame; estimate was {est}). "
            f"Tokens: {u.text_in} text + {u.image_in} image in, {u.image_out} image out."
        )
    if p.gif:
        first += f" Route: native GIF ({p.gif.frames} frames asked)."
    return f"{first}\n\n{ledger_line(ledger)}"


def layout_markdown(layout: Any, notes: list[str] | tuple[str, ...] = ()) -> str:
    fw, fh = layout.frame_size
    head = f"**Cut: {layout.rows} rows × {layout.cols} columns, {layout.frames} frames of {fw}×{fh}**"
    body = [f"- Note: {n}" for n in notes]
    return "\n".join([head, *body]) if body else head


def animation_markdown(files: Any) -> str:
    """What an animate run made: frames, timing, stabilisation, file sizes, warnings."""
    from ..units import human_bytes

    a = files.anim
    w, h = a.frame_size
    delays = "/".join(str(d) for d in sorted(set(a.durations_ms)))
    parts = [
        f"**{len(a.frames)} frames of {w}×{h}**, {a.effective_fps:.3g} fps ({delays} ms per frame), "
        f"loop {a.loop_ms / 1000:.2f} s",
    ]
    if a.jitter_before is not None:
        parts.append(f"Stabilised: jitter {a.jitter_before:.1f} px → {a.jitter_after:.1f} px")
    looks = []
    if getattr(a, "keyed", None):
        looks.append(f"background removed ({a.keyed})")
    elif getattr(a, "alphas", None) is not None:
        looks.append("transparency kept")
    art = getattr(a, "pixel_art", None)
    if art is not None and art.is_pixel_art:
        looks.append(
            f"pixel art ({art.colors} colours) kept exact" + (f", shown {a.scale}× larger" if a.scale > 1 else "")
        )
    if looks:
        parts.append("; ".join(looks).capitalize())
    sizes = files.sizes()
    names = {"gif": "GIF", "mp4": "MP4", "webp": "WebP", "zip": "frames ZIP", "sheet": "sprite sheet (PNG + JSON)"}
    parts.append(" · ".join(f"{names.get(f, f)} {human_bytes(n)}" for f, n in sizes.items()))
    out = "\n\n".join(parts)
    warns = list(dict.fromkeys(a.warnings))
    if warns:
        out += "\n\n" + "\n".join(f"- Note: {w}" for w in warns)
    return out


TIMING_HEADERS = ["#", "grid frame", "shows (ms)", "in-betweens (ms)"]


def app_terms(text: str) -> str:
    """A CLI hint in the app's words: ``--order pingpong`` -> *Order: pingpong*, and so on."""
    import re

    text = text.replace(" (app: Leave out frames)", "")
    text = re.sub(r"--order (\w+)", r"*Order: \1*", text)
    text = re.sub(r"--smooth (\d+)", r"*Smoothing: \1*", text)
    return re.sub(r"--drop ([\d,-]+)", r"*Leave out frames: \1*", text)


def seam_markdown(a: Any) -> str:
    """The loop-seam figure and, when it is a jump, what to do (beside the result in the app)."""
    from ..motion import SEAM_HIGH

    head = f"**Loop seam {a.loop_seam:.2f}**"
    if a.seam_hint:
        return f"{head} (1.0 = like a typical step)\n\nTip: {app_terms(a.seam_hint)}"
    if a.loop_seam > SEAM_HIGH:
        return f"{head}: the last → first step is a jump, already softened by the settings you chose"
    return f"{head}: last → first looks like any other step (1.0 = seamless)"


def timing_rows(a: Any) -> list[list]:
    """One row per played real frame: place, grid frame, its delay, its in-betweens' delays."""
    step = a.per_pair + 1
    rows = []
    for i, g in enumerate(a.sequence):
        d = a.durations_ms[i * step : (i + 1) * step]
        rows.append([i + 1, g + 1, d[0], "+".join(str(x) for x in d[1:]) or "-"])
    return rows


def holds_from_table(rows: list, shown: list, hold: str = "") -> str:
    """The Hold frames text after edits to a timing table (``rows``) first shown as ``shown``.

    A row whose "shows (ms)" changed holds its grid frame for that long; holds
    already typed are kept (an edit of the same frame wins).
    """
    from ..errors import InputError
    from ..frames import format_holds, parse_holds

    n = max([int(r[1]) for r in shown] or [1])
    holds = parse_holds(hold, n)
    for new, old in zip(rows, shown, strict=False):
        ms = str(new[2]).strip()
        if ms == str(old[2]):
            continue
        try:
            value = float(ms)
        except ValueError:
            raise InputError(f"{ms!r} is not a number of milliseconds: type a delay like 300") from None
        holds.update(parse_holds(f"{int(old[1])}:{value:g}", n))
    return format_holds(holds)


def history_caption(record: Any) -> str:
    m = record.meta
    prompt = str(m.get("user_prompt") or m.get("prompt") or "")
    short = prompt if len(prompt) <= 40 else prompt[:39] + "…"
    cost = (m.get("cost") or {}).get("actual_usd")
    money = f" · ${cost:.4f}" if isinstance(cost, (int, float)) else ""
    fixed = f" · re-drew {','.join(map(str, m['redrawn']))}" if m.get("redrawn") else ""
    return f"{short}{money}{fixed}"


def history_row(record: Any) -> dict:
    """One saved generation as data (the ``/history`` API): never a path."""
    m = record.meta
    return {
        "id": record.id,
        "created": record.created,
        "prompt": m.get("user_prompt") or m.get("prompt"),
        "route": m.get("route"),
        "cost_usd": (m.get("cost") or {}).get("actual_usd"),
        "parent": m.get("parent"),
        "redrawn": m.get("redrawn"),
    }


def redraw_markdown(result: Any) -> str:
    """A finished redraw: which frames, cost before (estimate) and after (usage), and the two versions."""
    g = result.generation
    m = g.record.meta
    frames = ", ".join(map(str, m.get("redrawn") or []))
    est = g.prepared.quote.estimate.describe()
    cost = f"${usd(g.actual_usd):.4f}" if g.actual_usd is not None else "unknown (no usage)"
    return (
        f"**Re-drew frame(s) {frames}**: cost {cost} (estimate was {est}). "
        f"New version `{g.record.id}`; the original `{m.get('parent')}` stays in History."
    )


def history_markdown(record: Any) -> str:
    """Settings and cost of one saved generation."""
    m = record.meta
    plan = m.get("plan") or {}
    cost = m.get("cost") or {}
    actual = cost.get("actual_usd")
    lines = [
        f"**{m.get('user_prompt') or m.get('prompt') or '(no prompt)'}**",
        f"- saved: {record.created or record.id} (id `{record.id}`)",
        f"- style: {m.get('preset') or 'none'} · model: {m.get('model')} · quality: {m.get('quality')} "
        f"· size: {m.get('size')}",
        f"- grid: {plan.get('rows', '?')}×{plan.get('cols', '?')} ({plan.get('frames', '?')} frames), "
        f"{m.get('fps', '?')} fps",
        f"- cost: {f'${actual:.4f}' if isinstance(actual, (int, float)) else 'unknown'}"
        + (f" · route: {m['route']}" if m.get("route") else ""),
    ]
    if m.get("parent"):
        lines.append(
            f"- re-drew frames {', '.join(map(str, m.get('redrawn') or []))} of `{m['parent']}`"
            + (f": {m['redraw_fix']}" if m.get("redraw_fix") else "")
        )
    return "\n".join(lines)
