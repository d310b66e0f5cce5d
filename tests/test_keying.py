"""--transparent: flat, chroma and fake-checker backgrounds keyed to real alpha, with clean edges."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import REPO_ROOT, SHARED_GRIDS, cli_json, shared_manifest

from gridanim import keying
from gridanim.animate import AnimateOptions, animate, render
from gridanim.images import load_image
from gridanim.layout import Layout

DATA = REPO_ROOT / "tests" / "data"


def _disc(h=120, w=160, r=30.0, cx=80.0, cy=60.0):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.clip(r - np.hypot(xx - cx, yy - cy) + 0.5, 0, 1)[..., None]  # 1 px antialiased edge


def _compose(bg: np.ndarray, fg_color, cover: np.ndarray) -> np.ndarray:
    out = bg.astype(np.float32) * (1 - cover) + np.asarray(fg_color, np.float32) * cover
    return (out + 0.5).astype(np.uint8)


def test_flat_background_becomes_alpha_with_unmixed_edges():
    cover = _disc()
    bg = np.full(cover.shape[:2] + (3,), (90, 140, 200), np.uint8)
    img = _compose(bg, (200, 40, 30), cover)
    k = keying.key_background(img)
    assert k is not None and k.kind == "flat"
    c = cover[..., 0]
    assert (k.alpha[c == 0] == 0).all() and (k.alpha[c == 1] == 255).all()
    edge = (k.alpha > 0) & (k.alpha < 255)
    assert edge.any()
    # an edge pixel's colour is the subject's, not a blend with the blue background
    assert np.abs(k.rgb[edge].astype(int) - (200, 40, 30)).max(axis=1).mean() < 25


def test_green_screen_is_keyed_and_despilled():
    cover = _disc()
    bg = np.full(cover.shape[:2] + (3,), (17, 215, 48), np.uint8)
    img = _compose(bg, (190, 150, 120), cover)
    ring = (cover[..., 0] > 0.99) & (_disc(r=27.0)[..., 0] < 1)  # a 3 px band of green light on the subject
    img[ring] = (150, 200, 100)
    k = keying.key_background(img)
    assert k is not None and k.kind == "green"
    assert (k.alpha[cover[..., 0] == 0] == 0).all()
    shown = k.alpha >= 128
    rgb = k.rgb.astype(int)
    assert shown[ring].all()
    assert (rgb[..., 1] - np.maximum(rgb[..., 0], rgb[..., 2]))[shown].max() <= 0  # no green left over
    magenta = _compose(np.full_like(img, (255, 0, 255)), (60, 160, 60), cover)
    assert keying.key_background(magenta).kind == "magenta"


def _checker(h, w, sq=16, tones=(204, 255)):
    yy, xx = np.mgrid[0:h, 0:w]
    t = np.where(((yy // sq) + (xx // sq)) % 2 == 0, tones[0], tones[1]).astype(np.uint8)
    return np.repeat(t[..., None], 3, axis=2)


def test_fake_checker_goes_but_white_inside_an_outline_stays():
    img = _checker(160, 200)
    yy, xx = np.mgrid[0:160, 0:200]
    d = np.hypot(xx - 100, yy - 80)
    img[d < 50] = (20, 20, 30)  # dark outline...
    img[d < 46] = (250, 250, 250)  # ...around a white shirt the checker's white tone
    ring = (np.abs(xx - 100) < 20) & (np.abs(yy - 80) < 20)
    img[ring] = (20, 20, 30)
    hole = (np.abs(xx - 100) < 14) & (np.abs(yy - 80) < 14)
    img[hole] = _checker(160, 200)[hole]  # a hole through the subject shows the checker again
    k = keying.key_background(img)
    assert k is not None and k.kind == "checker"
    assert (k.alpha[d > 52] == 0).all()
    shirt = (d < 44) & ~((np.abs(xx - 100) < 22) & (np.abs(yy - 80) < 22))
    assert (k.alpha[shirt] == 255).all()
    inner = (np.abs(xx - 100) < 12) & (np.abs(yy - 80) < 12)
    assert (k.alpha[inner] == 0).all()


def test_no_background_means_none_and_a_warning_with_outputs_still_written(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (96, 128, 3)).astype(np.uint8)
    assert keying.key_background(noise) is None
    p = tmp_path / "noise.png"
    Image.fromarray(noise).save(p)
    gif = tmp_path / "a.gif"
    d = cli_json("animate", p, "--rows", "1", "--cols", "2", "--transparent", "--gif", gif)
    assert gif.exists() and d["alpha"] is False and d["keyed"] is None
    assert any("--transparent found no background" in w for w in d["warnings"])


def test_components_follow_winding_shapes():
    m = np.zeros((9, 9), bool)
    m[1, 1:8] = m[1:8, 7] = m[7, 1:8] = m[3:8, 1] = m[3, 1:6] = m[3:6, 5] = True  # one spiral
    m[5, 3] = True  # a separate dot
    lab = keying.components(m)
    assert len(np.unique(lab[m])) == 2 and lab[5, 3] != lab[1, 1] and (lab[~m] == -1).all()


# --------------------------------------------------------------------------- the real grids

KEYED = ["ai_chatgpt_camus_4x4_fakechecker", "ai_grok_backidle_1x4_greenscreen"]


def _entry(name):
    return next((e for e in shared_manifest() if e["file"] == f"{name}.png"), None)


@pytest.mark.skipif(not (SHARED_GRIDS / "manifest.json").exists(), reason=f"../shared/grids is absent ({SHARED_GRIDS})")
@pytest.mark.parametrize("name", KEYED)
def test_real_grids_keyed_against_hand_checked_masks(name):
    """>= 99 % of the background transparent, <= 2 % of the subject lost; the outputs keep exactly that alpha.

    The masks in tests/data were built by tests/data/make_masks.py with other
    rules than gridanim.keying (colour thresholds, scipy hole filling) and
    checked by eye. The grid is keyed as a whole before it is cut, so the
    masks are compared with the keyed grid; then the decoded APNG and GIF must
    carry the frames' alpha unchanged (GIF: thresholded at 128), with no screen
    green or checker grey on the visible pixels next to transparent ones.
    """
    from PIL import Image

    e = _entry(name)
    img = load_image(SHARED_GRIDS / e["file"])
    ref = np.asarray(Image.open(DATA / f"{name}_subject.png").convert("L")) > 0
    assert ref.shape == img.rgb.shape[:2]
    k = keying.key_background(img.rgb, img.alpha)
    assert k is not None and k.kind == ("checker" if "checker" in name else "green")
    clear = k.alpha < 128
    assert clear[~ref].mean() >= 0.99, "background left"
    assert clear[ref].mean() <= 0.02, "subject lost"

    boxes = tuple(tuple(b) for b in e["boxes"])
    cells = tuple((i // e["cols"], i % e["cols"]) for i in range(len(boxes)))
    layout = Layout(e["rows"], e["cols"], boxes, cells, img.size, (), "manifest")
    anim = animate(img, AnimateOptions(transparent=True), layout=layout)
    assert anim.keyed == k.kind and anim.alphas is not None
    want = np.stack(anim.alphas)
    out = render(anim, ["apng", "gif"])
    for fmt in ("apng", "gif"):
        im = Image.open(io.BytesIO(out[fmt]))
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGBA")))
        rgba = np.stack(frames)
        got = rgba[..., 3]
        if fmt == "apng":
            assert np.array_equal(got, want)
        else:
            assert np.array_equal(got == 255, want >= 128) and set(np.unique(got)) <= {0, 255}
        shown = got >= 128
        near = np.zeros_like(shown)
        near[:, 1:] |= ~shown[:, :-1]
        near[:, :-1] |= ~shown[:, 1:]
        near[:, :, 1:] |= ~shown[:, :, :-1]
        near[:, :, :-1] |= ~shown[:, :, 1:]
        c = rgba[..., :3].astype(int)[shown & near]
        green = c[:, 1] - np.maximum(c[:, 0], c[:, 2]) > 25
        grey = (c.mean(axis=1) >= 236) & (c.max(axis=1) - c.min(axis=1) <= 12)
        assert green.mean() < 0.005 and grey.mean() < 0.05, (
            f"{fmt}: fringe {green.mean():.4f} green, {grey.mean():.4f} grey"
        )


def test_components_match_scipy_on_a_random_mask():
    ndi = pytest.importorskip("scipy.ndimage", reason="scipy is only an independent check here")
    m = np.random.default_rng(4).random((120, 150)) < 0.55
    lab = keying.components(m)
    ref, n = ndi.label(m)
    pairs = np.unique(np.stack([lab[m], ref[m]], axis=1), axis=0)
    assert len(np.unique(lab[m])) == n == len(pairs)  # the same partition


@pytest.mark.skipif(not (SHARED_GRIDS / "manifest.json").exists(), reason=f"../shared/grids is absent ({SHARED_GRIDS})")
@pytest.mark.parametrize(
    "sheet,bg",
    [("sprite_pixeladventure_ninjafrog_run_1x12", (64, 64, 80)), ("sprite_pixeladventure_ninjafrog_run_1x12", (0, 255, 0)),
     ("sprite_lpc_body_walk_4x8_palette", (255, 0, 255))],
)  # fmt: skip
def test_pixel_art_on_a_background_gets_its_exact_alpha_back(sheet, bg):
    """Pixel art keyed with --transparent: hard 0/255 alpha equal to the sheet's own, colours untouched."""
    e = _entry(sheet)
    src = load_image(SHARED_GRIDS / e["file"])
    flat = np.where(src.alpha[..., None] > 0, src.rgb, np.array(bg, np.uint8))
    boxes = tuple(tuple(b) for b in e["boxes"])
    cells = tuple((i // e["cols"], i % e["cols"]) for i in range(len(boxes)))
    layout = Layout(e["rows"], e["cols"], boxes, cells, src.size, (), "manifest")
    anim = animate(flat, AnimateOptions(transparent=True), layout=layout)
    assert anim.pixel_art.is_pixel_art and anim.keyed is not None and anim.alphas is not None
    for (x, y, w, h), f, a in zip(boxes, anim.frames, anim.alphas, strict=True):
        assert np.array_equal(a, src.alpha[y : y + h, x : x + w])
        shown = a > 0
        assert np.array_equal(f[shown], src.rgb[y : y + h, x : x + w][shown])
