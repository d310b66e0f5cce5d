"""The exported sprite sheet in a real game engine: Phaser (npm) in headless Chromium.

``python -m gridanim animate GRID --sheet walk.png`` writes ``walk.png`` and
``walk.json``; a page served from 127.0.0.1 loads them with
``this.load.aseprite``, builds the animation with
``this.anims.createFromAseprite`` and plays it on a sprite. The game loop is
put to sleep and stepped by hand in 10 ms ticks, so the test sees exactly how
long Phaser shows each frame, and reads the CANVAS renderer's pixels back to
compare one frame with the source grid.

Phaser comes from ``tests/js/package-lock.json``, installed with ``npm ci``
into ``$GRIDANIM_JS_DIR`` (default ``~/.cache/gridanim/js``) by
``scripts/test.sh``, or by this test when it is missing. Without chromium or
npm the test skips locally and fails in CI (``CI=true``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, cli_json, require
from PIL import Image

JS_SRC = REPO_ROOT / "tests" / "js"
JS_DIR = Path(os.environ.get("GRIDANIM_JS_DIR") or Path.home() / ".cache" / "gridanim" / "js")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def _require(condition: bool, reason: str) -> None:
    require(condition, reason, "engine test")


def phaser_js() -> Path:
    """phaser.min.js from the locked npm install (running ``npm ci`` when the lock changed)."""
    lock = JS_SRC / "package-lock.json"
    target = JS_DIR / "node_modules" / "phaser" / "dist" / "phaser.min.js"
    stamp = JS_DIR / "package-lock.json"
    if target.exists() and stamp.exists() and stamp.read_bytes() == lock.read_bytes():
        return target
    npm = shutil.which("npm")
    _require(npm is not None, "npm is not installed (apt-get install npm): Phaser cannot be installed")
    JS_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(JS_SRC / name, JS_DIR / name)
    r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"npm ci failed: {r.stderr[-800:]}"
    assert target.exists(), f"npm ci did not install {target}"
    return target


PAGE = """<!doctype html><html><body>
<script src="phaser.min.js"></script>
<script>
window.loaded = null;
class Sheet extends Phaser.Scene {
  preload() { this.load.aseprite("sheet", "%(png)s", "%(json)s"); }
  create() {
    const made = this.anims.createFromAseprite("sheet");
    const anim = this.anims.get("%(tag)s");
    this.sprite = this.add.sprite(0, 0, "sheet").setOrigin(0, 0);
    window.scene = this;
    window.loaded = {
      created: made.map(a => a.key),
      frames: anim.frames.map(f => ({name: String(f.textureFrame), duration: f.duration})),
      yoyo: anim.yoyo,
      renderer: this.game.renderer.type === Phaser.CANVAS ? "canvas" : "webgl",
    };
  }
}
window.game = new Phaser.Game({type: Phaser.CANVAS, width: %(w)d, height: %(h)d, transparent: true,
  pixelArt: true, banner: false, audio: {noAudio: true}, scene: Sheet});

