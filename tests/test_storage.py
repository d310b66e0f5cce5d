"""gridanim.hosting.storage: grids + sidecars on disk, history, no keys written."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gridanim.errors import StorageError
from gridanim.hosting import storage
from gridanim.hosting.storage import list_history, load_record, redact, save_generation, update_record

PNG = b"\x89PNG\r\n\x1a\n fake png bytes"
T0 = dt.datetime(2026, 11, 21, 15, 30, 12, tzinfo=dt.timezone.utc)


def test_data_dir_comes_from_the_env(data_dir, tmp_path):
    assert storage.data_dir() == data_dir
    assert storage.data_dir(tmp_path / "x") == tmp_path / "x"


def test_default_data_dir_is_outputs(monkeypatch):
    monkeypatch.delenv("GRIDANIM_DATA_DIR")
    assert str(storage.data_dir()) == "outputs"


def test_save_writes_png_and_sidecar(data_dir):
    rec = save_generation(PNG, {"prompt": "a cat", "model": "gpt-image-2"}, now=T0)
    assert rec.id.startswith("20261121-153012-")
    assert rec.png_path == data_dir / f"{rec.id}.png" and rec.png_path.read_bytes() == PNG
    meta = json.loads(rec.json_path.read_text())
    assert meta["prompt"] == "a cat" and meta["id"] == rec.id and meta["grid"] == rec.png_path.name
    assert meta["created"] == "2026-11-21T15:30:12+00:00"
    assert not list(data_dir.glob(".*.tmp"))


def test_keys_are_redacted_wherever_they_appear(data_dir):
    key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
    rec = save_generation(PNG, {"prompt": f"draw {key}", "nested": {"list": [key]}, "note": "a risk-averse cat"})
    text = rec.json_path.read_text()
    assert key not in text and text.count("[redacted]") == 2
    assert "risk-averse" in text
    assert redact({"a": ("sk-" + "x" * 20,)}) == {"a": ["[redacted]"]}


def test_update_merges_fields(data_dir):
    rec = save_generation(PNG, {"prompt": "p"})
    rec2 = update_record(rec, layout={"rows": 3}, outputs={"gif": "out.gif"})
    assert rec2.meta["prompt"] == "p" and rec2.meta["layout"] == {"rows": 3}
    assert json.loads(rec.json_path.read_text())["outputs"] == {"gif": "out.gif"}


def test_history_is_newest_first_and_skips_junk(data_dir):
    a = save_generation(PNG, {"prompt": "first"}, now=T0)
    b = save_generation(PNG, {"prompt": "second"}, now=T0 + dt.timedelta(minutes=5))
    c = save_generation(PNG, {"prompt": "third"}, now=T0 + dt.timedelta(days=1))
    (data_dir / "20261121-160000-abcdef.json").write_text("{not json")  # corrupt
    (data_dir / "20261121-160000-abcdef.png").write_bytes(PNG)
    (data_dir / "20261121-170000-abcdef.json").write_text("{}")  # orphan: no png
    (data_dir / "notes.json").write_text("{}")  # not a generation
    assert [r.id for r in list_history()] == [c.id, b.id, a.id]
    assert [r.meta["prompt"] for r in list_history(limit=2)] == ["third", "second"]
    assert list_history(data_dir / "missing") == []


def test_load_record_round_trips(data_dir):
    rec = save_generation(PNG, {"prompt": "p"})
    got = load_record(rec.id)
    assert got.meta == rec.meta and got.png_path == rec.png_path
    assert got.to_dict()["grid"] == str(rec.png_path)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "20261121-153012-ABCDEF"])
def test_load_record_refuses_bad_ids(bad):
    with pytest.raises(StorageError, match="not a generation id"):
        load_record(bad)


def test_load_record_missing(data_dir):
    with pytest.raises(StorageError, match="no saved generation"):
        load_record("20261121-153012-abcdef")


def test_unwritable_data_dir_says_what_to_do(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("GRIDANIM_DATA_DIR", str(blocker / "sub"))
    with pytest.raises(StorageError) as e:
        save_generation(PNG, {})
    assert "GRIDANIM_DATA_DIR" in str(e.value) and str(blocker / "sub") in str(e.value)
