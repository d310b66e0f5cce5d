"""Command line for the OpenAI side: ``generate`` and ``presets`` (a stable contract).

``python -m gridanim generate "PROMPT" [--style NAME] [--rows R] [--cols C]
[--shape S] [--fps F] [--model M] [--size WxH] [--quality Q] [--image PATH]...
[--layout-guide] [--partial-images N] [--estimate] [--gif PATH] [--mp4 PATH]
[--json]`` and ``python -m gridanim presets [--json]``.

The key comes only from ``OPENAI_API_KEY`` (no ``--api-key``: keys stay out of
shell history). ``--estimate`` prints the quote and sends nothing, so it needs no
key. Everything heavy (``openai``, numpy, PIL) is imported inside the command
functions, so ``detect`` / ``animate`` start as fast as before. Errors are
:class:`~gridanim.errors.GridanimError` and reach ``cli.main``, which prints one
``error:`` line and exits 2.
"""

from __future__ import annotations

import argparse

EXAMPLES = """examples:
  python -m gridanim presets
  python -m gridanim generate "a cat chasing its tail" --style ghibli --estimate
  python -m gridanim generate "a cat chasing its tail" --style ghibli --rows 3 --cols 4 \\
      --model gpt-image-2 --quality medium --gif cat.gif --mp4 cat.mp4
  python -m gridanim generate "she waves hello" --image me.jpg --layout-guide --gif wave.gif

The key is read from OPENAI_API_KEY (export OPENAI_API_KEY=sk-...). Models, their
status and prices: gridanim/data/models.toml. Styles: presets/*.toml, plus any folder
in GRIDANIM_PRESETS_DIR. Grids are saved with a JSON sidecar in GRIDANIM_DATA_DIR
(default ./outputs) before anything else happens.
"""


def add_generate(sub) -> None:
    from .cli import _int  # the CLI's one whole-number parser (cli imports this module)

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
    g.add_argument("--style", metavar="NAME", help="a preset from `python -m gridanim presets` (sets rows, cols, shape, fps)")
    g.add_argument("--rows", type=_int, help="rows in the grid (default: the style's, else 3)")
    g.add_argument("--cols", type=_int, help="columns in the grid (default: the style's, else 4)")
    g.add_argument("--shape", help="frame shape: square, portrait, landscape, wide, tall or a ratio like 16:9")
    g.add_argument("--fps", type=_int, help="frames per second of the animation (default: the style's, else 8)")
    m = p.add_argument_group("model and cost")
    m.add_argument("--model", help="image model (default and list: gridanim/data/models.toml)")
    m.add_argument("--size", metavar="WxH", help="force the canvas size (default: planned from rows, cols and shape)")
    m.add_argument("--quality", help="low, medium (default), high; xhigh/max on 2.5+; auto gives a cost range")
    m.add_argument("--estimate", action="store_true", help="print the cost estimate and send nothing (needs no key)")
    i = p.add_argument_group("photo to animation")
    i.add_argument("--image", metavar="PATH", action="append", default=[], help="a reference photo (repeatable): uses images.edit")
    i.add_argument("--layout-guide", action="store_true", help="also send a faint numbered grid image as a guide (with --image)")
    o = p.add_argument_group("outputs")
    o.add_argument("--partial-images", type=_int, default=0, metavar="N", help="stream N (0-3) partial images while it draws; each adds 100 output tokens")
    o.add_argument("--gif", metavar="PATH", help="write a GIF here")
    o.add_argument("--mp4", metavar="PATH", help="write an H.264 MP4 here")
    o.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of a summary")
    p.set_defaults(func=cmd_generate)


