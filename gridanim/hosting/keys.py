"""Where the OpenAI key comes from, and the one place a client is built.

Lookup order: an explicit key (a visitor's own, pasted in the app) -> the
``OPENAI_API_KEY`` environment variable (a Space secret, or ``export`` in a
shell). The CLI never takes a key on the command line, so keys stay out of
shell history. Keys are never logged, printed or written to disk: nothing in
gridanim stores the value this module returns.

:func:`make_client` builds ``OpenAI(api_key=..., max_retries=1, timeout=300)``:
at most one retry, because a retried image call may be billed again, and a long
timeout, because gpt-image-2 at ``high`` takes minutes. ``openai`` is imported
here lazily so ``detect``/``animate`` start fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import MissingKeyError

if TYPE_CHECKING:  # pragma: no cover
    from openai import OpenAI

ENV_KEY = "OPENAI_API_KEY"
MAX_RETRIES = 1
TIMEOUT_S = 300.0

MISSING_KEY = "No OpenAI key found: set OPENAI_API_KEY (export OPENAI_API_KEY=sk-...) or paste your own key in the app"


def resolve_key(explicit: str | None = None) -> str:
    """The key to use: ``explicit`` if non-blank, else ``OPENAI_API_KEY``; else MissingKeyError."""
    for candidate in (explicit, os.environ.get(ENV_KEY)):
        if candidate and candidate.strip():
            return candidate.strip()
    raise MissingKeyError(MISSING_KEY)


def make_client(key: str, *, base_url: str | None = None, timeout: float = TIMEOUT_S) -> OpenAI:
    """A real OpenAI client for one CLI run or one app request (never a global).

    ``base_url`` defaults to the SDK's own (``OPENAI_BASE_URL`` or api.openai.com).
    """
    from openai import OpenAI

    return OpenAI(api_key=key, base_url=base_url, max_retries=MAX_RETRIES, timeout=timeout)
