"""Command line: ``python -m gridanim detect|animate ...`` (a stable contract).

This module owns argument parsing, writing output files, the ``--json`` report
and turning errors into one ``error: ...`` line on stderr:

* exit 0: done;
* exit 2: the user can fix it (bad image, bad argument, encoder failure:
  any :class:`~gridanim.errors.GridanimError`, and argparse usage errors);
* exit 1: a bug (``error: internal error: ...``; set ``GRIDANIM_DEBUG=1`` for
  the traceback).

With ``--json`` stdout carries exactly one JSON object and nothing else;
warnings go inside it. Startup is kept lean: heavy modules are imported inside
the command functions, and only what the command needs (never gradio, openai
or imageio on the detect/animate path).

Adding a subcommand: write ``add_<name>(subparsers)`` that builds its parser
and calls ``set_defaults(func=cmd_<name>)``, and ``cmd_<name>(args) -> int``;
then list ``add_<name>`` in :data:`SUBCOMMANDS`. ``generate`` / ``presets``
(OpenAI side) and ``deploy`` are expected there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

PROG = "python -m gridanim"

EXAMPLES = f"""examples:
  {PROG} detect grid.png --json
  {PROG} animate grid.png --rows 3 --cols 4 --fps 8 --gif out.gif --mp4 out.mp4
  {PROG} animate grid.png --order pingpong --stabilize --smooth 1 --gif out.gif
  {PROG} animate grid.png --order 1-4,6,8 --frame-ms 90 --webp out.webp --zip frames.zip
  {PROG} animate sprites.png --rows 1 --cols 8 --sheet walk.png --padding 1 --godot walk.tres
  {PROG} animate grid.png --smooth 2 --inbetween flow --hold 1:300,12:500 --mp4 out.mp4
