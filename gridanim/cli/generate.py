"""Command line for the OpenAI side: ``generate`` and ``presets`` (a stable contract).

``python -m gridanim generate "PROMPT" [--style NAME] [--rows R] [--cols C]
[--shape S] [--fps F] [--model M] [--size WxH] [--quality Q] [--image PATH]...
[--layout-guide] [--stylise-first] [--route grid|gif] [--frames N] [--transparent]
[--partial-images N] [--estimate] [--gif PATH] [--mp4 PATH] [--webp PATH] [--json]``,
``python -m gridanim redraw ID --frames 3,7 [--prompt TEXT] [--gif PATH] [--mp4 PATH] [--json]``
and ``python -m gridanim presets [--json]``. Both paid commands run :mod:`gridanim.pipeline`.

The key comes only from ``OPENAI_API_KEY`` (no ``--api-key``: keys stay out of
shell history). ``--estimate`` prints the quote and sends nothing, so it needs no
key. Everything heavy (``openai``, numpy, PIL) is imported inside the command
functions, so ``detect`` / ``animate`` start as fast as before. Errors are
:class:`~gridanim.errors.GridanimError` and reach ``cli.main``, which prints one
``error:`` line and exits 2.
"""

from __future__ import annotations

import argparse

from .common import emit, whole

EXAMPLES = """examples:
  python -m gridanim presets
  python -m gridanim generate "a cat chasing its tail" --style ghibli --estimate
  python -m gridanim generate "a cat chasing its tail" --style ghibli --rows 3 --cols 4 \\
      --model gpt-image-2 --quality medium --gif cat.gif --mp4 cat.mp4
  python -m gridanim generate "she waves hello" --image me.jpg --layout-guide --gif wave.gif
  python -m gridanim generate "she waves hello" --image me.jpg --stylise-first --style ghibli --gif wave.gif
  python -m gridanim generate "a cat chasing its tail" --route gif --frames 9 --model gpt-image-2.6-flare --mp4 cat.mp4
  python -m gridanim generate "a knight walking" --style game-sprite --webp knight.webp
  python -m gridanim redraw ID --frames 3,7 --prompt "the sword stays in the right hand" --gif fixed.gif

The key is read from OPENAI_API_KEY (export OPENAI_API_KEY=sk-...). Models, their
status and prices: gridanim/data/models.toml. Styles: presets/*.toml, plus any folder
in GRIDANIM_PRESETS_DIR. Grids are saved with a JSON sidecar in GRIDANIM_DATA_DIR
(default ./outputs) before anything else happens.
"""


