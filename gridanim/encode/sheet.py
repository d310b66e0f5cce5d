"""Frames -> a sprite sheet a game engine loads: PNG + Aseprite JSON, Godot 4 SpriteFrames.

The sheet is uniform: every frame gets one cell of the frame size, cells are
laid out row-major on a near-square grid (``cols x rows``) with ``padding``
transparent pixels *between* cells (none around the edge), and frames are
copied in untouched, so pixel art keeps every pixel and colour. The PNG is
always RGBA: alpha comes from the parallel masks when there are any, padding
and unused cells are fully transparent.

The JSON is Aseprite's "json-hash" export (``--format json-hash
--filename-format {frame}``): ``frames`` is keyed by the frame index as a
string ("0", "1", ...), which is what Phaser's ``load.aseprite`` /
``anims.createFromAseprite`` look frames up by; ``duration`` is in
milliseconds; one tag in ``meta.frameTags`` spans all frames.

Pingpong: an animation played ``1 2 3 2`` (``--order pingpong``) is written as
its real frames ``1 2 3`` under a ``pingpong`` tag, because that is what
Aseprite itself exports and engines play it back as ``1 2 3 2 1 2 3 ...``.
Each real frame keeps the duration of its first (outward) showing; the return
trip's copies may differ by the 10 ms rounding spread (e.g. 120 vs 130 ms).
When the played frames are not an exact mirror (in-betweens, smoothing, a
custom order), the sheet holds the played frames as they are with a
``forward`` tag. Godot has no pingpong mode, so its SpriteFrames lists the
full played sequence, each entry pointing at the real frame's cell.

Godot: ``[ext_resource]`` paths must be ``res://`` paths. The texture path
is the sheet PNG relative to the Godot project, found by walking up from the
``.tres`` to the nearest ``project.godot``; with no project above it, the
``.tres`` folder is taken as the project root (copy both files into the
project's root or fix the path in the editor). Frame ``duration`` in Godot 4
is relative: a frame shows for ``duration / speed`` seconds, so ``speed`` is
the animation's base fps and each duration is its frame's ms times fps / 1000
(held frames get 2.0, 3.0, ...).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..types import Frame

MAX_TEXTURE_SIDE = 4096  # WebGL 1 guarantees only this much on many phones
GODOT_ANIMATION = "default"  # AnimatedSprite2D plays "default" when nothing else is named


@dataclass
class SheetPlan:
    """What goes into the sheet: the frames to place and how they play back."""

    frames: list[Frame]
    alphas: list[np.ndarray] | None
    durations_ms: list[int]
    direction: str  # forward | pingpong (Aseprite tag direction)
    sequence: list[int]  # sheet frame index per played frame (the full loop, for Godot)


@dataclass
class Sheet:
    """A uniform sheet image and where each frame sits on it."""

    image: np.ndarray  # H x W x 4 uint8, straight (not premultiplied) alpha
    cells: list[tuple[int, int, int, int]]  # (x, y, w, h) per frame
    cols: int
    rows: int
    padding: int

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


# --------------------------------------------------------------------------- plan


def _check(frames: Sequence[Frame], alphas: Sequence[np.ndarray] | None, durations_ms: Sequence[int]) -> None:
    if not frames:
        raise InputError("there are no frames to put on a sprite sheet")
    h, w = frames[0].shape[:2]
    for i, f in enumerate(frames):
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3 or f.shape[:2] != (h, w):
            raise InputError(f"frame {i + 1} is not a {w}x{h} RGB uint8 frame like frame 1")
    if alphas is not None:
        if len(alphas) != len(frames):
            raise InputError(f"got {len(alphas)} alpha masks for {len(frames)} frames")
        if any(a.shape != (h, w) or a.dtype != np.uint8 for a in alphas):
            raise InputError(f"every alpha mask must be a {w}x{h} uint8 array")
    if len(durations_ms) != len(frames):
        raise InputError(f"got {len(durations_ms)} durations for {len(frames)} frames: give one per frame")
    if any(not math.isfinite(d) or d <= 0 for d in durations_ms):
        raise InputError("frame durations must be positive milliseconds")


def _same(frames, alphas, i: int, j: int) -> bool:
    if not np.array_equal(frames[i], frames[j]):
        return False
    return alphas is None or np.array_equal(alphas[i], alphas[j])


def plan_sheet(
    frames: Sequence[Frame],
    alphas: Sequence[np.ndarray] | None,
    durations_ms: Sequence[int],
    *,
    pingpong: bool = False,
) -> SheetPlan:
    """Decide which frames go on the sheet (see the module notes on pingpong)."""
    _check(frames, alphas, durations_ms)
    n = len(frames)
    played = SheetPlan(
        list(frames),
        None if alphas is None else list(alphas),
        [int(d) for d in durations_ms],
        "forward",
        list(range(n)),
    )
    # a pingpong loop of m real frames is 2m - 2 played frames: 0 .. m-1 .. 1
    if not pingpong or n < 4 or n % 2:
        return played
    m = n // 2 + 1
    if not all(_same(frames, alphas, m - 1 - k, m - 1 + k) for k in range(1, m - 1)):
        return played
    seq = list(range(m)) + list(range(m - 2, 0, -1))
    return SheetPlan(
        list(frames[:m]),
        None if alphas is None else list(alphas[:m]),
        [int(d) for d in durations_ms[:m]],
        "pingpong",
        seq,
    )


# --------------------------------------------------------------------------- layout


def arrange(n: int, w: int, h: int, padding: int = 0) -> tuple[int, int]:
    """(cols, rows) for ``n`` cells of ``w x h``: the most square sheet, then the fewest empty cells."""
    if n < 1:
        raise InputError("there are no frames to put on a sprite sheet")
    best = None
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        if (rows - 1) * cols >= n:  # a whole empty row: a smaller cols does better
            continue
        sw, sh = cols * w + (cols - 1) * padding, rows * h + (rows - 1) * padding
        key = (max(sw, sh), rows * cols - n, sh)
        if best is None or key < best[0]:
            best = (key, cols, rows)
    assert best is not None
    return best[1], best[2]


def build_sheet(
    frames: Sequence[Frame],
    alphas: Sequence[np.ndarray] | None = None,
    *,
    padding: int = 0,
    cols: int | None = None,
) -> Sheet:
    """Place every frame in its own cell of one RGBA image (frames copied exactly)."""
    if padding < 0:
        raise InputError(f"--padding must be 0 or more pixels, got {padding}")
    _check(frames, alphas, [1] * len(frames))
    n = len(frames)
    h, w = frames[0].shape[:2]
    if cols is None:
        cols, rows = arrange(n, w, h, padding)
    else:
        cols = max(1, min(int(cols), n))
        rows = -(-n // cols)
    sw, sh = cols * w + (cols - 1) * padding, rows * h + (rows - 1) * padding
    image = np.zeros((sh, sw, 4), np.uint8)
    cells = []
    for i, f in enumerate(frames):
        r, c = divmod(i, cols)
        x, y = c * (w + padding), r * (h + padding)
        image[y : y + h, x : x + w, :3] = f
        image[y : y + h, x : x + w, 3] = 255 if alphas is None else alphas[i]
        cells.append((x, y, w, h))
    return Sheet(image=image, cells=cells, cols=cols, rows=rows, padding=padding)


def sheet_warnings(sheet: Sheet) -> list[str]:
    w, h = sheet.size
    if max(w, h) > MAX_TEXTURE_SIDE:
        return [
            f"the sprite sheet is {w}x{h}: over {MAX_TEXTURE_SIDE} px some GPUs (phones, WebGL 1) cannot load it; "
            "use --max-size to make the frames smaller"
        ]
    return []


# --------------------------------------------------------------------------- writers


def sheet_png(sheet: Sheet) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(sheet.image, "RGBA").save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def aseprite_json(
    sheet: Sheet,
    durations_ms: Sequence[int],
    *,
    image: str,
    tag: str = "animation",
    direction: str = "forward",
) -> dict:
    """Aseprite's json-hash export of ``sheet`` (frames named "0", "1", ...)."""
    from .. import __version__

    if direction not in ("forward", "reverse", "pingpong"):
        raise InputError(f"unknown tag direction {direction!r}: use forward, reverse or pingpong")
    if len(durations_ms) != len(sheet.cells):
        raise InputError(f"got {len(durations_ms)} durations for {len(sheet.cells)} frames: give one per frame")
    frames = {}
    for i, ((x, y, w, h), d) in enumerate(zip(sheet.cells, durations_ms, strict=True)):
        frames[str(i)] = {
            "frame": {"x": x, "y": y, "w": w, "h": h},
            "rotated": False,
            "trimmed": False,
            "spriteSourceSize": {"x": 0, "y": 0, "w": w, "h": h},
            "sourceSize": {"w": w, "h": h},
            "duration": int(round(d)),
        }
    sw, sh = sheet.size
    return {
        "frames": frames,
        "meta": {
            "app": "gridanim",
            "version": __version__,
            "image": image,
            "format": "RGBA8888",
            "size": {"w": sw, "h": sh},
            "scale": "1",
            "frameTags": [{"name": tag, "from": 0, "to": len(sheet.cells) - 1, "direction": direction}],
            "layers": [],
            "slices": [],
        },
    }


