"""Issue #5 end to end: the real app in its own process (``python app.py``), driven with gradio_client.

The app runs as a subprocess so it can be *restarted* on the same data dir and
so its stdout/stderr can be searched for keys. It talks to the fake OpenAI
server (``OPENAI_BASE_URL``) with the host key ``TEST_KEY``. Visitors are told
apart by ``X-Forwarded-For``: the app runs with ``SPACE_ID`` set, as on a Space,
so the first entry of that header is the visitor's address.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import TEST_KEY
from helpers import REPO_ROOT, flat_grid, free_port, png_bomb
from PIL import Image
from test_uploads import smooth_png

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

VISITOR_KEY = "sk-visitor-own-key-5e4d3c2b1a09f8e7"
START_TIMEOUT_S = 120


class App:
    """``python app.py`` on a free loopback port; output captured in ``log``; restartable."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.tmp = tmp
        self.log = tmp / "app.log"
        self.env = {
            **os.environ,
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "GRADIO_TEMP_DIR": str(tmp / "gradio"),
            "SPACE_ID": "friends/gridanim",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> App:
        port = free_port()
        self.env["GRADIO_SERVER_PORT"] = str(port)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "app.py"], cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"app.py exited: {self.log.read_text()[-2000:]}"
            try:
                urllib.request.urlopen(self.url, timeout=2).read(1)
                return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"app.py did not serve within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def peak_rss_bytes(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) * 1024

    def visitor(self, ip: str) -> Client:
        return Client(self.url, verbose=False, analytics_enabled=False, headers={"X-Forwarded-For": f"{ip}, 10.0.0.1"})


@pytest.fixture
def start_app(tmp_path, fake_openai, data_dir):
    """Start the app with the fake server and the host key; extra env as keyword arguments."""
    apps: list[App] = []

    def start(**env: str) -> App:
        base = {"GRIDANIM_DATA_DIR": str(data_dir), "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": TEST_KEY}
        app = App(tmp_path, **{**base, **env}).start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


def generate(client: Client, api_key: str = "") -> tuple:
    return client.predict(
        "a ball bouncing", rows=2, cols=2, quality="low", partial_images=0, api_key=api_key, api_name="/generate"
    )


def allowance(client: Client) -> str:
    return client.predict(api_name="/allowance")


# ------------------------------------------------------------------ quota and budget


def test_third_generation_is_refused_and_a_restart_does_not_reset_it(start_app, fake_openai):
    app = start_app(GRIDANIM_GENERATIONS_PER_DAY="2")
    alice = app.visitor("203.0.113.7")
    assert "2 of 2 free generations left today" in allowance(alice)
    generate(alice)
    generate(alice)
    assert "0 of 2 free generations left today" in allowance(alice)
    with pytest.raises(AppError) as e:
        generate(alice)
    assert "You have used your 2 free generations today on this app" in str(e.value)
    assert "paste your own OpenAI key" in str(e.value)
    assert len(fake_openai.image_requests) == 2

    bob = app.visitor("198.51.100.4")  # another address behind the same proxy has his own count
    generate(bob)
    assert len(fake_openai.image_requests) == 3

    app.stop()
    app = start_app(GRIDANIM_GENERATIONS_PER_DAY="2")
    alice = app.visitor("203.0.113.7")
    assert "0 of 2 free generations left today" in allowance(alice)
    with pytest.raises(AppError, match="used your 2 free generations"):
        generate(alice)
    assert len(fake_openai.image_requests) == 3


def test_budget_below_one_estimate_is_refused_before_any_request(start_app, fake_openai):
    app = start_app(GRIDANIM_DAILY_BUDGET_USD="0.001")
    with pytest.raises(AppError) as e:
        generate(app.visitor("203.0.113.7"))
    msg = str(e.value)
    assert "daily budget of $0.0010 would be exceeded by this" in msg and "paste your own OpenAI key" in msg
    assert fake_openai.requests == []
    assert "$0.0010 of $0.0010 daily budget left" in allowance(app.visitor("203.0.113.7"))


