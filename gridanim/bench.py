"""``python -m gridanim.bench``: runs the benchmark kept in the repository's ``bench/`` folder.

The benchmark is a development tool, not part of the app, so it lives in ``bench/`` (never deployed to a
Space); this stub keeps the documented command working from a clone.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    if not (ROOT / "bench" / "bench.py").is_file():
        sys.exit(
            "error: the benchmark ships with the repository (bench/bench.py), not with the app: run it from a clone"
        )
    sys.path.insert(0, str(ROOT))
    runpy.run_module("bench.bench", run_name="__main__", alter_sys=True)
