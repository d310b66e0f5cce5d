"""What every command shares: the parser class, argument types, output writing and ``--json`` emission.

Imports nothing from the command modules (they import it), and nothing heavy:
numpy, Pillow and the package's stages are imported inside the functions that
need them, so ``detect``/``animate`` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..units import human_bytes

__all__ = [
    "PROG",
    "CliError",
    "Parser",
    "whole",
    "number",
    "colour",
    "scale_factor",
    "add_grid_args",
    "emit",
    "write",
    "read_early",
    "layout_report",
    "check_writable",
    "fail",
    "human_bytes",
    "EXAMPLES",
]

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


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one ``error: ...`` line, not usage + message."""

    def error(self, message: str):  # type: ignore[override]
        raise CliError(f"{message} (see {self.prog} --help)")


def whole(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    return v


def number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return v


def colour(text: str) -> tuple[int, int, int]:
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


def scale_factor(text: str) -> int:
    v = whole(text)
    if not 1 <= v <= 16:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 16, got {text!r}")
    return v


def add_grid_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE", help="the grid image (PNG, JPEG, WebP, ...)")
    p.add_argument("--rows", type=whole, help="number of rows (default: detected)")
    p.add_argument("--cols", type=whole, help="number of columns (default: detected)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of a summary")


def layout_report(layout, scale: float) -> dict:
    d = layout.to_dict()
    if scale != 1.0:  # the loader downscaled a huge image: report source pixels
        d["boxes"] = [[round(v * scale) for v in b] for b in layout.boxes]
        d["frame_size"] = [round(v * scale) for v in layout.frame_size]
        d["image_size"] = [round(v * scale) for v in layout.image_size]
    return d


def emit(args, report: dict, lines: Sequence[str]) -> None:
    if args.json:
        import json  # only --json needs it: one import less before the grid is read

        sys.stdout.write(json.dumps(report) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def read_early(path: str):
    """Start decoding the grid now, in a thread, while numpy and the package import.

    Pillow's decoders release the GIL, but between chunks the reader needs it
    back; a short switch interval (default 5 ms) keeps it from waiting on the
    importing thread, so the PNG decode disappears behind the imports.
    """
    from ..reading import read_in_background

    sys.setswitchinterval(0.0005)
    return read_in_background(path)


def write(path: str, data: bytes) -> None:
    from ..output import write_output

    write_output(path, data)


def check_writable(p: Path) -> None:
    """Fail before any work when ``p`` cannot be created: a real probe file in its nearest existing folder."""
    import tempfile

    from ..errors import InputError

    if p.is_dir():
        raise InputError(f"{p} is a folder: give a file name such as {p / 'sheet.png'}")
    d = next((a for a in (p.parent, *p.parent.parents) if a.exists()), Path("."))
    try:
        if not d.is_dir():
            raise NotADirectoryError(20, "not a folder")
        with tempfile.TemporaryFile(dir=d):
            pass
    except OSError as e:
        raise InputError(
            f"cannot write {p}: the folder {d} is not writable ({e.strerror or e}), choose another path"
        ) from None


def fail(message: str) -> None:
    sys.stderr.write("error: " + " ".join(str(message).split()) + "\n")
    sys.stderr.flush()
