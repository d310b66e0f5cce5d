"""``python -m gridanim redraw ID --frames LIST [--prompt TEXT] [--gif --mp4 --webp --json]`` (a stable contract)."""

from __future__ import annotations

import argparse

from .common import emit
from .generate import _animation_report, _client, _result_lines, _run, _targets


def add(sub) -> None:
    p = sub.add_parser(
        "redraw",
        help="re-draw some frames of a saved grid (one masked edit); the other frames stay pixel-identical",
        description="Send ONE images.edit with the saved grid and a mask over the chosen cells, keep only those "
        "cells from the answer, save it as a new version (History keeps both) and optionally animate it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("id", metavar="ID", help="the id printed by `generate --json` (or shown in History)")
    p.add_argument(
        "--frames", required=True, metavar="LIST", help="frames to re-draw, same syntax as --order: 3,7 or 2-4"
    )
    p.add_argument("--prompt", help="what to fix in those frames (optional)")
    p.add_argument("--estimate", action="store_true", help="print the cost estimate and send nothing (needs no key)")
    p.add_argument("--gif", metavar="PATH", help="write a GIF here")
    p.add_argument("--mp4", metavar="PATH", help="write an H.264 MP4 here")
    p.add_argument("--webp", metavar="PATH", help="write an animated WebP here")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of a summary")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..generation.redraw import prepare_redraw
    from ..hosting.storage import load_record
    from ..pipeline import redraw_and_animate

    parent = load_record(args.id)
    prepared = prepare_redraw(parent, args.frames, args.prompt)  # bad frames, gone models: refused before any request
    q = prepared.quote.estimate
    lines = [
        f"re-draw frames {', '.join(map(str, prepared.redraw.frames))} of {parent.id} with {prepared.model.id}: "
        f"estimate {q.describe()} (one edit at {prepared.plan.size})"
    ]
    if args.estimate:
        emit(
            args,
            {
                "command": "redraw",
                "estimate_only": True,
                "parent": parent.id,
                "redrawn": prepared.redraw.frames,
                "cost": prepared.quote.to_dict(),
                "outputs": {},
                "warnings": list(prepared.warnings),
            },
            lines + ["no request sent (--estimate)"],
        )
        return 0
    client = _client()
    if not args.json:
        print(lines[0], flush=True)
    try:
        res = _run(args, redraw_and_animate(parent, args.frames, client, fix=args.prompt, targets=_targets(args)))
    finally:
        client.close()
    from ..generation.generate import result_to_dict

    full = result_to_dict(res.generation, res.outputs)
    report = {
        "command": "redraw",
        "id": full["id"],
        "parent": parent.id,
        "redrawn": prepared.redraw.frames,
        "cost": full["cost"],
        "grid": full["grid"],
        "sidecar": full["sidecar"],
        "layout": full["layout"],
        "outputs": full["outputs"],
        "warnings": full["warnings"],
        "model": full["model"],
    }
    anim = _animation_report(res)
    if anim:
        report["animation"] = anim
    emit(args, report, _result_lines(res, report))
    return 0
