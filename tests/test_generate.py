"""gridanim.generation.generate against the fake OpenAI server, through the real openai client."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from conftest import TEST_KEY
from fake_openai import ERRORS, closed_port_url
from helpers import usage_price as price
from openai import OpenAI
from PIL import Image

from gridanim import errors as E
from gridanim.generation.generate import (
    GenerationRequest,
    prepare,
    prepared_to_dict,
    result_to_dict,
    run_generation,
    stream_generation,
)
from gridanim.generation.models import check_model
from gridanim.generation.pricing import CostLedger
from gridanim.hosting.storage import list_history

TODAY = dt.date(2026, 11, 21)
CAT = GenerationRequest("a cat chasing its tail", style="ghibli", rows=3, cols=4, model="gpt-image-2", quality="medium")


def photo(w=600, h=400, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 120, 40)).save(buf, format=fmt)
    return buf.getvalue()


# ------------------------------------------------------------------ text to grid


def test_generate_sends_the_plan_and_prices_the_usage(fake_openai, client, data_dir):
    ledger = CostLedger()
    res = run_generation(CAT, client, ledger=ledger, today=TODAY)
    [req] = fake_openai.requests
    assert req.path == "/v1/images/generations"
    assert req.headers["authorization"] == f"Bearer {TEST_KEY}"
    body = req.json
    assert body["model"] == "gpt-image-2" and body["quality"] == "medium" and body["n"] == 1
    assert body["size"] == res.prepared.plan.size
    w, h = (int(v) for v in body["size"].split("x"))
    assert check_model("gpt-image-2", TODAY)[0].sizes.problem(w, h) is None
    for must in ("a cat chasing its tail", "3 rows", "4 columns", "Studio Ghibli"):
        assert must in body["prompt"]
    assert "stream" not in body

    d = result_to_dict(res, ledger=ledger)
    cost = d["cost"]
    assert Decimal(str(cost["actual_usd"])) == price(cost["usage"]).quantize(Decimal("0.000001"))
    assert res.actual_usd == price(cost["usage"])  # exact, not just rounded
    assert abs(cost["estimated_usd"] - cost["actual_usd"]) <= 0.2 * cost["actual_usd"]
    assert cost["session_total_usd"] == cost["actual_usd"]
    assert cost["per_frame_usd"][0] == pytest.approx(cost["estimated_usd"] / 12, abs=1e-6)
    assert cost["one_by_one_usd"][0] > cost["estimated_usd"]
    assert d["layout"]["rows"] == 3 and d["layout"]["cols"] == 4 and d["layout"]["frames"] == 12
    assert d["request_id"] == "req_fake_0001"
    assert d["warnings"] == []


def test_the_grid_is_saved_with_a_sidecar_and_no_key(fake_openai, client, data_dir):
    res = run_generation(CAT, client, today=TODAY)
    [rec] = list_history()
    assert rec.id == res.record.id and rec.png_path.read_bytes() == res.png
    meta = json.loads(rec.json_path.read_text())
    for k in (
        "prompt",
        "preset",
        "model",
        "size",
        "quality",
        "plan",
        "usage",
        "cost",
        "created",
        "request_id",
        "layout",
    ):
        assert meta.get(k) is not None, k
    assert meta["preset"] == "ghibli" and meta["layout"]["frames"] == 12
    for f in data_dir.iterdir():
        assert TEST_KEY.encode() not in f.read_bytes()


def test_default_model_and_quality_come_from_the_table(fake_openai, client):
    run_generation(GenerationRequest("a dog wagging", rows=2, cols=2), client, today=TODAY)
    body = fake_openai.requests[0].json
    assert body["model"] == "gpt-image-2.5-flare" and body["quality"] == "medium"


def test_a_ledger_adds_up_a_session(fake_openai, client):
    ledger = CostLedger()
    a = run_generation(CAT, client, ledger=ledger, today=TODAY)
    b = run_generation(
        GenerationRequest("a dog", rows=2, cols=2, model="gpt-image-2", quality="low"),
        client,
        ledger=ledger,
        today=TODAY,
    )
    assert ledger.count == 2 and ledger.total_usd == a.actual_usd + b.actual_usd


def test_the_client_is_capped_at_one_retry(fake_openai):
    greedy = OpenAI(api_key=TEST_KEY, base_url=fake_openai.base_url, max_retries=5, timeout=30)
    for _ in range(4):
        fake_openai.enqueue_error("rate_limit_exceeded")
    with pytest.raises(E.RateLimitError):
        run_generation(CAT, greedy, today=TODAY)
    assert len(fake_openai.requests) == 2


# ------------------------------------------------------------------ photo to animation


def test_one_photo_goes_through_edit_as_image_and_its_tokens_are_priced(fake_openai, client):
    req = GenerationRequest("make it wave", rows=2, cols=2, model="gpt-image-2", quality="low", images=(photo(),))
    res = run_generation(req, client, today=TODAY)
    [r] = fake_openai.requests
    assert r.path == "/v1/images/edits" and r.headers["content-type"].startswith("multipart/form-data")
    assert list(r.files) == ["image"] and r.files["image"][0].data == photo()
    assert r.fields["model"] == ["gpt-image-2"] and r.fields["quality"] == ["low"]
    assert r.fields["size"] == [res.prepared.plan.size]
    assert "reference photo" in r.fields["prompt"][0]
    assert res.usage.image_in == 704  # 600x400 -> 1024x683 -> 32 x 22 patches
    assert res.prepared.quote.estimate.input_image_tokens == res.usage.image_in
    assert res.actual_usd == price(res.usage.to_dict())
    assert res.usage.image_in * Decimal(8) / 1_000_000 < res.actual_usd


def test_photos_and_a_layout_guide_arrive_as_image_array(fake_openai, client, tmp_path):
    p = tmp_path / "me.jpg"
    p.write_bytes(photo(800, 1200, "JPEG"))
    req = GenerationRequest(
        "jump",
        rows=2,
        cols=3,
        model="gpt-image-2",
        quality="low",
        images=(str(p), ("two.png", photo())),
        layout_guide=True,
    )
    res = run_generation(req, client, today=TODAY)
    r = fake_openai.requests[0]
    ups = r.files["image[]"]
    assert [u.filename for u in ups] == ["me.jpg", "two.png", "layout-guide.png"]
    assert [u.content_type for u in ups] == ["image/jpeg", "image/png", "image/png"]
    assert ups[2].size == res.prepared.plan.canvas
    assert "layout guide" in r.fields["prompt"][0]
    assert res.usage.image_in == res.prepared.quote.estimate.input_image_tokens > 0


def test_a_gif_photo_is_sent_as_png(fake_openai, client):
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), "red").save(buf, format="GIF")
    run_generation(
        GenerationRequest("spin", rows=2, cols=2, images=(("anim.gif", buf.getvalue()),)), client, today=TODAY
    )
    up = fake_openai.requests[0].files["image"][0]
    assert up.filename == "anim.png" and up.content_type == "image/png"


def test_the_layout_guide_without_photos_is_ignored_with_a_warning():
    p = prepare(GenerationRequest("x", rows=2, cols=2, layout_guide=True), today=TODAY)
    assert p.guide_png is None and any("layout guide" in w for w in p.warnings)


def test_a_bad_photo_is_refused_before_any_request(fake_openai, client):
    with pytest.raises(E.InputError):
        run_generation(GenerationRequest("x", images=(b"not an image",)), client, today=TODAY)
    with pytest.raises(E.InputError, match="no such photo"):
        run_generation(GenerationRequest("x", images=("/nope.png",)), client, today=TODAY)
    assert fake_openai.requests == []


# ------------------------------------------------------------------ streaming


def test_streaming_yields_partials_then_the_result(fake_openai, client):
    req = GenerationRequest("a cat", rows=2, cols=2, model="gpt-image-2", quality="low", partial_images=2)
    events = list(stream_generation(req, client, today=TODAY))
    assert [e.kind for e in events] == ["partial", "partial", "saved"]
    assert [e.index for e in events[:2]] == [0, 1]
    for e in events[:2]:
        assert Image.open(io.BytesIO(e.png)).format == "PNG"
    res = events[-1].result
    body = fake_openai.requests[0].json
    assert body["stream"] is True and body["partial_images"] == 2
    assert res.usage.image_out == 196 + 200  # the fake bills 100 tokens per partial
    assert res.prepared.quote.estimate.output_tokens == (396, 396)
    assert res.actual_usd == price(res.usage.to_dict())
    assert res.request_id == "req_fake_0001"


def test_streaming_edit_calls_back(fake_openai, client):
    seen = []
    req = GenerationRequest("wave", rows=2, cols=2, images=(photo(),), partial_images=1)
    res = run_generation(req, client, on_partial=seen.append, today=TODAY)
    assert [e.index for e in seen] == [0] and res.layout.frames == 4
    assert fake_openai.requests[0].fields["stream"] == ["true"]


@pytest.mark.parametrize(
    "code, cls, text",
    [("server_error", E.ServerError, "stream failed"), ("moderation_blocked", E.SafetyError, "safety system")],
)
def test_a_mid_stream_error_is_one_line_and_saves_nothing(fake_openai, client, code, cls, text):
    fake_openai.enqueue(stream_error={"code": code, "message": "went wrong"}, after_partials=1)
    seen = []
    with pytest.raises(cls, match=text):
        run_generation(
            GenerationRequest("x", rows=2, cols=2, partial_images=2), client, on_partial=seen.append, today=TODAY
        )
    assert len(seen) == 1 and list_history() == []


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "name, cls, text, attempts",
    [
        ("moderation_blocked", E.SafetyError, "safety system blocked this request as violence", 1),
        ("invalid_api_key", E.AuthError, "OPENAI_API_KEY", 1),
        ("permission_denied", E.AuthError, "verify your organization", 1),
        ("rate_limit_exceeded", E.RateLimitError, "wait a minute", 2),
        ("insufficient_quota", E.RateLimitError, "add credit", 1),
        ("billing_hard_limit", E.RateLimitError, "spending limit", 1),
        ("invalid_size", E.BadRequestError, "rejected the size", 1),
        ("server_error", E.ServerError, "server error (500)", 2),
        ("model_not_found", E.ModelUnavailableError, "choose another --model", 1),
    ],
)
def test_api_errors_become_one_line_messages(fake_openai, client, name, cls, text, attempts):
    for _ in range(2):
        fake_openai.enqueue(*ERRORS[name])
    with pytest.raises(cls) as e:
        run_generation(CAT, client, today=TODAY)
    msg = str(e.value)
    assert text in msg and "\n" not in msg and TEST_KEY not in msg
    assert len(fake_openai.requests) == attempts
    assert list_history() == []


def test_a_429_then_success_is_retried_once(fake_openai, client):
    fake_openai.enqueue_error("rate_limit_exceeded")
    res = run_generation(CAT, client, today=TODAY)
    assert len(fake_openai.requests) == 2 and res.layout.frames == 12
    assert fake_openai.requests[1].headers["x-stainless-retry-count"] == "1"


def test_an_unknown_400_keeps_the_apis_message(fake_openai, client):
    fake_openai.enqueue(
        status=400,
        body={
            "error": {
                "message": "Unknown parameter: 'foo'.",
                "type": "invalid_request_error",
                "code": "unknown_parameter",
                "param": "foo",
            }
        },
    )
    with pytest.raises(E.BadRequestError, match=r"\(400 unknown_parameter\): Unknown parameter: 'foo'"):
        run_generation(CAT, client, today=TODAY)


def test_a_timeout_is_a_connection_failure(fake_openai):
    impatient = OpenAI(api_key=TEST_KEY, base_url=fake_openai.base_url, max_retries=0, timeout=0.2)
    fake_openai.enqueue(delay=1.0)
    with pytest.raises(E.ConnectionFailed, match="did not answer in time"):
        run_generation(CAT, impatient, today=TODAY)


def test_no_connection_is_a_connection_failure():
    nowhere = OpenAI(api_key=TEST_KEY, base_url=closed_port_url(), max_retries=0, timeout=5)
    with pytest.raises(E.ConnectionFailed, match="could not reach OpenAI"):
        run_generation(CAT, nowhere, today=TODAY)


def test_an_unwritable_data_dir_is_refused_before_paying(fake_openai, client, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("GRIDANIM_DATA_DIR", str(tmp_path / "file" / "data"))
    with pytest.raises(E.StorageError, match="GRIDANIM_DATA_DIR"):
        run_generation(CAT, client, today=TODAY)
    assert fake_openai.requests == []


@pytest.mark.parametrize("model", ["gpt-image-1", "dall-e-3", "gpt-image-9"])
def test_unavailable_models_send_nothing(fake_openai, client, model):
    with pytest.raises(E.ModelUnavailableError):
        run_generation(GenerationRequest("x", model=model), client, today=TODAY)
    assert fake_openai.requests == []


def test_a_deprecated_model_warns_until_its_date_then_sends_nothing(fake_openai, client):
    res = run_generation(
        GenerationRequest("x", rows=2, cols=2, model="gpt-image-1.5", quality="low"), client, today=TODAY
    )
    assert any("shuts down on 2026-12-01" in w for w in res.warnings)
    assert fake_openai.requests[0].json["size"] == "1024x1024"
    with pytest.raises(E.ModelUnavailableError, match="shut down"):
        run_generation(GenerationRequest("x", model="gpt-image-1.5"), client, today=dt.date(2026, 12, 1))
    assert len(fake_openai.requests) == 1


# ------------------------------------------------------------------ checking what came back


def test_a_different_returned_size_is_reported(fake_openai, client):
    fake_openai.enqueue(image_size=(1024, 1024))
    res = run_generation(CAT, client, today=TODAY)
    assert res.returned_size == (1024, 1024)
    assert any("returned a 1024x1024 image instead of the asked" in w for w in res.warnings)
    assert json.loads(res.record.json_path.read_text())["warnings"] == res.warnings


def test_a_grid_that_disagrees_with_the_plan_is_reported(fake_openai, client):
    fake_openai.enqueue(grid=(2, 2))
    res = run_generation(CAT, client, today=TODAY)
    assert any("looks like a 2x2 grid, not the asked 3x4" in w for w in res.warnings)


def test_missing_usage_still_saves_and_says_the_cost_is_unknown(fake_openai, client):
    fake_openai.enqueue(usage=None)
    ledger = CostLedger()
    res = run_generation(CAT, client, ledger=ledger, today=TODAY)
    assert res.usage is None and res.actual_usd is None and ledger.count == 0
    assert any("no usage" in w for w in res.warnings)
    assert result_to_dict(res)["cost"]["actual_usd"] is None
    assert len(list_history()) == 1


def test_an_unusable_returned_image_is_kept_and_named(fake_openai, client):
    fake_openai.enqueue(image_size=(6, 6))
    with pytest.raises(E.InputError) as e:
        run_generation(CAT, client, today=TODAY)
    [rec] = list_history()
    assert str(rec.png_path) in str(e.value) and "the grid was saved to" in str(e.value)


@pytest.mark.parametrize("body", [{"data": []}, {"data": [{"b64_json": ""}]}, {"data": [{"b64_json": "not base64!"}]}])
def test_an_answer_without_a_usable_image_is_a_server_error(fake_openai, client, body):
    fake_openai.enqueue(status=200, body={"created": 1, **body})
    with pytest.raises(E.ServerError, match="try again"):
        run_generation(CAT, client, today=TODAY)
    assert list_history() == []


# ------------------------------------------------------------------ estimate only


def test_prepare_quotes_without_a_request_or_key(fake_openai):
    p = prepare(GenerationRequest("a cat", style="pixel-art", model="gpt-image-2.5-flare", quality="auto"), today=TODAY)
    d = prepared_to_dict(p)
    assert (p.plan.rows, p.plan.cols) == (2, 4)  # the preset's defaults
    lo, hi = d["cost"]["estimated_range_usd"]
    assert lo < hi and d["cost"]["estimated_usd"] == hi and d["cost"]["approximate"]
    assert d["cost"]["one_by_one_size"] == "816x816"
    assert fake_openai.requests == []


def test_request_values_override_the_preset():
    p = prepare(GenerationRequest("a cat", style="claymation", rows=2, cols=2, shape="square", fps=20), today=TODAY)
    assert (p.plan.rows, p.plan.cols, p.plan.shape.label, p.fps) == (2, 2, "square", 20)
    assert prepare(GenerationRequest("a cat", style="claymation"), today=TODAY).fps == 6


@pytest.mark.parametrize(
    "kw, text",
    [
        ({"fps": 99}, "fps must"),
        ({"partial_images": 4}, "--partial-images"),
        ({"size": "1792x936", "model": "gpt-image-2"}, "multiples of 16"),
        ({"quality": "ultra", "model": "gpt-image-2"}, "no quality 'ultra'"),
        ({"style": "cubism"}, "unknown style"),
        ({"images": (b"x",) * 16}, "at most 15"),
    ],
)
def test_bad_requests_fail_before_any_call(kw, text):
    with pytest.raises(E.GridanimError, match=text):
        prepare(GenerationRequest("a cat", **kw), today=TODAY)
