"""Shared fixtures: a clean environment for every test, and the fake OpenAI server.

* ``_clean_env`` (autouse): no OpenAI key, base URL or org/project from the
  developer's shell leaks into a test; ``GRIDANIM_DATA_DIR`` points at a fresh
  ``tmp_path`` folder and ``GRIDANIM_PRESETS_DIR`` is unset.
* ``fake_openai``: a real HTTP server on 127.0.0.1 speaking the images API
  (see ``tests/fake_openai.py``), started and stopped per test.
* ``openai_env``: ``fake_openai`` plus ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``
  set, for code paths that build their own client from the environment.
* ``client``: a real ``openai.OpenAI`` pointed at ``fake_openai`` the way the
  CLI builds one (``max_retries=1``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so tests can `import fake_openai`

from fake_openai import FakeOpenAI  # noqa: E402

TEST_KEY = "sk-test-gridanim-0123456789abcdef"

_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_LOG",
    "GRIDANIM_PRESETS_DIR",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRIDANIM_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def fake_openai():
    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openai_env(fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    return fake_openai


@pytest.fixture
def client(fake_openai):
    from openai import OpenAI

    c = OpenAI(api_key=TEST_KEY, base_url=fake_openai.base_url, max_retries=1, timeout=30)
    yield c
    c.close()
