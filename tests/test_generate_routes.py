"""The November API in the CLI: GIF route, transparent sprites, redraw, stylise first (against the fake server)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from conftest import TEST_KEY
from fake_openai import cell_boxes, mask_problem
from helpers import usage_price as price
from PIL import Image

from gridanim.cli import main
from gridanim.hosting.storage import list_history

GIF26 = ["--route", "gif", "--model", "gpt-image-2.6-flare", "--quality", "low"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    d = tmp_path / "work"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def no_key_on_disk(*folders: Path):
    for folder in folders:
        for f in folder.rglob("*"):
            if f.is_file():
                assert TEST_KEY.encode() not in f.read_bytes(), f


def mp4_frames(path: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


# ------------------------------------------------------------------ GIF route


def test_gif_route_one_request_decoded_into_the_pipeline(openai_env, capsys, workdir, data_dir):
    code, out, err = run(
        capsys,
        "generate",
        "a cat chasing its tail",
        *GIF26,
        "--frames",
        "6",
        "--fps",
        "10",
        "--mp4",
        "out.mp4",
        "--webp",
        "out.webp",
        "--json",
    )
    assert code == 0, err
    [req] = openai_env.requests
    body = req.json
    assert (body["output_format"], body["frame_count"], body["frame_duration_ms"]) == ("gif", 6, 100)
    assert "stream" not in body and "partial_images" not in body
    d = json.loads(out)
    assert d["route"] == "gif" and d["gif"]["frames"] == 6 and d["animation"]["frames"] == 6
    assert d["layout"]["frames"] == 6 and d["outputs"] == {"mp4": "out.mp4", "webp": "out.webp"}
    assert Decimal(str(d["cost"]["actual_usd"])) == price(d["cost"]["usage"], "gpt-image-2.6-flare").quantize(
        Decimal("0.000001")
    )
    assert mp4_frames(workdir / "out.mp4") >= 6  # it plays
    assert Image.open(workdir / "out.webp").n_frames == 6
    for key in ("rows", "cols", "frames", "frame_size", "boxes"):
        assert key in d["layout"]
    no_key_on_disk(data_dir, workdir)


def test_gif_route_frames_are_the_gifs_frames_in_order(openai_env, capsys, workdir, data_dir):
    code, out, err = run(capsys, "generate", "a cat", *GIF26, "--frames", "4", "--json")
    assert code == 0, err
    d = json.loads(out)
    sheet = np.asarray(Image.open(d["grid"]).convert("RGB"))
    boxes = d["layout"]["boxes"]
    crops = [sheet[y : y + h, x : x + w] for x, y, w, h in boxes]
    assert all(c.shape == crops[0].shape for c in crops)
    assert len({c.tobytes() for c in crops}) == 4  # four different poses, not one frame repeated


def test_gif_size_over_the_limit_is_refused_before_any_request(openai_env, capsys, workdir):
    code, out, err = run(capsys, "generate", "a cat", *GIF26, "--frames", "12", "--size", "960x960")
    assert code == 2 and openai_env.requests == []
    assert err.count("\n") == 1 and "816 px" in err and "12 frames" in err


def test_no_gif_access_is_one_line_naming_the_grid_route_and_no_retry(openai_env, capsys, workdir):
    openai_env.gif_enabled = False
    code, out, err = run(capsys, "generate", "a cat", *GIF26)
    assert code == 2 and len(openai_env.requests) == 1
    assert err.startswith("error: ") and err.count("\n") == 1 and "--route grid" in err
    assert TEST_KEY not in err


def test_a_model_without_gif_is_refused_before_any_request(openai_env, capsys, workdir):
    code, out, err = run(capsys, "generate", "a cat", "--route", "gif", "--model", "gpt-image-2")
    assert code == 2 and openai_env.requests == [] and "--route grid" in err


def test_estimate_shows_both_routes(capsys, workdir):
    code, out, err = run(capsys, "generate", "a cat", "--model", "gpt-image-2.6-flare", "--estimate", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["route"] == "grid" and set(d["routes"]) == {"grid", "gif"}
    assert all(r["cost"]["estimated_usd"] > 0 for r in d["routes"].values())
    code, out, err = run(capsys, "generate", "a cat", "--model", "gpt-image-2", "--estimate", "--json")
    assert "no GIF output" in json.loads(out)["routes"]["gif"]["unavailable"]


# ------------------------------------------------------------------ redraw


def _generate_3x4(capsys) -> dict:
    code, out, err = run(
        capsys,
        "generate",
        "a cat chasing its tail",
        "--rows",
        "3",
        "--cols",
        "4",
        "--model",
        "gpt-image-2",
        "--quality",
        "low",
        "--json",
    )
    assert code == 0, err
    return json.loads(out)


def test_redraw_frames_3_and_7_keeps_the_other_ten_pixel_identical(openai_env, capsys, workdir, data_dir):
    first = _generate_3x4(capsys)
    code, out, err = run(
        capsys,
        "redraw",
        first["id"],
        "--frames",
        "3,7",
        "--prompt",
        "the tail curls up",
        "--gif",
        "fixed.gif",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["parent"] == first["id"] and d["redrawn"] == [3, 7] and d["id"] != first["id"]
    assert d["outputs"] == {"gif": "fixed.gif"} and Image.open(workdir / "fixed.gif").n_frames == 12
    assert d["cost"]["actual_usd"] > 0 and "estimated_usd" in d["cost"]
    edit = openai_env.requests[-1]
    assert edit.path == "/v1/images/edits" and len(openai_env.requests) == 2
    grid = Image.open(first["grid"])
    mask = edit.files["mask"][0].data
    assert mask_problem(mask, grid.size, 3, 4, [3, 7]) is None  # alpha 0 exactly over cells 3 and 7
    assert mask_problem(mask, grid.size, 3, 4, [3]) is not None
    assert re.search(r"Re-draw only panels 3, 7", edit.param("prompt")) and "the tail curls up" in edit.param("prompt")
    old = np.asarray(grid.convert("RGB"))
    new = np.asarray(Image.open(d["grid"]).convert("RGB"))
    for i, (x0, y0, x1, y1) in enumerate(cell_boxes(*grid.size, 3, 4), start=1):
        same = np.array_equal(old[y0:y1, x0:x1], new[y0:y1, x0:x1])
        assert same == (i not in (3, 7)), i
    history = {r.id: r for r in list_history()}
    assert set(history) == {first["id"], d["id"]}
    assert history[d["id"]].meta["parent"] == first["id"] and history[d["id"]].meta["redrawn"] == [3, 7]
    assert all(r.meta["cost"]["actual_usd"] > 0 for r in history.values())
    no_key_on_disk(data_dir, workdir)


def test_redraw_refuses_bad_frames_before_any_request(openai_env, capsys, workdir):
    first = _generate_3x4(capsys)
    code, out, err = run(capsys, "redraw", first["id"], "--frames", "13")
    assert code == 2 and "out of range" in err and len(openai_env.requests) == 1
    code, out, err = run(capsys, "redraw", "20261121-153012-" + "0" * 32, "--frames", "1")
    assert code == 2 and "no saved generation" in err


def test_ids_carry_128_random_bits(openai_env, capsys, workdir):
    ids = {_generate_3x4(capsys)["id"] for _ in range(2)}
    assert len(ids) == 2
    for i in ids:
        assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{32}", i)


# ------------------------------------------------------------------ transparency


def assert_sprite_alpha(d: dict) -> None:
    """Every frame: clear where the fake drew background (a panel corner), opaque on the body (its centre)."""
    alpha = np.asarray(Image.open(d["grid"]).convert("RGBA").getchannel("A"))
    for x, y, w, h in d["layout"]["boxes"]:
        assert alpha[y + 3, x + 3] == 0 and alpha[y + h - 4, x + w - 4] == 0, (x, y)
        assert alpha[y + h // 2, x + w // 2] == 255, (x, y)


def assert_output_alpha(path: str) -> None:
    """Every decoded frame of an animation file is clear somewhere and opaque somewhere (real alpha, not flattened)."""
    from PIL import ImageSequence

    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGBA"))[..., 3] for f in ImageSequence.Iterator(im)]
    assert frames
    for a in frames:
        assert a.min() == 0 and a.max() == 255, path


def test_sprite_preset_asks_for_a_transparent_png_where_the_model_offers_it(openai_env, capsys, workdir):
    code, out, err = run(
        capsys,
        "generate",
        "a knight walking",
        "--style",
        "game-sprite",
        "--model",
        "gpt-image-2.6-flare",
        "--quality",
        "low",
        "--webp",
        "k.webp",
        "--json",
    )
    assert code == 0, err
    [req] = openai_env.requests
    assert req.json["background"] == "transparent" and req.json["output_format"] == "png"
    d = json.loads(out)
    assert d["layout"]["frames"] == 8
    assert_sprite_alpha(d)  # real alpha: clear background, opaque knight
    assert_output_alpha("k.webp")  # and the animation keeps it


def test_without_model_transparency_a_key_colour_is_keyed_out_here(openai_env, capsys, workdir):
    code, out, err = run(
        capsys,
        "generate",
        "a knight walking",
        "--style",
        "game-sprite",
        "--model",
        "gpt-image-2",
        "--quality",
        "low",
        "--gif",
        "k.gif",
        "--webp",
        "k.webp",
        "--json",
    )
    assert code == 0, err
    [req] = openai_env.requests
    assert "background" not in req.json and "#FF00FF" in req.json["prompt"]
    d = json.loads(out)
    assert d["layout"]["frames"] == 8
    assert_sprite_alpha(d)  # the flat magenta the fake drew is transparent now, the knight is not
    assert_output_alpha("k.gif")  # 1-bit alpha in the GIF
    assert_output_alpha("k.webp")  # 8-bit alpha in the WebP
    assert any("key colour" in w for w in d["warnings"])
    meta = json.loads(Path(d["sidecar"]).read_text())
    assert meta["keyed"]["colour"] == [255, 0, 255] and meta["keyed"]["transparent_px"] > 0


def test_a_transparency_refusal_is_one_line_and_no_retry(openai_env, capsys, workdir):
    openai_env.no_transparency = {"gpt-image-2.5-flare"}
    code, out, err = run(
        capsys, "generate", "a knight", "--style", "pixel-art", "--model", "gpt-image-2.5-flare", "--quality", "low"
    )
    assert code == 2 and len(openai_env.requests) == 1 and err.count("\n") == 1
    assert "transparent background" in err


# ------------------------------------------------------------------ stylise first


def test_stylise_first_makes_two_requests_the_second_with_the_still(openai_env, capsys, workdir, data_dir):
    Image.new("RGB", (300, 400), (200, 150, 120)).save(workdir / "me.png")
    code, out, err = run(
        capsys,
        "generate",
        "she waves hello",
        "--image",
        "me.png",
        "--stylise-first",
        "--style",
        "ghibli",
        "--rows",
        "2",
        "--cols",
        "2",
        "--model",
        "gpt-image-2",
        "--quality",
        "low",
        "--gif",
        "w.gif",
        "--json",
    )
    assert code == 0, err
    first, second = openai_env.requests
    assert first.path == second.path == "/v1/images/edits"
    d = json.loads(out)
    [still_rec] = [r for r in list_history() if r.meta.get("kind") == "still"]
    assert second.files["image"][0].data == still_rec.png_path.read_bytes()  # the approved still, as saved
    assert first.files["image"][0].data == (workdir / "me.png").read_bytes()
    steps = d["steps"]
    assert [s["step"] for s in steps] == ["stylise", "generate"] and all(s["actual_usd"] > 0 for s in steps)
    assert d["total_usd"] == pytest.approx(sum(s["actual_usd"] for s in steps), abs=2e-6)
    assert d["route"] == "grid" and d["outputs"] == {"gif": "w.gif"}
    assert still_rec.json_path.exists() and Path(d["sidecar"]).exists()


def test_stylise_first_needs_a_photo(capsys, workdir):
    code, out, err = run(capsys, "generate", "she waves", "--stylise-first", "--estimate")
    assert code == 2 and "--image" in err
