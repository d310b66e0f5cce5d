"""Type aliases shared by every stage.

A *frame* is an ``H x W x 3`` ``uint8`` RGB numpy array everywhere inside the
package; PIL images, paths, bytes and Gradio values appear only at the edges
(``images.py`` for reading, ``encode.py`` for writing, ``cli.py`` and ``app.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.typing is for type checkers: at run time the aliases are plain arrays
    from numpy.typing import NDArray

    Frame = NDArray[np.uint8]
    Mask = NDArray[np.bool_]
else:
    Frame = Mask = np.ndarray
"""``Frame``: an ``H x W x 3`` uint8 RGB image. ``Mask``: an ``H x W`` boolean mask (True = foreground / opaque)."""

Box = tuple[int, int, int, int]
"""``(x, y, w, h)`` in source pixels."""
