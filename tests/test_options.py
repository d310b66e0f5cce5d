"""Animation options: one frozen record, every rule checked once, worded per audience."""

from __future__ import annotations

import dataclasses

import pytest

from gridanim.errors import InputError, OptionError
from gridanim.hosting.webform import OPTION_LABELS
from gridanim.options import CLI_NAMES, AnimateOptions


def test_options_are_frozen():
    opts = AnimateOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.fps = 12  # type: ignore[misc]


@pytest.mark.parametrize(
    "field, value, cli, app",
    [
        ("smooth", 9, "--smooth must be between 0 and 8, got 9", "Smoothing must be between 0 and 8, got 9"),
        ("fps", 0, "--fps must be a positive number", "Frames per second must be a positive number"),
        ("max_size", 4, "--max-size must be at least 8 pixels", "Longest side must be at least 8 pixels"),
        ("gif_max_bytes", -1, "--gif-max-kb must be positive", "Fit GIF under (KB) must be positive"),
        ("inset", -1, "--inset must be 0 or more", "Inset must be 0 or more"),
    ],
)
def test_one_rule_worded_as_the_cli_flag_and_as_the_app_label(field, value, cli, app):
    with pytest.raises(OptionError) as info:
        AnimateOptions(**{field: value}).validate()
    e = info.value
    assert isinstance(e, InputError) and e.field == field
    assert e.worded(CLI_NAMES).startswith(cli)
    assert e.worded(OPTION_LABELS).startswith(app)
    assert "--" not in e.worded(OPTION_LABELS)  # web users never see flag names


def test_the_cli_prints_the_flag_name(tmp_path):
    from helpers import run_cli

    grid = tmp_path / "g.png"
    from PIL import Image

    Image.new("RGB", (64, 64), "white").save(grid)
    r = run_cli("animate", str(grid), "--smooth", "9")
    assert r.returncode == 2 and r.stderr.strip() == "error: --smooth must be between 0 and 8, got 9"


def test_every_field_has_a_cli_flag():
    assert set(CLI_NAMES) == {f.name for f in dataclasses.fields(AnimateOptions)}
    assert CLI_NAMES["gif_max_bytes"] == "--gif-max-kb" and CLI_NAMES["frame_ms"] == "--frame-ms"
