"""MP4 (H.264) through ffmpeg (the imageio-ffmpeg binary) in a subprocess fed from a thread.

:func:`start_mp4` returns at once so the encode overlaps GIF work; x264 encodes the loop once and repeats copy
its samples (:mod:`.mp4loop`). MP4 is constant frame rate: uneven delays are rendered by repeating frames at a base rate
(:func:`mp4_schedule`).
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import EncodeError, InputError
from ..types import Frame
from .common import _check_durations, check_frames

MP4_MIN_SECONDS = 3.0


# x264 "ultrafast" with its deblocking filter turned back on, at CRF 17: on
# AI, photo, pixel-art and bench grids SSIM matched or beat "veryfast" at CRF 20
# in much less encode time, for files about twice as big: an MP4 is still a
# fraction of the GIF.
MP4_PRESET = "ultrafast"


MP4_CRF = 17


# RGB -> BT.709 limited-range yuv420p, tagged as such. The -color_* output
# options alone left primaries and transfer "unknown" (ffmpeg 9 takes them
# from the frames), so the filter chain sets them on the frames too.
_VF = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)


MP4_MAX_FPS = 60.0


def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary: $IMAGEIO_FFMPEG_EXE, imageio-ffmpeg's bundled one, or ffmpeg on PATH.

    The bundled binary is located without running it (imageio-ffmpeg's own
    lookup runs ``ffmpeg -version``, which costs ~0.15 s per process).
    """
    env = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if env:
        return env
    import importlib.util

    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is not None and spec.origin:
        bindir = Path(spec.origin).parent / "binaries"
        if bindir.is_dir():
            for p in sorted(bindir.iterdir()):
                if p.name.startswith("ffmpeg") and p.is_file() and os.access(p, os.X_OK):
                    return str(p)
        try:
            import imageio_ffmpeg

            return imageio_ffmpeg.get_ffmpeg_exe()
        except Exception:
            pass
    import shutil

    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    raise EncodeError("ffmpeg was not found: pip install imageio-ffmpeg, or install ffmpeg and put it on PATH")


def auto_repeat(durations_ms: Sequence[int], min_seconds: float = MP4_MIN_SECONDS, cap: int = 20) -> int:
    """How many times to play a loop so the MP4 lasts at least ``min_seconds``."""
    total = sum(durations_ms) / 1000.0
    if total <= 0:
        return 1
    return int(min(cap, max(1, math.ceil(min_seconds / total - 1e-9))))


def mp4_schedule(durations_ms: Sequence[int]) -> tuple[float, list[int]]:
    """(frame rate, how many times to write each frame) for a constant-rate MP4.

    Equal delays -> one output frame each at 1000/delay fps. Delays that only
    differ by GIF rounding (e.g. 120/130 ms for 8 fps) -> one each at the
    average rate. Otherwise the rate is 1000/gcd(delays) (capped at 60 fps)
    and frames are repeated so every frame starts within half a tick of its
    time.
    """
    d = [int(x) for x in durations_ms]
    if max(d) - min(d) <= 10:
        return 1000.0 * len(d) / sum(d), [1] * len(d)
    g = 0
    for x in d:
        g = math.gcd(g, x)
    fps = min(MP4_MAX_FPS, 1000.0 / g)
    counts, prev, t = [], 0, 0.0
    for x in d:
        t += x
        edge = max(prev + 1, int(round(t * fps / 1000.0)))
        counts.append(edge - prev)
        prev = edge
    return fps, counts


