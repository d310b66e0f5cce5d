"""gridanim.encode: GIF / MP4 / WebP / ZIP bytes, checked by decoding them again."""

from __future__ import annotations

import io
import itertools
import subprocess
import zipfile

import numpy as np
import pytest
from helpers import assert_similar, decode_mp4, gif_info, probe, scene_frames

from bench.metrics import ssim
from gridanim import encode
from gridanim.errors import EncodeError, InputError

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
    for k, (got, want) in enumerate(zip(info["frames"], frames, strict=False)):
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
        return np.mean([ssim(a, b) for a, b in zip(gif_info(data)["frames"], frames, strict=False)])

    assert mean_ssim(ours) >= mean_ssim(naive) - 0.002
    assert len(ours) <= 1.1 * len(naive)


def test_gif_unchanged_pixels_become_transparent_and_still_decode_right(monkeypatch):
    frames = scene_frames(8, texture=True)  # still, grainy background; one moving disc
    data = encode.encode_gif(frames, 100)
    # same frames, same palette, without the delta step
    monkeypatch.setattr(encode.gif, "delta_frames", lambda indexed, transparent: list(indexed))
    plain = encode.encode_gif(frames, 100)
    assert len(data) < len(plain)
    # transparency changes the bytes, never the picture
    for k, (got, want) in enumerate(zip(gif_info(data)["frames"], gif_info(plain)["frames"], strict=False)):
        assert (got == want).all(), f"frame {k} composites differently"


def test_delta_frames_only_where_it_pays():
    still = encode.remap_exact(scene_frames(4, texture=True), encode.palette_for(scene_frames(4, texture=True), 255))
    out = encode.delta_frames(still, 255)
    assert (out[0] == still[0]).all()
    for d in out[1:]:
        assert (d == 255).mean() > 0.8  # the still background became transparent
    noisy = [np.random.default_rng(i).integers(0, 8, (64, 96)).astype(np.uint8) for i in range(3)]
    for a, b in zip(encode.delta_frames(noisy, 255), noisy, strict=False):  # ~1/8 pixels unchanged, scattered
        assert (a == b).all()


def test_gif_is_lossless_when_the_colours_fit():
    """Pixel art and greyscale keep every colour exactly, in one global colour table."""
    rng = np.random.default_rng(2)
    palette = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    frames = [palette[rng.integers(0, 7, (21, 18))] for _ in range(12)]
    data = encode.encode_gif(frames, 100)
    for got, want in zip(gif_info(data)["frames"], frames, strict=False):
        assert (got == want).all()
    # 12 local 256-colour tables alone would be 9 KB
    assert len(data) < 12 * 21 * 18


def test_gif_fast_remap_never_uses_palette_padding():
    """Pillow pads a short palette to 256 entries; a dark pixel must not land on the padding (= transparent index)."""
    palette = np.array([[200, 200, 200], [250, 120, 120], [120, 250, 120]], np.uint8)
    frame = np.full((8, 8, 3), 2, np.uint8)  # nearer the (0, 0, 0) padding than to any real entry
    (idx,) = encode.palette._remap_pillow([frame], palette)
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
    for got, want in zip(info["frames"], frames, strict=False):
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


def gif_blocks(data: bytes) -> dict:
    """Walk a GIF's blocks: global colour table size, and per image its GCE and descriptor."""
    assert data[:6] == b"GIF89a" and data[-1:] == b";"
    flags = data[10]
    table = 2 << (flags & 7) if flags & 0x80 else 0  # 2 ** (N + 1) entries
    out: dict = {"table": table, "gce": [], "images": []}
    pos = 13 + 3 * table

    def skip_sub_blocks(pos: int) -> tuple[bytes, int]:
        body = b""
        while data[pos]:
            body += data[pos + 1 : pos + 1 + data[pos]]
            pos += 1 + data[pos]
        return body, pos + 1

    while data[pos] != 0x3B:
        if data[pos] == 0x21:  # extension: label, then sub-blocks
            label = data[pos + 1]
            body, pos = skip_sub_blocks(pos + 2)
            if label == 0xF9:  # graphic control: (disposal, has transparency, delay cs, index)
                out["gce"].append(((body[0] >> 2) & 7, body[0] & 1, int.from_bytes(body[1:3], "little"), body[3]))
        elif data[pos] == 0x2C:  # image: x, y, w, h, flags, [local colour table], LZW minimum code size, data
            x, y, w, h = (int.from_bytes(data[pos + 1 + 2 * i : pos + 3 + 2 * i], "little") for i in range(4))
            assert data[pos + 9] & 0x78 == 0, "not interlaced, no sort flag"
            local = 2 << (data[pos + 9] & 7) if data[pos + 9] & 0x80 else 0
            pos += 3 * local
            code_bits = data[pos + 10]
            _, pos = skip_sub_blocks(pos + 11)
            out["images"].append((x, y, w, h, code_bits, local))
        else:
            raise AssertionError(f"unexpected GIF block {data[pos]:#x} at byte {pos}")
    assert pos == len(data) - 1, "bytes after the trailer"
    assert len(out["gce"]) == len(out["images"]), "one graphic control extension per image"
    return out


