"""Pixel art stays pixel art: detection, exact frames through GIF/APNG/WebP, nearest-neighbour scaling."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import SHARED_GRIDS, cli_json, decode_mp4, probe, run_cli, scene_frames, shared_manifest

from gridanim import pixelart
from gridanim.animate import AnimateOptions, animate, render
from gridanim.images import load_image
from gridanim.layout import Layout

SPRITES = [e for e in shared_manifest() if e["file"].startswith("sprite_")]


def _rgba_frames(data: bytes) -> list[np.ndarray]:
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        out.append(np.asarray(im.convert("RGBA")))
    return out


def _manifest_layout(entry: dict, size: tuple[int, int]) -> Layout:
    boxes = tuple(tuple(b) for b in entry["boxes"])
    cells = tuple((k // entry["cols"], k % entry["cols"]) for k in range(len(boxes)))
    return Layout(entry["rows"], entry["cols"], boxes, cells, size, (), "manifest")


def _same_rgba(got: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, what: str) -> None:
    assert got.shape[:2] == rgb.shape[:2], f"{what}: size {got.shape[:2]} != {rgb.shape[:2]}"
    assert np.array_equal(got[..., 3], alpha), f"{what}: alpha differs at {np.count_nonzero(got[..., 3] != alpha)} px"
    shown = alpha > 0  # the colour of a fully transparent pixel means nothing
    bad = np.count_nonzero(np.any(got[..., :3] != rgb, axis=2) & shown)
    assert bad == 0, f"{what}: {bad} visible pixels changed colour"


def test_detects_pixel_art_and_its_block_size():
    rng = np.random.default_rng(3)
    art = rng.integers(0, 6, (24, 40))
    pal = rng.integers(0, 256, (6, 3)).astype(np.uint8)
    img = pal[art]
    got = pixelart.detect(img)
    assert got.is_pixel_art and got.colors == 6
    up = np.repeat(np.repeat(img, 4, axis=0), 4, axis=1)
    assert pixelart.detect(up).block == 4
    # a photo-like gradient and an antialiased scene are not pixel art
    assert not pixelart.detect(scene_frames(1, 160, 120)[0]).is_pixel_art
    yy, xx = np.mgrid[0:64, 0:256]
    grey = np.repeat(((xx + yy) % 256).astype(np.uint8)[..., None], 3, axis=2)
    assert not pixelart.detect(grey).is_pixel_art  # 256 colours, but every step is 1 level


def test_upscale_and_mp4_scale():
    f = np.arange(12, dtype=np.uint8).reshape(3, 4)
    up = pixelart.upscale([f], 3)[0]
    assert up.shape == (9, 12) and (up[::3, ::3] == f).all() and (up[2::3, 2::3] == f).all()
    assert pixelart.mp4_scale((32, 32), 1) == 4  # 128 px shorter side
    assert pixelart.mp4_scale((32, 32), 8) == 8
    assert pixelart.auto_scale((32, 32)) == 8 and pixelart.auto_scale((400, 300)) == 1


@pytest.mark.skipif(not SPRITES, reason=f"../shared/grids is absent ({SHARED_GRIDS}): no sprite sheets to round-trip")
@pytest.mark.parametrize("entry", SPRITES, ids=lambda e: e["file"])
def test_sprite_frames_survive_gif_apng_and_webp_exactly(entry):
    img = load_image(SHARED_GRIDS / entry["file"])
    assert img.alpha is not None
    layout = _manifest_layout(entry, img.size)  # the true cells: this test is about encoding, not detection
    anim = animate(img, AnimateOptions(fps=10), layout=layout)
    assert anim.pixel_art.is_pixel_art and anim.alphas is not None
    out = render(anim, ["gif", "apng", "webp"])
    cells = []
    for x, y, w, h in entry["boxes"]:
        cells.append((img.rgb[y : y + h, x : x + w], img.alpha[y : y + h, x : x + w]))
    for fmt in ("gif", "apng", "webp"):
        got = _rgba_frames(out[fmt])
        # libwebp folds a frame identical to the one before into it (delays added); GIF and APNG keep all
        expected = [c for k, c in enumerate(cells) if fmt != "webp" or k == 0 or not _same_cell(cells[k - 1], c)]
        assert len(got) == len(expected), fmt
        for k, (g, (rgb, a)) in enumerate(zip(got, expected, strict=True)):
            _same_rgba(g, rgb, a, f"{entry['file']} {fmt} frame {k + 1}")


def _same_cell(a, b) -> bool:
    return np.array_equal(a[1], b[1]) and np.array_equal(a[0][a[1] > 0], b[0][b[1] > 0])


@pytest.mark.skipif(not SPRITES, reason=f"../shared/grids is absent ({SHARED_GRIDS})")
def test_scaled_sprite_is_crisp_in_every_format(tmp_path):
    entry = next(e for e in SPRITES if "ninjafrog" in e["file"])
    src = SHARED_GRIDS / entry["file"]
    img = load_image(src)
    layout = _manifest_layout(entry, img.size)
    anim = animate(img, AnimateOptions(scale=3, background=(0, 0, 255)), layout=layout)
    out = render(anim, ["gif", "apng", "mp4"])
    x, y, w, h = entry["boxes"][0]
    rgb, a = img.rgb[y : y + h, x : x + w], img.alpha[y : y + h, x : x + w]
    up_rgb, up_a = pixelart.upscale([rgb], 3)[0], pixelart.upscale([a], 3)[0]
    for fmt in ("gif", "apng"):
        _same_rgba(_rgba_frames(out[fmt])[0], up_rgb, up_a, f"{fmt} x3")
    p = tmp_path / "a.mp4"
    p.write_bytes(out["mp4"])
    info = probe(p)
    assert info["size"] == (w * 4, h * 4)  # x3 gives 96 px; the MP4 goes to the 128 px minimum, by whole pixels
    first = decode_mp4(p)[0].astype(int)
    want = np.where(a[..., None] > 0, rgb, np.array([0, 0, 255], np.uint8)).astype(int)
    # compare 4x4 block centres: chroma subsampling blurs only across block edges
    centres = first[1::4, 1::4]
    assert np.abs(centres - want).mean() < 12


def test_max_size_on_pixel_art_drops_whole_pixels_and_blends_none():
    rng = np.random.default_rng(9)
    pal = rng.integers(0, 256, (5, 3)).astype(np.uint8)
    art = pal[rng.integers(0, 5, (20, 60))]
    up = np.ascontiguousarray(np.repeat(np.repeat(art, 4, axis=0), 4, axis=1))  # 3 frames of 80x80, block 4
    layout = Layout(
        1, 3, ((0, 0, 80, 80), (80, 0, 80, 80), (160, 0, 80, 80)), ((0, 0), (0, 1), (0, 2)), (240, 80), (), "t"
    )
    anim = animate(up, AnimateOptions(max_size=40), layout=layout)
    assert anim.pixel_art.block == 4 and anim.frame_size == (40, 40)
    assert np.array_equal(anim.frames[0], np.repeat(np.repeat(art[:, :20], 2, axis=0), 2, axis=1))  # exact: half size
    assert not any("pixel art" in w for w in anim.warnings)
    anim = animate(up, AnimateOptions(max_size=30), layout=layout)
    assert anim.frame_size == (30, 30) and any("pixel art" in w for w in anim.warnings)
    colors = {tuple(c) for f in anim.frames for c in f.reshape(-1, 3)}
    assert colors <= {tuple(c) for c in pal}  # no new colours


def test_cli_reports_pixel_art_alpha_and_writes_apng(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    cells = []
    for k in range(4):
        c = np.zeros((16, 16, 4), np.uint8)
        c[4 + k : 10 + k, 3:12, :3] = rng.integers(0, 256, 3)
        c[4 + k : 10 + k, 3:12, 3] = 255
        cells.append(c)
    grid = np.concatenate(cells, axis=1)
    p = tmp_path / "strip.png"
    Image.fromarray(grid, "RGBA").save(p)
    d = cli_json("animate", p, "--rows", "1", "--cols", "4", "--apng", tmp_path / "a.apng", "--gif", tmp_path / "a.gif")
    assert d["pixel_art"] is True and d["alpha"] is True
    assert d["outputs"]["apng"] == str(tmp_path / "a.apng")
    frames = _rgba_frames((tmp_path / "a.apng").read_bytes())
    assert len(frames) == 4 and (frames[0][..., 3] == 0).mean() > 0.5
    flat = tmp_path / "opaque.png"
    Image.fromarray(scene_frames(1, 160, 120)[0]).save(flat)
    d = cli_json("animate", flat, "--rows", "1", "--cols", "2", "--gif", tmp_path / "b.gif")
    assert d["pixel_art"] is False and d["alpha"] is False


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--matte", "bluish"], "--matte"),
        (["--background", "12,300,4"], "--background"),
        (["--scale", "0"], "--scale"),
        (["--scale", "two"], "--scale"),
    ],
)
def test_bad_colour_and_scale_are_one_line_exit_2(tmp_path, args, needle):
    from PIL import Image

    p = tmp_path / "g.png"
    Image.fromarray(scene_frames(1, 64, 48)[0]).save(p)
    r = run_cli("animate", p, "--gif", tmp_path / "a.gif", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], r.stderr
    assert not (tmp_path / "a.gif").exists()