def godot_texture_path(tres: str | os.PathLike, png: str | os.PathLike) -> str:
    """The ``res://`` path of ``png`` as seen from the Godot project that holds ``tres``.

    The project root is the nearest folder above ``tres`` with a
    ``project.godot``; without one, the ``.tres`` folder itself.
    """
    tres_dir = Path(tres).resolve().parent
    png_path = Path(png).resolve()
    root = next((d for d in (tres_dir, *tres_dir.parents) if (d / "project.godot").is_file()), tres_dir)
    try:
        rel = png_path.relative_to(root)
    except ValueError:
        raise InputError(
            f"the sheet {png} is outside the Godot project {root}: write --sheet inside it (or next to the .tres)"
        ) from None
    return "res://" + rel.as_posix()


def _num(v: float) -> str:
    """A Godot float literal (always with a decimal point, as the editor writes them)."""
    s = f"{v:.6f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def godot_tres(
    sheet: Sheet,
    sequence: Sequence[int],
    durations_ms: Sequence[int],
    *,
    texture_path: str,
    fps: float | None = None,
    loop: bool = True,
    name: str = GODOT_ANIMATION,
) -> str:
    """A Godot 4 ``SpriteFrames`` resource (text .tres) playing ``sequence`` of the sheet's cells.

    ``durations_ms`` has one entry per played frame. ``speed`` is ``fps``
    (default: the loop's average rate) and each frame's relative duration is
    ``ms * speed / 1000``.
    """
    if len(sequence) != len(durations_ms) or not sequence:
        raise InputError(f"got {len(durations_ms)} durations for {len(sequence)} played frames")
    if any(not 0 <= i < len(sheet.cells) for i in sequence):
        raise InputError("a played frame is not on the sheet")
    if fps is None or not math.isfinite(fps) or fps <= 0:
        fps = 1000.0 * len(durations_ms) / float(sum(durations_ms))
    used = sorted(set(int(i) for i in sequence))
    ext_id = "1_sheet"
    sub_ids = {i: f"AtlasTexture_{i}" for i in used}
    out = [
        f'[gd_resource type="SpriteFrames" load_steps={len(used) + 2} format=3]',
        "",
        f'[ext_resource type="Texture2D" path="{_escape(texture_path)}" id="{ext_id}"]',
        "",
    ]
    for i in used:
        x, y, w, h = sheet.cells[i]
        out += [
            f'[sub_resource type="AtlasTexture" id="{sub_ids[i]}"]',
            f'atlas = ExtResource("{ext_id}")',
            f"region = Rect2({x}, {y}, {w}, {h})",
            "",
        ]
    entries = ",\n".join(
        f'{{\n"duration": {_num(d * fps / 1000.0)},\n"texture": SubResource("{sub_ids[int(i)]}")\n}}'
        for i, d in zip(sequence, durations_ms, strict=True)
    )
    out += [
        "[resource]",
        "animations = [{",
        f'"frames": [{entries}],',
        f'"loop": {"true" if loop else "false"},',
        f'"name": &"{_escape(name)}",',
        f'"speed": {_num(fps)}',
        "}]",
        "",
    ]
    return "\n".join(out)


