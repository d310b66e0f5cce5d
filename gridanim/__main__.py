"""``python -m gridanim``: see :mod:`gridanim.cli`."""

import gc
import os
import sys

# A command runs once and exits: the cyclic collector would only walk every object of numpy, Pillow and
# the package again and again while they import (dozens of passes); reference counting frees what a
# command makes. The app (app.py) keeps the collector on.
gc.disable()

# Small matrix products (palette lookup) run faster single-threaded, and the
# second core is busy with ffmpeg during `animate`. Must be set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .cli import main  # noqa: E402


def _exit(code: int) -> None:
    """Exit without the interpreter's teardown.

    Every output is written and closed by the time :func:`main` returns, and
    temporary files are removed by the code that made them; what is left is
    Python freeing numpy, Pillow and every module one by one, a noticeable
    share of an ``animate`` call. ``os._exit`` skips it, so the streams are
    flushed here first.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken pipe: nothing left to say
            pass
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
