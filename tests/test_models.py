"""gridanim.generation.models: the model table, status by date, size rules, qualities."""

from __future__ import annotations

import datetime as dt

import pytest

from gridanim.errors import InputError, ModelUnavailableError
from gridanim.generation.models import ModelInfo, SizeRules, check_model, check_quality, load_catalog, offered_models

TODAY = dt.date(2026, 11, 21)


def test_shipped_table_parses_and_every_active_model_is_priced():
    cat = load_catalog()
    assert cat.as_of == "2026-11-21" and cat.source
    active = [m for m in cat.models.values() if m.status == "active"]
    assert {m.id for m in active} >= {"gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst"}
    for m in active:
        assert m.priced, m.id
        assert m.sizes.kind == "custom"
        assert set(m.grid) == set(m.qualities), m.id
    assert cat.default_model in offered_models(TODAY)


def test_offered_models_are_only_active_ones_default_first():
    offered = offered_models(TODAY)
    assert offered[0] == load_catalog().default_model
    for gone in ("gpt-image-1", "dall-e-2", "dall-e-3", "gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest"):
        assert gone not in offered


def test_default_model_when_none_given():
    m, warnings = check_model(None, TODAY)
    assert m.id == load_catalog().default_model and warnings == []


def test_aliases_and_case_resolve():
    assert check_model("gpt-image-2-2026-04-21", TODAY)[0].id == "gpt-image-2"
    assert check_model("  GPT-Image-2.5-Flare ", TODAY)[0].id == "gpt-image-2.5-flare"


@pytest.mark.parametrize(
    "model, replacement",
    [
        ("gpt-image-1", "gpt-image-2.5-sunburst"),
        ("dall-e-3", "gpt-image-2.5-flare"),
        ("dall-e-2", "gpt-image-2.5-flare"),
    ],
)
def test_shut_down_models_are_refused_naming_the_replacement(model, replacement):
    with pytest.raises(ModelUnavailableError) as e:
        check_model(model, TODAY)
    assert "shut down" in str(e.value) and replacement in str(e.value)


def test_deprecated_model_warns_before_its_date_and_is_refused_on_it():
    m, warnings = check_model("gpt-image-1.5", TODAY)
    assert m.id == "gpt-image-1.5"
    assert len(warnings) == 1 and "2026-12-01" in warnings[0] and "gpt-image-2.6-sunburst" in warnings[0]
    with pytest.raises(ModelUnavailableError, match="gpt-image-2.6-sunburst"):
        check_model("gpt-image-1.5", dt.date(2026, 12, 1))
    with pytest.raises(ModelUnavailableError):
        check_model("gpt-image-1-mini", dt.date(2027, 1, 1))


def test_an_unpriced_model_is_refused():
    with pytest.raises(ModelUnavailableError, match="no price"):
        check_model("chatgpt-image-latest", TODAY)


def test_unknown_model_lists_the_choices():
    with pytest.raises(ModelUnavailableError) as e:
        check_model("gpt-image-9", TODAY)
    assert "gpt-image-9" in str(e.value) and "gpt-image-2.5-flare" in str(e.value)


def test_status_follows_the_date_even_for_active_models():
    m = ModelInfo(id="x", status="active", shutdown=dt.date(2027, 3, 1))
    assert m.status_on(dt.date(2027, 2, 28)) == "active"
    assert m.status_on(dt.date(2027, 3, 1)) == "shutdown"


CUSTOM = load_catalog().models["gpt-image-2"].sizes


@pytest.mark.parametrize(
    "w, h, ok",
    [
        (1024, 1024, True),
        (1472, 1104, True),
        (3840, 2160, True),
        (3072, 1024, True),
        (1792, 936, False),  # 936 not a multiple of 16
        (512, 512, False),  # too few pixels
        (3200, 1056, False),  # wider than 3:1
        (4096, 1024, False),  # long side > 3840
        (3840, 2400, False),  # too many pixels
    ],
)
def test_custom_size_rules(w, h, ok):
    assert (CUSTOM.problem(w, h) is None) is ok


def test_fixed_size_rules():
    rules = load_catalog().models["gpt-image-1.5"].sizes
    assert rules.problem(1536, 1024) is None
    assert "1024x1024" in rules.problem(1472, 1104)
    assert SizeRules("custom").problem(0, 16)


def test_quality_checks():
    m = check_model("gpt-image-2", TODAY)[0]
    assert check_quality(m, None) == "medium"
    assert check_quality(m, "AUTO") == "auto"
    with pytest.raises(InputError, match="low, medium, high"):
        check_quality(m, "xhigh")
    assert check_quality(check_model("gpt-image-2.5-flare", TODAY)[0], "max") == "max"
