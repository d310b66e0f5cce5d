"""``python -m gridanim animate IMAGE [options]``: cut a grid and write GIF / MP4 / WebP / APNG / ZIP / sheets.

The flags map one to one onto :class:`gridanim.animate.AnimateOptions`, which
validates them (messages name the flags, see :data:`gridanim.animate.CLI_NAMES`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (
    EXAMPLES,
    add_grid_args,
    check_writable,
    colour,
    emit,
    human_bytes,
    layout_report,
    number,
    read_early,
    scale_factor,
    whole,
    write,
)


def add(sub) -> None:
    p = sub.add_parser(
        "animate",
        help="turn a grid into a looping GIF / MP4 / WebP / ZIP of frames",
        description="Cut a grid into frames and write a looping animation. "
        "GIF delays are stored in 10 ms steps: an fps that does not divide 1000 ms "
        "evenly is met on average by mixing delays (e.g. 120/130 ms for 8 fps) "
        "unless --uniform-delays.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_grid_args(p)
    t = p.add_argument_group("frames and timing")
    t.add_argument("--fps", type=number, default=8.0, help="frames per second (default 8)")
    t.add_argument("--frame-ms", type=number, help="milliseconds per frame (overrides --fps)")
    t.add_argument("--uniform-delays", action="store_true", help="give every frame the same rounded delay")
    t.add_argument("--order", default="forward", help="forward, reverse, pingpong (1 2 3 2 ...) or a list like 1-4,6,8")
    t.add_argument("--drop", default="", help="frames to leave out, e.g. 5,7-8 (numbers as in the grid, from 1)")
    t.add_argument("--inset", type=whole, default=0, help="pixels trimmed from every side of each frame")
    t.add_argument("--stabilize", action="store_true", help="line frames up to remove jitter between panels")
    t.add_argument(
        "--smooth",
        type=whole,
        default=0,
        metavar="N",
        help="insert N (0-8) in-between frames between frames, last to first included (loop length kept)",
    )
    t.add_argument(
        "--inbetween",
        choices=("flow", "blend"),
        default="flow",
        help="how --smooth makes in-betweens: flow (follow the motion, default) or blend (cross-fade)",
    )
    t.add_argument(
        "--hold",
        default="",
        metavar="FRAME:MS,...",
        help="show chosen frames longer, e.g. 1:300,12:500 (numbers as in the grid)",
    )
    t.add_argument("--max-size", type=whole, metavar="PX", help="scale frames down so the longest side is at most PX")
    t.add_argument(
        "--background",
        type=colour,
        default=(255, 255, 255),
        help="colour under the MP4, which has no alpha (default #ffffff)",
    )
    a = p.add_argument_group("transparency and pixel art")
    a.add_argument(
        "--transparent",
        action="store_true",
        help="key the background out: a flat border colour, a green/magenta screen or a painted checkerboard",
    )
    a.add_argument(
        "--matte",
        type=colour,
        metavar="COLOR",
        help="GIF: blend semi-transparent edge pixels onto this colour (the page's)",
    )
    a.add_argument(
        "--scale",
        type=scale_factor,
        metavar="N",
        default=1,
        help="upscale GIF/WebP/APNG/MP4 N times by nearest neighbour (pixel art; default 1)",
    )
    o = p.add_argument_group("outputs")
    o.add_argument("--gif", metavar="PATH", help="write a GIF here")
    o.add_argument("--mp4", metavar="PATH", help="write an H.264 MP4 here")
    o.add_argument("--webp", metavar="PATH", help="write an animated WebP here")
    o.add_argument("--zip", metavar="PATH", help="write a ZIP of PNG frames here")
    o.add_argument("--apng", metavar="PATH", help="write an animated PNG (lossless, full alpha) here")
    o.add_argument(
        "--sheet",
        metavar="PATH.png",
        help="write a sprite sheet PNG here, and PATH.json (Aseprite json-hash) beside it",
    )
    o.add_argument(
        "--padding",
        type=whole,
        default=0,
        metavar="N",
        help="transparent pixels between sprite sheet cells (default 0)",
    )
    o.add_argument(
        "--godot",
        metavar="PATH.tres",
        help="write a Godot 4 SpriteFrames resource (and, without --sheet, the sheet beside it)",
    )
    o.add_argument("--loop", type=whole, default=0, help="GIF/WebP loop count, 0 = forever (default)")
    o.add_argument("--gif-quality", choices=("high", "fast"), default="high", help="high (default) or fast")
    o.add_argument("--gif-max-kb", type=number, metavar="KB", help="shrink colours, then size, until the GIF fits")
    o.add_argument(
        "--mp4-repeat",
        type=whole,
        default=0,
        metavar="N",
        help="play the loop N times in the MP4 (default 0 = enough for 3 s)",
    )
    p.set_defaults(func=run)


def _sheet_targets(args) -> dict[str, str]:
    """``outputs`` keys -> paths for --sheet / --godot, checked before any work is done."""
    from ..errors import InputError

    if args.padding < 0:
        raise InputError(f"--padding must be 0 or more pixels, got {args.padding}")
    if not args.sheet and not args.godot:
        return {}
    if args.godot and Path(args.godot).suffix.lower() != ".tres":
        raise InputError(f"--godot must name a .tres file, got {args.godot}")
    sheet = Path(args.sheet) if args.sheet else Path(args.godot).with_suffix(".png")
    if sheet.is_dir():
        raise InputError(f"--sheet {sheet} is a folder: give a file name such as {sheet / 'sheet.png'}")
    if sheet.suffix.lower() != ".png":
        raise InputError(f"--sheet must name a .png file (its .json goes beside it), got {sheet}")
    out = {"sheet": str(sheet), "sheet_json": str(sheet.with_suffix(".json"))}
    if args.godot:
        out["godot"] = args.godot
    for path in out.values():
        check_writable(Path(path))
    return out


def _render_sheet(anim, args, targets: dict[str, str]) -> dict[str, bytes]:
    from ..encode.sheet import animation_sheet, godot_texture_path

    sheet = Path(targets["sheet"])
    godot = godot_texture_path(targets["godot"], sheet) if "godot" in targets else None
    return animation_sheet(anim, image_name=sheet.name, padding=args.padding, tag=sheet.stem, godot_texture=godot)


def run(args) -> int:
    pending = read_early(args.image)
    from ..animate import AnimateOptions, animate_grid
    from ..errors import EncodeError

    opts = AnimateOptions(
        rows=args.rows,
        cols=args.cols,
        inset=args.inset,
        fps=args.fps,
        frame_ms=args.frame_ms,
        order=args.order,
        drop=args.drop,
        stabilize=args.stabilize,
        smooth=args.smooth,
        inbetween=args.inbetween,
        hold=args.hold,
        loop=args.loop,
        max_size=args.max_size,
        gif_quality=args.gif_quality,
        gif_max_bytes=None if args.gif_max_kb is None else int(args.gif_max_kb * 1024),
        mp4_repeat=args.mp4_repeat,
        uniform_delays=args.uniform_delays,
        background=args.background,
        transparent=args.transparent,
        matte=args.matte,
        scale=args.scale,
    )
    opts.validate()  # cheap checks before reading the image
    targets = {f: getattr(args, f) for f in ("gif", "mp4", "webp", "zip", "apng") if getattr(args, f)}
    sheet_targets = _sheet_targets(args)
    try:
        anim, data = animate_grid(pending, opts, formats=targets)
    except EncodeError as e:
        partial = getattr(e, "partial", None)
        if not partial:
            raise
        for fmt, data_ in partial.items():
            write(targets[fmt], data_)
        done = ", ".join(targets[f] for f in partial)
        raise EncodeError(f"wrote {done}, but the MP4 failed: {e}") from None
    for fmt, path in targets.items():
        write(path, data[fmt])
    if sheet_targets:
        sheet_files = _render_sheet(anim, args, sheet_targets)
        for key, path in sheet_targets.items():
            write(path, sheet_files[key])
        targets.update(sheet_targets)
        data.update(sheet_files)

    layout = anim.layout
    report = {"command": "animate", "image": str(args.image)}
    report.update(layout_report(layout, anim.source_scale))
    ow, oh = (v * anim.scale for v in anim.frame_size)  # what GIF / WebP / APNG show (--scale)
    report.update(
        {
            "output_size": [ow, oh],
            "sequence": [i + 1 for i in anim.sequence],
            "output_frames": len(anim.frames),
            "durations_ms": anim.durations_ms,
            "loop_ms": anim.loop_ms,
            "fps": args.fps if args.frame_ms is None else None,
            "effective_fps": round(anim.effective_fps, 4),
            "jitter_before_px": None if anim.jitter_before is None else round(anim.jitter_before, 2),
            "jitter_after_px": None if anim.jitter_after is None else round(anim.jitter_after, 2),
            "stabilize": anim.stabilize_info,
            "pads": [list(p) for p in anim.pads],
            "loop_seam": round(anim.loop_seam, 3),
            "step_changes": [round(v, 2) for v in anim.step_changes],
            "inbetween": {"method": args.inbetween, "per_pair": anim.per_pair, "pairs": anim.pair_methods},
            "outputs": dict(targets),
            "bytes": {f: len(data[f]) for f in targets},
            "warnings": anim.warnings,
            "pixel_art": anim.pixel_art.is_pixel_art,
            "pixel_block": anim.pixel_art.block,
            "alpha": anim.alphas is not None,
            "keyed": anim.keyed,
            "scale": anim.scale,
        }
    )
    delays = "/".join(str(d) for d in sorted(set(anim.durations_ms)))
    lines = [
        f"{Path(args.image).name}: {layout.rows} rows x {layout.cols} columns, {layout.frames} frames",
        f"animation: {len(anim.frames)} frames of {ow}x{oh}, {anim.effective_fps:.3g} fps ({delays} ms), loop {anim.loop_ms / 1000:.2f} s",
    ]
    lines.append(f"loop seam: {anim.loop_seam:.2f} (1.0 = like a typical step)")
    if anim.jitter_before is not None:
        how = (anim.stabilize_info or {}).get("anchor") or (anim.stabilize_info or {}).get("method", "")
        lines.append(f"stabilised: jitter {anim.jitter_before:.1f} px -> {anim.jitter_after:.1f} px ({how})")
    if targets:
        lines += [f"wrote {path} ({human_bytes(len(data[f]))})" for f, path in targets.items()]
    else:
        lines.append(
            "no file written: add --gif PATH, --mp4 PATH, --webp PATH, --apng PATH, --zip PATH or --sheet PATH.png"
        )
    lines += [f"warning: {w}" for w in anim.warnings]
    emit(args, report, lines)
    return 0
