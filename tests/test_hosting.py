"""gridanim.hosting.policy: who a visitor is, and the host-key check around one real (fake-server) generation."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from conftest import TEST_KEY

from gridanim import errors as E
from gridanim.generation.generate import GenerationRequest, prepare, run_generation
from gridanim.hosting.keys import make_client, resolve_key
from gridanim.hosting.policy import (
    NO_HOST_KEY,
    Policy,
    allowance_markdown,
    check_generation_allowed,
    claim,
    client_ip,
    history_is_private,
    load_visible,
    quota_store,
    remaining,
    visible_history,
)
from gridanim.hosting.storage import save_generation

VISITOR_KEY = "sk-visitor-own-key-9f8e7d6c5b4a3210"


def req(host="10.16.0.5", xff=None, session="sess-1"):
    """The parts of ``gr.Request`` the hosting code reads."""
    headers = {"x-forwarded-for": xff} if xff else {}
    return SimpleNamespace(headers=headers, client=SimpleNamespace(host=host), session_hash=session)


@pytest.fixture
def host_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("GRIDANIM_GENERATIONS_PER_DAY", "2")


# ------------------------------------------------------------------ client_ip


def test_off_spaces_the_socket_peer_counts_and_forwarded_for_is_ignored(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert client_ip(req(host="198.51.100.9", xff="203.0.113.7")) == "198.51.100.9"


def test_on_spaces_the_first_forwarded_for_entry_is_the_visitor(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/gridanim")
    assert client_ip(req(host="10.16.0.5", xff=" 203.0.113.7 , 10.0.0.1")) == "203.0.113.7"
    assert client_ip(req(host="10.16.0.5")) == "10.16.0.5"  # no header: the peer


def test_no_request_or_no_peer():
    assert client_ip(None) == "local"
    assert client_ip(SimpleNamespace(headers={}, client=None)) == "unknown"


# ------------------------------------------------------------------ the check


def test_own_key_is_neither_limited_nor_recorded(host_env, monkeypatch, data_dir):
    monkeypatch.setenv("GRIDANIM_GENERATIONS_PER_DAY", "0")
    for _ in range(3):
        t = check_generation_allowed(req(), Decimal("5"), True)
        assert not t.metered
        t.settle(Decimal("5"))
    assert not (data_dir / "usage.sqlite3").exists()


def test_no_key_anywhere_is_refused_before_counting(monkeypatch, data_dir):
    with pytest.raises(E.MissingKeyError) as e:
        check_generation_allowed(req(), Decimal("0.05"), False)
    assert str(e.value) == NO_HOST_KEY
    assert "paste your OpenAI key" in NO_HOST_KEY


def test_third_host_key_generation_of_an_ip_is_refused_across_sessions(host_env):
    for s in ("a", "b"):
        check_generation_allowed(req(session=s), Decimal("0.05"), False).settle(Decimal("0.04"))
    with pytest.raises(E.LimitError, match="used your 2 free generations today"):
        check_generation_allowed(req(session="c"), Decimal("0.05"), False)
    check_generation_allowed(req(host="10.9.9.9"), Decimal("0.05"), False)  # another visitor


def test_budget_below_the_estimate_is_refused_naming_the_budget(host_env, monkeypatch):
    monkeypatch.setenv("GRIDANIM_DAILY_BUDGET_USD", "0.01")
    with pytest.raises(E.LimitError, match=r"daily budget of \$0\.01 would be exceeded"):
        check_generation_allowed(req(), Decimal("0.05"), False)
    assert remaining(req()).used == 0


def test_a_failure_before_sending_is_released(host_env):
    t = check_generation_allowed(req(), Decimal("0.05"), False)
    t.fail(E.MissingKeyError("no key"))
    assert remaining(req()).used == 0


def test_a_failure_after_sending_keeps_the_estimate(host_env):
    with check_generation_allowed(req(), Decimal("0.05"), False):
        pass  # left unsettled, e.g. the visitor closed the tab mid-stream
    with pytest.raises(E.ServerError):
        with check_generation_allowed(req(), Decimal("0.07"), False):
            raise E.ServerError("OpenAI had a server error")
    rem = remaining(req())
    assert (rem.used, rem.spent_usd) == (2, Decimal("0.12"))


def test_a_ticket_finishes_once(host_env):
    t = check_generation_allowed(req(), Decimal("0.05"), False)
    t.settle(Decimal("0.01"))
    t.fail(E.LimitError("late"))  # ignored: already settled
    assert (remaining(req()).used, remaining(req()).spent_usd) == (1, Decimal("0.01"))


def test_bad_limits_in_the_env_fail_loudly(host_env, monkeypatch):
    monkeypatch.setenv("GRIDANIM_DAILY_BUDGET_USD", "lots")
    with pytest.raises(E.InputError, match="GRIDANIM_DAILY_BUDGET_USD"):
        check_generation_allowed(req(), Decimal("0.05"), False)


def test_the_store_is_one_per_data_dir(data_dir, tmp_path):
    assert quota_store() is quota_store(data_dir)
    assert quota_store(tmp_path / "other") is not quota_store()


# ------------------------------------------------------------------ page text and log line


def test_allowance_markdown_says_what_is_left(host_env, monkeypatch):
    monkeypatch.setenv("GRIDANIM_DAILY_BUDGET_USD", "0.50")
    check_generation_allowed(req(), Decimal("0.05"), False).settle(Decimal("0.09"))
    text = allowance_markdown(req())
    assert "1 of 2 free generations left today · $0.41 of $0.50 daily budget left" in text
    assert "With your own key there is no limit here" in text
    monkeypatch.delenv("GRIDANIM_DAILY_BUDGET_USD")
    assert "no daily budget cap set by the host" in allowance_markdown(req())


def test_allowance_markdown_without_a_host_key():
    assert NO_HOST_KEY in allowance_markdown(req())


def test_policy_line_never_shows_the_key(host_env):
    line = Policy.from_env().describe()
    assert line == "host key set: 2 generations per visitor per UTC day, no daily budget cap"
    assert TEST_KEY not in line


# ------------------------------------------------------------------ with the fake OpenAI server


def _generate(request, visitor_key, fake_openai):
    """What the app does per click: prepare, check, one call with this visitor's client, settle."""
    p = prepare(GenerationRequest("a cat chasing its tail", rows=2, cols=2, quality="low"))
    with check_generation_allowed(request, p.quote.estimate.usd, bool(visitor_key)) as ticket:
        client = make_client(resolve_key(visitor_key), base_url=fake_openai.base_url)
        try:
            result = run_generation(p, client)
        finally:
            client.close()
        ticket.settle(result.actual_usd)
    return result


