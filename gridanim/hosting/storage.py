"""Saved generations: every returned grid as ``<id>.png`` + ``<id>.json`` in the data dir.

The data dir is ``GRIDANIM_DATA_DIR`` (default ``./outputs``). A grid is saved
*before* anything else can fail (slicing, encoding), so a paid-for image is never
lost. The JSON sidecar holds prompt, preset, model, size, quality, layout, usage,
cost, time and request id - never an API key: anything that looks like one
(``sk-...``) is replaced by ``[redacted]`` before writing, and writers never pass
one. Files are written atomically (temp file + rename).

* :func:`ensure_writable` - fail early, before money is spent, if the dir is unusable.
* :func:`save_generation` - write a new record, returns it.
* :func:`update_record` - merge fields into a sidecar (layout, outputs...).
* :func:`list_history` - saved generations, newest first (the app's History tab).
* :func:`load_record` - one record by id.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StorageError
from ..output import write_atomic


def _token(n: int) -> str:
    """``secrets.token_hex(n)`` (what it does: ``os.urandom(n).hex()``) without importing secrets, whose
    imports (random, hmac, hashlib) cost every CLI run that writes a file."""
    return os.urandom(n).hex()


ENV_DIR = "GRIDANIM_DATA_DIR"
DEFAULT_DIR = "outputs"
ID_RANDOM_BYTES = 16  # 128 random bits: an id that travels (History, redraw, CLI) cannot be guessed
_ID = re.compile(r"^\d{8}-\d{6}-(?:[0-9a-f]{32}|[0-9a-f]{6})$")  # 6 hex: records saved before 128-bit ids
_KEYLIKE = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{16,}")


@dataclass(frozen=True)
class Record:
    """One saved generation."""

    id: str
    png_path: Path
    json_path: Path
    meta: dict

    @property
    def created(self) -> str:
        return str(self.meta.get("created", ""))

    def to_dict(self) -> dict:
        """The sidecar's fields, with ``grid`` / ``sidecar`` as full paths."""
        return {**self.meta, "id": self.id, "grid": str(self.png_path), "sidecar": str(self.json_path)}


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder generations are saved in (``path`` > ``GRIDANIM_DATA_DIR`` > ``./outputs``)."""
    return Path(path or os.environ.get(ENV_DIR) or DEFAULT_DIR).expanduser()


def redact(value: Any) -> Any:
    """Replace anything shaped like an OpenAI key in strings, recursively."""
    if isinstance(value, str):
        return _KEYLIKE.sub("[redacted]", value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def _fail(action: str, path: Path, e: OSError) -> StorageError:
    why = e.strerror or str(e)
    return StorageError(f"cannot {action} {path} ({why}): set {ENV_DIR} to a writable folder")


def ensure_writable(directory: str | os.PathLike | None = None) -> Path:
    """Create the data dir and prove it takes a file; called *before* a paid request."""
    d = data_dir(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _fail("create", d, e) from None
    probe = d / f".probe.{_token(4)}.tmp"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise _fail("write to", d, e) from None
    return d


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as e:
        raise _fail("write", path, e) from None


def _dump(meta: dict) -> bytes:
    return (json.dumps(redact(meta), indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def save_generation(
    png: bytes,
    meta: dict,
    *,
    directory: str | os.PathLike | None = None,
    now: _dt.datetime | None = None,
) -> Record:
    """Write the grid and its sidecar; returns the new :class:`Record`."""
    d = ensure_writable(directory)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    rid = f"{now:%Y%m%d-%H%M%S}-{_token(ID_RANDOM_BYTES)}"
    png_path, json_path = d / f"{rid}.png", d / f"{rid}.json"
    full = {"id": rid, "created": now.isoformat(timespec="seconds"), "grid": png_path.name, **meta}
    _write_atomic(png_path, png)
    _write_atomic(json_path, _dump(full))
    return Record(rid, png_path, json_path, redact(full))


def update_record(record: Record, **fields: Any) -> Record:
    """Merge ``fields`` into the sidecar (re-written atomically); returns the updated record."""
    meta = {**record.meta, **fields}
    _write_atomic(record.json_path, _dump(meta))
    return Record(record.id, record.png_path, record.json_path, redact(meta))


def _read(json_path: Path) -> Record | None:
    try:
        meta = json.loads(json_path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    rid = json_path.stem
    png = json_path.with_suffix(".png")
    if not png.exists():
        return None
    return Record(rid, png, json_path, meta)


def list_history(directory: str | os.PathLike | None = None, limit: int | None = None) -> list[Record]:
    """Saved generations, newest first; unreadable sidecars and orphans are skipped."""
    d = data_dir(directory)
    if not d.is_dir():
        return []
    recs = [r for p in d.glob("*.json") if _ID.match(p.stem) and (r := _read(p)) is not None]
    recs.sort(key=lambda r: (r.created, r.id), reverse=True)
    return recs[:limit] if limit is not None else recs


def load_record(record_id: str, directory: str | os.PathLike | None = None) -> Record:
    """One saved generation by id; :class:`StorageError` when it is not there."""
    if not _ID.match(record_id or ""):
        raise StorageError(f"'{record_id}' is not a generation id (they look like 20261121-153012- and 32 hex digits)")
    d = data_dir(directory)
    rec = _read(d / f"{record_id}.json")
    if rec is None:
        raise StorageError(f"no saved generation '{record_id}' in {d}: see the History tab or `ls {d}`")
    return rec
