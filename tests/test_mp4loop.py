"""encode.mp4loop: repeating an MP4's samples decodes like ffmpeg's own -stream_loop copy."""

from __future__ import annotations

import subprocess

import pytest
from helpers import scene_frames

from gridanim import encode
from gridanim.encode.ffmpeg import ffmpeg_exe
from gridanim.encode.mp4loop import repeat_mp4


def _framemd5(path) -> list[str]:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def _duration(path) -> str:
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return next(line.split(",")[0].split("Duration:")[1].strip() for line in err.splitlines() if "Duration:" in line)


@pytest.mark.parametrize("durations", [100, [100, 200, 100, 300, 100]])  # even, and frames held at a base rate
@pytest.mark.parametrize("times", [2, 3])
def test_repeat_decodes_like_ffmpegs_stream_loop(tmp_path, durations, times):
    once = tmp_path / "once.mp4"
    once.write_bytes(encode.encode_mp4(scene_frames(5, 48, 64), durations, repeat=1))
    ours = tmp_path / "ours.mp4"
    looped = repeat_mp4(once.read_bytes(), times)
    assert looped is not None
    ours.write_bytes(looped)
    ref = tmp_path / "ref.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-stream_loop", str(times - 1), "-i", str(once), "-c", "copy", "-y", str(ref)],
        check=True,
    )
    got, want = _framemd5(ours), _framemd5(ref)
    assert len(got) == times * len(_framemd5(once))
    assert got == want  # same pictures, timestamps and durations
    assert _duration(ours) == _duration(ref)


def test_other_layouts_are_left_to_ffmpeg():
    from gridanim.encode.mp4loop import _boxes

    data = encode.encode_mp4(scene_frames(3, 32, 32), 100, repeat=1)
    assert repeat_mp4(data, 1) == data
    boxes = {kind: data[s:e] for kind, s, _, e in _boxes(data, 0, len(data))}
    assert repeat_mp4(boxes[b"ftyp"] + boxes[b"mdat"] + boxes[b"moov"], 2) is None  # mdat first: not +faststart
    assert repeat_mp4(boxes[b"ftyp"] + boxes[b"moov"], 2) is None  # no samples
    assert repeat_mp4(data[:-7], 2) is None  # truncated
    stbl = data.index(b"stco")
    assert repeat_mp4(data[:stbl] + b"co64" + data[stbl + 4 :], 2) is None  # 64-bit chunk offsets


def test_encoder_output_with_repeats_plays_longer_and_starts_with_the_same_frames(tmp_path):
    frames = scene_frames(4, 40, 56)
    once, twice = tmp_path / "1.mp4", tmp_path / "2.mp4"
    once.write_bytes(encode.encode_mp4(frames, 250, repeat=1))
    twice.write_bytes(encode.encode_mp4(frames, 250, repeat=2))
    a, b = _framemd5(once), _framemd5(twice)
    assert len(b) == 2 * len(a)
    assert [line.split(",")[-1] for line in b] == [line.split(",")[-1] for line in a] * 2
    assert _duration(twice) == "00:00:02.00"
