"""gridanim.pipeline: one event stream for generate -> animate, billing hooks, bytes decoded once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from gridanim import errors as E
from gridanim import pipeline
from gridanim.generation.generate import GenerationRequest, prepare
from gridanim.generation.pricing import CostLedger

CAT = GenerationRequest("a cat chasing its tail", rows=2, cols=3, model="gpt-image-2", quality="low", partial_images=2)


class Ticket:
    def __init__(self):
        self.settled, self.failed = [], []

    def settle(self, usd):
        self.settled.append(usd)

    def fail(self, error=None):
        self.failed.append(error)


def test_heartbeat_ticks_while_waiting_and_passes_items_through():
    gate = threading.Event()
    seen = []

    def slow():
        yield "a"
        gate.wait(5)
        yield "b"

    for item in pipeline.with_heartbeat(slow(), every=0.02):
        seen.append(item)
        if seen.count(None) == 3:
            gate.set()
    assert seen[0] == "a" and seen[-1] == "b" and seen.count(None) >= 3


def test_heartbeat_reraises_the_iterators_error():
    def broken():
        yield 1
        raise E.ServerError("boom")

    with pytest.raises(E.ServerError, match="boom"):
        list(pipeline.with_heartbeat(broken(), every=0.05))


def test_one_event_stream_partials_saved_cost_result(client, fake_openai, data_dir, monkeypatch):
    import gridanim.animate as animate_mod
    import gridanim.hosting.storage as storage
    import gridanim.pipeline as pl

    def no_detect(*a, **k):  # the pipeline hands its layout to animate: detecting again is a bug
        raise AssertionError("animate detected the layout again")

    monkeypatch.setattr(animate_mod, "detect_layout", no_detect)
    writes = []
    real_update = storage.update_record
    monkeypatch.setattr(pl, "update_record", lambda rec, **kw: writes.append(kw) or real_update(rec, **kw))
    ticket, claimed = Ticket(), []
    billing = pipeline.Billing(reserve=lambda usd: ticket, claim=lambda rec: claimed.append(rec.id))
    ledger = CostLedger()
    events = list(
        pipeline.generate_and_animate(
            CAT, client, formats=("gif", "mp4"), ledger=ledger, data_dir=data_dir, billing=billing
        )
    )
    kinds = [e.kind for e in events]
    assert kinds == ["partial", "partial", "saved", "cost", "result"]
    res = events[-1]
    assert res.animation.layout.frames == 6 and set(res.data) == {"gif", "mp4"}
    assert ticket.settled == [res.generation.actual_usd] and not ticket.failed
    assert claimed == [res.record.id] and len(fake_openai.requests) == 1 and ledger.count == 1
    assert len(writes) == 1 and "animation" in writes[0]  # saved once, updated once
    meta = res.record.meta
    assert meta["layout"]["frames"] == 6 and meta["animation"]["frames"] == 6


def test_a_failed_call_fails_the_ticket_and_saves_nothing(client, fake_openai, data_dir):
    fake_openai.enqueue_error("insufficient_quota")
    ticket = Ticket()
    with pytest.raises(E.RateLimitError, match="out of credit"):
        list(
            pipeline.generate_and_animate(CAT, client, data_dir=data_dir, billing=pipeline.Billing(lambda usd: ticket))
        )
    assert len(ticket.failed) == 1 and not ticket.settled
    assert not list(data_dir.glob("*.png"))


def test_a_refused_reservation_sends_nothing(client, fake_openai, data_dir):
    def refuse(usd):
        raise E.LimitError(f"limit reached before ${usd:.4f}")

    with pytest.raises(E.LimitError, match="limit reached"):
        list(pipeline.generate_and_animate(prepare(CAT), client, data_dir=data_dir, billing=pipeline.Billing(refuse)))
    assert fake_openai.requests == []


def test_the_reservation_is_the_estimate_and_both_steps_of_stylise_first(client, fake_openai, data_dir, tmp_path):
    from helpers import flat_grid
    from PIL import Image

    photo = tmp_path / "me.png"
    Image.fromarray(flat_grid(1, 1, cell=(300, 400))[0]).save(photo)
    req = GenerationRequest(
        "she waves", rows=2, cols=2, model="gpt-image-2", quality="low", images=(str(photo),), stylise_first=True
    )
    asked = []
    ticket = Ticket()
    events = list(
        pipeline.generate_and_animate(
            req, client, data_dir=data_dir, billing=pipeline.Billing(lambda usd: asked.append(usd) or ticket)
        )
    )
    res = events[-1]
    assert [e.step for e in events if e.kind == "cost"] == ["stylise", "generate"]
    assert len(asked) == 1 and asked[0] > prepare(req).quote.estimate.usd  # both calls reserved up front
    assert ticket.settled == [res.total_usd] and res.total_usd == sum(c.actual_usd for c in res.costs) > Decimal(0)
