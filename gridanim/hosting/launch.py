"""How the web app is served: ``launch()`` settings and ``python app.py``'s command line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import GridanimError
from . import policy

MAX_FILE_SIZE = "25mb"
CSS = """
#gen-status, #anim-summary { min-height: 1.5em; }
#gen-estimate { border-left: 3px solid var(--color-accent); padding-left: .75em; }
.gridanim-note { font-size: .85em; opacity: .8; }
"""


def launch_options(examples_dir: str | Path) -> dict:
    """``launch()`` settings shared by ``python app.py`` and tests (theme, limits, paths)."""
    import gradio as gr

    return {
        "theme": gr.themes.Soft(),
        "css": CSS,
        "max_file_size": MAX_FILE_SIZE,
        "run_history": False,  # keeps pasted keys out of the browser's localStorage
        "allowed_paths": [str(examples_dir)],  # never the data dir: grids are copied into run folders per visitor
        "blocked_paths": policy.private_paths(),  # the usage store lives in the data dir: never serve it
    }


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python app.py", description="Run the gridanim web app.")
    p.add_argument(
        "--share",
        action="store_true",
        help="also make a public gradio.live link (public to anyone with it; expires after 72 h)",
    )
    p.add_argument(
        "--host", help="address to listen on (default: $GRADIO_SERVER_NAME, else 127.0.0.1; 0.0.0.0 = every interface)"
    )
    p.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT, else the first free one from 7860)")
    return p.parse_args(argv)


def serve(demo: Any, options: dict, argv=None) -> None:
    """``python app.py``: check the limits' settings, launch (optionally shared) and block."""
    args = parse_args(argv)
    try:
        print(f"gridanim: {policy.Policy.from_env().describe()}", flush=True)  # also checks the limits' env vars
    except GridanimError as e:
        raise SystemExit(f"error: {e}") from None
    share = args.share or os.environ.get("GRADIO_SHARE", "").lower() == "true"
    kw = dict(options)
    if args.host:
        kw["server_name"] = args.host
    if args.port:
        kw["server_port"] = args.port
    demo.launch(share=share, prevent_thread_lock=True, **kw)
    if share and not demo.share_url:
        print(
            f"note: no public share link could be made (offline or blocked); still serving locally at {demo.local_url}",
            flush=True,
        )
    elif share:
        print(f"note: {demo.share_url} is public to anyone who has it and expires after 72 hours", flush=True)
    demo.block_thread()
