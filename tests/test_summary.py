"""gridanim.hosting.summary: the app's texts, from real package objects."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from gridanim.generation.generate import GenerationRequest, prepare
from gridanim.generation.pricing import CostLedger, Usage
from gridanim.hosting import summary


def test_quote_names_total_per_frame_and_one_by_one():
    p = prepare(GenerationRequest("a cat", rows=2, cols=3, model="gpt-image-2", quality="low"))
    text = summary.quote_markdown(p)
    q = p.quote
    assert f"**Estimated cost: {q.estimate.describe()}**" in text
    assert "2×3 = 6 frames" in text and "per frame" in text and "6 separate" in text
    assert text.count("$") >= 3


def test_cost_names_the_actual_figure_and_the_session_total():
    p = prepare(GenerationRequest("a cat", rows=2, cols=2, model="gpt-image-2", quality="low"))
    ledger = CostLedger()
    ledger.add("m", Decimal("0.0125"))
    ledger.add("m", Decimal("0.0100"))
    result = SimpleNamespace(prepared=p, actual_usd=Decimal("0.0100"), usage=Usage(10, 0, 300, 0))
    text = summary.cost_markdown(result, ledger)
    assert "**Cost: $0.0100**" in text and "$0.0025 per frame" in text
    assert "Session total: $0.0225 (2 images)" in text
    unknown = summary.cost_markdown(SimpleNamespace(prepared=p, actual_usd=None, usage=None), CostLedger())
    assert "unknown" in unknown and "no images yet" in unknown


def test_no_key_text_names_all_three_ways():
    t = summary.NO_KEY
    assert "paste your own key" in t and "OPENAI_API_KEY" in t and "Space" in t and "secret" in t


def test_status_line_says_what_happens_and_for_how_long():
    s = summary.event_markdown(SimpleNamespace(kind="progress", elapsed_s=12.4, partials=0, step="generate"), 2)
    assert "waiting for OpenAI" in s and "12 s" in s and "the grid" in s
    s = summary.event_markdown(SimpleNamespace(kind="partial", elapsed_s=20.0, index=0, step="generate"), 2)
    assert "preview 1 of 2" in s and "20 s" in s
    s = summary.event_markdown(SimpleNamespace(kind="progress", elapsed_s=3, partials=0, step="stylise"), 0)
    assert "styled still" in s


def test_history_texts_tolerate_missing_fields():
    rec = SimpleNamespace(
        id="20261121-153012-ab12cd", created="", meta={"user_prompt": "x" * 60, "cost": {"actual_usd": 0.0123}}
    )
    assert summary.history_caption(rec).endswith("· $0.0123") and "…" in summary.history_caption(rec)
    text = summary.history_markdown(rec)
    assert "20261121-153012-ab12cd" in text and "$0.0123" in text
    bare = SimpleNamespace(id="20261121-153012-ab12cd", created="", meta={})
    assert "unknown" in summary.history_markdown(bare)
