"""The real page in headless Chromium: upload, animate, play, estimate, generate.

``python app.py`` runs as a subprocess (``GRADIO_SERVER_PORT``, no server key,
``OPENAI_BASE_URL`` pointing at this process's fake OpenAI server); Playwright
drives Debian's ``/usr/bin/chromium`` (never a downloaded browser). Every
request the page makes is recorded and must stay on this machine. Screenshots
go to ``test-artifacts/`` (gitignored) for a human to look at.

Without chromium or playwright the tests skip locally and FAIL in CI (``CI=true``).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from urllib.parse import urlparse

import numpy as np
import pytest
from fake_openai import FakeOpenAI
from helpers import ANIMATE_DOWNLOADS, CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, flat_grid, free_port, require, wait_http
from PIL import Image

ARTIFACTS = REPO_ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VISITOR_KEY = "sk-visitor-browser-0123456789abcdef"


def _require(condition: bool, reason: str) -> None:
    require(condition, reason, "browser test")


try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_server(fake, tmp_path_factory):
    _require(sync_playwright is not None, "playwright is not installed (pip install -r requirements-dev.txt)")
    _require(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("browser-app")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GRADIO_"))}
    env.update(
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_TEMP_DIR=str(tmp / "gradio"),
        GRIDANIM_DATA_DIR=str(tmp / "data"),
        GRIDANIM_APP_TMP=str(tmp / "runs"),
        OPENAI_BASE_URL=fake.base_url,  # but no OPENAI_API_KEY: the visitor brings one
    )
    log = open(tmp / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        print(f"app.py answered after {wait_http(url, proc):.1f} s")
        yield url, tmp
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(app_server):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server):
    """A page whose every request is recorded; asserts afterwards that none left the machine."""
    url, _ = app_server
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    seen: list[str] = []
    pg.on("request", lambda r: seen.append(r.url))
    pg.goto(url)
    pg.get_by_role("tab", name="Generate").wait_for()
    yield pg
    ctx.close()
    hosts = {urlparse(u).hostname for u in seen if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert seen and hosts <= LOCAL_HOSTS, f"the page contacted {sorted(hosts - LOCAL_HOSTS)}"


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name), full_page=True)


def fetch(pg, src: str) -> bytes:
    resp = pg.request.get(src)
    assert resp.ok, src
    return resp.body()


def test_animate_tab_uploads_a_grid_and_plays_the_gif_and_mp4(page, tmp_path):
    img, _ = flat_grid(3, 4, cell=(90, 70), gutter=10, border=12)
    grid = tmp_path / "grid.png"
    Image.fromarray(img).save(grid)

    page.get_by_role("tab", name="Animate a grid").click()
    page.locator("#grid-in input[type=file]").set_input_files(str(grid))
    expect(page.locator("#cut-out img").first).to_be_visible(timeout=30000)
    expect(page.locator("#layout-md")).to_contain_text("3 rows × 4 columns", timeout=30000)
    page.locator("#anim-btn").click()

    gif = page.locator("#gif-out img").first
    expect(gif).to_have_attribute("src", re.compile(r"\.gif$"), timeout=60000)
    with Image.open(io.BytesIO(fetch(page, gif.get_attribute("src")))) as im:
        assert im.format == "GIF" and im.n_frames == 12

    page.wait_for_function(
        "() => { const v = document.querySelector('#mp4-out video'); return v && v.readyState >= 2 && !v.error }",
        timeout=30000,
    )
    t0 = page.evaluate(
        "async () => { const v = document.querySelector('#mp4-out video'); v.muted = true; await v.play(); return v.currentTime }"
    )
    page.wait_for_function(f"() => document.querySelector('#mp4-out video').currentTime > {t0} + 0.2", timeout=10000)
    assert page.evaluate("() => document.querySelector('#mp4-out video').error") is None

    links = page.locator("#anim-files a[download]")
    expect(links).to_have_count(6, timeout=10000)
    names = sorted(links.nth(i).get_attribute("download") for i in range(6))
    assert names == ANIMATE_DOWNLOADS
    expect(page.locator("#a-sheet")).to_contain_text("Sprite sheet (PNG + JSON)")
    sheet_link = next(links.nth(i) for i in range(6) if links.nth(i).get_attribute("download") == "sprite_sheet.zip")
    with zipfile.ZipFile(io.BytesIO(fetch(page, sheet_link.get_attribute("href")))) as z:
        assert sorted(z.namelist()) == ["sheet.json", "sheet.png", "sheet.tres"]
        meta = json.loads(z.read("sheet.json"))
        with Image.open(io.BytesIO(z.read("sheet.png"))) as sheet:
            assert sheet.mode == "RGBA" and sheet.size == (meta["meta"]["size"]["w"], meta["meta"]["size"]["h"])
    assert len(meta["frames"]) == 12 and meta["meta"]["frameTags"][0]["to"] == 11
    expect(page.locator("#anim-summary")).to_contain_text("12 frames")
    shot(page, "animate.png")


def _sliding_disc_grid(rows: int = 2, cols: int = 4, cell=(90, 70), gutter: int = 10, border: int = 12):
    """A grid whose disc slides left to right and snaps back: a loop with a jump at the seam."""
    import numpy as np

    cw, ch = cell
    size = (2 * border + rows * ch + (rows - 1) * gutter, 2 * border + cols * cw + (cols - 1) * gutter, 3)
    img = np.full(size, 255, np.uint8)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    n = rows * cols
    for k in range(n):
        r, c = divmod(k, cols)
        cx = 18 + (cw - 36) * k / (n - 1)
        a = np.clip(14 - np.hypot(xx - cx, yy - ch / 2), 0, 1)[..., None]
        tile = np.array([60, 90, 140]) * (1 - a) + np.array([220, 50, 40]) * a
        y, x = border + r * (ch + gutter), border + c * (cw + gutter)
        img[y : y + ch, x : x + cw] = tile.astype(np.uint8)
    return img


def test_animate_tab_shows_the_loop_seam_hint_plot_and_timing(page, tmp_path):
    grid = tmp_path / "slide.png"
    Image.fromarray(_sliding_disc_grid()).save(grid)
    page.get_by_role("tab", name="Animate a grid").click()
    page.locator("#grid-in input[type=file]").set_input_files(str(grid))
    expect(page.locator("#layout-md")).to_contain_text("2 rows × 4 columns", timeout=30000)
    expect(page.locator("#a-inbetween")).to_contain_text("optical flow")
    page.locator("#a-hold input, #a-hold textarea").first.fill("1:300")
    page.locator("#anim-btn").click()

    hint = page.locator("#seam-hint")
    expect(hint).to_contain_text("Loop seam", timeout=60000)
    expect(hint).to_contain_text("jumps from frame 8 back to frame 1")
    expect(hint).to_contain_text("Order: pingpong")  # in the app's words, not the CLI's
    plot = page.locator("#seam-plot img").first
    expect(plot).to_have_attribute("src", re.compile(r"\.png$"), timeout=30000)
    with Image.open(io.BytesIO(fetch(page, plot.get_attribute("src")))) as im:
        rgb = im.convert("RGB")
        w, h = rgb.size
        px = [rgb.getpixel((x, y)) for x in range(w) for y in range(0, h, 4)]
    red = sum(1 for r, g, b in px if r > 180 and g < 90 and b < 90)
    blue = sum(1 for r, g, b in px if b > 150 and r < 130)
    assert red > 20 and blue > 20, (red, blue)  # the seam bar stands out from the other steps
    table = page.locator("#timing-table")
    expect(table).to_contain_text("shows (ms)")
    expect(table).to_contain_text("300")
    shot(page, "animate-seam.png")

    # editing a frame's delay in the table writes a hold, which the next run uses
    cell = table.locator('[data-row="2"][data-col="2"]')  # frame 3's "shows (ms)" (a td, or a div when virtualised)
    cell.dblclick()
    editor = table.locator("input, textarea").first
    editor.fill("450")
    editor.press("Enter")
    expect(page.locator("#a-hold input, #a-hold textarea").first).to_have_value("1:300,3:450", timeout=10000)
    page.locator("#anim-btn").click()
    expect(table.locator('[data-row="2"][data-col="2"]')).to_have_text("450", timeout=60000)


def test_generate_tab_shows_an_estimate_then_generates_with_the_visitors_key(page, fake, app_server):
    estimate = page.locator("#gen-estimate")
    expect(estimate).to_contain_text("$")
    expect(estimate).to_contain_text("12 frames")
    expect(page.get_by_text("No server key is set")).to_be_visible()
    shot(page, "generate-before.png")

    rows = page.locator("#gen-rows input[type=number]")  # the live estimate follows the settings
    rows.fill("2")
    rows.press("Enter")
    expect(estimate).to_contain_text("2×4 = 8 frames", timeout=15000)
    page.locator("#gen-advanced").get_by_text("Advanced").click()
    expect(page.get_by_label("Quality")).to_be_visible()
    shot(page, "generate-advanced.png")
    rows.fill("3")
    rows.press("Enter")
    expect(estimate).to_contain_text("3×4 = 12 frames", timeout=15000)

    page.locator("#gen-prompt textarea").fill("a cat chasing its tail")
    page.locator("#gen-key input").fill(VISITOR_KEY)
    before = len(fake.requests)
    page.locator("#gen-btn").click()

    gif = page.locator("#gen-gif img").first
    expect(gif).to_have_attribute("src", re.compile(r"\.gif$"), timeout=90000)
    expect(page.locator("#gen-cost")).to_contain_text("$", timeout=10000)
    expect(page.locator("#gen-cost")).to_contain_text("Session total")
    expect(page.locator("#gen-status")).to_contain_text("Done")
    with Image.open(io.BytesIO(fetch(page, gif.get_attribute("src")))) as im:
        assert im.n_frames == 12
    assert len(fake.requests) == before + 1
    assert fake.requests[-1].headers["authorization"] == f"Bearer {VISITOR_KEY}"
    storage = page.evaluate("() => JSON.stringify(Object.assign({}, window.localStorage))")
    assert VISITOR_KEY not in storage  # run_history=False
    shot(page, "generate-after.png")

    page.locator("#gen-to-animate").click()  # re-cut for free
    expect(page.locator("#layout-md")).to_contain_text("12 frames", timeout=30000)
    assert len(fake.requests) == before + 1
    shot(page, "recut-in-animate.png")


def test_history_lists_the_generation_and_opens_it_in_animate(page, fake, app_server):
    _, tmp = app_server
    if not list((tmp / "data").glob("*.png")):  # run alone: make one generation through the API first
        pytest.skip("needs the generation made by the generate test")
    page.get_by_role("tab", name="History").click()
    thumbs = page.locator("#history-gallery img")
    expect(thumbs.first).to_be_visible(timeout=20000)
    n_requests = len(fake.requests)
    thumbs.first.click()
    expect(page.locator("#history-details")).to_contain_text("a cat chasing its tail")
    shot(page, "history.png")
    page.locator("#history-open").click()
    expect(page.locator("#layout-md")).to_contain_text("3 rows × 4 columns", timeout=30000)
    assert len(fake.requests) == n_requests


def test_animate_tab_transparent_checkbox_and_pixel_art_scale(page, tmp_path):
    """A pixel-art strip on a green screen: the checkbox keys it out, the scale option enlarges it by whole pixels."""
    w = 64
    img = np.zeros((w, 4 * w, 3), np.uint8)
    img[:] = (17, 215, 48)
    for k in range(4):
        x0, y0 = k * w + 16, 12 + 2 * k
        img[y0 : y0 + 36, x0 : x0 + 32] = (20, 20, 30)
        img[y0 + 2 : y0 + 34, x0 + 2 : x0 + 30] = (200, 60, 40)
        img[y0 + 6 : y0 + 12, x0 + 8 + 2 * k : x0 + 14 + 2 * k] = (250, 240, 200)
    grid = tmp_path / "strip.png"
    Image.fromarray(img).save(grid)

    page.get_by_role("tab", name="Animate a grid").click()
    page.locator("#grid-in input[type=file]").set_input_files(str(grid))
    expect(page.locator("#layout-md")).to_contain_text("4 frames", timeout=30000)
    page.locator("#a-transparent input[type=checkbox]").check()
    page.locator("#a-scale").get_by_text("3×", exact=True).click()
    expect(page.locator("#a-scale input[type=radio]:checked")).to_have_value("3×")
    page.locator("#anim-btn").click()

    expect(page.locator("#anim-summary")).to_contain_text("Background removed", timeout=60000)
    expect(page.locator("#anim-summary")).to_contain_text("3× larger")
    gif = page.locator("#gif-out img").first
    expect(gif).to_have_attribute("src", re.compile(r"\.gif$"), timeout=30000)
    with Image.open(io.BytesIO(fetch(page, gif.get_attribute("src")))) as im:
        assert im.n_frames == 4 and im.size[0] % 3 == 0 and im.size[1] % 3 == 0 and im.size[1] >= 3 * 60
        rgba = np.asarray(im.convert("RGBA"))
    assert rgba[0, 0, 3] == 0 and rgba[:, :, 3].mean() < 200  # the green screen became transparent
    body = rgba[rgba[..., 3] == 255][:, :3].astype(int)
    assert (body[:, 1] - np.maximum(body[:, 0], body[:, 2]) <= 0).all()  # and no green is left on the sprite
    assert len({tuple(c) for c in body}) <= 3  # pixel art: only its own colours, none blended
    shot(page, "animate-transparent-scale.png")


def test_gif_route_then_redraw_one_frame_in_history(page, fake, app_server):
    page.locator("#gen-advanced").get_by_text("Advanced").click()
    model = page.locator("#gen-model input")
    model.click()
    model.fill("gpt-image-2.6-flare")
    model.press("Enter")
    route = page.locator("#gen-route")
    expect(route).to_be_visible(timeout=15000)  # offered only for models listing GIF output
    route.get_by_label("Native GIF").check()
    frames = page.locator("#gen-gif-frames input[type=number]")
    frames.fill("4")
    frames.press("Enter")
    estimate = page.locator("#gen-estimate")
    expect(estimate).to_contain_text("animated GIF of 4 frames", timeout=15000)
    expect(estimate).to_contain_text("Grid (one sheet")  # both routes side by side before the click
    page.locator("#gen-prompt textarea").fill("a dog wagging its tail")
    page.locator("#gen-key input").fill(VISITOR_KEY)
    before = len(fake.requests)
    page.locator("#gen-btn").click()
    gif = page.locator("#gen-gif img").first
    expect(page.locator("#gen-status")).to_contain_text("Done", timeout=90000)
    req = fake.requests[-1]
    assert len(fake.requests) == before + 1 and req.json["output_format"] == "gif" and req.json["frame_count"] == 4, (
        req.json
    )
    expect(page.locator("#gen-cost")).to_contain_text("native GIF", timeout=10000)
    expect(gif).to_have_attribute("src", re.compile(r"\.gif$"), timeout=10000)
    with Image.open(io.BytesIO(fetch(page, gif.get_attribute("src")))) as im:
        assert im.n_frames == 4
    shot(page, "generate-gif-route.png")

    page.locator("#gen-fix").click()  # after a generation: fix some of its frames in History
    expect(page.locator("#history-details")).to_contain_text("a dog wagging its tail", timeout=20000)
    page.locator("#redraw-frames textarea, #redraw-frames input").first.fill("2")
    page.locator("#redraw-fix textarea, #redraw-fix input").first.fill("the tail up")
    expect(page.locator("#redraw-estimate")).to_contain_text("Estimated cost of this re-draw", timeout=15000)  # before
    page.locator("#redraw-btn").click()
    expect(page.locator("#redraw-md")).to_contain_text("Re-drew frame(s) 2", timeout=90000)  # and after: the exact cost
    expect(page.locator("#redraw-md")).to_contain_text("estimate was")
    edit = fake.requests[-1]
    assert len(fake.requests) == before + 2 and edit.path == "/v1/images/edits" and "mask" in edit.files
    redrawn = page.locator("#redraw-gif img").first
    with Image.open(io.BytesIO(fetch(page, redrawn.get_attribute("src")))) as im:
        assert im.n_frames == 4
    shot(page, "history-redraw.png")
    _, tmp = app_server
    assert VISITOR_KEY not in (tmp / "app.log").read_text()  # no key in the server's log
    for f in (tmp / "data").rglob("*"):
        assert not f.is_file() or VISITOR_KEY.encode() not in f.read_bytes(), f