def test_a_visitor_key_is_used_for_that_visitor_only_and_stored_nowhere(start_app, fake_openai, data_dir, tmp_path):
    app = start_app(GRIDANIM_GENERATIONS_PER_DAY="1")
    generate(app.visitor("203.0.113.7"), api_key=VISITOR_KEY)
    generate(app.visitor("203.0.113.7"), api_key=VISITOR_KEY)  # own key: not counted, so no limit
    generate(app.visitor("198.51.100.4"))
    auth = [r.headers["authorization"] for r in fake_openai.image_requests]
    assert auth == [f"Bearer {VISITOR_KEY}"] * 2 + [f"Bearer {TEST_KEY}"]
    assert "1 of 1 free generations left today" in allowance(app.visitor("203.0.113.7"))
    app.stop()
    sidecars = [json.loads(p.read_text()) for p in data_dir.glob("*.json")]
    assert len(sidecars) == 3 and all(len(s.get("owner", "")) == 32 for s in sidecars)  # claimed for History

    searched = [p for p in [*data_dir.rglob("*"), *(tmp_path / "gradio").rglob("*"), app.log] if p.is_file()]
    assert (
        app.log in searched
        and any(p.name == "usage.sqlite3" for p in searched)
        and any(p.suffix == ".json" for p in searched)
    )
    for p in searched:
        assert VISITOR_KEY.encode() not in p.read_bytes(), p
        assert TEST_KEY.encode() not in p.read_bytes(), p


def test_the_usage_store_is_not_served(start_app, data_dir):
    app = start_app()
    allowance(app.visitor("203.0.113.7"))  # opens (creates) the store
    store = (data_dir / "usage.sqlite3").resolve()
    assert store.exists()
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{app.url}gradio_api/file={store}", timeout=10)
    assert e.value.code in (403, 404)


# ------------------------------------------------------------------ hostile uploads


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _grid(rows: int = 2, cols: int = 2) -> Image.Image:
    return Image.fromarray(flat_grid(rows, cols, cell=(48, 36))[0])


