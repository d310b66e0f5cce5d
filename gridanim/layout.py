"""Layout detection: where the real frames are in a grid image.

(Work in progress: equal division for now; the real detector replaces
:func:`detect_layout`'s body, the dataclass and signature are the contract.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .types import Box, Frame


@dataclass(frozen=True)
class Layout:
    """Rows, columns and one box per real frame (row-major, source pixels)."""

    rows: int
    cols: int
    boxes: tuple[Box, ...]
    cells: tuple[tuple[int, int], ...]  # (row, col) of each box, same order
    image_size: tuple[int, int]  # (w, h)
    warnings: tuple[str, ...] = ()
    method: str = ""

    @property
    def frames(self) -> int:
        return len(self.boxes)

    @property
    def frame_size(self) -> tuple[int, int]:
        """The common (w, h) every extracted frame is cropped to."""
        return (min(b[2] for b in self.boxes), min(b[3] for b in self.boxes))

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "cols": self.cols,
            "frames": self.frames,
            "frame_size": list(self.frame_size),
            "boxes": [list(b) for b in self.boxes],
            "cells": [list(c) for c in self.cells],
            "image_size": list(self.image_size),
            "method": self.method,
            "warnings": list(self.warnings),
        }


def check_grid_args(w: int, h: int, rows: int | None, cols: int | None) -> None:
    for name, v, side in (("rows", rows, h), ("cols", cols, w)):
        if v is None:
            continue
        if v <= 0:
            raise InputError(f"--{name} must be a positive whole number, got {v}")
        if side // v < 4:
            raise InputError(f"--{name} {v} is too many for an image {side} px {'tall' if name == 'rows' else 'wide'}: each cell would be under 4 px")


def detect_layout(rgb: Frame, alpha: np.ndarray | None = None, *, rows: int | None = None, cols: int | None = None) -> Layout:
    h, w = rgb.shape[:2]
    check_grid_args(w, h, rows, cols)
    rows = rows or 1
    cols = cols or 1
    xs = [round(i * w / cols) for i in range(cols + 1)]
    ys = [round(i * h / rows) for i in range(rows + 1)]
    boxes, cells = [], []
    for r in range(rows):
        for c in range(cols):
            boxes.append((xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r]))
            cells.append((r, c))
    return Layout(rows, cols, tuple(boxes), tuple(cells), (w, h), (), "equal")
