"""``python -m gridanim`` as a user (and external checks) run it: real processes, real files."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
from helpers import decode_mp4, flat_grid, gif_info, png_bomb, png_bytes, probe, run_cli, tile_color


@pytest.fixture(scope="module")
def grid_png(tmp_path_factory):
    img, _ = flat_grid(3, 4, cell=(64, 48), gutter=6, border=8)
    p = tmp_path_factory.mktemp("grid") / "grid.png"
    p.write_bytes(png_bytes(img))
    return p


def _json(r):
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    return json.loads(r.stdout)  # the whole of stdout is one JSON object


def test_detect_json(grid_png):
    r = run_cli("detect", grid_png, "--rows", "3", "--cols", "4", "--json")
    d = _json(r)
    assert d["rows"] == 3 and d["cols"] == 4 and d["frames"] == 12
    assert len(d["boxes"]) == 12 and all(len(b) == 4 for b in d["boxes"])
    assert d["frame_size"] == [min(b[2] for b in d["boxes"]), min(b[3] for b in d["boxes"])]
    assert d["outputs"] == {} and isinstance(d["warnings"], list)
    ys = [b[1] for b in d["boxes"]]
    assert ys == sorted(ys)  # row-major


def test_detect_human_summary(grid_png):
    r = run_cli("detect", grid_png, "--rows", "3", "--cols", "4")
    assert r.returncode == 0
    assert "3 rows x 4 columns, 12 frames" in r.stdout
    assert r.stdout.count("frame ") >= 12


def test_animate_json_writes_every_output(grid_png, tmp_path):
    out = {f: tmp_path / f"out.{f}" for f in ("gif", "mp4", "webp", "zip")}
    r = run_cli(
        "animate", grid_png, "--rows", "3", "--cols", "4", "--fps", "8",
        "--gif", out["gif"], "--mp4", out["mp4"], "--webp", out["webp"], "--zip", out["zip"],
        "--mp4-repeat", "2", "--json",
    )  # fmt: skip
    d = _json(r)
    assert r.stderr == ""
    assert d["rows"] == 3 and d["cols"] == 4 and d["frames"] == 12 and len(d["boxes"]) == 12
    assert d["outputs"] == {f: str(p) for f, p in out.items()}
    for f, p in out.items():
        assert p.stat().st_size == d["bytes"][f]
    assert d["effective_fps"] == pytest.approx(8.0)
    assert len(d["durations_ms"]) == 12 and sum(d["durations_ms"]) == 1500
    assert d["jitter_before_px"] is None and isinstance(d["warnings"], list)

    gif = gif_info(out["gif"].read_bytes())
    assert len(gif["frames"]) == 12 and gif["loop"] == 0
    assert gif["durations"] == d["durations_ms"]
    assert list(gif["size"]) == d["output_size"] == d["frame_size"]
    for k, f in enumerate(gif["frames"]):  # each frame is its own tile: no gutter, no neighbour
        assert np.abs(f.reshape(-1, 3).mean(0) - tile_color(k)).max() < 3, f"frame {k + 1}"

    info = probe(out["mp4"])
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert all(v % 2 == 0 for v in info["size"])
    assert len(decode_mp4(out["mp4"])) == 12 * 2
    names = zipfile.ZipFile(out["zip"]).namelist()
    assert names[0] == "frame_001.png" and len(names) == 12


def test_animate_order_and_extras(grid_png, tmp_path):
    gif = tmp_path / "sub" / "p.gif"  # missing folders are created
    d = _json(
        run_cli(
            "animate", grid_png, "--rows", "3", "--cols", "4", "--order", "pingpong", "--drop", "5-12",
            "--frame-ms", "90", "--inset", "2", "--stabilize", "--max-size", "40", "--gif", gif, "--json",
        )
    )  # fmt: skip
    assert d["sequence"] == [1, 2, 3, 4, 3, 2]
    assert d["durations_ms"] == [90] * 6
    assert max(d["output_size"]) == 40
    assert d["jitter_before_px"] is not None
    assert len(gif_info(gif.read_bytes())["frames"]) == 6


def test_animate_human_summary(grid_png, tmp_path):
    r = run_cli(
        "animate",
        grid_png,
        "--rows",
        "3",
        "--cols",
        "4",
        "--fps",
        "12",
        "--uniform-delays",
        "--gif",
        tmp_path / "a.gif",
    )
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "a.gif" in r.stdout
    assert "12.5 fps" in r.stdout  # the honest rate, as a warning line
    assert r.stderr == ""


def test_json_warnings_stay_inside_the_json(grid_png):
    d = _json(run_cli("animate", grid_png, "--rows", "3", "--cols", "4", "--fps", "12", "--uniform-delays", "--json"))
    assert any("12.5 fps" in w for w in d["warnings"])
    assert d["outputs"] == {}


# --------------------------------------------------------------------------- bad input


def _bad_inputs(tmp_path, grid_png):
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n")
    png = png_bytes(np.full((64, 64, 3), 128, np.uint8))
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(png[: len(png) // 2])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(png_bytes(np.zeros((1, 1, 3), np.uint8)))
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb())
    g = str(grid_png)
    return {
        "text file": ["animate", text, "--gif", tmp_path / "x.gif"],
        "truncated png": ["animate", truncated, "--gif", tmp_path / "x.gif"],
        "empty file": ["detect", empty],
        "1x1 png": ["animate", tiny],
        "decompression bomb": ["detect", bomb, "--json"],
        "missing file": ["animate", tmp_path / "nope.png", "--json"],
        "rows 0": ["animate", g, "--rows", "0"],
        "rows 10000": ["detect", g, "--rows", "10000"],
        "cols negative": ["animate", g, "--cols", "-3"],
        "fps 0": ["animate", g, "--fps", "0"],
        "fps not a number": ["animate", g, "--fps", "fast"],
        "bad order": ["animate", g, "--order", "1-99", "--rows", "3", "--cols", "4"],
        "unknown flag": ["animate", g, "--colour", "red"],
        "no image": ["animate"],
        "no command": [],
        "unknown command": ["explode", g],
        "output is a folder": ["animate", g, "--rows", "3", "--cols", "4", "--gif", tmp_path],
    }


_CASES = [
    "text file", "truncated png", "empty file", "1x1 png", "decompression bomb", "missing file", "rows 0",
    "rows 10000", "cols negative", "fps 0", "fps not a number", "bad order", "unknown flag", "no image",
    "no command", "unknown command", "output is a folder",
]  # fmt: skip


@pytest.mark.parametrize("case", _CASES)
def test_bad_input_is_one_error_line_and_exit_2(case, tmp_path, grid_png):
    args = _bad_inputs(tmp_path, grid_png)[case]
    r = run_cli(*args)
    assert r.returncode == 2, f"{case}: exit {r.returncode}, stderr {r.stderr!r}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{case}: {r.stderr!r}"
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert len(lines[0]) > len("error: ") + 10  # says what is wrong


def test_bad_input_messages_name_the_problem(tmp_path, grid_png):
    cases = _bad_inputs(tmp_path, grid_png)
    expect = {
        "empty file": "empty",
        "1x1 png": "1x1",
        "decompression bomb": "large",
        "missing file": "no such file",
        "rows 0": "--rows",
        "rows 10000": "too many",
        "fps 0": "--fps",
        "truncated png": "truncated",
    }
    for case, word in expect.items():
        r = run_cli(*cases[case])
        assert word in r.stderr, f"{case}: {r.stderr!r}"


def test_internal_errors_exit_1_without_traceback(tmp_path, grid_png):
    # simulate a bug: a sitecustomize shim makes the GIF encoder raise something unexpected
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import gridanim.encode as e\n"
        "def boom(*a, **k):\n    raise ZeroDivisionError('simulated bug')\n"
        "e.encode_gif_fit = boom\n"
    )
    import os

    from helpers import REPO_ROOT

    env = dict(os.environ, PYTHONPATH=f"{shim}{os.pathsep}{REPO_ROOT}")
    r = run_cli("animate", grid_png, "--rows", "3", "--cols", "4", "--gif", tmp_path / "a.gif", env=env)
    assert r.returncode == 1
    assert r.stderr.startswith("error: internal error: ZeroDivisionError") and "Traceback" not in r.stderr
    env["GRIDANIM_DEBUG"] = "1"
    r = run_cli("animate", grid_png, "--rows", "3", "--cols", "4", "--gif", tmp_path / "a.gif", env=env)
    assert r.returncode == 1 and "Traceback" in r.stderr


def test_mp4_failure_keeps_the_gif_and_says_so(grid_png, tmp_path):
    import os

    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\ncat >/dev/null; echo 'Unknown encoder libx264' >&2; exit 1\n")
    fake.chmod(0o755)
    env = dict(os.environ, IMAGEIO_FFMPEG_EXE=str(fake))
    gif, mp4 = tmp_path / "a.gif", tmp_path / "a.mp4"
    r = run_cli("animate", grid_png, "--rows", "3", "--cols", "4", "--gif", gif, "--mp4", mp4, env=env)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: wrote {gif}, but the MP4 failed") and "libx264" in lines[0]
    assert gif.stat().st_size > 0 and not mp4.exists()


# --------------------------------------------------------------------------- startup


def test_animate_path_imports_no_heavy_modules(grid_png, tmp_path):
    import subprocess
    import sys

    from helpers import REPO_ROOT

    cmd = [sys.executable, "-X", "importtime", "-m", "gridanim", "animate", str(grid_png), "--rows", "3", "--cols", "4"]
    r = subprocess.run(
        cmd + ["--gif", str(tmp_path / "a.gif"), "--mp4", str(tmp_path / "a.mp4")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    modules = {m.group(1).strip().split(".")[0] for m in re.finditer(r"\|\s+([\w.]+)\s*$", r.stderr, re.M)}
    assert "numpy" in modules and "PIL" in modules  # the parse found the import list
    for heavy in ("gradio", "openai", "scipy", "imageio", "httpx", "pandas", "matplotlib", "torch"):
        assert heavy not in modules, f"{heavy} imported on the animate path"


def test_help_lists_commands():
    r = run_cli("--help")
    assert r.returncode == 0 and "detect" in r.stdout and "animate" in r.stdout
    r = run_cli("animate", "--help")
    assert r.returncode == 0 and "--mp4-repeat" in r.stdout and "--stabilize" in r.stdout