def add(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="make a grid with OpenAI from a prompt and a style, then animate it",
        description="Make ONE OpenAI image call for a rows x cols grid of animation panels, "
        "save it, and optionally cut it into a GIF / MP4. Prints the estimated cost "
        "before and the exact cost (from the API's usage) after.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("prompt", metavar="PROMPT", help='the subject and its motion, e.g. "a cat chasing its tail"')
    g = p.add_argument_group("grid and style")
    g.add_argument(
        "--style", metavar="NAME", help="a preset from `python -m gridanim presets` (sets rows, cols, shape, fps)"
    )
    g.add_argument("--rows", type=whole, help="rows in the grid (default: the style's, else 3)")
    g.add_argument("--cols", type=whole, help="columns in the grid (default: the style's, else 4)")
    g.add_argument("--shape", help="frame shape: square, portrait, landscape, wide, tall or a ratio like 16:9")
    g.add_argument("--fps", type=whole, help="frames per second of the animation (default: the style's, else 8)")
    m = p.add_argument_group("model and cost")
    m.add_argument("--model", help="image model (default and list: gridanim/data/models.toml)")
    m.add_argument("--size", metavar="WxH", help="force the canvas size (default: planned from rows, cols and shape)")
    m.add_argument("--quality", help="low, medium (default), high; xhigh/max on 2.5+; auto gives a cost range")
    m.add_argument("--estimate", action="store_true", help="print the cost estimate and send nothing (needs no key)")
    i = p.add_argument_group("photo to animation")
    i.add_argument(
        "--image", metavar="PATH", action="append", default=[], help="a reference photo (repeatable): uses images.edit"
    )
    i.add_argument(
        "--layout-guide", action="store_true", help="also send a faint numbered grid image as a guide (with --image)"
    )
    i.add_argument(
        "--stylise-first",
        action="store_true",
        help="with --image: one call turns the photo into the styled character, a second animates that still",
    )
    r = p.add_argument_group("route and transparency")
    r.add_argument(
        "--route",
        choices=("grid", "gif"),
        default="grid",
        help="grid: one sheet gridanim cuts (default); gif: the model's own animated GIF (models listing GIF output)",
    )
    r.add_argument(
        "--frames", type=whole, metavar="N", help="GIF route: frames to ask for (2-16; default: the model's, 9)"
    )
    r.add_argument(
        "--transparent",
        action="store_true",
        default=None,
        help="real alpha: a transparent background where the model offers it, else a key colour keyed out here "
        "(sprite presets turn this on)",
    )
    o = p.add_argument_group("outputs")
    o.add_argument(
        "--partial-images",
        type=whole,
        default=0,
        metavar="N",
        help="stream N (0-3) partial images while it draws; each adds 100 output tokens",
    )
    o.add_argument("--gif", metavar="PATH", help="write a GIF here")
    o.add_argument("--mp4", metavar="PATH", help="write an H.264 MP4 here")
    o.add_argument("--webp", metavar="PATH", help="write an animated WebP here (keeps alpha)")
    o.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of a summary")
    p.set_defaults(func=run)


def _quote_lines(p) -> list[str]:
    from ..generation.pricing import format_usd

    q, e = p.quote, p.quote.estimate
    pw, ph = p.plan.panel
    ow, oh = q.one_by_one_size
    style = f"style {p.preset.id}, " if p.preset else ""
    lines = [
        f"{style}{p.model.id}, {p.plan.size}, quality {p.quality}: {p.plan.rows} rows x {p.plan.cols} columns, "
        f"{p.plan.frames} panels of {pw}x{ph}" + (f", {len(p.references)} reference photo(s)" if p.references else ""),
        f"estimate: {e.describe()} ({format_usd(*q.per_frame_usd, e.approximate)} per frame; "
        f"the same {q.frames} frames one by one at {ow}x{oh}: {format_usd(*q.one_by_one_usd, e.approximate)})",
    ]
    lines += [f"note: {n}" for n in e.notes]
    return lines


def _targets(args) -> dict[str, str]:
    return {f: getattr(args, f) for f in ("gif", "mp4", "webp") if getattr(args, f, None)}


def _run(args, events, expected_partials: int = 0):
    """Drive a pipeline event stream: progress lines on stdout (not with --json); returns the Result."""
    from ..generation.pricing import format_usd

    for ev in events:
        if args.json:
            pass
        elif ev.kind == "partial":
            print(f"partial image {ev.index + 1} of {expected_partials} received", flush=True)
        elif ev.kind == "saved":
            print(f"saved {ev.record.png_path} ({ev.step})", flush=True)
        elif ev.kind == "cost" and ev.actual_usd is not None:
            print(f"{ev.step} cost: {format_usd(ev.actual_usd)} (estimate was {ev.estimate.describe()})", flush=True)
        if ev.kind == "result":
            return ev
    raise AssertionError("the pipeline ended without a result")  # pragma: no cover


def _client():
    from ..hosting.keys import make_client, resolve_key

    return make_client(resolve_key())  # env only on the command line


def _result_lines(res, report: dict) -> list[str]:
    from ..generation.pricing import format_usd, usd

    g = res.generation
    lines = [f"saved {g.grid_path} (+ {g.record.json_path.name}), id {g.record.id}"]
    if g.actual_usd is not None:
        u = g.usage
        lines.append(
            f"cost: ${usd(g.actual_usd):.6f} ({format_usd(g.actual_usd / max(1, g.prepared.quote.frames))} per frame; "
            f"estimate was {g.prepared.quote.estimate.describe()}); usage: {u.text_in} text + {u.image_in} image tokens in, "
            f"{u.image_out} image tokens out"
        )
    if len(res.costs) > 1 and res.total_usd is not None:
        lines.append(
            "steps: "
            + " + ".join(f"{c.step} {format_usd(c.actual_usd)}" for c in res.costs)
            + f" = {format_usd(res.total_usd)}"
        )
    lay = g.layout
    if lay:
        lines.append(
            f"layout: {lay.rows} rows x {lay.cols} columns, {lay.frames} frames of {lay.frame_size[0]}x{lay.frame_size[1]}"
        )
    for fmt, path in res.outputs.items():
        lines.append(f"wrote {path} ({len(res.data[fmt]) / 1024:.0f} KB)")
    if not res.outputs and lay:
        lines.append(
            f"animate it later: python -m gridanim animate {g.grid_path} --rows {lay.rows} --cols {lay.cols} --gif out.gif"
        )
    lines += [f"warning: {w}" for w in report["warnings"]]
    return lines


def _animation_report(res) -> dict | None:
    a = res.animation
    if a is None:
        return None
    return {
        "frames": len(a.frames),
        "frame_size": list(a.frame_size),
        "fps": round(a.effective_fps, 2),
        "durations_ms": a.durations_ms,
    }


def run(args) -> int:
    from ..generation.generate import GenerationRequest, prepare, prepared_to_dict, result_to_dict, route_quotes
    from ..generation.pricing import CostLedger, usd
    from ..pipeline import generate_and_animate

    req = GenerationRequest(
        prompt=args.prompt,
        style=args.style,
        rows=args.rows,
        cols=args.cols,
        shape=args.shape,
        fps=args.fps,
        model=args.model,
        size=args.size,
        quality=args.quality,
        images=tuple(args.image),
        layout_guide=args.layout_guide,
        partial_images=args.partial_images,
        route=args.route,
        gif_frames=args.frames,
        transparent=args.transparent,
        stylise_first=args.stylise_first,
    )
    if args.frames is not None and args.route != "gif":
        from ..errors import InputError

        raise InputError("--frames is for the GIF route (--route gif); the grid route takes --rows and --cols")
    prepared = prepare(req)  # refuses shut-down models, bad sizes, GIF limits, bad presets: before any request or key
    if args.estimate:
        routes = {}
        for name, q in route_quotes(req).items():
            routes[name] = {"cost": q.quote.to_dict()} if not isinstance(q, Exception) else {"unavailable": str(q)}
        report = {
            "command": "generate",
            "estimate_only": True,
            **prepared_to_dict(prepared),
            "routes": routes,
            "outputs": {},
        }
        lines = _quote_lines(prepared)
        for name, r in routes.items():
            if name != prepared.route:
                other = (
                    r.get("unavailable")
                    or f"${r['cost']['estimated_range_usd'][0]:.4f}-${r['cost']['estimated_range_usd'][1]:.4f}"
                )
                lines.append(f"the {name} route instead: {other}")
        lines += ["no request sent (--estimate)"] + [f"warning: {w}" for w in prepared.warnings]
        emit(args, report, lines)
        return 0

    client = _client()
    # Without --json, the quote and progress go to stdout as they happen; stderr stays for the one `error:` line.
    if not args.json:
        print("\n".join(_quote_lines(prepared)), flush=True)
    ledger = CostLedger()
    try:
        res = _run(
            args, generate_and_animate(prepared, client, targets=_targets(args), ledger=ledger), req.partial_images
        )
    finally:
        client.close()
    report = {"command": "generate", **result_to_dict(res.generation, res.outputs, ledger)}
    anim = _animation_report(res)
    if anim:
        report["animation"] = anim
    if len(res.costs) > 1:
        report["steps"] = res.steps()
        report["total_usd"] = usd(res.total_usd) if res.total_usd is not None else None
    emit(args, report, _result_lines(res, report))
    return 0
