"""The animation's options: one frozen record, every rule checked once, here.

:meth:`AnimateOptions.validate` raises :class:`~gridanim.errors.OptionError`, which names the field; the CLI
words it as its flag (:data:`CLI_NAMES`) and the app as its label, so nobody sees the other's vocabulary.
The stages in :mod:`gridanim.frames` and :mod:`gridanim.encode` trust validated options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from .errors import OptionError

MAX_SCALE = 16
MAX_SMOOTH = 8
MAX_FPS = 50  # generated grids: GIF shows no frame under 20 ms (faster rates are clamped there with a warning)
INBETWEEN_METHODS = ("flow", "blend")


@dataclass(frozen=True)
class AnimateOptions:
    """Everything :func:`gridanim.animate.animate` and ``render`` can be asked; the CLI flags mirror the fields."""

    rows: int | None = None
    cols: int | None = None
    inset: int = 0  # pixels trimmed from every side of every frame
    fps: float = 8.0
    frame_ms: int | None = None  # per-frame delay; wins over fps
    order: str = "forward"  # forward | reverse | pingpong | "1-4,6,8"
    drop: str = ""  # frame list removed before ordering
    stabilize: bool = False
    smooth: int = 0  # in-betweens per pair (loop length kept)
    inbetween: str = "flow"  # how in-betweens are made: flow (optical flow) | blend (cross-fade)
    hold: str = ""  # "FRAME:MS,..." grid frames (1-based) shown longer
    loop: int = 0  # GIF loop count: 0 = forever
    max_size: int | None = None  # longest side of the output frames
    gif_quality: str = "high"  # high | fast
    gif_max_bytes: int | None = None
    mp4_repeat: int = 0  # times the loop plays in the MP4; 0 = enough for 3 s
    uniform_delays: bool = False  # same rounded delay for every frame instead of spreading rounding
    background: tuple[int, int, int] = (255, 255, 255)  # under the MP4 (the only output without alpha)
    transparent: bool = False  # key the background (flat, green/magenta screen, fake checker) out to alpha
    matte: tuple[int, int, int] | None = None  # GIF: blend semi-transparent edges onto this colour
    scale: int | None = 1  # nearest-neighbour upscale of GIF/WebP/APNG/MP4; None = auto for small pixel art

    def validate(self) -> None:
        """Raise :class:`InputError` for values no image could make sense of."""
        for name in ("rows", "cols"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v <= 0):
                raise OptionError(name, f"{{name}} must be a positive whole number, got {v}")
        if self.frame_ms is None and (self.fps is None or not math.isfinite(self.fps) or self.fps <= 0):
            raise OptionError("fps", f"{{name}} must be a positive number, got {self.fps}")
        if self.frame_ms is not None and (not math.isfinite(self.frame_ms) or self.frame_ms <= 0):
            raise OptionError("frame_ms", f"{{name}} must be a positive number of milliseconds, got {self.frame_ms}")
        if self.inset < 0:
            raise OptionError("inset", f"{{name}} must be 0 or more, got {self.inset}")
        if self.smooth < 0 or self.smooth > MAX_SMOOTH:
            raise OptionError("smooth", f"{{name}} must be between 0 and {MAX_SMOOTH}, got {self.smooth}")
        if self.inbetween not in INBETWEEN_METHODS:
            raise OptionError("inbetween", f"{{name}} must be flow or blend, got {self.inbetween!r}")
        if not 0 <= self.loop <= 65535:
            raise OptionError("loop", f"{{name}} must be between 0 (forever) and 65535, got {self.loop}")
        if self.max_size is not None and self.max_size < 8:
            raise OptionError("max_size", f"{{name}} must be at least 8 pixels, got {self.max_size}")
        if self.gif_quality not in ("high", "fast"):
            raise OptionError("gif_quality", f"{{name}} must be high or fast, got {self.gif_quality!r}")
        if self.gif_max_bytes is not None and self.gif_max_bytes <= 0:
            raise OptionError("gif_max_bytes", f"{{name}} must be positive, got {self.gif_max_bytes / 1024:g}")
        if self.mp4_repeat < 0:
            raise OptionError("mp4_repeat", f"{{name}} must be 0 (auto) or more, got {self.mp4_repeat}")
        if len(self.background) != 3 or any(not 0 <= int(c) <= 255 for c in self.background):
            raise OptionError("background", f"{{name}} must be three values 0-255, got {self.background}")
        if self.matte is not None and (len(self.matte) != 3 or any(not 0 <= int(c) <= 255 for c in self.matte)):
            raise OptionError("matte", f"{{name}} must be a colour like #ffffff or 255,255,255, got {self.matte}")
        if self.scale is not None and (not isinstance(self.scale, int) or not 1 <= self.scale <= MAX_SCALE):
            raise OptionError("scale", f"{{name}} must be a whole number from 1 to {MAX_SCALE}, got {self.scale}")


def cli_name(field: str) -> str:
    return {"gif_max_bytes": "--gif-max-kb"}.get(field, "--" + field.replace("_", "-"))


CLI_NAMES = {f.name: cli_name(f.name) for f in fields(AnimateOptions)}
"""Option field -> the CLI flag that sets it."""
