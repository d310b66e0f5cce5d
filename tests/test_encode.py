"""gridanim.encode: GIF / MP4 / WebP / ZIP bytes, checked by decoding them again."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from helpers import assert_similar, decode_mp4, gif_info, probe, scene_frames

from gridanim import encode
from gridanim.errors import EncodeError, InputError
from gridanim.metrics import ssim

pytest.importorskip("imageio_ffmpeg")

# --------------------------------------------------------------------------- GIF


@pytest.mark.parametrize("quality,tol", [("high", 2.5), ("fast", 4.0)])
def test_gif_round_trip(quality, tol):
    frames = scene_frames(6)
    durations = [120, 130, 120, 130, 120, 90]
    data = encode.encode_gif(frames, durations, quality=quality)
    assert data[:6] == b"GIF89a"
    info = gif_info(data)
    assert len(info["frames"]) == 6
    assert info["durations"] == durations
    assert info["loop"] == 0  # NETSCAPE2.0, forever
    assert info["size"] == (96, 64)
    for k, (got, want) in enumerate(zip(info["frames"], frames)):
        assert_similar(got, want, tol, f"frame {k}")


def test_gif_high_beats_pillow_default_on_a_textured_clip():
    """One imagequant palette + exact remap vs Pillow's per-frame median cut."""
    from PIL import Image

    frames = scene_frames(8, 160, 120, static_background=False, seed=5)
    ours = encode.encode_gif(frames, 100)
    ims = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0, optimize=True)
    naive = buf.getvalue()

    def mean_ssim(data):
        return np.mean([ssim(a, b) for a, b in zip(gif_info(data)["frames"], frames)])

    assert mean_ssim(ours) >= mean_ssim(naive) - 0.002
    assert len(ours) <= 1.1 * len(naive)


def test_gif_unchanged_pixels_become_transparent_and_still_decode_right():
    frames = scene_frames(8, texture=True)  # still, grainy background; one moving disc
    data = encode.encode_gif(frames, 100)
    # same frames without the delta step
    palette = encode.palette_for(frames, 255)
    plain = encode._write_gif(encode.remap_binned(frames, palette), palette, [100] * 8, 0, None)
    assert len(data) < len(plain)
    # transparency changes the bytes, never the picture
    for k, (got, want) in enumerate(zip(gif_info(data)["frames"], gif_info(plain)["frames"])):
        assert (got == want).all(), f"frame {k} composites differently"


def test_delta_frames_only_where_it_pays():
    still = encode.remap_exact(scene_frames(4, texture=True), encode.palette_for(scene_frames(4, texture=True), 255))
    out = encode.delta_frames(still, 255)
    assert (out[0] == still[0]).all()
    for d in out[1:]:
        assert (d == 255).mean() > 0.8  # the still background became transparent
    noisy = [np.random.default_rng(i).integers(0, 8, (64, 96)).astype(np.uint8) for i in range(3)]
    for a, b in zip(encode.delta_frames(noisy, 255), noisy):  # ~1/8 pixels unchanged, scattered
        assert (a == b).all()


def test_gif_is_lossless_when_the_colours_fit():
    """Pixel art and greyscale keep every colour exactly, in one global colour table."""
    rng = np.random.default_rng(2)
    palette = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    frames = [palette[rng.integers(0, 7, (21, 18))] for _ in range(12)]
    data = encode.encode_gif(frames, 100)
    for got, want in zip(gif_info(data)["frames"], frames):
        assert (got == want).all()
    # 12 local 256-colour tables alone would be 9 KB
    assert len(data) < 12 * 21 * 18


def test_gif_fast_remap_never_uses_palette_padding():
    """Pillow pads a short palette to 256 entries; a dark pixel must not land on the padding (= transparent index)."""
    palette = np.array([[200, 200, 200], [250, 120, 120], [120, 250, 120]], np.uint8)
    frame = np.full((8, 8, 3), 2, np.uint8)  # nearer the (0, 0, 0) padding than to any real entry
    (idx,) = encode._remap_pillow([frame], palette)
    assert idx.max() < len(palette)


def test_gif_loop_count_and_rounded_delays():
    frames = scene_frames(3)
    assert gif_info(encode.encode_gif(frames, 100, loop=3))["loop"] == 3
    assert gif_info(encode.encode_gif(frames, 100, loop=None))["loop"] is None
    assert gif_info(encode.encode_gif(frames, [84, 86, 40]))["durations"] == [80, 90, 40]


@pytest.mark.parametrize("flat", [False, True])
def test_gif_keeps_held_frames_as_frames(flat):
    a, b = scene_frames(2)
    if flat:
        a, b = np.full_like(a, 40), np.full_like(b, 200)
    frames = [a, a, a, b, b]
    info = gif_info(encode.encode_gif(frames, [100, 110, 120, 130, 140]))
    assert info["durations"] == [100, 110, 120, 130, 140]  # not merged into 3 frames of 330 ms
    for got, want in zip(info["frames"], frames):
        assert_similar(got, want, 2.5)


