"""The app's handlers (gridanim.hosting.handlers) and form helpers called directly (no server)."""

from __future__ import annotations

import pytest

import app
from gridanim.hosting import animate_view, webform
from gridanim.hosting import handlers as h


def test_choosing_a_preset_shows_its_description_and_adopts_its_grid():
    p = h.PRESETS.get("ghibli")
    text, sample, rows, cols, shape, fps, transparent = h.style_changed("ghibli")
    assert p.name in text and p.description in text
    assert (rows, cols, shape, fps, transparent) == (p.rows, p.cols, p.shape, p.fps, False)
    assert sample["visible"] is (webform.preset_sample(p) is not None)
    assert h.style_changed("game-sprite")[-1] is True  # sprite presets turn transparency on


def test_no_preset_leaves_the_grid_alone():
    text, sample, *rest = h.style_changed("")
    assert "Plain prompt" in text and sample["visible"] is False
    assert (
        rest == [{"__type__": "update"}] * 5
    )  # gr.skip(): rows, cols, shape, fps, transparency keep what the user set


def test_every_shipped_preset_is_offered_with_its_name():
    values = [v for _, v in webform.style_choices(h.PRESETS)]
    assert values[0] == "" and sorted(values[1:]) == h.PRESETS.names()


def test_changing_the_model_offers_its_qualities():
    upd, route, frames = h.model_changed(h.MODELS[0])
    assert "auto" in [c[0] if isinstance(c, tuple) else c for c in upd["choices"]]
    assert upd["value"] == h.CATALOG.default_quality
    assert h.model_changed("gpt-image-2.6-flare")[1]["visible"] is True  # lists GIF output
    assert h.model_changed("gpt-image-2")[1]["visible"] is False


def test_key_hint_follows_the_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert h.key_hint().startswith("No server key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-0123456789abcdefgh")
    assert h.key_hint().startswith("A server key is set")


@pytest.mark.parametrize(
    "value, expected", [("auto", None), ("", None), (None, None), (0, None), ("4", 4), (3, 3), (2.0, 2)]
)
def test_rows_and_cols_values(value, expected):
    assert animate_view.count(value) == expected


def test_file_values_from_the_browser_or_the_client():
    assert webform.file_path("/tmp/x.png") == "/tmp/x.png"
    assert webform.file_path({"path": "/tmp/y.png", "meta": {}}) == "/tmp/y.png"
    assert webform.file_path(None) is None and webform.file_path("") is None


def test_estimate_of_an_empty_prompt_still_prices_the_grid():
    text = h.estimate("", "", 2, 2, "square", h.MODELS[0], "low", 8, 0, None, False)
    assert "$" in text and "4 frames" in text


def test_examples_exist_and_the_hinted_one_is_there():
    rows = animate_view.examples(app.EXAMPLES_DIR)
    names = {r[0].rsplit("/", 1)[-1]: (r[1], r[2]) for r in rows}
    assert len(rows) >= 5
    assert names["photo_muybridge_horse_4x4_numbered.jpg"] == ("4", "4")
    assert names["bouncing_ball_3x4.png"] == ("auto", "auto")


def test_launch_options_keep_keys_out_of_the_browser_and_serve_only_our_paths():
    opts = app.launch_options()
    assert opts["run_history"] is False
    assert str(app.EXAMPLES_DIR) in opts["allowed_paths"]
    assert "server_name" not in opts and "server_port" not in opts  # env / flags decide
