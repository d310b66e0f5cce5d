"""``python -m gridanim detect IMAGE [--rows R] [--cols C] [--json]``: rows, columns and the box of every frame."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXAMPLES, add_grid_args, emit, layout_report, read_early


def add(sub) -> None:
    p = sub.add_parser(
        "detect",
        help="find the rows, columns and frame boxes of a grid",
        description="Find the rows, columns and frame boxes of a grid image.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_grid_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    pending = read_early(args.image)
    from ..images import load_image
    from ..layout import detect_layout

    img = load_image(pending)
    layout = detect_layout(img.rgb, img.alpha, rows=args.rows, cols=args.cols, work=img.work)
    if layout.frames < 1:
        from ..errors import LayoutError

        raise LayoutError("no frames were found in the grid: set --rows and --cols")
    report = {"command": "detect", "image": str(args.image)}
    report.update(layout_report(layout, img.scale))
    report["outputs"] = {}
    report["warnings"] = list(img.notes) + list(layout.warnings)
    fw, fh = report["frame_size"]
    lines = [
        f"{Path(args.image).name}: {layout.rows} rows x {layout.cols} columns, {layout.frames} frames of {fw}x{fh}"
    ]
    lines += [f"  frame {i:>2}: x={b[0]} y={b[1]} w={b[2]} h={b[3]}" for i, b in enumerate(report["boxes"], 1)]
    lines += [f"warning: {w}" for w in report["warnings"]]
    emit(args, report, lines)
    return 0
