"""Sprite sheets: the uniform PNG, Aseprite json-hash, Godot 4 SpriteFrames, CLI flags, pixel-art round trip."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import SHARED_GRIDS, cli_json, run_cli, shared_manifest
from PIL import Image

from gridanim.encode.sheet import arrange, build_sheet, godot_texture_path, godot_tres, plan_sheet, render_sheet
from gridanim.errors import InputError


def _frames(n: int, w: int = 7, h: int = 5, seed: int = 1):
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]
    alphas = [np.where(rng.random((h, w)) < 0.5, 255, 0).astype(np.uint8) for _ in range(n)]
    return frames, alphas


def _rgba(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        return np.asarray(im)


# --------------------------------------------------------------------------- sheet


@pytest.mark.parametrize("padding", [0, 3])
def test_sheet_cells_hold_the_frames_exactly_with_padding_between_and_transparent_gaps(padding):
    frames, alphas = _frames(7, w=6, h=6)
    sheet = build_sheet(frames, alphas, padding=padding)
    assert (sheet.cols, sheet.rows) == (3, 3)  # 7 square cells: the most square sheet
    img = sheet.image
    assert img.shape == (3 * 6 + 2 * padding, 3 * 6 + 2 * padding, 4)
    covered = np.zeros(img.shape[:2], bool)
    for (x, y, w, h), f, a in zip(sheet.cells, frames, alphas, strict=True):
        assert (w, h) == (6, 6)
        assert np.array_equal(img[y : y + h, x : x + w, :3], f)
        assert np.array_equal(img[y : y + h, x : x + w, 3], a)
        covered[y : y + h, x : x + w] = True
    xs = sorted({c[0] for c in sheet.cells})
    assert np.diff(xs).tolist() == [6 + padding] * 2
    assert not img[~covered].any()  # padding and the two unused cells are transparent black


def test_sheet_without_alpha_is_opaque_in_the_cells():
    frames, _ = _frames(4)
    sheet = build_sheet(frames, None, padding=2)
    x, y, w, h = sheet.cells[3]
    assert (sheet.image[y : y + h, x : x + w, 3] == 255).all()
    assert (sheet.image[5:7, :, 3] == 0).all()  # the padding row


@pytest.mark.parametrize(
    ("n", "w", "h", "expected"),
    [(12, 32, 32, (4, 3)), (16, 10, 10, (4, 4)), (4, 100, 20, (1, 4)), (3, 20, 100, (3, 1)), (1, 5, 5, (1, 1))],
)
def test_arrangement_is_near_square(n, w, h, expected):
    assert arrange(n, w, h) == expected


def test_negative_padding_is_refused():
    frames, _ = _frames(2)
    with pytest.raises(InputError, match="--padding"):
        build_sheet(frames, None, padding=-1)


def test_pingpong_collapses_to_the_real_frames_only_when_the_return_trip_mirrors_them():
    frames, alphas = _frames(4)
    seq = [0, 1, 2, 3, 2, 1]
    played = [frames[i] for i in seq]
    played_a = [alphas[i] for i in seq]
    durations = [100, 110, 120, 130, 140, 150]
    plan = plan_sheet(played, played_a, durations, pingpong=True)
    assert plan.direction == "pingpong"
    assert len(plan.frames) == 4 and all(np.array_equal(a, b) for a, b in zip(plan.frames, frames, strict=True))
    assert plan.durations_ms == [100, 110, 120, 130]
    assert plan.sequence == seq
    # a changed copy (e.g. smoothing) is not a mirror: every played frame stays
    played[4] = played[4] ^ np.uint8(1)
    plan = plan_sheet(played, played_a, durations, pingpong=True)
    assert plan.direction == "forward" and len(plan.frames) == 6
    # not asked: the frames stay as played even when they mirror
    assert plan_sheet([frames[i] for i in seq], None, durations).direction == "forward"


def test_aseprite_json_hash_layout():
    frames, alphas = _frames(5)
    files, warnings = render_sheet(
        frames, alphas, [120, 130, 120, 130, 200], image_name="hero.png", padding=1, tag="hero"
    )
    assert warnings == []
    meta = json.loads(files["sheet_json"])
    assert list(meta["frames"]) == ["0", "1", "2", "3", "4"]
    im = np.asarray(Image.open(io.BytesIO(files["sheet"])))
    for i, f in enumerate(frames):
        e = meta["frames"][str(i)]
        r = e["frame"]
        assert set(e) >= {"frame", "rotated", "trimmed", "spriteSourceSize", "sourceSize", "duration"}
        assert e["rotated"] is False and e["trimmed"] is False
        assert e["sourceSize"] == {"w": 7, "h": 5} and e["spriteSourceSize"] == {"x": 0, "y": 0, "w": 7, "h": 5}
        assert np.array_equal(im[r["y"] : r["y"] + r["h"], r["x"] : r["x"] + r["w"], :3], f)
    assert [meta["frames"][str(i)]["duration"] for i in range(5)] == [120, 130, 120, 130, 200]
    m = meta["meta"]
    assert m["image"] == "hero.png" and m["format"] == "RGBA8888"
    assert m["size"] == {"w": im.shape[1], "h": im.shape[0]}
    assert m["frameTags"] == [{"name": "hero", "from": 0, "to": 4, "direction": "forward"}]


# --------------------------------------------------------------------------- Godot


def _godot_value(text: str):
    """A Godot variant literal (as used by SpriteFrames) -> Python, via JSON."""
    text = re.sub(r'SubResource\("([^"]+)"\)', r'{"$sub": "\1"}', text)
    text = re.sub(r'ExtResource\("([^"]+)"\)', r'{"$ext": "\1"}', text)
    text = re.sub(r'&"', '"', text)  # StringName
    return json.loads(text)


def parse_tres(text: str) -> list[tuple[str, dict, dict]]:
    """A Godot 4 text resource -> [(section tag, header attributes, properties)]."""
    sections: list[tuple[str, dict, dict]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        m = re.fullmatch(r"\[(\w+)((?: \w+=(?:\"[^\"]*\"|[\w.]+))*)\]", line)
        if m:
            attrs = {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[\w.]+)', m.group(2))}
            sections.append((m.group(1), attrs, {}))
            continue
        key, _, value = line.partition(" = ")
        assert value, f"not a property line: {line!r}"
        depth = value.count("[") + value.count("{") - value.count("]") - value.count("}")
        while depth > 0:  # multi-line arrays / dictionaries
            value += "\n" + lines[i]
            depth += lines[i].count("[") + lines[i].count("{") - lines[i].count("]") - lines[i].count("}")
            i += 1
        v = value.strip()
        if m2 := re.fullmatch(r"Rect2\((.*)\)", v):
            parsed = tuple(float(p) for p in m2.group(1).split(","))
        else:
            parsed = _godot_value(v)
        sections[-1][2][key] = parsed
    return sections


def test_godot_spriteframes_resource_follows_the_format(tmp_path):
    frames, alphas = _frames(4)
    seq = [0, 1, 2, 3, 2, 1]
    durations = [120, 130, 240, 130, 120, 130]  # frame 2 held twice as long
    played = [frames[i] for i in seq]
    files, _ = render_sheet(
        played,
        [alphas[i] for i in seq],
        durations,
        image_name="a.png",
        pingpong=True,
        godot_texture="res://art/a.png",
        fps=8.0,
    )
    meta = json.loads(files["sheet_json"])
    secs = parse_tres(files["godot"].decode())
    head = secs[0]
    assert head[0] == "gd_resource" and head[1]["type"] == "SpriteFrames" and head[1]["format"] == "3"
    ext = [s for s in secs if s[0] == "ext_resource"]
    assert len(ext) == 1 and ext[0][1]["type"] == "Texture2D" and ext[0][1]["path"] == "res://art/a.png"
    subs = {s[1]["id"]: s[2] for s in secs if s[0] == "sub_resource"}
    assert all(s[1]["type"] == "AtlasTexture" for s in secs if s[0] == "sub_resource")
    assert len(subs) == 4  # one per real frame on the sheet, shared by the return trip
    assert int(head[1]["load_steps"]) == len(ext) + len(subs) + 1  # every resource plus the main one
    for props in subs.values():
        assert props["atlas"] == {"$ext": ext[0][1]["id"]}
    assert secs[-1][0] == "resource"
    (anim,) = secs[-1][2]["animations"]
    assert anim["name"] == "default" and anim["loop"] is True and anim["speed"] == 8.0
    assert len(anim["frames"]) == len(seq)
    for f, i, d in zip(anim["frames"], seq, durations, strict=True):
        rect = subs[f["texture"]["$sub"]]["region"]
        r = meta["frames"][str(i)]["frame"]
        assert rect == (r["x"], r["y"], r["w"], r["h"])
        assert f["duration"] / anim["speed"] == pytest.approx(d / 1000)  # Godot: seconds = duration / speed


def test_godot_texture_path_is_relative_to_the_project(tmp_path):
    (tmp_path / "game").mkdir()
    (tmp_path / "game" / "project.godot").write_text("")
    (tmp_path / "game" / "art").mkdir()
    assert godot_texture_path(tmp_path / "game/art/a.tres", tmp_path / "game/art/a.png") == "res://art/a.png"
    assert godot_texture_path(tmp_path / "x/a.tres", tmp_path / "x/s/a.png") == "res://s/a.png"  # no project
    with pytest.raises(InputError, match="outside the Godot project"):
        godot_texture_path(tmp_path / "game/a.tres", tmp_path / "elsewhere.png")


def test_godot_speed_defaults_to_the_average_rate():
    frames, _ = _frames(2)
    text = godot_tres(build_sheet(frames), [0, 1], [100, 300], texture_path="res://s.png")
    (anim,) = parse_tres(text)[-1][2]["animations"]
    assert anim["speed"] == 5.0 and [f["duration"] for f in anim["frames"]] == [0.5, 1.5]


# --------------------------------------------------------------------------- CLI


def _alpha_grid(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    rgba = np.zeros((40, 100, 4), np.uint8)
    for k in range(4):
        x0 = 4 + k * 24
        rgba[6:34, x0 + 2 : x0 + 18, :3] = rng.integers(0, 256, 3, dtype=np.uint8)
        rgba[6:34, x0 + 2 : x0 + 18, 3] = 255
        rgba[10 + k : 14 + k, x0 + 6 : x0 + 10] = (255, 255, 0, 255)
    p = tmp_path / "grid.png"
    Image.fromarray(rgba, "RGBA").save(p)
    return p


def test_cli_writes_sheet_json_and_godot_and_reports_them(tmp_path):
    grid = _alpha_grid(tmp_path)
    out = tmp_path / "godot" / "art"
    out.mkdir(parents=True)
    (tmp_path / "godot" / "project.godot").write_text("")
    r = cli_json(
        "animate",
        grid,
        "--rows",
        "1",
        "--cols",
        "4",
        "--sheet",
        out / "hero.png",
        "--padding",
        "2",
        "--godot",
        out / "hero.tres",
        "--gif",
        tmp_path / "a.gif",
    )
    assert r["outputs"]["sheet"] == str(out / "hero.png")
    assert r["outputs"]["sheet_json"] == str(out / "hero.json")
    assert r["outputs"]["godot"] == str(out / "hero.tres")
    assert r["outputs"]["gif"] == str(tmp_path / "a.gif")
    for k in ("sheet", "sheet_json", "godot"):
        assert Path(r["outputs"][k]).stat().st_size == r["bytes"][k]
    img = _rgba(out / "hero.png")
    assert (img[..., 3] == 0).any() and (img[..., 3] == 255).any()  # transparency kept
    meta = json.loads((out / "hero.json").read_text())
    assert meta["meta"]["image"] == "hero.png"
    assert [meta["frames"][str(i)]["duration"] for i in range(4)] == r["durations_ms"]
    text = (out / "hero.tres").read_text()
    assert 'path="res://art/hero.png"' in text


def test_cli_godot_alone_writes_the_sheet_beside_it(tmp_path):
    r = cli_json("animate", _alpha_grid(tmp_path), "--rows", "1", "--cols", "4", "--godot", tmp_path / "run.tres")
    assert r["outputs"]["sheet"] == str(tmp_path / "run.png") and (tmp_path / "run.json").exists()
    assert 'path="res://run.png"' in (tmp_path / "run.tres").read_text()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_cli_sheet_to_an_unwritable_folder_is_one_line_exit_2(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = run_cli("animate", _alpha_grid(tmp_path), "--sheet", ro / "s.png")
    finally:
        ro.chmod(0o700)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not writable" in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--sheet", "/proc/gridanim/s.png"], "not writable"),  # a folder no one can create files in
        (["--sheet", "{tmp}"], "is a folder"),
        (["--sheet", "{tmp}/s.gif"], ".png"),
        (["--padding", "-1", "--sheet", "{tmp}/s.png"], "--padding"),
        (["--godot", "{tmp}/s.txt"], ".tres"),
    ],
)
def test_cli_bad_sheet_arguments_are_one_line_exit_2(tmp_path, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = run_cli("animate", _alpha_grid(tmp_path), *args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and needle in r.stderr, r.stderr
    assert not list(tmp_path.glob("s.*"))


# --------------------------------------------------------------------------- pixel-art round trip


def _sprite_entries():
    return [e for e in shared_manifest() if e["file"].startswith("sprite_")]


@pytest.mark.parametrize("name", ["ninjafrog", "kenney", "lpc"])
def test_sprite_grid_sheet_round_trip_is_pixel_exact(tmp_path, name):
    entries = [e for e in _sprite_entries() if name in e["file"]]
    if not entries:
        pytest.skip(f"{SHARED_GRIDS} is not here: the shared sprite grids are needed")
    e = entries[0]
    src = np.asarray(Image.open(SHARED_GRIDS / e["file"]).convert("RGBA"))
    sheet = tmp_path / "s.png"
    r = cli_json(
        "animate",
        SHARED_GRIDS / e["file"],
        "--rows",
        e["rows"],
        "--cols",
        e["cols"],
        "--sheet",
        sheet,
        "--padding",
        "1",
    )
    img, meta = _rgba(sheet), json.loads(sheet.with_suffix(".json").read_text())
    assert len(meta["frames"]) == e["frames"] == r["frames"]
    fw, fh = r["frame_size"]

    def check(boxes, what):
        for i, (bx, by, bw, bh) in enumerate(boxes):
            f = meta["frames"][str(i)]["frame"]
            cell = img[f["y"] : f["y"] + f["h"], f["x"] : f["x"] + f["w"]]
            x0, y0 = bx + (bw - fw) // 2, by + (bh - fh) // 2
            want = src[y0 : y0 + fh, x0 : x0 + fw]
            assert cell.shape == want.shape, f"{what} frame {i}: {cell.shape} vs {want.shape}"
            assert np.array_equal(cell[..., 3], want[..., 3]), f"{what} frame {i}: alpha differs"
            seen = want[..., 3] > 0  # colour under fully transparent pixels is not part of the picture
            assert np.array_equal(cell[seen, :3], want[seen, :3]), f"{what} frame {i}: colours differ"

    check(r["boxes"], "detected")  # the sheet holds exactly what the detected cut holds
    if [list(b) for b in r["boxes"]] != e["boxes"]:
        pytest.xfail(
            f"layout detection (#9) cuts {e['file']} as {r['frame_size']} boxes, "
            f"not the true {e['boxes'][0][2]}x{e['boxes'][0][3]} cells"
        )
    check(e["boxes"], "manifest")


# --------------------------------------------------------------------------- app download


def test_app_sprite_sheet_zip_holds_png_json_and_tres(tmp_path):
    import zipfile

    from gridanim.animate import AnimateOptions
    from gridanim.hosting import session

    grid = _alpha_grid(tmp_path)
    run = session.animate_to_files(
        grid, AnimateOptions(rows=1, cols=4, order="pingpong"), formats=("gif", "sheet"), run_dir=tmp_path
    )
    assert [Path(p).name for p in run.downloads] == ["animation.gif", "sprite_sheet.zip", "grid_cut.png"]
    with zipfile.ZipFile(run.files["sheet"]) as z:
        assert sorted(z.namelist()) == ["sheet.json", "sheet.png", "sheet.tres"]
        meta = json.loads(z.read("sheet.json"))
        tres = z.read("sheet.tres").decode()
        png = np.asarray(Image.open(io.BytesIO(z.read("sheet.png"))))
    assert meta["meta"]["image"] == "sheet.png" and meta["meta"]["frameTags"][0]["direction"] == "pingpong"
    assert len(meta["frames"]) == 4 and 'path="res://sheet.png"' in tres
    (anim,) = parse_tres(tres)[-1][2]["animations"]
    assert len(anim["frames"]) == 6  # Godot plays the whole pingpong loop
    assert (png[..., 3] == 0).any()
    (tmp_path / "plain").mkdir()
    plain = session.animate_to_files(grid, AnimateOptions(rows=1, cols=4), formats=("gif",), run_dir=tmp_path / "plain")
    assert set(plain.files) == {"gif"}  # the app's checkbox off: no sheet


@pytest.mark.parametrize("extra", [{}, {"stabilize": True, "order": "reverse"}, {"max_size": 10}])
def test_alpha_masks_move_with_their_frames(tmp_path, extra):
    from gridanim.animate import AnimateOptions, animate

    rgba = np.zeros((40, 100, 4), np.uint8)
    rgba[..., :3] = 255  # white under the transparent pixels: the same whether frames are composited or straight
    for k in range(4):  # a blob that wanders, so stabilising shifts frames by different amounts
        x0, y0 = 6 + k * 24 + k, 8 + 2 * k
        rgba[y0 : y0 + 14, x0 : x0 + 10] = (200, 30 + 50 * k, 60, 255)
    anim = animate(rgba, AnimateOptions(rows=1, cols=4, **extra))
    assert anim.alphas is not None and len(anim.alphas) == len(anim.frames)
    for f, a in zip(anim.frames, anim.alphas, strict=True):
        assert a.shape == f.shape[:2] and a.dtype == np.uint8
        white = (f == 255).all(axis=2)  # where the source is transparent
        if "max_size" in extra:  # resampled: the edges blend, the middles agree
            assert (a[white] < 128).mean() > 0.9 and (a[~white] > 0).mean() > 0.9
        else:
            assert np.array_equal(a == 0, white)
    assert animate(rgba[..., :3].copy(), AnimateOptions(rows=1, cols=4)).alphas is None