def _hostile_files() -> dict[str, tuple[str, bytes, str]]:
    """name -> (file name, bytes, text expected in the error)."""
    good = _encode(_grid(), "PNG")
    return {
        "not an image": ("grid.png", b"this is not a picture\n" * 8, "grid.png is not an image Pillow can read"),
        "truncated": ("grid.png", good[: len(good) // 2], "grid.png is damaged or truncated"),
        "empty": ("grid.png", b"", "grid.png is empty (0 bytes)"),
        "1x1": ("grid.png", _encode(Image.new("RGB", (1, 1)), "PNG"), "grid.png is only 1x1 pixels"),
        "bomb": ("grid.png", png_bomb(60000, 60000), "grid.png claims to be 3600 megapixels, too large to open safely"),
    }


def _odd_files() -> dict[str, tuple[str, bytes, str]]:
    """name -> (file name, bytes, text expected in the summary): usable after conversion."""
    g = _grid()
    arr16 = np.asarray(g.convert("L")).astype(np.uint16) * 257
    frames = [g, g.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return {
        "16-bit": ("grid16.png", _encode(Image.fromarray(arr16), "PNG"), "4 frames"),
        "cmyk": ("grid.jpg", _encode(g.convert("CMYK"), "JPEG", quality=95), "4 frames"),
        "palette": ("gridp.png", _encode(g.convert("P"), "PNG", transparency=0), "4 frames"),
        "la": ("gridla.png", _encode(g.convert("LA"), "PNG"), "4 frames"),
        "animated gif": (
            "grid.gif",
            _encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
            "only its first frame is used",
        ),
        "animated webp": (
            "grid.webp",
            _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True),
            "only its first frame is used",
        ),
    }


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uploads")
    app = App(tmp, GRIDANIM_DATA_DIR=str(tmp / "data")).start()
    yield app
    app.stop()


def _animate(client: Client, path: Path) -> tuple:
    return client.predict(handle_file(str(path)), api_name="/animate")


@pytest.mark.parametrize("case", list(_hostile_files()))
def test_hostile_upload_gets_its_own_message_then_a_normal_call_works(case, upload_app, tmp_path):
    name, data, expected = _hostile_files()[case]
    (tmp_path / case).mkdir()
    bad = tmp_path / case / name
    bad.write_bytes(data)
    client = upload_app.visitor("203.0.113.9")
    with pytest.raises(AppError) as e:
        _animate(client, bad)
    assert expected in str(e.value)
    assert "upstream" not in str(e.value)
    good = tmp_path / "good.png"
    good.write_bytes(_encode(_grid(), "PNG"))
    gif, mp4, *_ = _animate(client, good)
    assert Image.open(gif).n_frames == 4


@pytest.mark.parametrize("case", list(_odd_files()))
def test_odd_upload_is_converted_and_animated(case, upload_app, tmp_path):
    name, data, expected = _odd_files()[case]
    path = tmp_path / name
    path.write_bytes(data)
    gif, mp4, files, summary, cut = _animate(upload_app.visitor("203.0.113.9"), path)
    assert expected in summary
    assert Image.open(gif).n_frames == 4


def test_a_huge_valid_upload_is_downscaled(upload_app, tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(smooth_png(9000, 9000))
    gif, mp4, files, summary, cut = _animate(upload_app.visitor("203.0.113.9"), path)
    assert "huge.png is 9000x9000: downscaled to 3000x3000 for processing" in summary
    assert upload_app.peak_rss_bytes() < int(1.5 * 2**30)


def test_eight_concurrent_visitors_all_get_their_animation(upload_app, tmp_path):
    path = tmp_path / "grid12.png"
    path.write_bytes(_encode(_grid(3, 4), "PNG"))
    results: list = []
    errors: list = []

    def visit(i: int) -> None:
        try:
            gif, *_ = _animate(upload_app.visitor(f"198.51.100.{i + 1}"), path)
            results.append(Image.open(gif).n_frames)
        except Exception as e:  # collected and shown below
            errors.append(repr(e))

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [] and results == [12] * 8
    assert upload_app.peak_rss_bytes() < int(1.5 * 2**30)


# ------------------------------------------------------------------ wiring


def test_paid_and_free_events_have_their_own_limits_and_the_app_is_capped():
    import app

    fns = {fn.api_name: fn for fn in app.demo.fns.values() if fn.api_name}
    gen, anim = fns["generate"], fns["animate"]
    assert gen.concurrency_id != anim.concurrency_id and gen.fn is not anim.fn
    assert gen.concurrency_limit and anim.concurrency_limit
    assert app.demo._queue.max_size
    opts = app.launch_options()
    assert opts["run_history"] is False and opts["max_file_size"]
    assert any(p.endswith("usage.sqlite3") for p in opts["blocked_paths"])


def test_history_handler_on_a_space_lists_only_the_visitors_own(monkeypatch, data_dir):
    from types import SimpleNamespace

    from gridanim.hosting import handlers
    from gridanim.hosting.policy import claim
    from gridanim.hosting.storage import save_generation

    monkeypatch.setenv("SPACE_ID", "friends/gridanim")
    png = _encode(_grid(), "PNG")

    def visitor(ip):
        return SimpleNamespace(
            headers={"x-forwarded-for": ip}, client=SimpleNamespace(host="10.0.0.1"), session_hash="s"
        )

    claim(save_generation(png, {"prompt": "alice"}), visitor("203.0.113.7"))
    claim(save_generation(png, {"prompt": "bob"}), visitor("198.51.100.4"))
    items, ids, note, *_ = handlers.history_list(visitor("203.0.113.7"))
    assert len(items) == len(ids) == 1 and "each visitor sees only their own" in note
    with pytest.raises(Exception, match="of yours"):
        handlers.history_open(handlers.history_list(visitor("198.51.100.4"))[1][0], visitor("203.0.113.7"))