// Play the tag from the start with the game loop asleep, stepping it by hand:
// returns [frame name, ms shown] runs, and the canvas pixels when `grab` is shown.
window.run = (tag, totalMs, grab) => {
  const g = window.game, s = window.scene.sprite;
  g.loop.sleep();
  s.play({key: tag, repeat: -1});
  const runs = []; let t = 0, pixels = null;
  const canvas = g.canvas, ctx = canvas.getContext("2d");
  while (t < totalMs) {
    const name = String(s.anims.currentFrame.textureFrame);
    if (runs.length && runs[runs.length - 1][0] === name) runs[runs.length - 1][1] += 10;
    else runs.push([name, 10]);
    t += 10;
    g.step(t, 10);
    if (pixels === null && name === grab && String(s.anims.currentFrame.textureFrame) === grab) {
      pixels = Array.from(ctx.getImageData(0, 0, s.width, s.height).data);
    }
  }
  return {runs, pixels, w: s.width, h: s.height};
};
</script></body></html>
"""


def sprite_grid(rows: int = 2, cols: int = 3, cell=(26, 22), gutter: int = 6, seed: int = 7):
    """A transparent grid of pixel-art frames: a figure of 1-bit alpha and a few flat colours moves per frame."""
    rng = np.random.default_rng(seed)
    cw, ch = cell
    w, h = cols * cw + (cols + 1) * gutter, rows * ch + (rows + 1) * gutter
    rgba = np.zeros((h, w, 4), np.uint8)
    palette = rng.integers(0, 256, (6, 3), dtype=np.uint8)
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        x0, y0 = gutter + c * (cw + gutter), gutter + r * (ch + gutter)
        body = np.zeros((ch, cw, 4), np.uint8)
        body[3 : ch - 3, 3 + k % 4 : 12 + k % 4, :3] = palette[k % 6]
        body[3 : ch - 3, 3 + k % 4 : 12 + k % 4, 3] = 255
        spots = rng.random((ch, cw)) < 0.12  # texture: any resampling or colour change shows
        spots[:2] = spots[-2:] = False
        spots[:, :2] = spots[:, -2:] = False
        body[spots, :3] = palette[(k + 3) % 6]
        body[spots, 3] = 255
        rgba[y0 : y0 + ch, x0 : x0 + cw] = body
    return rgba


def source_cells(grid: np.ndarray, report: dict) -> list[np.ndarray]:
    """The played frames cut from the source at the reported boxes (centre crop to frame_size, as gridanim cuts)."""
    fw, fh = report["frame_size"]
    cells = []
    for bx, by, bw, bh in report["boxes"]:
        x0, y0 = bx + (bw - fw) // 2, by + (bh - fh) // 2
        cells.append(grid[y0 : y0 + fh, x0 : x0 + fw])
    return [cells[i - 1] for i in report["sequence"]]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    _require(sync_playwright is not None, "playwright is not installed (pip install -r requirements-dev.txt)")
    _require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    js = phaser_js()
    root = tmp_path_factory.mktemp("phaser-site")
    shutil.copyfile(js, root / "phaser.min.js")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield root, f"http://127.0.0.1:{server.server_address[1]}", browser
        browser.close()
    server.shutdown()


def _load(engine, name: str, sheet: Path, tag: str):
    root, url, browser = engine
    meta = json.loads(sheet.with_suffix(".json").read_text())
    page_file = root / f"{name}.html"
    page_file.write_text(
        PAGE
        % {
            "png": sheet.name,
            "json": sheet.with_suffix(".json").name,
            "tag": tag,
            "w": meta["meta"]["size"]["w"],
            "h": meta["meta"]["size"]["h"],
        }
    )
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/{page_file.name}")
    page.wait_for_function("() => window.loaded !== null", timeout=30000)
    assert not errors, errors
    return page, page.evaluate("() => window.loaded"), meta


def test_phaser_plays_the_sheet_with_every_frame_duration_and_exact_pixels(engine, tmp_path):
    root = engine[0]
    grid = sprite_grid()
    Image.fromarray(grid, "RGBA").save(tmp_path / "grid.png")
    sheet = root / "walk.png"
    report = cli_json(
        "animate", tmp_path / "grid.png", "--rows", "2", "--cols", "3", "--fps", "8", "--sheet", sheet, "--padding", "1"
    )
    assert report["outputs"]["sheet"] == str(sheet)
    assert report["outputs"]["sheet_json"] == str(sheet.with_suffix(".json"))
    durations = report["durations_ms"]
    assert len(set(durations)) > 1  # 8 fps = 120/130 ms mixed: each frame's own duration must survive

    page, loaded, meta = _load(engine, "walk", sheet, "walk")
    assert loaded["created"] == ["walk"]
    assert loaded["renderer"] == "canvas"
    assert [f["name"] for f in loaded["frames"]] == [str(i) for i in range(len(durations))]
    assert [f["duration"] for f in loaded["frames"]] == durations
    assert loaded["yoyo"] is False

    grab = 4
    out = page.evaluate(f"() => window.run('walk', {2 * sum(durations)}, '{grab}')")
    page.close()
    shown = out["runs"][: len(durations)]
    assert shown == [[str(i), d] for i, d in enumerate(durations)], "Phaser showed the frames for other times"
    assert [r[0] for r in out["runs"][len(durations) :]][:2] == ["0", "1"], "the animation did not loop"

    drawn = np.array(out["pixels"], np.uint8).reshape(out["h"], out["w"], 4)
    src = source_cells(grid, report)[grab]
    assert drawn.shape == src.shape
    assert np.array_equal(drawn[..., 3], src[..., 3]), "alpha of the drawn frame differs from the source"
    opaque = src[..., 3] == 255
    assert opaque.sum() > 100 and np.array_equal(drawn[opaque, :3], src[opaque, :3]), "drawn colours differ"


def test_phaser_plays_pingpong_as_the_real_frames_with_yoyo(engine, tmp_path):
    root = engine[0]
    grid = sprite_grid(seed=11)
    Image.fromarray(grid, "RGBA").save(tmp_path / "grid.png")
    sheet = root / "bounce.png"
    report = cli_json(
        "animate",
        tmp_path / "grid.png",
        "--rows",
        "2",
        "--cols",
        "3",
        "--frame-ms",
        "100",
        "--order",
        "pingpong",
        "--sheet",
        sheet,
    )
    assert report["sequence"] == [1, 2, 3, 4, 5, 6, 5, 4, 3, 2]
    page, loaded, meta = _load(engine, "bounce", sheet, "bounce")
    assert meta["meta"]["frameTags"] == [{"name": "bounce", "from": 0, "to": 5, "direction": "pingpong"}]
    assert len(meta["frames"]) == 6  # the real frames, not the played copies
    assert loaded["yoyo"] is True
    assert [f["duration"] for f in loaded["frames"]] == [100] * 6
    out = page.evaluate("() => window.run('bounce', 1500, '0')")
    page.close()
    # Phaser's yoyo loop is the GIF's loop: 0..5, 4..1, 0..5, ... with no frame shown twice in a row
    loop = [[str(i - 1), d] for i, d in zip(report["sequence"], report["durations_ms"], strict=True)]
    assert out["runs"][:14] == (loop + loop)[:14], out["runs"]
