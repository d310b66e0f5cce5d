"""Hostile and odd uploads: each gets its own one-line message or a sensible image, in bounded memory.

Every file is built here in code. The memory tests load in a fresh Python
process and read its peak RSS (``VmHWM``), so nothing else in the test run
counts towards it.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO_ROOT, png_bomb
from PIL import Image

from gridanim.errors import InputError
from gridanim.images import DOWNSCALE_PIXELS, MAX_PIXELS, load_image


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def frame(color, size=(48, 32)) -> Image.Image:
    return Image.new("RGB", size, color)


def smooth_png(w: int, h: int) -> bytes:
    """A valid RGB PNG written row by row (never w x h in memory): a gradient with dark grid lines."""
    xs = (np.arange(w) * 255 // max(1, w - 1)).astype(np.uint8)
    z = zlib.compressobj(1)
    body = []
    for y in range(h):
        row = np.empty((w, 3), np.uint8)
        row[:, 0], row[:, 1], row[:, 2] = xs, y * 255 // max(1, h - 1), 128
        if y % 500 == 0:
            row[:] = 0
        row[::500] = 0
        body.append(z.compress(b"\x00" + row.tobytes()))
    body.append(z.flush())

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(body)) + chunk(b"IEND", b"")


# ------------------------------------------------------------------ refused, each with its own message

GOOD_PNG = encode(frame((200, 40, 40), (96, 64)), "PNG")
GIF2 = encode(frame((255, 0, 0)), "GIF", save_all=True, append_images=[frame((0, 0, 255))], duration=100)

REFUSED = {
    "not an image": (
        b"hello, this is a text file\n" * 4,
        "is not an image Pillow can read: upload a PNG, JPEG or WebP grid",
    ),
    "truncated png": (GOOD_PNG[: len(GOOD_PNG) // 2], "is damaged or truncated"),
    "truncated gif": (GIF2[: len(GIF2) // 2], "is damaged or truncated"),  # cut inside the first frame
    "empty": (b"", "is empty"),  # "upload.png is empty (0 bytes)" / "the file is empty"
    "1x1": (encode(frame((0, 0, 0), (1, 1)), "PNG"), "only 1x1 pixels: a grid needs at least 8x8"),
    "bomb 60000x60000": (
        png_bomb(60000, 60000),
        "claims to be 3600 megapixels, too large to open safely (a decompression bomb?)",
    ),
    "over the limit, under Pillow's": (
        png_bomb(11000, 11000),
        "is 11000x11000 (121 megapixels), too large to process safely: use an image under 100 megapixels",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_hostile_upload_is_refused_with_its_own_message(case, tmp_path):
    data, expected = REFUSED[case]
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    for src in (path, data):  # as a file (the app, the CLI) and as bytes
        with pytest.raises(InputError) as e:
            load_image(src)
        msg = str(e.value)
        assert expected in msg
        assert "\n" not in msg


def test_refusal_messages_are_all_different():
    msgs = set()
    for data, _ in REFUSED.values():
        with pytest.raises(InputError) as e:
            load_image(data)
        msgs.add(str(e.value).split(" (")[0])
    assert len(msgs) == len(REFUSED) - 1  # both truncations share "damaged or truncated"


# ------------------------------------------------------------------ odd but usable


def test_16_bit_png_is_scaled_to_8_bit():
    arr = np.zeros((16, 16), np.uint16)
    arr[:, :8], arr[:, 8:] = 65535, 32896  # 32896 = 128.5 / 255 * 65535, rounds to 128
    img = load_image(encode(Image.fromarray(arr), "PNG"))
    assert img.rgb.shape == (16, 16, 3)
    assert img.rgb[0, 0].tolist() == [255, 255, 255] and img.rgb[0, 15].tolist() == [128, 128, 128]


def test_cmyk_jpeg_becomes_rgb():
    cyan = Image.new("CMYK", (32, 32), (255, 0, 0, 0))
    img = load_image(encode(cyan, "JPEG", quality=95))
    r, g, b = img.rgb[16, 16].tolist()
    assert r < 30 and g > 220 and b > 220


def test_palette_png_with_transparency_keeps_its_alpha():
    im = Image.new("P", (32, 32), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 16, 32))  # left half: index 0, the transparent one
    img = load_image(encode(im, "PNG", transparency=0))
    assert img.alpha is not None
    assert img.alpha[0, 0] == 0 and img.alpha[0, 31] == 255
    assert img.rgb[0, 31].tolist() == [255, 0, 0]


def test_la_png_gives_grey_and_alpha():
    la = Image.merge("LA", (Image.new("L", (32, 32), 90), Image.linear_gradient("L").resize((32, 32))))
    img = load_image(encode(la, "PNG"))
    assert img.rgb[5, 5].tolist() == [90, 90, 90]
    assert img.alpha is not None and img.alpha[0, 0] < img.alpha[31, 0]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_grid_uses_the_first_frame_and_says_so(fmt):
    data = encode(
        frame((255, 0, 0)),
        fmt,
        save_all=True,
        append_images=[frame((0, 0, 255))],
        duration=100,
        **({"lossless": True} if fmt == "WEBP" else {}),
    )
    img = load_image(data)
    r, g, b = img.rgb[10, 10].tolist()
    assert r > 200 and b < 50  # the red first frame, not the blue second one
    assert img.notes == ["the image is animated (2 frames): only its first frame is used as the grid"]


def test_exif_rotation_alone_is_not_called_a_downscale():
    im = frame((10, 200, 10), (64, 32))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 on display
    img = load_image(encode(im, "JPEG", exif=exif))
    assert img.size == (32, 64) and img.notes == [] and img.scale == 1.0


@pytest.mark.parametrize("mode", ["P", "I;16", "RGBA"])
def test_big_images_of_any_mode_are_shrunk_by_a_whole_factor(mode):
    base = Image.linear_gradient("L").resize((300, 200))
    im = {
        "P": base.convert("RGB").convert("P"),
        "I;16": Image.fromarray(np.asarray(base).astype(np.uint16) * 257),
        "RGBA": base.convert("RGBA"),
    }[mode]
    img = load_image(encode(im, "PNG"), downscale_pixels=10_000)
    assert img.size == (100, 66) or img.size == (100, 67)
    assert img.scale == 3.0
    assert img.notes == [f"the image is 300x200: downscaled to {img.size[0]}x{img.size[1]} for processing"]
    # the vertical gradient survives: dark at the top, bright at the bottom
    assert img.rgb[1, 50, 0] < 20 and img.rgb[-2, 50, 0] > 235


# ------------------------------------------------------------------ memory, in a fresh process

_MEASURE = """
import json, sys
sys.path.insert(0, sys.argv[2])
from gridanim.images import load_image
from gridanim.errors import InputError
def hwm():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) * 1024
before = hwm()
try:
    img = load_image(sys.argv[1]); out = {"size": list(img.size), "notes": img.notes}
except InputError as e:
    out = {"error": str(e)}
out["extra_bytes"] = hwm() - before
print(json.dumps(out))
"""


def peak_load(path: Path) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(REPO_ROOT)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


pytestmark_linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")


@pytestmark_linux
def test_a_decompression_bomb_costs_no_memory(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(png_bomb(60000, 60000))
    out = peak_load(p)
    assert "decompression bomb" in out["error"]
    assert out["extra_bytes"] < 20 * 2**20


@pytestmark_linux
def test_a_valid_9000x9000_png_is_downscaled_in_bounded_memory(tmp_path):
    p = tmp_path / "huge.png"
    p.write_bytes(smooth_png(9000, 9000))
    assert 9000 * 9000 <= MAX_PIXELS
    out = peak_load(p)
    assert out.get("error") is None
    w, h = out["size"]
    assert (w, h) == (3000, 3000) and w * h <= DOWNSCALE_PIXELS
    assert out["notes"] == ["huge.png is 9000x9000: downscaled to 3000x3000 for processing"]
    # decoding needs ~4 bytes per pixel (324 MB); the shrink must not add another full-size copy
    assert out["extra_bytes"] < 450 * 2**20, out
