"""`python -m gridanim generate` / `presets` end to end, against the fake server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import TEST_KEY
from fake_openai import ERRORS
from helpers import usage_price as price
from PIL import Image

from gridanim.cli import main
from gridanim.generation.models import check_model
from gridanim.hosting.storage import list_history

REPO = Path(__file__).resolve().parent.parent
CAT = [
    "generate",
    "a cat chasing its tail",
    "--style",
    "ghibli",
    "--rows",
    "3",
    "--cols",
    "4",
    "--model",
    "gpt-image-2",
    "--quality",
    "medium",
]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_key_on_disk(*folders: Path):
    for folder in folders:
        for f in folder.rglob("*"):
            if f.is_file():
                assert TEST_KEY.encode() not in f.read_bytes(), f


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    d = tmp_path / "work"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def test_acceptance_generate_to_gif_and_mp4(openai_env, capsys, workdir, data_dir):
    code, out, err = run(capsys, *CAT, "--gif", "out.gif", "--mp4", "out.mp4", "--json")
    assert code == 0, err
    assert err == ""
    d = json.loads(out)
    [req] = openai_env.requests
    body = req.json
    assert body["model"] == "gpt-image-2" and body["quality"] == "medium"
    w, h = (int(v) for v in body["size"].split("x"))
    assert check_model("gpt-image-2", dt.date(2026, 11, 21))[0].sizes.problem(w, h) is None
    assert body["prompt"] == d["prompt"]
    for must in ("a cat chasing its tail", "3 rows", "4 columns", "Studio Ghibli"):
        assert must in d["prompt"]
    assert (d["model"], d["size"], d["quality"]) == ("gpt-image-2", body["size"], "medium")

    cost = d["cost"]
    exact = price(cost["usage"], "gpt-image-2")
    assert Decimal(str(cost["actual_usd"])) == exact.quantize(Decimal("0.000001"))
    assert abs(cost["estimated_usd"] - cost["actual_usd"]) <= 0.2 * cost["actual_usd"]

    assert Image.open(workdir / "out.gif").n_frames == 12
    assert (workdir / "out.mp4").stat().st_size > 0
    assert d["outputs"] == {"gif": "out.gif", "mp4": "out.mp4"}
    lay = d["layout"]
    assert (lay["rows"], lay["cols"], lay["frames"]) == (3, 4, 12)
    assert len(lay["boxes"]) == 12 and len(lay["frame_size"]) == 2 and isinstance(lay["warnings"], list)
    assert isinstance(d["warnings"], list)

    grid = Path(d["grid"])
    assert grid.parent == data_dir and grid.exists() and grid.with_suffix(".json").exists()
    meta = json.loads(grid.with_suffix(".json").read_text())
    assert meta["outputs"] == {"gif": "out.gif", "mp4": "out.mp4"} and meta["cost"]["actual_usd"] == cost["actual_usd"]
    assert_no_key_on_disk(data_dir, workdir)


def test_summary_output_names_cost_layout_and_files(openai_env, capsys, workdir):
    code, out, err = run(capsys, *CAT, "--gif", "out.gif")
    assert code == 0 and err == ""
    assert out.index("estimate: $0.0482") < out.index(
        "cost: $0.048035"
    )  # the quote is printed before the call and "3 rows x 4 columns, 12 frames" in out and "wrote out.gif" in out


def test_photo_goes_through_edit_and_its_tokens_are_priced(openai_env, capsys, workdir):
    Image.new("RGB", (640, 480), "orange").save(workdir / "me.png")
    code, out, err = run(
        capsys,
        "generate",
        "she waves",
        "--image",
        "me.png",
        "--rows",
        "2",
        "--cols",
        "2",
        "--model",
        "gpt-image-2",
        "--quality",
        "low",
        "--json",
    )
    assert code == 0, err
    [req] = openai_env.requests
    assert req.path == "/v1/images/edits" and [u.filename for u in req.files["image"]] == ["me.png"]
    cost = json.loads(out)["cost"]
    assert cost["usage"]["input_image_tokens"] == cost["estimated_tokens"]["input_image_tokens"] > 0
    assert Decimal(str(cost["actual_usd"])) == price(cost["usage"], "gpt-image-2").quantize(Decimal("0.000001"))


def test_photo_with_layout_guide_sends_image_array(openai_env, capsys, workdir):
    Image.new("RGB", (640, 480), "orange").save(workdir / "me.png")
    code, _, err = run(
        capsys, "generate", "she waves", "--image", "me.png", "--layout-guide", "--rows", "2", "--cols", "2"
    )
    assert code == 0, err
    assert [u.filename for u in openai_env.requests[0].files["image[]"]] == ["me.png", "layout-guide.png"]


def test_estimate_sends_nothing_and_needs_no_key(fake_openai, capsys, monkeypatch, data_dir):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    code, out, err = run(capsys, *CAT, "--estimate", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["estimate_only"] and d["cost"]["estimated_usd"] > 0 and d["size"] == "1472x1104"
    assert fake_openai.requests == [] and not data_dir.exists()
    code, out, _ = run(capsys, *CAT, "--estimate")
    assert code == 0 and "no request sent" in out


def test_missing_key_sends_nothing(fake_openai, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    code, out, err = run(capsys, *CAT, "--json")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: No OpenAI key found: set OPENAI_API_KEY (export OPENAI_API_KEY=sk-...) or paste your own key in the app"
    ]
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    "model, text",
    [("gpt-image-1", "shut down by OpenAI on 2026-10-23: use gpt-image-2.5-sunburst"), ("dall-e-3", "shut down")],
)
def test_shut_down_model_sends_nothing(openai_env, capsys, model, text):
    code, out, err = run(capsys, "generate", "a cat", "--model", model)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ") and text in err
    assert openai_env.requests == []


@pytest.mark.parametrize(
    "name, text",
    [
        ("moderation_blocked", "safety system blocked"),
        ("invalid_api_key", "rejected the API key"),
        ("insufficient_quota", "out of credit"),
        ("invalid_size", "rejected the size"),
        ("server_error", "server error"),
    ],
)
def test_api_errors_are_one_line(openai_env, capsys, name, text):
    for _ in range(2):
        openai_env.enqueue(*ERRORS[name])
    code, out, err = run(capsys, *CAT, "--json")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and text in err
    assert "Traceback" not in err and TEST_KEY not in err
    assert list_history() == []


def test_429_then_success_is_retried_once(openai_env, capsys, workdir):
    openai_env.enqueue_error("rate_limit_exceeded")
    code, out, err = run(capsys, *CAT, "--json")
    assert code == 0, err
    assert len(openai_env.requests) == 2 and json.loads(out)["layout"]["frames"] == 12


def test_streaming_reports_progress(openai_env, capsys, workdir):
    code, out, _ = run(capsys, "generate", "a cat", "--rows", "2", "--cols", "2", "--partial-images", "2")
    assert code == 0
    assert "partial image 1 of 2 received" in out and "partial image 2 of 2 received" in out
    assert openai_env.requests[0].json["partial_images"] == 2


def test_animation_failure_after_saving_names_the_grid(openai_env, capsys, workdir):
    (workdir / "taken").mkdir()
    code, _, err = run(capsys, *CAT, "--gif", "taken")
    [rec] = list_history()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"the grid was saved to {rec.png_path}, but making the animation failed" in err


def test_bad_arguments_are_one_line(capsys):
    code, _, err = run(capsys, "generate", "a cat", "--rows", "x")
    assert code == 2 and len(err.splitlines()) == 1 and "--rows" in err
    code, _, err = run(capsys, "generate", "a cat", "--style", "cubism", "--estimate")
    assert code == 2 and "unknown style 'cubism'" in err


def test_presets_lists_the_styles(capsys):
    code, out, _ = run(capsys, "presets")
    assert code == 0
    for name in ("ghibli", "claymation", "van-gogh", "watercolour", "pixel-art", "ukiyo-e"):
        assert any(line.startswith(name) for line in out.splitlines()), name
    code, out, _ = run(capsys, "presets", "--json")
    d = json.loads(out)
    assert {p["id"] for p in d["presets"]} >= {"ghibli", "claymation", "van-gogh"} and d["warnings"] == []


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "generate" in out and "presets" in out


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def test_the_real_command_line(fake_openai, tmp_path, data_dir):
    env = _env(OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY=TEST_KEY)
    proc = subprocess.run(
        [sys.executable, "-m", "gridanim", *CAT, "--gif", "out.gif", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    d = json.loads(proc.stdout)
    assert d["layout"]["frames"] == 12 and Image.open(tmp_path / "out.gif").n_frames == 12
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert_no_key_on_disk(data_dir, tmp_path)


def test_openai_is_not_imported_for_detect_or_animate():
    code = "import sys, gridanim.cli as c; c.build_parser(); print('openai' in sys.modules, 'gridanim.generation.generate' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["False", "False"], proc.stderr
