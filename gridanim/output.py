"""Writing the output files a user names (``--gif PATH`` and the like): atomically, the folder made.

Saved generations (grids and their sidecars in the data dir) are :mod:`gridanim.hosting.storage`'s.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename, so a reader never sees
    half a file; the temporary file is removed when that fails (the ``OSError`` is raised)."""
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_output(path: str | os.PathLike, data: bytes) -> Path:
    """Write an output file the user named (atomically, its folder made); one-line :class:`InputError` otherwise."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p} is a folder: give a file name such as {p / 'out'}")
        p.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(p, data)
    except OSError as e:
        raise InputError(f"cannot write {p} ({e.strerror or e}): choose another path") from None
    return p
