"""Style presets: one TOML file each, loaded into a strict, frozen :class:`Preset`.

Shipped presets live in the top-level ``presets/`` folder; users add a style by
dropping a file there or in any folder named by ``GRIDANIM_PRESETS_DIR``
(several folders separated by ``os.pathsep``; a user file replaces a shipped
one with the same id). The id is the file name without ``.toml``.

Schema (unknown keys and wrong types raise :class:`PresetError` naming the file
and the field)::

    name = "Studio Ghibli"            # required, shown to users
    description = "..."               # required, one line
    style = "..."                     # required, the text added to the prompt
    aliases = ["studio-ghibli"]       # optional, other names for --style
    transparent = true                # optional: a sprite, generated with real alpha

    [defaults]                        # optional; each key optional
    rows = 3                          # 1-12
    cols = 4                          # 1-12
    shape = "square"                  # see gridanim.generation.plan.parse_shape
    fps = 8                           # 1-50
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import tomllib

from ..errors import GridanimError, PresetError
from .plan import MAX_SIDE_CELLS, parse_shape

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "presets"
ENV_DIR = "GRIDANIM_PRESETS_DIR"

_TOP = {"name": str, "description": str, "style": str, "aliases": list, "defaults": dict, "transparent": bool}
_REQUIRED = ("name", "description", "style")
_DEFAULTS = {"rows": int, "cols": int, "shape": str, "fps": int}
_RANGES = {"rows": (1, MAX_SIDE_CELLS), "cols": (1, MAX_SIDE_CELLS), "fps": (1, 50)}
_TYPE_NAMES = {
    str: "a string",
    int: "a whole number",
    list: "a list of strings",
    dict: "a table",
    bool: "true or false",
}


@dataclass(frozen=True)
class Preset:
    """A style: what the prompt says and the grid it suggests."""

    id: str
    name: str
    description: str
    style: str
    rows: int = 3
    cols: int = 4
    shape: str = "square"
    fps: int = 8
    aliases: tuple[str, ...] = ()
    path: str = ""
    transparent: bool = False  # a sprite: generations ask for real alpha (transparent background or a key colour)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "style": self.style,
            "rows": self.rows,
            "cols": self.cols,
            "shape": self.shape,
            "fps": self.fps,
            "aliases": list(self.aliases),
            "transparent": self.transparent,
        }


def _display(path: Path) -> str:
    """``presets/ghibli.toml`` for shipped files, the full path for user files."""
    try:
        return str(path.resolve().relative_to(SHIPPED_DIR.parent))
    except ValueError:
        return str(path)


def _check_type(where: str, key: str, value, want: type) -> None:
    ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
    if not ok:
        raise PresetError(f"{where}: {key}: must be {_TYPE_NAMES[want]}, got {type(value).__name__} {value!r}")


def parse_preset(data: dict, *, id: str, where: str) -> Preset:
    """Validate one preset's TOML table; ``where`` names the file in messages."""
    for key, value in data.items():
        if key not in _TOP:
            raise PresetError(f"{where}: {key}: unknown key (allowed: {', '.join(_TOP)})")
        _check_type(where, key, value, _TOP[key])
    for key in _REQUIRED:
        if key not in data:
            raise PresetError(f"{where}: {key}: missing (every preset needs {', '.join(_REQUIRED)})")
        if not data[key].strip():
            raise PresetError(f"{where}: {key}: must not be empty")
    aliases = data.get("aliases", [])
    for a in aliases:
        if not isinstance(a, str) or not a.strip():
            raise PresetError(f"{where}: aliases: must be a list of non-empty strings, got {a!r}")
    defaults = data.get("defaults", {})
    for key, value in defaults.items():
        if key not in _DEFAULTS:
            raise PresetError(f"{where}: defaults.{key}: unknown key (allowed: {', '.join(_DEFAULTS)})")
        _check_type(where, f"defaults.{key}", value, _DEFAULTS[key])
        if key in _RANGES:
            lo, hi = _RANGES[key]
            if not lo <= value <= hi:
                raise PresetError(f"{where}: defaults.{key}: must be from {lo} to {hi}, got {value}")
    if "shape" in defaults:
        try:
            parse_shape(defaults["shape"])
        except GridanimError as e:
            raise PresetError(f"{where}: defaults.shape: {e}") from None
    rows, cols = defaults.get("rows", 3), defaults.get("cols", 4)
    if rows * cols < 2:
        raise PresetError(f"{where}: defaults: rows x cols must give at least 2 panels")
    return Preset(
        id=id,
        name=data["name"].strip(),
        description=" ".join(data["description"].split()),
        style=" ".join(data["style"].split()),
        rows=rows,
        cols=cols,
        shape=defaults.get("shape", "square"),
        fps=defaults.get("fps", 8),
        aliases=tuple(a.strip().lower() for a in aliases),
        transparent=data.get("transparent", False),
    )


def load_preset_file(path: str | os.PathLike) -> Preset:
    """Load and validate one preset file."""
    p = Path(path)
    where = _display(p)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise PresetError(f"{where}: cannot be read ({e.strerror or e})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PresetError(f"{where}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise PresetError(f"{where}: is not valid TOML ({e})") from None
    return replace(parse_preset(data, id=p.stem.lower(), where=where), path=str(p))


def preset_dirs() -> list[Path]:
    """The shipped folder, then each folder in ``GRIDANIM_PRESETS_DIR``."""
    dirs = [SHIPPED_DIR]
    extra = os.environ.get(ENV_DIR, "")
    dirs += [Path(d).expanduser() for d in extra.split(os.pathsep) if d.strip()]
    return dirs


@dataclass(frozen=True)
class PresetCatalog:
    """Every preset that loaded, plus one message per file that did not."""

    presets: dict[str, Preset]
    errors: dict[str, PresetError] = field(default_factory=dict)  # id -> error

    def names(self) -> list[str]:
        return sorted(self.presets)

    def get(self, name: str) -> Preset:
        key = name.strip().lower()
        if key in self.presets:
            return self.presets[key]
        if key in self.errors:
            raise self.errors[key]
        for p in self.presets.values():
            if key in p.aliases or key == p.name.lower():
                return p
        raise PresetError(
            f"unknown style '{name}': choose one of {', '.join(self.names())} "
            f"(run `python -m gridanim presets`), or add presets/{key or 'name'}.toml"
        )


def load_presets(dirs: list[Path] | None = None) -> PresetCatalog:
    """Load every ``*.toml`` in the preset folders; later folders override earlier ones.

    A broken file does not hide the others: its error is kept in ``errors`` and
    raised when that style is asked for. A missing extra folder is an error too.
    """
    presets: dict[str, Preset] = {}
    errors: dict[str, PresetError] = {}
    for d in preset_dirs() if dirs is None else dirs:
        if not d.is_dir():
            if d != SHIPPED_DIR:
                errors[f"<{d}>"] = PresetError(f"{ENV_DIR} names {d}, which is not a folder: fix or unset it")
            continue
        for path in sorted(d.glob("*.toml")):
            pid = path.stem.lower()
            try:
                presets[pid] = load_preset_file(path)
                errors.pop(pid, None)
            except PresetError as e:
                errors[pid] = e
                presets.pop(pid, None)
    return PresetCatalog(presets, errors)


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (id, alias or display name, any case)."""
    return load_presets().get(name)
