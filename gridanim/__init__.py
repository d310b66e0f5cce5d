"""gridanim: turn a grid of panels into a clean looping GIF and MP4."""

__version__ = "0.1.0"