def _changed_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the pixels that differ, or the 1x1 box a held frame is written as."""
    ys, xs = np.nonzero(a != b)
    if len(ys) == 0:
        return (0, 0, 1, 1)
    return (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def _index_clips() -> dict:
    """Index frames into a palette, as the GIF pipeline hands them to the writer."""
    rng = np.random.default_rng(7)
    h, w = 40, 56

    def square(bg: np.ndarray, x: int, colour: int) -> np.ndarray:
        a = bg.copy()
        a[10:22, x : x + 12] = colour
        return a

    flat = np.full((h, w), 3, np.uint8)
    noisy = rng.integers(0, 200, (h, w)).astype(np.uint8)
    corner = noisy.copy()
    corner[-1, -1] = 250
    pal256 = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    pal255 = pal256[:255]
    two = np.array([[10, 20, 30], [240, 230, 220]], np.uint8)
    art = (rng.integers(0, 2, (h // 4, w // 4)).repeat(4, 0).repeat(4, 1)).astype(np.uint8)
    art2 = art.copy()
    art2[8:16, 20:28] ^= 1
    return {
        # moving square, then held, then one corner pixel: flat and noisy backgrounds
        "flat": (pal255, [square(flat, x, 9) for x in (0, 6, 12)] + [square(flat, 12, 9), square(flat, 12, 9)]),
        "noisy": (
            pal255,
            [square(noisy, x, 201) for x in (2, 9, 30)] + [square(noisy, 30, 201)] + [square(corner, 30, 201)],
        ),
        "corner only": (pal255, [noisy, noisy, corner]),
        "single frame": (pal255, [noisy]),
        "two colours": (two, [art, art2, art2, art]),
        "256 colours": (pal256, [rng.integers(0, 256, (h, w)).astype(np.uint8)] * 2 + [np.full((h, w), 255, np.uint8)]),
    }


@pytest.mark.parametrize("name", list(_index_clips()))
@pytest.mark.parametrize("loop", [0, 3, None])
def test_write_gif_decodes_to_exactly_the_frames(name, loop):
    palette, indexed = _index_clips()[name]
    durations = [40 + 10 * k for k in range(len(indexed))]
    transparent = None
    written = indexed
    if len(indexed) > 1 and len(palette) < 256:  # as _gif_once does
        transparent = len(palette)
        written = encode.delta_frames(indexed, transparent)
    data = encode.gif._write_gif(written, palette, durations, loop, transparent)

    info = gif_info(data)
    assert info["size"] == (indexed[0].shape[1], indexed[0].shape[0])
    assert info["loop"] == loop
    assert info["durations"] == durations
    assert len(info["frames"]) == len(indexed)
    for k, (got, idx) in enumerate(zip(info["frames"], indexed, strict=False)):
        assert (got == palette[idx]).all(), f"frame {k}: {(got != palette[idx]).any(axis=2).sum()} pixels wrong"

    blocks = gif_blocks(data)
    ncol = len(palette) + (transparent is not None)
    assert blocks["table"] >= ncol and (blocks["table"] == 2 or blocks["table"] // 2 < ncol)  # smallest power of two
    # frame 0 whole, then only the box that changed (1x1 for a held frame)
    boxes = [(0, 0, indexed[0].shape[1], indexed[0].shape[0])] + [
        _changed_box(a, b) for a, b in itertools.pairwise(indexed)
    ]
    assert [im[:4] for im in blocks["images"]] == boxes
    assert {im[4] for im in blocks["images"]} == {max(2, (blocks["table"] - 1).bit_length())}
    assert {im[5] for im in blocks["images"]} == {0}  # no local colour tables
    assert blocks["gce"] == [(1, int(transparent is not None), d // 10, transparent or 0) for d in durations]


def _hue_clip(n: int = 6, w: int = 96, h: int = 64) -> list[np.ndarray]:
    """Textured frames whose colours differ from frame to frame (the light or the hue changes)."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for k in range(n):
        ang = 2 * np.pi * k / n
        base = np.array([np.cos(ang), np.cos(ang - 2.1), np.cos(ang + 2.1)], np.float32) * 90 + 128
        f = base + (xx / w - 0.5)[..., None] * 60 + (yy / h - 0.5)[..., None] * np.array([40, -30, 20], np.float32)
        f += rng.normal(0, 4, f.shape)
        out.append(np.clip(f + 0.5, 0, 255).astype(np.uint8))
    return out