"""


class CliError(Exception):
    """A usage error found by argparse (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one ``error: ...`` line, not usage + message."""

    def error(self, message: str):  # type: ignore[override]
        raise CliError(f"{message} (see {self.prog} --help)")


# --------------------------------------------------------------------------- small parsers


def _int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    return v


def _number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return v


def _color(text: str) -> tuple[int, int, int]:
    t = text.strip().lstrip("#")
    try:
        if len(t) == 6:
            return (int(t[0:2], 16), int(t[2:4], 16), int(t[4:6], 16))
        parts = [int(p) for p in text.split(",")]
        if len(parts) == 3 and all(0 <= p <= 255 for p in parts):
            return (parts[0], parts[1], parts[2])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a colour like #ffffff or 255,255,255, got {text!r}")


def _scale(text: str) -> int:
    v = _int(text)
    if not 1 <= v <= 16:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 16, got {text!r}")
    return v


# --------------------------------------------------------------------------- parser


def _add_grid_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE", help="the grid image (PNG, JPEG, WebP, ...)")
    p.add_argument("--rows", type=_int, help="number of rows (default: detected)")
    p.add_argument("--cols", type=_int, help="number of columns (default: detected)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of a summary")


def add_detect(sub) -> None:
    p = sub.add_parser(
        "detect",
        help="find the rows, columns and frame boxes of a grid",
        description="Find the rows, columns and frame boxes of a grid image.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_grid_args(p)
    p.set_defaults(func=cmd_detect)


def add_animate(sub) -> None:
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
    _add_grid_args(p)
    t = p.add_argument_group("frames and timing")
    t.add_argument("--fps", type=_number, default=8.0, help="frames per second (default 8)")
    t.add_argument("--frame-ms", type=_number, help="milliseconds per frame (overrides --fps)")
    t.add_argument("--uniform-delays", action="store_true", help="give every frame the same rounded delay")
    t.add_argument("--order", default="forward", help="forward, reverse, pingpong (1 2 3 2 ...) or a list like 1-4,6,8")
    t.add_argument("--drop", default="", help="frames to leave out, e.g. 5,7-8 (numbers as in the grid, from 1)")
    t.add_argument("--inset", type=_int, default=0, help="pixels trimmed from every side of each frame")
    t.add_argument("--stabilize", action="store_true", help="line frames up to remove jitter between panels")
    t.add_argument("--smooth", type=_int, default=0, metavar="N", help="insert N (0-8) in-between frames between frames, last to first included (loop length kept)")
    t.add_argument("--inbetween", choices=("flow", "blend"), default="flow", help="how --smooth makes in-betweens: flow (follow the motion, default) or blend (cross-fade)")
    t.add_argument("--hold", default="", metavar="FRAME:MS,...", help="show chosen frames longer, e.g. 1:300,12:500 (numbers as in the grid)")
    t.add_argument("--max-size", type=_int, metavar="PX", help="scale frames down so the longest side is at most PX")
    t.add_argument("--background", type=_color, default=(255, 255, 255), help="colour under the MP4, which has no alpha (default #ffffff)")
    a = p.add_argument_group("transparency and pixel art")
    a.add_argument("--transparent", action="store_true", help="key the background out: a flat border colour, a green/magenta screen or a painted checkerboard")
    a.add_argument("--matte", type=_color, metavar="COLOR", help="GIF: blend semi-transparent edge pixels onto this colour (the page's)")
    a.add_argument("--scale", type=_scale, metavar="N", default=1, help="upscale GIF/WebP/APNG/MP4 N times by nearest neighbour (pixel art; default 1)")
    o = p.add_argument_group("outputs")
    o.add_argument("--gif", metavar="PATH", help="write a GIF here")
    o.add_argument("--mp4", metavar="PATH", help="write an H.264 MP4 here")
    o.add_argument("--webp", metavar="PATH", help="write an animated WebP here")
    o.add_argument("--zip", metavar="PATH", help="write a ZIP of PNG frames here")
    o.add_argument("--apng", metavar="PATH", help="write an animated PNG (lossless, full alpha) here")
    o.add_argument("--sheet", metavar="PATH.png",
                   help="write a sprite sheet PNG here, and PATH.json (Aseprite json-hash) beside it")
    o.add_argument("--padding", type=_int, default=0, metavar="N",
                   help="transparent pixels between sprite sheet cells (default 0)")
    o.add_argument("--godot", metavar="PATH.tres",
                   help="write a Godot 4 SpriteFrames resource (and, without --sheet, the sheet beside it)")
    o.add_argument("--loop", type=_int, default=0, help="GIF/WebP loop count, 0 = forever (default)")
    o.add_argument("--gif-quality", choices=("high", "fast"), default="high", help="high (default) or fast")
    o.add_argument("--gif-max-kb", type=_number, metavar="KB", help="shrink colours, then size, until the GIF fits")
    o.add_argument("--mp4-repeat", type=_int, default=0, metavar="N", help="play the loop N times in the MP4 (default 0 = enough for 3 s)")
    p.set_defaults(func=cmd_animate)


# Subcommand builders, in help order. Other modules' commands (generate,
# presets, deploy) are added by appending their ``add_<name>`` here.
from .cli_generate import add_generate, add_presets, add_redraw  # noqa: E402  (OpenAI side; imports nothing heavy)
from .deploy import add_deploy  # noqa: E402  (Hugging Face Space; huggingface_hub imported only when deploying)
SUBCOMMANDS: list[Callable] = [add_detect, add_animate, add_generate, add_redraw, add_presets, add_deploy]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="gridanim: turn a grid of animation panels into a clean looping GIF and MP4.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"gridanim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in SUBCOMMANDS:
        add(sub)
    return parser


# --------------------------------------------------------------------------- commands


def _layout_report(layout, scale: float) -> dict:
    d = layout.to_dict()
    if scale != 1.0:  # the loader downscaled a huge image: report source pixels
        d["boxes"] = [[round(v * scale) for v in b] for b in layout.boxes]
        d["frame_size"] = [round(v * scale) for v in layout.frame_size]
        d["image_size"] = [round(v * scale) for v in layout.image_size]
    return d


def _emit(args, report: dict, lines: Sequence[str]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _read_early(path: str):
    """Start decoding the grid now, in a thread, while numpy and the package import.

    Pillow's decoders release the GIL, but between chunks the reader needs it
    back; a short switch interval (default 5 ms) keeps it from waiting on the
    importing thread. Measured on the benchmark grid: the ~60 ms PNG decode
    disappears behind the imports.
    """
    from .reading import read_in_background

    sys.setswitchinterval(0.0005)
    return read_in_background(path)


def cmd_detect(args) -> int:
    pending = _read_early(args.image)
    from .images import load_image
    from .layout import detect_layout

    img = load_image(pending)
    layout = detect_layout(img.rgb, img.alpha, rows=args.rows, cols=args.cols)
    if layout.frames < 1:
        from .errors import LayoutError

        raise LayoutError("no frames were found in the grid: set --rows and --cols")
    report = {"command": "detect", "image": str(args.image)}
    report.update(_layout_report(layout, img.scale))
    report["outputs"] = {}
    report["warnings"] = list(img.notes) + list(layout.warnings)
    fw, fh = report["frame_size"]
    lines = [f"{Path(args.image).name}: {layout.rows} rows x {layout.cols} columns, {layout.frames} frames of {fw}x{fh}"]
    lines += [f"  frame {i:>2}: x={b[0]} y={b[1]} w={b[2]} h={b[3]}" for i, b in enumerate(report["boxes"], 1)]
    lines += [f"warning: {w}" for w in report["warnings"]]
    _emit(args, report, lines)
    return 0


def _write(path: str, data: bytes) -> None:
    from .storage import write_output

    write_output(path, data)


def _kb(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1048576:.1f} MB"


def _sheet_targets(args) -> dict[str, str]:
    """``outputs`` keys -> paths for --sheet / --godot, checked before any work is done."""
    from .errors import InputError

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
        _check_writable(Path(path))
    return out


def _check_writable(p: Path) -> None:
    """Fail before any work when ``p`` cannot be created: a real probe file in its nearest existing folder."""
    import tempfile

    from .errors import InputError

    if p.is_dir():
        raise InputError(f"{p} is a folder: give a file name such as {p / 'sheet.png'}")
    d = next((a for a in (p.parent, *p.parent.parents) if a.exists()), Path("."))
    try:
        if not d.is_dir():
            raise NotADirectoryError(20, "not a folder")
        with tempfile.TemporaryFile(dir=d):
            pass
    except OSError as e:
        raise InputError(f"cannot write {p}: the folder {d} is not writable ({e.strerror or e}), "
                         "choose another path") from None


def _render_sheet(anim, args, targets: dict[str, str]) -> dict[str, bytes]:
    from .sheet import animation_sheet, godot_texture_path

    sheet = Path(targets["sheet"])
    godot = godot_texture_path(targets["godot"], sheet) if "godot" in targets else None
    return animation_sheet(anim, image_name=sheet.name, padding=args.padding, tag=sheet.stem, godot_texture=godot)


def cmd_animate(args) -> int:
    pending = _read_early(args.image)
    from .animate import AnimateOptions, animate, render
    from .errors import EncodeError

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
    anim = animate(pending, opts)
    try:
        data = render(anim, targets)
    except EncodeError as e:
        partial = getattr(e, "partial", None)
        if not partial:
            raise
        for fmt, data_ in partial.items():
            _write(targets[fmt], data_)
        done = ", ".join(targets[f] for f in partial)
        raise EncodeError(f"wrote {done}, but the MP4 failed: {e}") from None
    for fmt, path in targets.items():
        _write(path, data[fmt])
    if sheet_targets:
        sheet_files = _render_sheet(anim, args, sheet_targets)
        for key, path in sheet_targets.items():
            _write(path, sheet_files[key])
        targets.update(sheet_targets)
        data.update(sheet_files)

    layout = anim.layout
    report = {"command": "animate", "image": str(args.image)}
    report.update(_layout_report(layout, anim.source_scale))
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
        lines += [f"wrote {path} ({_kb(len(data[f]))})" for f, path in targets.items()]
    else:
        lines.append("no file written: add --gif PATH, --mp4 PATH, --webp PATH, --apng PATH, --zip PATH or --sheet PATH.png")
    lines += [f"warning: {w}" for w in anim.warnings]
    _emit(args, report, lines)
    return 0


# --------------------------------------------------------------------------- entry point


def _fail(message: str) -> None:
    sys.stderr.write("error: " + " ".join(str(message).split()) + "\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 user error, 1 bug)."""
    debug = os.environ.get("GRIDANIM_DEBUG") == "1"
    import warnings

    if not debug:
        warnings.simplefilter("ignore")  # library warnings must not add stderr lines
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except CliError as e:
        _fail(str(e))
        return 2
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `... --json | head -c 10`: not an error, and no shutdown noise
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except Exception as e:
        from .errors import GridanimError

        if isinstance(e, GridanimError):
            _fail(str(e))
            return 2
        if isinstance(e, MemoryError):
            _fail("out of memory: use a smaller image or --max-size")
            return 2
        if debug:
            import traceback

            traceback.print_exc()
        _fail(f"internal error: {type(e).__name__}: {e} (set GRIDANIM_DEBUG=1 for details and report it)")
        return 1