def test_gif_single_frame():
    frame = scene_frames(1)[0]
    info = gif_info(encode.encode_gif([frame], 100))
    assert len(info["frames"]) == 1
    assert_similar(info["frames"][0], frame, 2.5)


def test_gif_max_bytes_shrinks_until_it_fits():
    frames = scene_frames(6, 200, 150, static_background=False)
    full = encode.encode_gif(frames, 100)
    limit = len(full) // 3
    data, notes = encode.encode_gif_fit(frames, 100, max_bytes=limit)
    assert len(data) <= limit
    assert notes and "to fit" in notes[0]
    assert len(gif_info(data)["frames"]) == 6
    with pytest.raises(EncodeError, match="cannot fit"):
        encode.encode_gif(frames, 100, max_bytes=200)


@pytest.mark.parametrize(
    "frames,durations,match",
    [
        ([], 100, "no frames"),
        ([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], 100, "same size"),
        ([np.zeros((4, 4), np.uint8)], 100, "RGB"),
        ([np.zeros((4, 4, 3), np.float32)], 100, "uint8"),
        ([np.zeros((4, 4, 3), np.uint8)] * 2, [100], "durations"),
        ([np.zeros((4, 4, 3), np.uint8)], 0, "positive"),
    ],
)
def test_gif_rejects_bad_input(frames, durations, match):
    with pytest.raises(InputError, match=match):
        encode.encode_gif(frames, durations)


# --------------------------------------------------------------------------- MP4


def test_mp4_round_trip(tmp_path):
    frames = scene_frames(6, 101, 61)  # odd sides: must be cropped to even
    data = encode.encode_mp4(frames, 100, repeat=2)
    path = tmp_path / "a.mp4"
    path.write_bytes(data)
    info = probe(path)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["size"] == (100, 60)
    decoded = decode_mp4(path)
    assert len(decoded) == 6 * 2
    for k, got in enumerate(decoded):
        assert_similar(got, frames[k % 6][:60, :100], 6.0, f"mp4 frame {k}")
    assert data[4:8] == b"ftyp"
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart


def test_mp4_uneven_delays_repeat_frames(tmp_path):
    frames = scene_frames(3, 64, 48)
    fps, counts = encode.mp4_schedule([100, 200, 100])
    assert fps == 10 and counts == [1, 2, 1]
    path = tmp_path / "b.mp4"
    path.write_bytes(encode.encode_mp4(frames, [100, 200, 100], repeat=1))
    decoded = decode_mp4(path)
    assert len(decoded) == 4
    assert_similar(decoded[2], frames[1], 6.0, "held frame")
    assert "10 fps" in probe(path)["line"]


def test_mp4_schedule_treats_gif_rounding_as_one_rate():
    fps, counts = encode.mp4_schedule([130, 120] * 6)
    assert fps == pytest.approx(8.0) and counts == [1] * 12


def test_mp4_auto_repeat_reaches_three_seconds(tmp_path):
    assert encode.auto_repeat([125] * 12) == 2  # 1.5 s loop
    assert encode.auto_repeat([100] * 40) == 1
    path = tmp_path / "c.mp4"
    path.write_bytes(encode.encode_mp4(scene_frames(4, 32, 32), 250, repeat=0))  # 1 s loop -> 3 plays
    assert len(decode_mp4(path)) == 12


def test_start_mp4_runs_in_background():
    job = encode.start_mp4(scene_frames(4, 32, 32), fps=4)
    gif = encode.encode_gif(scene_frames(4, 32, 32), 250)  # other work meanwhile
    data = job.result()
    assert data[4:8] == b"ftyp" and gif[:3] == b"GIF"


def test_mp4_ffmpeg_failure_is_an_encode_error(monkeypatch, tmp_path):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'Unknown encoder libx264' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    with pytest.raises(EncodeError, match="ffmpeg failed.*Unknown encoder"):
        encode.encode_mp4(scene_frames(2, 32, 32), 100)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "missing"))
    with pytest.raises(EncodeError, match="could not start ffmpeg"):
        encode.encode_mp4(scene_frames(2, 32, 32), 100)


# --------------------------------------------------------------------------- WebP / ZIP


def test_webp_round_trip():
    from PIL import Image

    frames = scene_frames(4)
    data = encode.encode_webp(frames, [100, 150, 100, 150], quality=90)
    im = Image.open(io.BytesIO(data))
    assert im.format == "WEBP" and im.n_frames == 4
    assert im.info.get("loop") == 0
    durations = []
    for k in range(4):
        im.seek(k)
        im.load()  # Pillow fills in the frame's duration on load
        durations.append(im.info["duration"])
        assert_similar(np.asarray(im.convert("RGB")), frames[k], 4.0, f"webp frame {k}")
    assert durations == [100, 150, 100, 150]


def test_zip_holds_one_lossless_png_per_frame():
    from PIL import Image

    frames = scene_frames(3)
    z = zipfile.ZipFile(io.BytesIO(encode.encode_zip(frames)))
    assert z.namelist() == ["frame_001.png", "frame_002.png", "frame_003.png"]
    for name, f in zip(z.namelist(), frames):
        assert (np.asarray(Image.open(io.BytesIO(z.read(name))).convert("RGB")) == f).all()
