"""One app run's files, and the generate-then-animate steps the app streams.

Every app action writes into its own folder under
``<tempfile.gettempdir()>/gridanim-app/<run id>/`` (never the data dir, which
holds only paid-for grids and their sidecars). Files have fixed names, so a
download is called ``animation.gif`` rather than a hash: see :data:`NAMES`.
Run folders older than :data:`MAX_AGE_S` are deleted whenever a new one is made
(Gradio's ``delete_cache`` only removes its own copies).

* :func:`preview_cut` - load, detect, draw the numbered cut (``grid_cut.png``).
* :func:`animate_to_files` - the engine's animate + render, written to files.
* :func:`result_files` - a finished generation (:mod:`gridanim.pipeline`) written
  to a run folder with its frame PNGs and numbered cut.
* :func:`copy_grid` / :func:`thumbnail` - a saved grid brought into a run
  folder (the History tab and "re-cut in Animate"), so the app never serves
  the data dir itself.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..animate import AnimateOptions, Animation, animate_grid
from ..images import LoadedImage, load_image
from ..layout import Layout, detect_layout
from ..overlay import save_cut

NAMES = {
    "gif": "animation.gif",
    "mp4": "animation.mp4",
    "webp": "animation.webp",
    "zip": "frames.zip",
    "sheet": "sprite_sheet.zip",
}
CUT_NAME = "grid_cut.png"
MAX_AGE_S = 3600
ENV_ROOT = "GRIDANIM_APP_TMP"


def root_dir() -> Path:
    """Where run folders live: ``GRIDANIM_APP_TMP`` or ``<system temp>/gridanim-app``."""
    return Path(os.environ.get(ENV_ROOT) or Path(tempfile.gettempdir()) / "gridanim-app")


def purge_old(root: Path | None = None, max_age_s: float = MAX_AGE_S, now: float | None = None) -> int:
    """Delete run folders last modified more than ``max_age_s`` ago; returns how many."""
    root = root or root_dir()
    now = time.time() if now is None else now
    removed = 0
    if not root.is_dir():
        return 0
    for d in root.iterdir():
        try:
            if d.is_dir() and now - d.stat().st_mtime > max_age_s:
                shutil.rmtree(d, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def new_run_dir(root: Path | None = None) -> Path:
    """A fresh, empty folder for one run (old ones are purged first)."""
    root = root or root_dir()
    root.mkdir(parents=True, exist_ok=True)
    purge_old(root)
    d = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
    d.mkdir()
    return d


def write_bytes(run_dir: Path, name: str, data: bytes) -> Path:
    """One file in a run folder (a live preview, a saved image shown before its animation)."""
    p = run_dir / name
    p.write_bytes(data)
    return p


def write_outputs(run_dir: Path, data: dict[str, bytes]) -> dict[str, Path]:
    """Write each encoded format under its fixed name; returns format -> path."""
    out = {}
    for fmt, blob in data.items():
        p = run_dir / NAMES[fmt]
        p.write_bytes(blob)
        out[fmt] = p
    return out


# ------------------------------------------------------------------ animate


@dataclass
class Preview:
    """A detected layout and the picture of it."""

    cut: Path
    layout: Layout
    notes: list[str]


def _load(source: Any) -> LoadedImage:
    return source if isinstance(source, LoadedImage) else load_image(source)


# The Animate tab detects the layout for its preview, then animates the same file: the layout the preview
# found is kept here (a few, newest last) so the animation reuses it instead of detecting again.
_PREVIEWED: OrderedDict[tuple, Layout] = OrderedDict()
_PREVIEWED_MAX = 16


def _preview_key(source: Any, rows: int | None, cols: int | None) -> tuple | None:
    if not isinstance(source, (str, Path)):
        return None
    try:
        st = Path(source).stat()
    except OSError:
        return None
    return (str(Path(source).resolve()), st.st_mtime_ns, st.st_size, rows, cols)


def _previewed(source: Any, options: AnimateOptions) -> Layout | None:
    key = _preview_key(source, options.rows, options.cols)
    return _PREVIEWED.get(key) if key else None


def preview_cut(
    source: Any, rows: int | None = None, cols: int | None = None, inset: int = 0, *, run_dir: Path | None = None
) -> Preview:
    """Detect the layout (``rows``/``cols`` as a manual override) and draw it; an animation of the same file
    with the same rows/cols reuses this layout."""
    img = _load(source)
    layout = detect_layout(img.rgb, img.alpha, rows=rows, cols=cols)
    key = _preview_key(source, rows, cols)
    if key:
        _PREVIEWED[key] = layout
        _PREVIEWED.move_to_end(key)
        while len(_PREVIEWED) > _PREVIEWED_MAX:
            _PREVIEWED.popitem(last=False)
    run_dir = run_dir or new_run_dir()
    cut = save_cut(img.rgb, layout, run_dir / CUT_NAME, inset=inset)
    return Preview(cut, layout, list(img.notes) + list(layout.warnings))


@dataclass
class AnimationFiles:
    """What one animate run wrote."""

    run_dir: Path
    anim: Animation
    files: dict[str, Path]  # gif, mp4, webp, zip, sheet
    cut: Path
    frames: list[Path] = field(default_factory=list)  # PNGs, when asked

    @property
    def downloads(self) -> list[str]:
        """Paths for a download list: the animations, the frames ZIP, the cut."""
        return [str(self.files[f]) for f in ("gif", "mp4", "webp", "zip", "sheet") if f in self.files] + [str(self.cut)]

    def sizes(self) -> dict[str, int]:
        return {f: p.stat().st_size for f, p in self.files.items()}


def animate_to_files(
    source: Any,
    options: AnimateOptions,
    *,
    layout: Layout | None = None,
    formats: Iterable[str] = ("gif", "mp4", "webp", "zip"),
    frame_pngs: bool = False,
    run_dir: Path | None = None,
) -> AnimationFiles:
    """Animate ``source`` and write every format, the cut and (optionally) frame PNGs.

    ``"sheet"`` in ``formats`` adds ``sprite_sheet.zip``: sheet.png, sheet.json
    (Aseprite json-hash) and sheet.tres (Godot 4, texture ``res://sheet.png``).
    """
    img = _load(source)
    layout = layout or _previewed(source, options)
    formats = list(formats)
    anim, data = animate_grid(img, options, formats=[f for f in formats if f != "sheet"], layout=layout)
    run_dir = run_dir or new_run_dir()
    if "sheet" in formats:
        from ..encode.sheet import animation_sheet, sheet_zip

        data["sheet"] = sheet_zip(animation_sheet(anim, image_name="sheet.png", godot_texture="res://sheet.png"))
    files = write_outputs(run_dir, data)
    cut = save_cut(img.rgb, anim.layout, run_dir / CUT_NAME, inset=options.inset)
    frames = write_frames(run_dir, anim) if frame_pngs else []
    return AnimationFiles(run_dir, anim, files, cut, frames)


def write_frames(run_dir: Path, anim: Animation) -> list[Path]:
    """Every played frame as ``frames/frame_NN.png``."""
    fdir = run_dir / "frames"
    fdir.mkdir(exist_ok=True)
    width = max(2, len(str(len(anim.frames))))
    out = []
    for i, f in enumerate(anim.frames, 1):
        p = fdir / f"frame_{i:0{width}d}.png"
        Image.fromarray(f).save(p, format="PNG", compress_level=1)
        out.append(p)
    return out


def result_files(result: Any, *, run_dir: Path | None = None) -> AnimationFiles:
    """A finished :mod:`gridanim.pipeline` flow written to a run folder: its outputs, cut and frame PNGs."""
    g, anim = result.generation, result.animation
    run_dir = run_dir or new_run_dir()
    files = write_outputs(run_dir, result.data)
    cut = save_cut((g.image or load_image(g.grid_path)).rgb, anim.layout, run_dir / CUT_NAME, inset=anim.options.inset)
    return AnimationFiles(run_dir, anim, files, cut, write_frames(run_dir, anim))


def copy_grid(path: str | os.PathLike, *, run_dir: Path | None = None) -> Path:
    """Copy a saved grid into a run folder (its name kept) and return the copy."""
    src = Path(path)
    run_dir = run_dir or new_run_dir()
    dst = run_dir / src.name
    shutil.copyfile(src, dst)
    return dst


def thumbnail(path: str | os.PathLike, *, max_side: int = 320, root: Path | None = None) -> Path:
    """A small JPEG of a saved grid, cached by file name under ``<root>/thumbs``."""
    src = Path(path)
    d = (root or root_dir()) / "thumbs"
    d.mkdir(parents=True, exist_ok=True)
    dst = d / f"{src.stem}-{max_side}.jpg"
    if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
        with Image.open(src) as im:
            im.thumbnail((max_side, max_side))
            im.convert("RGB").save(dst, format="JPEG", quality=85)
    return dst