def test_quota_holds_and_refusals_send_nothing(host_env, openai_env):
    fake = openai_env
    results = [_generate(req(), None, fake) for _ in range(2)]
    with pytest.raises(E.LimitError):
        _generate(req(), None, fake)
    assert len(fake.image_requests) == 2
    spent = remaining(req()).spent_usd
    assert spent == sum(r.actual_usd for r in results).quantize(Decimal("0.000001"))


def test_a_visitor_key_is_sent_for_that_visitor_only_and_stored_nowhere(host_env, openai_env, data_dir):
    fake = openai_env
    _generate(req(host="10.0.0.1"), VISITOR_KEY, fake)
    _generate(req(host="10.0.0.2"), None, fake)
    auth = [r.headers["authorization"] for r in fake.image_requests]
    assert auth == [f"Bearer {VISITOR_KEY}", f"Bearer {TEST_KEY}"]
    assert remaining(req(host="10.0.0.1")).used == 0  # own key: not counted
    assert remaining(req(host="10.0.0.2")).used == 1
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in files) and any(p.name.startswith("usage.sqlite3") for p in files)
    for p in files:
        assert VISITOR_KEY.encode() not in p.read_bytes(), p


# ------------------------------------------------------------------ whose History


@pytest.mark.parametrize(
    "env, private",
    [
        ({}, False),
        ({"SPACE_ID": "a/b"}, True),
        ({"SPACE_ID": "a/b", "GRIDANIM_PRIVATE_HISTORY": "0"}, False),
        ({"GRIDANIM_PRIVATE_HISTORY": "1"}, True),
    ],
)
def test_history_is_private_on_a_space_unless_told_otherwise(env, private):
    assert history_is_private(env) is private


def test_on_a_space_each_visitor_sees_only_their_own_generations(monkeypatch, data_dir):
    monkeypatch.setenv("SPACE_ID", "friends/gridanim")
    alice, bob = req(xff="203.0.113.7"), req(xff="198.51.100.4", session="other")
    png = b"\x89PNG fake"
    mine = claim(save_generation(png, {"prompt": "alice's secret birthday card"}), alice)
    theirs = claim(save_generation(png, {"prompt": "bob's"}), bob)
    save_generation(png, {"prompt": "made with the CLI"})  # unclaimed: the host's
    assert [r.id for r in visible_history(alice)] == [mine.id]
    assert [r.id for r in visible_history(bob)] == [theirs.id]
    assert load_visible(alice, mine.id).meta["prompt"] == "alice's secret birthday card"
    with pytest.raises(E.StorageError, match="no saved generation .* of yours"):
        load_visible(bob, mine.id)
    assert b"203.0.113.7" not in mine.json_path.read_bytes()  # a pseudonym, not the address
    monkeypatch.delenv("SPACE_ID")  # run locally: one user, everything is theirs
    assert len(visible_history(alice)) == 3
