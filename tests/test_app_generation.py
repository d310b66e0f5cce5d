"""The app's GIF route, re-draw and per-visitor isolation, through gradio_client against the fake server."""

from __future__ import annotations

import httpx2 as httpx
import pytest
from gradio_client.exceptions import AppError
from helpers import free_port
from PIL import Image

from gridanim.hosting.storage import list_history


@pytest.fixture(scope="module")
def app_url():
    import app

    app.demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **app.launch_options()
    )
    try:
        yield app.demo.local_url
    finally:
        app.demo.close()


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False)


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("GRIDANIM_PRIVATE_HISTORY", "1")  # a shared app: each visitor sees only their own


def test_gif_route_in_the_app(app_url, openai_env, data_dir):
    gc = client(app_url)
    try:
        gif, mp4, cost, cut, frames, files, status = gc.predict(
            "a cat chasing its tail",
            model="gpt-image-2.6-flare",
            quality="low",
            route="gif",
            gif_frames=5,
            api_name="/generate",
        )
    finally:
        gc.close()
    [req] = openai_env.image_requests
    assert (req.json["output_format"], req.json["frame_count"]) == ("gif", 5)
    assert Image.open(gif).n_frames == 5 and len(frames) == 5 and "$" in cost
    assert list_history(data_dir)[0].meta["route"] == "gif"


def test_estimate_shows_both_routes_side_by_side(app_url):
    gc = client(app_url)
    try:
        text = gc.predict("a cat", model="gpt-image-2.6-flare", route="gif", api_name="/estimate")
        plain = gc.predict("a cat", model="gpt-image-2", api_name="/estimate")
    finally:
        gc.close()
    assert "Grid (one sheet" in text and "Native GIF" in text and "animated GIF of 9 frames" in text
    assert "not available" in plain and "no GIF output" in plain


def test_no_gif_access_is_a_specific_error(app_url, openai_env):
    openai_env.gif_enabled = False
    gc = client(app_url)
    try:
        with pytest.raises(AppError, match="refused GIF output.*grid route"):
            gc.predict("a cat", model="gpt-image-2.6-flare", route="gif", api_name="/generate")
    finally:
        gc.close()
    assert len(openai_env.image_requests) == 1


def test_visitors_cannot_list_fetch_or_redraw_each_others_grids(app_url, openai_env, data_dir, shared):
    alice, bob = client(app_url), client(app_url)
    try:
        alice.predict("alice's cat", rows=2, cols=3, model="gpt-image-2", quality="low", api_name="/generate")
        [mine] = alice.predict(api_name="/history")
        assert mine["prompt"] == "alice's cat" and len(mine["id"].split("-")[-1]) == 32
        assert bob.predict(api_name="/history") == []
        with pytest.raises(AppError, match="of yours"):
            bob.predict(mine["id"], "2", "", api_name="/redraw")
        assert len(openai_env.image_requests) == 1  # bob's re-draw sent nothing
        grid = next(r for r in list_history(data_dir) if r.id == mine["id"]).png_path
        r = httpx.get(f"{app_url}gradio_api/file={grid}")
        assert r.status_code in (403, 404)  # the data dir is never served
        gif, mp4, text, new_id = alice.predict(mine["id"], "2,5", "the tail curls", api_name="/redraw")
        assert "Re-drew frame(s) 2, 5" in text and Image.open(gif).n_frames == 6
        ids = {row["id"]: row for row in alice.predict(api_name="/history")}
        assert set(ids) == {mine["id"], new_id} and ids[new_id]["parent"] == mine["id"]
        assert bob.predict(api_name="/history") == []
    finally:
        alice.close()
        bob.close()


def test_stylise_first_keep_the_still_then_animate_it(app_url, openai_env, data_dir, tmp_path):
    from gradio_client import handle_file

    photo = tmp_path / "me.png"
    Image.new("RGB", (300, 400), (200, 150, 120)).save(photo)
    gc = client(app_url)
    try:
        still, cost = gc.predict(
            "she waves", "ghibli", "gpt-image-2", "low", handle_file(str(photo)), api_name="/stylise"
        )
        assert Image.open(still).size and "$" in cost
        gif, mp4, cost, *_ = gc.predict(
            "she waves",
            style="ghibli",
            rows=2,
            cols=2,
            model="gpt-image-2",
            quality="low",
            reference=handle_file(str(photo)),
            stylise_first=True,
            api_name="/generate",
        )
    finally:
        gc.close()
    first, second = openai_env.image_requests  # the kept still is reused: no second stylise call
    [kept] = [r for r in list_history(data_dir) if r.meta.get("kind") == "still"]  # kept in this session's state
    assert second.files["image"][0].data == kept.png_path.read_bytes()
    assert "Steps:" not in cost or "stylise" not in cost  # one call in this click; the still was paid before
