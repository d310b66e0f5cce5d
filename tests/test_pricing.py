"""gridanim.generation.pricing: output tokens, estimates, exact cost from usage, the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gridanim.generation.models import check_model
from gridanim.generation.pricing import (
    CostLedger,
    Usage,
    actual_cost,
    estimate,
    format_usd,
    input_image_tokens,
    output_tokens,
    text_tokens,
    usd,
)

TODAY = dt.date(2026, 11, 21)
G2 = check_model("gpt-image-2", TODAY)[0]
G25 = check_model("gpt-image-2.5-flare", TODAY)[0]
G26 = check_model("gpt-image-2.6-flare", TODAY)[0]
G15 = check_model("gpt-image-1.5", TODAY)[0]

# research §2.2 table (computed with the calculator; the 1024² and 1536x1024 gpt-image-2 rows
# reproduce OpenAI's published per-image prices)
TABLE = [
    ((1024, 1024), (196, 1756, 7024), (196, 439, 1756, 3122, 7024)),
    ((1536, 1024), (158, 1372, 5488), (158, 343, 1372, 2459, 5488)),
    ((1024, 1536), (158, 1372, 5488), (158, 343, 1372, 2459, 5488)),
    ((1536, 864), (120, 1078, 4312), (120, 280, 1078, 1917, 4312)),
    ((2048, 2048), (397, 3568, 14272), (397, 892, 3568, 6343, 14272)),
    ((2048, 1152), (157, 1413, 5650), (157, 367, 1413, 2511, 5650)),
    ((2560, 1440), (205, 1843, 7370), (205, 478, 1843, 3276, 7370)),
    ((3840, 2160), (371, 3336, 13342), (371, 865, 3336, 5930, 13342)),
    ((3072, 1024), (103, 988, 3952), (103, 247, 988, 1729, 3952)),
]


@pytest.mark.parametrize("size, g2, g25", TABLE)
def test_output_tokens_match_the_published_calculator(size, g2, g25):
    assert tuple(output_tokens(G2, *size, q) for q in ("low", "medium", "high")) == g2
    assert tuple(output_tokens(G25, *size, q) for q in ("low", "medium", "high", "xhigh", "max")) == g25


def test_gpt_image_2_matches_openais_per_image_prices():
    # OpenAI: 1024x1024 $0.006 / $0.053 / $0.211
    got = [usd(output_tokens(G2, 1024, 1024, q) * G2.image_output / 1_000_000) for q in ("low", "medium", "high")]
    assert [round(x, 3) for x in got] == [0.006, 0.053, 0.211]


def test_fixed_size_models_use_the_table():
    assert output_tokens(G15, 1024, 1536, "medium") == 1584
    with pytest.raises(KeyError):
        output_tokens(G15, 1472, 1104, "low")


@pytest.mark.parametrize(
    "size, tokens", [((1024, 1024), 1024), ((1536, 1024), 1536), ((341, 512), 704), ((1179, 2556), 1482), ((0, 10), 0)]
)
def test_input_image_tokens_follow_the_patch_rule(size, tokens):
    assert input_image_tokens(*size) == tokens


def test_text_tokens_are_chars_over_four_rounded_up():
    assert text_tokens("") == 0
    assert text_tokens("abcd") == 1
    assert text_tokens("abcde") == 2


def test_estimate_for_one_quality_is_a_single_exact_figure():
    e = estimate(G2, (1024, 1024), "medium", "x" * 400)
    assert e.low_usd == e.high_usd == (Decimal(100 * 5) + Decimal(1756 * 30)) / 1_000_000
    assert not e.approximate and e.notes == ()
    assert e.describe() == "$0.0532"


def test_auto_quality_gives_a_range_over_the_models_qualities():
    e = estimate(G25, (1024, 1024), "auto", "prompt")
    assert e.output_tokens == (196, 7024)
    assert e.low_usd < e.high_usd and e.usd == e.high_usd
    assert e.approximate and any("range" in n for n in e.notes)
    assert "-" in e.describe()


def test_partial_images_add_100_output_tokens_each():
    a = estimate(G2, (1024, 1024), "low", "p")
    b = estimate(G2, (1024, 1024), "low", "p", partial_images=3)
    assert b.output_tokens[0] - a.output_tokens[0] == 300
    assert b.usd - a.usd == Decimal(300 * 30) / 1_000_000


def test_input_images_are_priced_at_the_image_input_rate():
    a = estimate(G2, (1024, 1024), "low", "p")
    b = estimate(G2, (1024, 1024), "low", "p", input_images=[(1536, 1024), (341, 512)])
    assert b.input_image_tokens == 1536 + 704
    assert b.usd - a.usd == Decimal((1536 + 704) * 8) / 1_000_000
    assert any("patch rule" in n for n in b.notes)


def test_gpt_image_2_6_estimates_are_labelled_approximate_with_the_multiplier():
    e = estimate(G26, (1024, 1024), "medium", "p")
    assert e.output_tokens == (439 * 4, 439 * 4)
    assert e.approximate and any("x4" in n for n in e.notes)
    high = estimate(G26, (1024, 1024), "high", "p")
    assert high.output_tokens == (1756, 1756) and high.approximate


def test_usage_from_a_full_dict():
    u = Usage.from_api(
        {
            "input_tokens": 1250,
            "input_tokens_details": {"text_tokens": 50, "image_tokens": 1200},
            "output_tokens": 1756,
            "output_tokens_details": {"image_tokens": 1700, "text_tokens": 56},
            "total_tokens": 3006,
        }
    )
    assert u == Usage(text_in=50, image_in=1200, image_out=1700, text_out=56)


def test_usage_without_details_counts_input_as_text_and_output_as_image():
    assert Usage.from_api({"input_tokens": 30, "output_tokens": 196}) == Usage(30, 0, 196, 0)
    assert Usage.from_api(None) is None
    assert Usage.from_api({"input_tokens": "x", "output_tokens": -5}) == Usage(0, 0, 0, 0)


def test_usage_from_an_sdk_object_with_details_as_an_extra_dict():
    # the streamed completed event's Usage keeps output_tokens_details as a plain dict extra
    from openai.types.image_gen_completed_event import Usage as StreamUsage

    raw = StreamUsage.model_validate(
        {
            "input_tokens": 20,
            "input_tokens_details": {"text_tokens": 20, "image_tokens": 0},
            "output_tokens": 396,
            "total_tokens": 416,
            "output_tokens_details": {"image_tokens": 390, "text_tokens": 6},
        }
    )
    assert Usage.from_api(raw) == Usage(20, 0, 390, 6)


def test_actual_cost_is_usage_times_price_exactly():
    u = Usage(text_in=205, image_in=1024, image_out=1567, text_out=0)
    assert actual_cost(G2, u) == Decimal("0.001025") + Decimal("0.008192") + Decimal("0.04701")
    assert usd(actual_cost(G2, u)) == 0.056227


def test_text_output_tokens_are_priced_when_reported():
    assert actual_cost(G2, Usage(0, 0, 0, 100)) == Decimal("0.001")


def test_usd_rounds_half_up_to_the_micro_dollar():
    assert usd(Decimal("0.0000005")) == 0.000001
    assert usd(Decimal("0.00000049")) == 0.0


def test_format_usd():
    assert format_usd(Decimal("0.048035")) == "$0.0480"
    assert format_usd(Decimal("0.0031"), Decimal("0.1117"), True) == "~$0.0031-$0.1117"
    assert format_usd(Decimal("2.5"), Decimal("2.5")) == "$2.50"


def test_ledger_keeps_a_session_total():
    ledger = CostLedger()
    assert ledger.total_usd == 0 and ledger.count == 0
    ledger.add("gpt-image-2", Decimal("0.048035"))
    ledger.add("gpt-image-2", Decimal("0.01"))
    assert ledger.total_usd == Decimal("0.058035") and ledger.count == 2
