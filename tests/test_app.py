"""The app in-process, driven through its public API with gradio_client.

One server for the session (``app.demo.launch(prevent_thread_lock=True)``);
the app resolves the key, the OpenAI client and the data dir per request, so
each test's environment (the conftest's ``GRIDANIM_DATA_DIR``, the fake
OpenAI server's ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``) is what the app uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import TEST_KEY
from gradio_client.exceptions import AppError
from helpers import ANIMATE_DOWNLOADS, flat_grid, free_port
from PIL import Image

from gridanim import errors as E
from gridanim.hosting.storage import list_history


@pytest.fixture(scope="session")
def app_url():
    import app

    app.demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **app.launch_options()
    )
    try:
        yield app.demo.local_url
    finally:
        app.demo.close()


@pytest.fixture
def gc(app_url):
    from gradio_client import Client

    c = Client(app_url, verbose=False, analytics_enabled=False)
    yield c
    c.close()


def grid_file(tmp_path: Path, rows: int = 3, cols: int = 4, name: str = "grid.png") -> str:
    img, _ = flat_grid(rows, cols, cell=(48, 36))
    p = tmp_path / name
    Image.fromarray(img).save(p)
    return str(p)


def upload(path):
    from gradio_client import handle_file

    return handle_file(str(path))


def gif_frames(path: str) -> int:
    with Image.open(path) as im:
        assert im.format == "GIF"
        return im.n_frames


def is_mp4(path: str) -> bool:
    return Path(path).read_bytes()[4:8] == b"ftyp"


def video_path(value) -> str:
    """gradio_client gives a Video as a path (or a dict with ``video`` in some versions)."""
    return value["video"] if isinstance(value, dict) else value


# ------------------------------------------------------------------ /animate


def test_animate_returns_a_gif_with_every_frame_and_an_mp4(gc, tmp_path):
    gif, mp4, files, text, cut = gc.predict(upload(grid_file(tmp_path)), api_name="/animate")
    assert gif_frames(gif) == 12
    assert is_mp4(video_path(mp4))
    assert sorted(Path(f).name for f in files) == ANIMATE_DOWNLOADS
    assert "12 frames" in text and "GIF" in text and "KB" in text
    assert Image.open(cut).size[0] > 0


def test_animate_honours_manual_layout_order_and_timing(gc, tmp_path):
    gif, *_ = gc.predict(
        upload(grid_file(tmp_path, 2, 3)), rows="2", cols="3", fps=10, order="pingpong", api_name="/animate"
    )
    with Image.open(gif) as im:
        assert im.n_frames == 10  # 1 2 3 4 5 6 5 4 3 2: the ends are not repeated
        assert im.info["duration"] == 100


def test_animate_custom_order_and_dropped_frames(gc, tmp_path):
    gif, *_ = gc.predict(upload(grid_file(tmp_path)), order="custom", custom_order="1-4", api_name="/animate")
    assert gif_frames(gif) == 4
    gif, *_ = gc.predict(upload(grid_file(tmp_path)), drop="12", api_name="/animate")
    assert gif_frames(gif) == 11


def test_animate_refuses_a_file_that_is_not_an_image_with_the_package_message(gc, tmp_path):
    bad = tmp_path / "grid.png"
    bad.write_text("this is not a picture")
    with pytest.raises(AppError, match="not an image"):
        gc.predict(upload(bad), api_name="/animate")


def test_detect_draws_the_cut_and_names_the_layout(gc, tmp_path):
    cut, text = gc.predict(upload(grid_file(tmp_path, 2, 5)), api_name="/detect")
    assert "2 rows × 5 columns" in text and "10 frames" in text
    assert Image.open(cut).format == "PNG"


# ------------------------------------------------------------------ /generate


def test_generate_makes_one_request_and_returns_gif_mp4_and_cost(gc, openai_env, data_dir):
    gif, mp4, cost, cut, frames, files, status = gc.predict("a cat chasing its tail", api_name="/generate")
    assert len(openai_env.requests) == 1
    [req] = openai_env.image_requests
    assert req.path == "/v1/images/generations"
    assert req.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert gif_frames(gif) == 12  # the default 3 x 4 plan
    assert is_mp4(video_path(mp4))
    assert "$" in cost and "Session total" in cost
    assert len(frames) == 12
    names = {Path(f).name for f in files}
    assert {"animation.gif", "animation.mp4", "animation.webp", "frames.zip", "grid_cut.png"} <= names
    assert "Done" in status
    [record] = list_history(data_dir)
    assert record.meta["cost"]["actual_usd"] > 0
    assert f"{record.meta['cost']['actual_usd']:.4f}" in cost


def test_generate_streams_partial_images_with_an_elapsed_status(gc, openai_env):
    job = gc.submit("a cat chasing its tail", partial_images=2, api_name="/generate")
    outputs = list(job)
    job.result()
    statuses = [o[6] for o in outputs if isinstance(o[6], str)]
    assert any("preview 1 of 2" in s for s in statuses), statuses
    assert any(" s" in s and "Done" in s for s in statuses)
    assert openai_env.image_requests[0].param("partial_images") in (2, "2")
    assert len(openai_env.requests) == 1


def test_session_total_adds_up_per_visitor_not_globally(app_url, gc, openai_env):
    from gradio_client import Client

    gc.predict("a ball bouncing", api_name="/generate")
    _, _, second, *_ = gc.predict("a ball bouncing", api_name="/generate")
    assert "(2 images)" in second
    other = Client(app_url, verbose=False, analytics_enabled=False)
    try:
        _, _, first, *_ = other.predict("a ball bouncing", api_name="/generate")
    finally:
        other.close()
    assert "(1 image)" in first
    assert len(openai_env.requests) == 3


def test_visitor_key_is_used_for_that_request_only(gc, fake_openai, monkeypatch, data_dir):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)  # and no OPENAI_API_KEY
    visitor = "sk-visitor-abcdefghijklmnop0123"
    gc.predict("a cat chasing its tail", api_key=visitor, api_name="/generate")
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {visitor}"
    assert "OPENAI_API_KEY" not in os.environ
    for f in data_dir.iterdir():
        assert visitor not in f.read_bytes().decode("latin-1")
    with pytest.raises(AppError, match="No OpenAI key"):  # the key was not kept for the next call
        gc.predict("a cat chasing its tail", api_name="/generate")
    assert len(fake_openai.requests) == 1


def test_generate_without_any_key_explains_how_to_add_one_and_sends_nothing(gc, fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    with pytest.raises(AppError) as info:
        gc.predict("a cat chasing its tail", api_name="/generate")
    msg = str(info.value)
    assert "OPENAI_API_KEY" in msg and "paste your own key" in msg and "Space" in msg
    assert fake_openai.requests == []


def test_openai_errors_reach_the_user_as_the_package_message(gc, openai_env):
    openai_env.enqueue_error("moderation_blocked")
    with pytest.raises(AppError, match="safety system blocked"):
        gc.predict("a cat chasing its tail", partial_images=0, api_name="/generate")


def test_the_hosting_guard_runs_before_any_request(gc, openai_env, monkeypatch):
    import gridanim.hosting.policy

    seen = []

    def refuse(request, estimate_usd, using_own_key):
        seen.append((request is not None, float(estimate_usd), using_own_key))
        raise E.LimitError("free limit reached: paste your own OpenAI key to continue")

    monkeypatch.setattr(gridanim.hosting.policy, "check_generation_allowed", refuse)
    with pytest.raises(AppError, match="free limit reached"):
        gc.predict("a cat chasing its tail", api_name="/generate")
    assert openai_env.requests == []
    assert seen and seen[0][0] is True and seen[0][1] > 0 and seen[0][2] is False


def test_bad_settings_are_refused_before_any_request(gc, openai_env):
    with pytest.raises(AppError, match="shape"):
        gc.predict("a cat", shape="hexagon", api_name="/generate")
    assert openai_env.requests == []


# ------------------------------------------------------------------ /estimate


def test_estimate_needs_no_key_and_follows_the_settings(gc):
    small = gc.predict("a cat", rows=2, cols=2, api_name="/estimate")
    big = gc.predict("a cat", rows=4, cols=4, api_name="/estimate")
    assert "$" in small and "per frame" in small
    assert "4 frames" in small and "16 frames" in big
    assert small != big


def test_estimate_shows_a_problem_instead_of_failing(gc):
    text = gc.predict("a cat", shape="hexagon", api_name="/estimate")
    assert text.startswith("Cannot estimate") and "unknown frame shape" in text


def test_a_reference_photo_goes_to_images_edit(gc, openai_env, tmp_path):
    photo = tmp_path / "me.jpg"
    Image.new("RGB", (600, 400), (200, 120, 40)).save(photo)
    gif, mp4, cost, *_ = gc.predict(
        "she waves hello", rows=2, cols=2, reference=upload(photo), partial_images=0, api_name="/generate"
    )
    [req] = openai_env.requests
    assert req.path == "/v1/images/edits"
    assert [u.filename for ups in req.files.values() for u in ups] == ["me.jpg"]
    assert gif_frames(gif) == 4 and "$" in cost
