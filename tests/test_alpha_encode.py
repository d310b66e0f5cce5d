"""Alpha in the encoders: 1-bit GIF (disposal, matte), 8-bit WebP/APNG, RGBA frames in the ZIP."""

from __future__ import annotations

import io
import subprocess
import zipfile

import numpy as np
import pytest
from helpers import ffmpeg

from gridanim import encode
from gridanim.errors import InputError


def _clip(n=3, w=40, h=30):
    """A square moving right over a transparent canvas, with a soft (alpha 100 / 200) left edge."""
    frames, alphas = [], []
    for k in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        a = np.zeros((h, w), np.uint8)
        x = 4 + 10 * k
        f[8:20, x : x + 10] = (200, 30, 30)
        a[8:20, x : x + 10] = 255
        a[8:20, x] = 200
        a[8:20, x + 1] = 100 if k == 0 else 255
        frames.append(f)
        alphas.append(a)
    return frames, alphas


def _pillow_rgba(data: bytes) -> list[np.ndarray]:
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(np.asarray(im.convert("RGBA")))
    return out


def _ffmpeg_rgba(data: bytes, suffix: str, w: int, h: int) -> list[np.ndarray]:
    """A second, independent decoder: ffmpeg's own GIF / APNG demuxers, composited frames as RGBA."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=suffix) as t:
        t.write(data)
        t.flush()
        r = subprocess.run(
            [
                ffmpeg(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-i",
                t.name,
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgba",
                "-",
            ],
            capture_output=True,
            check=True,
        )
    n = len(r.stdout) // (w * h * 4)
    return list(np.frombuffer(r.stdout, np.uint8)[: n * w * h * 4].reshape(n, h, w, 4))


@pytest.mark.parametrize("decoder", ["pillow", "ffmpeg"])
def test_gif_alpha_pixels_really_turn_transparent(decoder):
    frames, alphas = _clip()
    data = encode.encode_gif(frames, [100, 100, 100], alphas=alphas)
    got = _pillow_rgba(data) if decoder == "pillow" else _ffmpeg_rgba(data, ".gif", 40, 30)
    assert len(got) == 3
    for g, f, a in zip(got, frames, alphas, strict=True):
        assert np.array_equal(g[..., 3] == 255, a >= 128)  # where the square was, it is gone again
        shown = a >= 128
        assert (g[..., :3][shown] == f[shown]).all()  # 2 colours: lossless


def test_gif_matte_blends_only_the_soft_edge():
    frames, alphas = _clip(1)
    got = _pillow_rgba(encode.encode_gif(frames, 100, alphas=alphas, matte=(0, 0, 255)))[0]
    assert got[10, 4, 3] == 255 and got[10, 5, 3] == 0  # alpha 200 shown, alpha 100 not
    expected = np.round(np.array([200, 30, 30]) * 200 / 255 + np.array([0, 0, 255]) * 55 / 255)
    assert np.abs(got[10, 4, :3].astype(int) - expected).max() <= 1
    assert (got[10, 8, :3] == (200, 30, 30)).all()  # inside: untouched
    plain = _pillow_rgba(encode.encode_gif(frames, 100, alphas=alphas))[0]
    assert (plain[10, 4, :3] == (200, 30, 30)).all()  # no matte: the edge keeps its colour


def test_gif_alpha_with_many_colours_uses_the_visible_pixels_for_the_palette():
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (48, 64, 3)).astype(np.uint8) for _ in range(3)]
    alphas = [np.zeros((48, 64), np.uint8) for _ in range(3)]
    for a in alphas:
        a[10:40, 10:50] = 255
    got = _pillow_rgba(encode.encode_gif(frames, 100, alphas=alphas))
    for g, f, a in zip(got, frames, alphas, strict=True):
        assert np.array_equal(g[..., 3] == 255, a == 255)
        diff = np.abs(g[..., :3].astype(int) - f.astype(int))[a == 255]
        assert diff.mean() < 30  # quantised noise, but a palette of its own colours


@pytest.mark.parametrize("fmt", ["apng", "webp"])
def test_apng_and_webp_keep_8_bit_alpha_and_every_frame(fmt):
    frames, alphas = _clip()
    frames.append(frames[-1].copy())  # a held frame
    alphas.append(alphas[-1].copy())
    if fmt == "apng":
        data = encode.encode_apng(frames, [100, 100, 100, 300], alphas=alphas)
        got = _pillow_rgba(data)
        assert len(got) == 4  # the held frame stays a frame
        assert len(_ffmpeg_rgba(data, ".apng", 40, 30)) >= 4
    else:
        data = encode.encode_webp(frames, [100, 100, 100, 300], alphas=alphas, lossless=True)
        got = _pillow_rgba(data)
        assert len(got) in (3, 4)  # libwebp may fold the held frame into the one before
    for g, a in zip(got, alphas, strict=False):
        assert np.array_equal(g[..., 3], a)  # soft edge values 100 and 200 survive


def test_zip_frames_are_rgba_pngs_with_alpha():
    from PIL import Image

    frames, alphas = _clip(2)
    z = zipfile.ZipFile(io.BytesIO(encode.encode_zip(frames, alphas=alphas)))
    im = Image.open(io.BytesIO(z.read(z.namelist()[0])))
    assert im.mode == "RGBA" and np.array_equal(np.asarray(im)[..., 3], alphas[0])


def test_alpha_masks_must_match_the_frames():
    frames, alphas = _clip(2)
    with pytest.raises(InputError, match="alpha"):
        encode.encode_gif(frames, 100, alphas=alphas[:1])
    with pytest.raises(InputError, match="alpha"):
        encode.encode_apng(frames, 100, alphas=[alphas[0], alphas[1][:5]])