def render_sheet(
    frames: Sequence[Frame],
    alphas: Sequence[np.ndarray] | None,
    durations_ms: Sequence[int],
    *,
    image_name: str,
    padding: int = 0,
    pingpong: bool = False,
    tag: str = "animation",
    godot_texture: str | None = None,
    fps: float | None = None,
) -> tuple[dict[str, bytes], list[str]]:
    """Everything a sheet export writes, as bytes: ``sheet`` (PNG), ``sheet_json``, and ``godot`` when asked.

    Returns ``(files, warnings)``.
    """
    import json

    plan = plan_sheet(frames, alphas, durations_ms, pingpong=pingpong)
    sheet = build_sheet(plan.frames, plan.alphas, padding=padding)
    meta = aseprite_json(sheet, plan.durations_ms, image=image_name, tag=tag, direction=plan.direction)
    files = {"sheet": sheet_png(sheet), "sheet_json": (json.dumps(meta, indent=1) + "\n").encode()}
    if godot_texture is not None:
        # the full loop: the return trip of a pingpong keeps its own delays
        files["godot"] = godot_tres(
            sheet, plan.sequence, [int(d) for d in durations_ms], texture_path=godot_texture, fps=fps
        ).encode()
    warnings = sheet_warnings(sheet)
    if pingpong and plan.direction != "pingpong":
        warnings.append(
            "the pingpong frames are not exact mirrors (smoothing or in-betweens): "
            "the sprite sheet holds every played frame with a forward tag"
        )
    return files, warnings