class Mp4Job:
    """An MP4 encode running in the background; :meth:`result` returns the bytes.

    x264 encodes the loop once; ``repeat`` > 1 is then a stream copy with
    ``-stream_loop``, or, for the layout ffmpeg writes here, samples copied in Python (:mod:`.mp4loop`,
    without that second process). One thread
    feeds the frames, waits for ffmpeg and runs the copy, so all of it overlaps
    the caller's GIF work. Its waits block in ``waitpid``: ``Popen.wait`` with
    a timeout polls with sleeps growing to 50 ms, measured at +15 ms a wait.
    """

    def __init__(self, frames: Sequence[Frame], counts: Sequence[int], fps: float, repeat: int, crf: int, preset: str):
        h, w = frames[0].shape[:2]
        self._w, self._h = w - w % 2, h - h % 2
        if self._w < 2 or self._h < 2:
            raise InputError(f"frames of {w}x{h} are too small for MP4")
        self._tmp = tempfile.TemporaryDirectory(prefix="gridanim-mp4-")
        self._out = os.path.join(self._tmp.name, "out.mp4")
        self._once = self._out if repeat <= 1 else os.path.join(self._tmp.name, "once.mp4")
        self._err = open(os.path.join(self._tmp.name, "ffmpeg.log"), "w+b")
        rate = f"{fps:.6f}".rstrip("0").rstrip(".")
        self._exe = ffmpeg_exe()
        cmd = [
            self._exe, "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{self._w}x{self._h}", "-framerate", rate, "-i", "pipe:0",
            "-an", "-filter_threads", "1", "-vf", _VF,
            "-c:v", "libx264", "-threads", "1", "-preset", preset, "-bf", "0", "-crf", str(crf), "-x264-params", "deblock=0,0",
            "-pix_fmt", "yuv420p",
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
            "-movflags", "+faststart", "-f", "mp4", "-y", self._once,
        ]  # fmt: skip
        self._cmd = cmd
        self._frames = list(frames)  # cropped to even sides by the thread, as it feeds them
        self._counts = list(counts)
        self._repeat = repeat
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()  # guards _procs and _stopped between the thread and cancel()
        self._stopped = False
        self._ok = False
        self._rc: int | None = None
        self._start_error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="gridanim-mp4", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # ffmpeg is started here, not by the caller: the fork and the wait for the child's exec then
        # overlap the caller's work too
        with self._lock:
            if self._stopped:
                return
            try:
                proc = subprocess.Popen(self._cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._err)
            except OSError as e:
                self._start_error = e
                return
            self._procs.append(proc)
        wrote = True
        try:
            stdin = proc.stdin
            assert stdin is not None
            for f, c in zip(self._frames, self._counts, strict=False):
                buf = memoryview(np.ascontiguousarray(f[: self._h, : self._w])).cast("B")
                for _ in range(c):
                    stdin.write(buf)
            stdin.close()
        except (BrokenPipeError, OSError, ValueError):  # ffmpeg died: result() reports its stderr
            wrote = False
        self._rc = proc.wait()
        if self._rc != 0 or not wrote or not os.path.exists(self._once):
            return
        if self._once != self._out and self._repeat_in_python():
            self._ok = True
            return
        if self._once != self._out:
            cmd = [
                self._exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-stream_loop", str(self._repeat - 1),
                "-i", self._once, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-y", self._out,
            ]  # fmt: skip
            with self._lock:
                if self._stopped:
                    return
                try:
                    copy = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._err)
                except OSError:
                    return
                self._procs.append(copy)
            self._rc = copy.wait()
            if self._rc != 0 or not os.path.exists(self._out):
                return
        self._ok = True

    def _repeat_in_python(self) -> bool:
        """Write the repeats by copying samples (:mod:`.mp4loop`); False leaves them to ``ffmpeg -stream_loop``."""
        from .mp4loop import repeat_mp4

        try:
            with open(self._once, "rb") as fh:
                looped = repeat_mp4(fh.read(), self._repeat)
            if looped is None:
                return False
            with open(self._out, "wb") as fh:
                fh.write(looped)
        except OSError:
            return False
        return True

    def result(self, timeout: float | None = 300) -> bytes:
        """Wait for ffmpeg and return the MP4 bytes (raises :class:`EncodeError`)."""
        try:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._stop()
                raise EncodeError(f"ffmpeg took longer than {timeout:g} s: try fewer frames or a smaller --max-size")
            if self._start_error is not None:
                raise EncodeError(
                    f"could not start ffmpeg ({self._start_error}): pip install imageio-ffmpeg or set IMAGEIO_FFMPEG_EXE"
                ) from None
            if not self._ok:
                self._fail(self._rc)
            with open(self._out, "rb") as fh:
                return fh.read()
        finally:
            self._cleanup()

    def _fail(self, rc) -> None:
        self._err.seek(0)
        msg = " ".join(self._err.read().decode("utf-8", "replace").split())[-300:] or f"exit code {rc}"
        raise EncodeError(f"ffmpeg failed to write the MP4 ({msg}): check the frames, or skip --mp4")

    def _stop(self) -> None:
        """Kill whichever ffmpeg is running and wait for the thread to notice."""
        with self._lock:
            self._stopped = True
            for p in self._procs:
                if p.poll() is None:
                    p.kill()
        self._thread.join(5)

    def cancel(self) -> None:
        """Stop ffmpeg and discard the output."""
        try:
            self._stop()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        try:
            self._err.close()
        except Exception:
            pass
        self._tmp.cleanup()


def start_mp4(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int | None = None,
    *,
    fps: float | None = None,
    repeat: int = 1,
    crf: int = MP4_CRF,
    preset: str = MP4_PRESET,
) -> Mp4Job:
    """Start an H.264 MP4 encode in the background (ffmpeg subprocess); call ``.result()``.

    Give ``durations_ms`` (per frame, or one for all) or ``fps``. The video is
    ``yuv420p``, BT.709, ``+faststart``, cropped by one pixel where a side is
    odd; ``repeat`` plays the sequence that many times (0 = enough for 3 s).
    The frames are read while the encode runs: do not change them before ``.result()``.
    """
    check_frames(frames)
    if durations_ms is None:
        if fps is None or not math.isfinite(fps) or fps <= 0:
            raise InputError(f"MP4 needs a positive fps or per-frame durations, got fps={fps}")
        rate, counts = float(fps), [1] * len(frames)
        durations = [1000.0 / fps] * len(frames)
    else:
        durations = _check_durations(durations_ms, len(frames))
        rate, counts = mp4_schedule(durations)
    if repeat is None or repeat == 0:
        repeat = auto_repeat(durations)
    if repeat < 0:
        raise InputError(f"--mp4-repeat must be 0 (auto) or more, got {repeat}")
    return Mp4Job(frames, counts, rate, int(repeat), crf, preset)


def encode_mp4(
    frames: Sequence[Frame],
    durations_ms: Sequence[int] | int | None = None,
    *,
    fps: float | None = None,
    repeat: int = 1,
    crf: int = MP4_CRF,
    preset: str = MP4_PRESET,
) -> bytes:
    """Encode an H.264 MP4 and return its bytes (see :func:`start_mp4`)."""
    return start_mp4(frames, durations_ms, fps=fps, repeat=repeat, crf=crf, preset=preset).result()
