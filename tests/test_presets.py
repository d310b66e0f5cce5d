"""gridanim.generation.presets: every shipped style loads; bad files fail with file + field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gridanim.errors import PresetError
from gridanim.generation.models import check_model
from gridanim.generation.plan import plan_grid
from gridanim.generation.presets import SHIPPED_DIR, get_preset, load_preset_file, load_presets

SHIPPED = sorted(SHIPPED_DIR.glob("*.toml"))

GOOD = """
name = "Noir"
description = "Black and white film noir."
style = "high-contrast black and white, venetian-blind shadows"

[defaults]
rows = 2
cols = 3
shape = "16:9"
fps = 12
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def test_at_least_the_required_styles_are_shipped():
    ids = {p.stem for p in SHIPPED}
    assert {"ghibli", "claymation", "van-gogh"} <= ids
    assert len(ids) >= 6


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_preset_loads_and_plans(path):
    p = load_preset_file(path)
    assert p.id == path.stem
    assert p.name and p.description and len(p.style) > 40
    assert "\n" not in p.style
    model = check_model(None, dt.date(2026, 11, 21))[0]
    plan = plan_grid(p.rows, p.cols, p.shape, model)
    assert plan.frames == p.rows * p.cols and not plan.warnings


def test_shipped_catalog_has_no_errors_and_resolves_aliases_and_names():
    cat = load_presets()
    assert cat.errors == {}
    assert cat.get("Studio Ghibli").id == "ghibli"
    assert cat.get("watercolor").id == "watercolour"
    assert cat.get("VAN-GOGH").id == "van-gogh"


def test_a_good_file_loads_with_its_defaults(tmp_path):
    p = load_preset_file(write(tmp_path, "noir.toml", GOOD))
    assert (p.id, p.name, p.rows, p.cols, p.shape, p.fps) == ("noir", "Noir", 2, 3, "16:9", 12)
    assert p.to_dict()["style"].startswith("high-contrast")


def test_defaults_are_optional(tmp_path):
    p = load_preset_file(write(tmp_path, "plain.toml", 'name = "P"\ndescription = "d"\nstyle = "s"\n'))
    assert (p.rows, p.cols, p.shape, p.fps) == (3, 4, "square", 8)


@pytest.mark.parametrize(
    "text, field",
    [
        ('colour = "red"\n' + GOOD, ": colour: unknown key"),
        (GOOD.replace("fps = 12", "fps = 12\nspeed = 3"), "defaults.speed: unknown key"),
        (GOOD.replace("rows = 2", 'rows = "2"'), "defaults.rows: must be a whole number"),
        (GOOD.replace("rows = 2", "rows = true"), "defaults.rows: must be a whole number"),
        (GOOD.replace("fps = 12", "fps = 0"), "defaults.fps: must be from 1 to 50"),
        (GOOD.replace('shape = "16:9"', 'shape = "round"'), "defaults.shape: unknown frame shape"),
        (GOOD.replace('name = "Noir"', "name = 3"), "name: must be a string"),
        (GOOD.replace('style = "high-contrast black and white, venetian-blind shadows"', ""), "style: missing"),
        (
            GOOD.replace('description = "Black and white film noir."', 'description = "  "'),
            "description: must not be empty",
        ),
        (GOOD.replace("rows = 2", "rows = 1").replace("cols = 3", "cols = 1"), "at least 2 panels"),
        ("aliases = [1]\n" + GOOD, "aliases: must be a list of non-empty strings"),
        ("name = \n", "is not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_the_field(tmp_path, text, field):
    path = write(tmp_path, "noir.toml", text)
    with pytest.raises(PresetError) as e:
        load_preset_file(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: "), msg
    assert field in msg, msg
    assert "\n" not in msg


def test_shipped_files_are_named_relative_to_the_repo(tmp_path):
    assert load_preset_file(SHIPPED[0]).path.endswith(SHIPPED[0].name)
    with pytest.raises(PresetError, match="no such|cannot be read"):
        load_preset_file(tmp_path / "missing.toml")


def test_env_folder_adds_and_overrides_styles(tmp_path, monkeypatch):
    extra = tmp_path / "mine"
    write(extra, "noir.toml", GOOD)
    write(extra, "ghibli.toml", GOOD.replace("Noir", "My Ghibli"))
    monkeypatch.setenv("GRIDANIM_PRESETS_DIR", str(extra))
    cat = load_presets()
    assert cat.get("noir").fps == 12
    assert cat.get("ghibli").name == "My Ghibli"
    assert get_preset("noir").id == "noir"


def test_a_broken_user_file_does_not_hide_the_others(tmp_path, monkeypatch):
    extra = tmp_path / "mine"
    write(extra, "broken.toml", GOOD + "oops = 1\n")
    monkeypatch.setenv("GRIDANIM_PRESETS_DIR", str(extra))
    cat = load_presets()
    assert "ghibli" in cat.presets and "broken" in cat.errors
    with pytest.raises(PresetError, match="broken.toml: defaults.oops: unknown key"):
        cat.get("broken")


def test_a_missing_env_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDANIM_PRESETS_DIR", str(tmp_path / "nope"))
    cat = load_presets()
    assert "ghibli" in cat.presets
    assert any("not a folder" in str(e) for e in cat.errors.values())


def test_unknown_style_lists_the_choices():
    with pytest.raises(PresetError) as e:
        get_preset("cubism")
    assert "cubism" in str(e.value) and "ghibli" in str(e.value) and "presets/cubism.toml" in str(e.value)