def test_gif_gives_frames_with_their_own_colours_their_own_palette():
    frames = _hue_clip()
    data = encode.encode_gif(frames, 100)
    blocks = gif_blocks(data)
    assert sum(im[5] > 0 for im in blocks["images"]) >= len(frames) - 1  # local colour tables
    # ... which beat one palette for all frames on every frame
    palette = encode.palette_for(frames, 255)
    one = encode.gif._write_gif(encode.remap_binned(frames, palette), palette, [100] * len(frames), 0, None)
    for k, (got, single, want) in enumerate(
        zip(gif_info(data)["frames"], gif_info(one)["frames"], frames, strict=True)
    ):
        assert ssim(got, want) > ssim(single, want) + 0.005, f"frame {k}"
        assert_similar(got, want, 3.0, f"frame {k}")


def _drawn_clip(n: int = 6, w: int = 120, h: int = 90) -> list[np.ndarray]:
    """Clean drawn panels: soft gradients in few colours (~1k in all), a hue per frame, no grain."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for k in range(n):
        ang = 2 * np.pi * k / n
        base = np.array([np.cos(ang), np.cos(ang - 2.1), np.cos(ang + 2.1)], np.float32) * 70 + 128
        f = base + (xx / w - 0.5)[..., None] * np.array([90, 60, -40], np.float32) + ((yy / h - 0.5) * 50)[..., None]
        d = np.hypot(xx - w * (0.3 + 0.07 * k), yy - h / 2)
        f[d < h * 0.25] = (250, 235, 210)
        out.append((np.clip(f, 0, 255).astype(np.uint8) // 3) * 3)  # a drawn palette: steps of 3
    return out


def test_gif_clean_drawn_art_is_at_least_as_faithful_as_pillows_per_frame_palettes():
    from PIL import Image

    frames = _drawn_clip()
    _, occ = encode.distinct_colors(frames)
    assert 255 < len(occ) <= encode.EXACT_COLORS  # more colours than one palette holds, few in all
    ours = encode.encode_gif(frames, 100)
    ims = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0, optimize=True)
    naive = buf.getvalue()

    def mean_ssim(data):
        return np.mean([ssim(a, b) for a, b in zip(gif_info(data)["frames"], frames, strict=True)])

    assert mean_ssim(ours) >= mean_ssim(naive)
    assert len(ours) <= 1.1 * len(naive)


def test_gif_keeps_one_palette_when_the_frames_share_their_colours():
    frames = scene_frames(8, 160, 120, static_background=False, seed=5)
    palette = encode.palette_for(frames, 255)
    indexed = encode.remap_binned(frames, palette)
    out, local = encode.local_palettes(frames, indexed, palette, 255)
    assert local is None and all((a == b).all() for a, b in zip(out, indexed, strict=True))
    assert {im[5] for im in gif_blocks(encode.encode_gif(frames, 100))["images"]} == {0}


@pytest.mark.parametrize("own", [[0, 1], [1], [0, 2, 3]])
def test_write_gif_with_local_tables_decodes_exactly(own):
    """Frames with their own colour table, mixed with global ones, next to deltas and held frames."""
    rng = np.random.default_rng(4)
    h, w = 24, 40
    glob = rng.integers(0, 256, (200, 3)).astype(np.uint8)
    tables = [rng.integers(0, 256, (int(rng.integers(3, 200)), 3)).astype(np.uint8) for _ in range(4)]
    indexed, local = [], []
    base = rng.integers(0, 200, (h, w)).astype(np.uint8)
    for k in range(4):
        if k in own:
            indexed.append(rng.integers(0, len(tables[k]), (h, w)).astype(np.uint8))
            local.append(tables[k])
        else:
            a = base.copy()
            a[4:10, 3 * k : 3 * k + 8] = 199
            indexed.append(a)
            local.append(None)
    transparent = len(glob)
    written = encode.delta_frames(indexed, transparent)
    keep = [p is None and (k == 0 or local[k - 1] is None) for k, p in enumerate(local)]  # as _gif_once does
    written = [a if ok else whole for a, whole, ok in zip(written, indexed, keep, strict=True)]
    data = encode.gif._write_gif(written, glob, [100] * 4, 0, transparent, local=local)
    frames = gif_info(data)["frames"]
    for k, (got, idx, p) in enumerate(zip(frames, indexed, local, strict=True)):
        want = (glob if p is None else p)[idx]
        assert (got == want).all(), f"frame {k}: {(got != want).any(axis=2).sum()} pixels wrong"
    blocks = gif_blocks(data)
    assert [im[5] > 0 for im in blocks["images"]] == [p is not None for p in local]
    for k, im in enumerate(blocks["images"]):
        if local[k] is not None or (k > 0 and local[k - 1] is not None):
            assert im[:4] == (0, 0, w, h), f"frame {k} is written whole"


def test_gif_pixel_art_round_trips_exactly_with_held_and_corner_frames():
    """Through encode_gif: lossless colours, held frame kept, one-pixel change cropped to one pixel."""
    rng = np.random.default_rng(3)
    colours = rng.integers(0, 256, (5, 3), dtype=np.uint8)
    base = colours[rng.integers(0, 4, (30, 44))]
    moved = base.copy()
    moved[5:12, 9:15] = colours[4]
    corner = moved.copy()
    corner[0, -1] = colours[4] if (corner[0, -1] != colours[4]).any() else colours[0]
    frames = [base, moved, moved, corner]
    for loop in (0, 3, None):
        data = encode.encode_gif(frames, [100, 90, 200, 50], loop=loop)
        info = gif_info(data)
        assert info["loop"] == loop and info["durations"] == [100, 90, 200, 50]
        assert len(info["frames"]) == 4
        for k, (got, want) in enumerate(zip(info["frames"], frames, strict=False)):
            assert (got == want).all(), f"frame {k}"
    blocks = gif_blocks(data)
    assert blocks["table"] == 8  # 5 colours + the transparent index
    assert [im[:4] for im in blocks["images"]] == [(0, 0, 44, 30), (9, 5, 6, 7), (0, 0, 1, 1), (43, 0, 1, 1)]
    assert {im[4] for im in blocks["images"]} == {3}  # LZW codes sized to the table, not 8 bits


@pytest.mark.parametrize("clip", ["flat", "own colours"])
def test_gif_decodes_the_same_in_ffmpeg(tmp_path, clip):
    if clip == "flat":  # lossless: ffmpeg must show exactly the frames
        palette, indexed = _index_clips()["flat"]
        frames = [palette[a] for a in indexed]
        data = encode.encode_gif(frames, 100)
    else:  # local colour tables: ffmpeg must show what Pillow shows
        data = encode.encode_gif(_hue_clip(), 100)
        frames = gif_info(data)["frames"]
    path = tmp_path / "a.gif"
    path.write_bytes(data)
    r = subprocess.run(
        [
            encode.ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=False,
    )
    assert r.returncode == 0 and not r.stderr, r.stderr.decode(errors="replace")
    h, w = frames[0].shape[:2]
    got = np.frombuffer(r.stdout, np.uint8).reshape(-1, h, w, 3)
    assert len(got) == len(frames)
    for k, (g, want) in enumerate(zip(got, frames, strict=False)):
        assert (g == want).all(), f"frame {k}"


# --------------------------------------------------------------------------- MP4


def test_mp4_round_trip(tmp_path):
    frames = scene_frames(6, 101, 61)  # odd sides: must be cropped to even
    data = encode.encode_mp4(frames, 100, repeat=2)
    path = tmp_path / "a.mp4"
    path.write_bytes(data)
    info = probe(path)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert "yuv420p(tv, bt709," in info["line"]  # limited range, BT.709 matrix, primaries and transfer all tagged
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


def test_mp4_repeats_are_made_in_the_background_without_a_second_ffmpeg(tmp_path):
    # the repeats are written in the job's thread, not in result(), by copying samples
    frames = scene_frames(6, 64, 48)
    job = encode.start_mp4(frames, 100, repeat=3)
    job._thread.join(60)
    assert not job._thread.is_alive() and job._ok and len(job._procs) == 1
    out = tmp_path / "r.mp4"
    out.write_bytes(job.result())
    assert len(decode_mp4(out)) == 18


def test_mp4_repeats_fall_back_to_ffmpegs_stream_copy(monkeypatch, tmp_path):
    import gridanim.encode.mp4loop as mp4loop

    monkeypatch.setattr(mp4loop, "repeat_mp4", lambda data, times: None)  # a layout it does not handle
    job = encode.start_mp4(scene_frames(6, 64, 48), 100, repeat=3)
    job._thread.join(60)
    assert job._ok and len(job._procs) == 2 and all(p.returncode == 0 for p in job._procs)
    out = tmp_path / "r.mp4"
    out.write_bytes(job.result())
    assert len(decode_mp4(out)) == 18


def test_mp4_timeout_kills_ffmpeg_and_says_so():
    job = encode.start_mp4(scene_frames(24, 640, 480), 100, repeat=3)
    with pytest.raises(EncodeError, match="longer than"):
        job.result(timeout=0.001)
    assert not job._thread.is_alive()
    assert all(p.poll() is not None for p in job._procs)


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
    for name, f in zip(z.namelist(), frames, strict=False):
        assert (np.asarray(Image.open(io.BytesIO(z.read(name))).convert("RGB")) == f).all()
