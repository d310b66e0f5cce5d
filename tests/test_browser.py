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
import os
import re
import subprocess
import sys
from urllib.parse import urlparse

import pytest
from PIL import Image

from fake_openai import FakeOpenAI
from helpers import REPO_ROOT, flat_grid, free_port, wait_http

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VISITOR_KEY = "sk-visitor-browser-0123456789abcdef"


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(reason)


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
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
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
    t0 = page.evaluate("async () => { const v = document.querySelector('#mp4-out video'); v.muted = true; await v.play(); return v.currentTime }")
    page.wait_for_function(f"() => document.querySelector('#mp4-out video').currentTime > {t0} + 0.2", timeout=10000)
    assert page.evaluate("() => document.querySelector('#mp4-out video').error") is None

    links = page.locator("#anim-files a[download]")
    expect(links).to_have_count(5, timeout=10000)
    names = sorted(links.nth(i).get_attribute("download") for i in range(5))
    assert names == ["animation.gif", "animation.mp4", "animation.webp", "frames.zip", "grid_cut.png"]
    expect(page.locator("#anim-summary")).to_contain_text("12 frames")
    shot(page, "animate.png")


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
    assert len(fake.requests) == before + 1 and req.json["output_format"] == "gif" and req.json["frame_count"] == 4, req.json
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
