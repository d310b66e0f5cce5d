"""Short Markdown texts the app shows: estimates, costs, layouts, animations, history.

Pure formatting over the package's own objects (numbers come from
:mod:`gridanim.pricing` and friends, never computed here), so the app's
handlers stay wiring and the wording is tested without a browser.
"""

from __future__ import annotations

from typing import Any

from .pricing import CostLedger, format_usd, usd

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


def quote_markdown(prepared: Any) -> str:
    """The live estimate: total, per frame, and the same frames one image per call."""
    q, e = prepared.quote, prepared.quote.estimate
    plan = prepared.plan
    pw, ph = plan.panel
    ow, oh = q.one_by_one_size
    head = [
        f"**Estimated cost: {e.describe()}** for one {plan.size} image "
        f"({plan.rows}×{plan.cols} = {plan.frames} frames of about {pw}×{ph}, {prepared.model.id}, quality {prepared.quality})",
        f"That is {format_usd(*q.per_frame_usd, e.approximate)} per frame; "
        f"{q.frames} separate {ow}×{oh} images would cost {format_usd(*q.one_by_one_usd, e.approximate)}.",
    ]
    if prepared.references:
        head.append(f"Photo → animation: {len(prepared.references)} reference photo(s) sent with images.edit.")
    bullets = [f"- {n}" for n in e.notes] + [f"- Note: {w}" for w in prepared.warnings]
    return "\n\n".join(head + (["\n".join(bullets)] if bullets else []))


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
        per = format_usd(result.actual_usd / p.plan.frames)
        first = (
            f"**Cost: ${usd(result.actual_usd):.4f}** ({per} per frame; estimate was {est}). "
            f"Tokens: {u.text_in} text + {u.image_in} image in, {u.image_out} image out."
        )
    return f"{first}\n\n{ledger_line(ledger)}"


def layout_markdown(layout: Any, notes: list[str] | tuple[str, ...] = ()) -> str:
    fw, fh = layout.frame_size
    head = f"**Cut: {layout.rows} rows × {layout.cols} columns, {layout.frames} frames of {fw}×{fh}**"
    body = [f"- Note: {n}" for n in notes]
    return "\n".join([head, *body]) if body else head


def animation_markdown(files: Any) -> str:
    """What an animate run made: frames, timing, stabilisation, file sizes, warnings."""
    from .session import human_size

    a = files.anim
    w, h = a.frame_size
    delays = "/".join(str(d) for d in sorted(set(a.durations_ms)))
    parts = [
        f"**{len(a.frames)} frames of {w}×{h}**, {a.effective_fps:.3g} fps ({delays} ms per frame), loop {a.loop_ms / 1000:.2f} s",
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
        looks.append(f"pixel art ({art.colors} colours) kept exact" + (f", shown {a.scale}× larger" if a.scale > 1 else ""))
    if looks:
        parts.append("; ".join(looks).capitalize())
    sizes = files.sizes()
    names = {"gif": "GIF", "mp4": "MP4", "webp": "WebP", "zip": "frames ZIP", "sheet": "sprite sheet (PNG + JSON)"}
    parts.append(" · ".join(f"{names.get(f, f)} {human_size(n)}" for f, n in sizes.items()))
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
    from .motion import SEAM_HIGH

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
    from .errors import InputError
    from .frames import format_holds, parse_holds

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


def status_markdown(step: Any, partial_images: int) -> str:
    """The one status line under Generate while OpenAI works (plain text: no emoji font needed)."""
    s = f"{step.elapsed_s:.0f} s"
    if step.kind == "wait":
        if step.partials:
            return f"Working: the model is still drawing ({step.partials} of {partial_images} previews received) · {s}"
        return f"Working: waiting for OpenAI to draw the grid (often 20-60 s) · {s}"
    if step.kind == "partial":
        return f"Working: preview {step.partials} of {partial_images} received · {s}"
    if step.kind == "saved":
        return f"Working: grid received and saved; cutting it into frames and encoding · {s}"
    return f"**Done** in {s}"


def history_caption(record: Any) -> str:
    m = record.meta
    prompt = str(m.get("user_prompt") or m.get("prompt") or "")
    short = prompt if len(prompt) <= 40 else prompt[:39] + "…"
    cost = (m.get("cost") or {}).get("actual_usd")
    money = f" · ${cost:.4f}" if isinstance(cost, (int, float)) else ""
    return f"{short}{money}"


def history_markdown(record: Any) -> str:
    """Settings and cost of one saved generation."""
    m = record.meta
    plan = m.get("plan") or {}
    cost = m.get("cost") or {}
    actual = cost.get("actual_usd")
    lines = [
        f"**{m.get('user_prompt') or m.get('prompt') or '(no prompt)'}**",
        f"- saved: {record.created or record.id} (id `{record.id}`)",
        f"- style: {m.get('preset') or 'none'} · model: {m.get('model')} · quality: {m.get('quality')} · size: {m.get('size')}",
        f"- grid: {plan.get('rows', '?')}×{plan.get('cols', '?')} ({plan.get('frames', '?')} frames), {m.get('fps', '?')} fps",
        f"- cost: {'$%.4f' % actual if isinstance(actual, (int, float)) else 'unknown'}",
    ]
    return "\n".join(lines)