def animation_sheet(
    anim,
    *,
    image_name: str,
    padding: int = 0,
    tag: str = "animation",
    godot_texture: str | None = None,
) -> dict[str, bytes]:
    """:func:`render_sheet` for an :class:`~gridanim.animate.Animation`; its notes go to ``anim.warnings``.

    Pingpong comes from the animation's order. Godot's ``speed`` is the
    nominal frame rate (before holds), times the frames smoothing put in per
    real frame, so a plain frame has duration 1.0 and a held one 2.0, 3.0, ...
    """
    opts = anim.options
    fps = opts.fps if opts.frame_ms is None else 1000.0 / opts.frame_ms
    if anim.sequence and len(anim.frames) % len(anim.sequence) == 0:
        fps *= len(anim.frames) // len(anim.sequence)
    files, notes = render_sheet(
        anim.frames,
        getattr(anim, "alphas", None),
        anim.durations_ms,
        image_name=image_name,
        padding=padding,
        pingpong=str(opts.order).strip().lower() == "pingpong",
        tag=tag,
        godot_texture=godot_texture,
        fps=fps,
    )
    anim.warnings.extend(notes)
    return files


def sheet_zip(files: dict[str, bytes], stem: str = "sheet") -> bytes:
    """The sheet PNG, its JSON and (when made) the Godot .tres in one ZIP, named ``stem.*``."""
    import zipfile

    names = {"sheet": f"{stem}.png", "sheet_json": f"{stem}.json", "godot": f"{stem}.tres"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for key, name in names.items():
            if key in files:
                z.writestr(name, files[key])
    return buf.getvalue()
