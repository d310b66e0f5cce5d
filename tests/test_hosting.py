"""gridanim.hosting: the client-IP helper and the (for now permissive) guard."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from gridanim import hosting


def req(host="10.0.0.5", xff=None):
    headers = {"x-forwarded-for": xff} if xff else {}
    return SimpleNamespace(client=SimpleNamespace(host=host), headers=headers)


def test_client_ip_on_a_space_is_the_first_forwarded_address(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/gridanim")
    assert hosting.client_ip(req(xff="203.0.113.7, 10.0.0.1")) == "203.0.113.7"
    assert hosting.client_ip(req()) == "10.0.0.5"


def test_client_ip_elsewhere_ignores_forwarded_headers(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert hosting.client_ip(req(xff="203.0.113.7")) == "10.0.0.5"
    assert hosting.client_ip(None) == "local"
    assert hosting.client_ip(SimpleNamespace(client=None, headers={})) == "unknown"


def test_the_guard_allows_everything_until_issue_5():
    assert hosting.check_generation_allowed(req(), Decimal("0.05"), using_own_key=False) is None
