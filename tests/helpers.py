"""Shared test helpers: grids built in code, codec round-trips, tolerance checks.

Nothing here reads a cached image: every grid is drawn in numpy so a test can
say exactly which pixel should end up where.
"""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_GRIDS = REPO_ROOT.parent / "shared" / "grids"
if str(REPO_ROOT) not in sys.path:  # plain `pytest` from elsewhere
    sys.path.insert(0, str(REPO_ROOT))

from bench.metrics import decode_gif  # noqa: E402
from gridanim.layout import Layout  # noqa: E402

GUTTER = (255, 255, 255)


# what the Animate tab offers for download, sorted
ANIMATE_DOWNLOADS = [
    "animation.gif",
    "animation.mp4",
    "animation.webp",
    "frames.zip",
    "grid_cut.png",
    "sprite_sheet.zip",
]

# Debian's chromium, driven by Playwright (``playwright install`` cannot download here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(condition: bool, reason: str, what: str) -> None:
    """Skip the test (``what`` cannot run here) unless in CI, where a missing browser or engine is a failure."""
    import os

    import pytest

    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} cannot run in CI: {reason}")
    pytest.skip(reason)


def tile_color(k: int) -> tuple[int, int, int]:
    """A distinct, non-white, well separated colour per tile index."""
    rng = np.random.default_rng(1000 + k)
    c = rng.integers(20, 200, 3)
    c[k % 3] = 30 + (k * 37) % 170
    return int(c[0]), int(c[1]), int(c[2])


def flat_grid(
    rows: int,
    cols: int,
    *,
    cell: tuple[int, int] = (40, 30),
    gutter: int = 4,
    border: int = 6,
    wobble: int = 0,
) -> tuple[np.ndarray, Layout]:
    """A grid of flat-colour tiles on white gutters, and the exact layout.

    ``cell`` is (w, h); with ``wobble`` the tiles alternate +-wobble px in size
    so boxes differ slightly, as in real grids.
    """
    cw, ch = cell
    widths = [cw + (wobble if c % 2 else -wobble) for c in range(cols)]
    heights = [ch + (wobble if r % 2 else 0) for r in range(rows)]
    W = 2 * border + sum(widths) + gutter * (cols - 1)
    H = 2 * border + sum(heights) + gutter * (rows - 1)
    img = np.empty((H, W, 3), np.uint8)
    img[:] = GUTTER
    boxes, cells = [], []
    y = border
    for r in range(rows):
        x = border
        for c in range(cols):
            k = r * cols + c
            img[y : y + heights[r], x : x + widths[c]] = tile_color(k)
            boxes.append((x, y, widths[c], heights[r]))
            cells.append((r, c))
            x += widths[c] + gutter
        y += heights[r] + gutter
    return img, Layout(rows, cols, tuple(boxes), tuple(cells), (W, H), (), "test")


def scene_frames(
    n: int, w: int = 96, h: int = 64, *, static_background: bool = True, texture: bool = False, seed: int = 0
) -> list[np.ndarray]:
    """``n`` distinct frames: a smooth gradient background and a moving disc.

    With ``static_background`` only the disc changes between frames (the case
    frame-difference transparency is for); ``texture`` adds a fixed grain to
    that background; otherwise every frame gets its own noise.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.stack([60 + 120 * xx / w, 80 + 100 * yy / h, 160 - 60 * xx / w], axis=-1)
    if texture:
        bg += rng.normal(0, 6, bg.shape)
    out = []
    for i in range(n):
        f = bg.copy()
        if not static_background:
            f += rng.normal(0, 2, f.shape)
        cx = w * (0.2 + 0.6 * i / max(1, n - 1))
        cy = h * (0.5 + 0.25 * np.sin(2 * np.pi * i / n))
        d = np.hypot(xx - cx, yy - cy)
        a = np.clip(h * 0.18 - d, 0, 1)[..., None]  # 1 px antialiased edge
        f = f * (1 - a) + np.array([230, 60, 40], np.float32) * a
        out.append(np.clip(f + 0.5, 0, 255).astype(np.uint8))
    return out


def assert_similar(a: np.ndarray, b: np.ndarray, max_mean_diff: float, what: str = "images") -> None:
    """Pillow's ``assert_image_similar`` idea: same shape, mean |a-b| per channel value under a bound."""
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    diff = float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
    assert diff <= max_mean_diff, f"{what}: mean abs diff {diff:.2f} > {max_mean_diff}"


def png_bytes(arr: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(w: int = 60000, h: int = 60000) -> bytes:
    """A ~100-byte PNG whose header claims ``w x h`` pixels (valid CRCs)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


# --------------------------------------------------------------------------- codecs


gif_info = decode_gif  # composited RGB frames, delays, loop count, size


def ffmpeg() -> str:
    from gridanim.encode import ffmpeg_exe

    return ffmpeg_exe()


def probe(path: Path) -> dict:
    """Codec, pixel format and size of the first video stream, from ``ffmpeg -i`` stderr."""
    r = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    line = next((ln for ln in r.stderr.splitlines() if "Video:" in ln), "")
    m = re.search(r"Video: (\w+).*?, (\w+)\(?.*?, (\d+)x(\d+)", line)
    assert m, f"no video stream in ffmpeg output: {r.stderr[-500:]}"
    return {"codec": m.group(1), "pix_fmt": m.group(2), "size": (int(m.group(3)), int(m.group(4))), "line": line}


def decode_mp4(path: Path) -> list[np.ndarray]:
    """Every frame of a video as RGB arrays (ffmpeg -> rawvideo)."""
    info = probe(path)
    w, h = info["size"]
    r = subprocess.run(
        [ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    n = len(r.stdout) // (w * h * 3)
    return list(np.frombuffer(r.stdout, np.uint8)[: n * w * h * 3].reshape(n, h, w, 3))


# --------------------------------------------------------------------------- CLI


def run_cli(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m gridanim ARGS`` from the repo root, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "gridanim", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def cli_json(*args: str) -> dict:
    r = run_cli(*args, "--json")
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    return json.loads(r.stdout)


def shared_manifest() -> list[dict]:
    p = SHARED_GRIDS / "manifest.json"
    return json.loads(p.read_text()) if p.exists() else []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url: str, proc: subprocess.Popen, deadline_s: float = 60) -> float:
    """Seconds until ``url`` answers HTTP 200; fails if ``proc`` exits or the deadline passes."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if proc.poll() is not None:
            raise AssertionError(f"app.py exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"no HTTP 200 from {url} within {deadline_s} s")


def usage_price(usage: dict, model: str = "gpt-image-2"):
    """usage x price from the model table, computed here independently of gridanim.generation.pricing."""
    import datetime as dt

    from gridanim.generation.models import check_model

    m = check_model(model, dt.date(2026, 11, 21))[0]
    return (
        usage["input_text_tokens"] * m.text_input
        + usage["input_image_tokens"] * m.image_input
        + usage["output_image_tokens"] * m.image_output
        + usage["output_text_tokens"] * m.text_output
    ) / 1_000_000
