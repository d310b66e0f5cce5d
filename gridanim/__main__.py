"""``python -m gridanim``: see :mod:`gridanim.cli`."""

import os
import sys

# Small matrix products (palette lookup) run faster single-threaded, and the
# second core is busy with ffmpeg during `animate`. Must be set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