def add_presets(sub) -> None:
    p = sub.add_parser(
        "presets",
        help="list the styles --style accepts",
        description="List the style presets: the shipped ones in presets/ and any in GRIDANIM_PRESETS_DIR.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_presets)


def add_generate_parsers(sub) -> None:
    """Add ``generate`` and ``presets`` to a subparsers object."""
    add_generate(sub)
    add_presets(sub)


# --------------------------------------------------------------------------- commands


def _quote_lines(p) -> list[str]:
    from .pricing import format_usd

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


def _emit(args, report: dict, lines: list[str]) -> None:
    from . import cli

    cli._emit(args, report, lines)


def cmd_generate(args) -> int:
    from .errors import GridanimError
    from .generate import GenerationRequest, prepare, prepared_to_dict, result_to_dict, run_generation

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
    )
    prepared = prepare(req)  # refuses shut-down models, bad sizes, bad presets: before any request or key
    if args.estimate:
        report = {"command": "generate", "estimate_only": True, **prepared_to_dict(prepared), "outputs": {}}
        lines = _quote_lines(prepared) + ["no request sent (--estimate)"]
        lines += [f"warning: {w}" for w in prepared.warnings]
        _emit(args, report, lines)
        return 0

    from .keys import make_client, resolve_key
    from .pricing import CostLedger, format_usd, usd

    key = resolve_key()  # env only on the command line
    # Without --json, the quote and progress go to stdout as they happen; stderr
    # stays for the one `error:` line.
    if not args.json:
        print("\n".join(_quote_lines(prepared)), flush=True)

    def progress(event) -> None:
        if not args.json:
            print(f"partial image {event.index + 1} of {req.partial_images} received", flush=True)

    ledger = CostLedger()
    client = make_client(key)
    try:
        result = run_generation(prepared, client, ledger=ledger, on_partial=progress)
    finally:
        client.close()

    targets = {f: getattr(args, f) for f in ("gif", "mp4") if getattr(args, f)}
    outputs: dict[str, str] = {}
    anim = None
    warnings = list(result.warnings)
    if targets:
        from . import cli
        from .animate import AnimateOptions, animate, render
        from .storage import update_record

        plan = prepared.plan
        try:
            anim = animate(str(result.grid_path), AnimateOptions(rows=plan.rows, cols=plan.cols, fps=prepared.fps), layout=result.layout)
            data = render(anim, targets)
            for fmt, path in targets.items():
                cli._write(path, data[fmt])
                outputs[fmt] = path
        except GridanimError as e:
            raise type(e)(f"the grid was saved to {result.grid_path}, but making the animation failed: {e}") from None
        warnings += [w for w in anim.warnings if w not in warnings]
        update_record(result.record, outputs=outputs, animation={"frames": len(anim.frames), "fps": prepared.fps}, warnings=warnings)

    report = {"command": "generate", **result_to_dict(result, outputs, ledger)}
    report["warnings"] = warnings
    if anim is not None:
        report["animation"] = {
            "frames": len(anim.frames),
            "frame_size": list(anim.frame_size),
            "fps": prepared.fps,
            "durations_ms": anim.durations_ms,
        }
    lay = result.layout
    lines = [f"saved {result.grid_path} (+ {result.record.json_path.name})"]
    if result.actual_usd is not None:
        u = result.usage
        lines.append(
            f"cost: ${usd(result.actual_usd):.6f} ({format_usd(result.actual_usd / prepared.plan.frames)} per frame; "
            f"estimate was {prepared.quote.estimate.describe()}); usage: {u.text_in} text + {u.image_in} image tokens in, "
            f"{u.image_out} image tokens out"
        )
    lines.append(f"layout: {lay.rows} rows x {lay.cols} columns, {lay.frames} frames of {lay.frame_size[0]}x{lay.frame_size[1]}")
    for fmt, path in outputs.items():
        lines.append(f"wrote {path} ({len(data[fmt]) / 1024:.0f} KB)")
    if not outputs:
        lines.append(f"animate it later: python -m gridanim animate {result.grid_path} --rows {lay.rows} --cols {lay.cols} --gif out.gif")
    lines += [f"warning: {w}" for w in warnings]
    _emit(args, report, lines)
    return 0


def cmd_presets(args) -> int:
    from .presets import load_presets, preset_dirs

    cat = load_presets()
    report = {
        "command": "presets",
        "presets": [cat.presets[k].to_dict() for k in cat.names()],
        "folders": [str(d) for d in preset_dirs()],
        "warnings": [str(e) for e in cat.errors.values()],
    }
    width = max((len(k) for k in cat.names()), default=0)
    lines = []
    for k in cat.names():
        p = cat.presets[k]
        lines.append(f"{k:<{width}}  {p.name}: {p.description} ({p.rows}x{p.cols} {p.shape}, {p.fps} fps)")
    lines.append("use: python -m gridanim generate \"PROMPT\" --style NAME; add a style: drop NAME.toml into presets/ or GRIDANIM_PRESETS_DIR")
    lines += [f"warning: {w}" for w in report["warnings"]]
    _emit(args, report, lines)
    return 0
