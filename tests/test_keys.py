"""gridanim.hosting.keys: one lookup order, one client factory."""

from __future__ import annotations

import pytest

from gridanim.errors import MissingKeyError
from gridanim.hosting.keys import MAX_RETRIES, TIMEOUT_S, make_client, resolve_key


def test_explicit_key_wins_over_the_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert resolve_key(" sk-visitor ") == "sk-visitor"
    assert resolve_key(None) == "sk-env"
    assert resolve_key("   ") == "sk-env"


def test_no_key_anywhere_says_how_to_set_one():
    with pytest.raises(MissingKeyError) as e:
        resolve_key()
    assert "export OPENAI_API_KEY=sk-..." in str(e.value)
    assert "paste your own key in the app" in str(e.value)


def test_client_retries_at_most_once_with_a_long_timeout():
    c = make_client("sk-x", base_url="http://127.0.0.1:9/v1")
    assert c.max_retries == MAX_RETRIES == 1
    assert TIMEOUT_S >= 300 and float(c.timeout) == TIMEOUT_S
    assert str(c.base_url).startswith("http://127.0.0.1:9/v1")
    c.close()
