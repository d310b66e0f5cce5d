"""Hosting seam: who is asking, and whether a paid generation may go ahead.

The app calls :func:`check_generation_allowed` once per Generate click, after
the estimate and before any request or client exists. Today it allows
everything; issue #5 adds quotas here (per visitor and per IP for the server's
key, a daily budget cap) by raising :class:`~gridanim.errors.LimitError`,
which the app shows as a ``gr.Error``. Visitors who paste their own key
(``using_own_key``) are expected to skip the host's limits.

:func:`client_ip` is the address to key such limits on: on a Hugging Face
Space (``SPACE_ID`` set) ``request.client.host`` is the proxy, so the first
``x-forwarded-for`` entry is used; elsewhere the socket's peer.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any


def client_ip(request: Any) -> str:
    """The visitor's IP (best effort); ``"local"`` when there is no request (direct calls)."""
    if request is None:
        return "local"
    if os.environ.get("SPACE_ID"):
        headers = getattr(request, "headers", None) or {}
        xff = headers.get("x-forwarded-for", "") if hasattr(headers, "get") else ""
        first = xff.split(",")[0].strip()
        if first:
            return first
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    return str(host) if host else "unknown"


def check_generation_allowed(request: Any, estimate_usd: Decimal, using_own_key: bool) -> None:
    """Raise :class:`~gridanim.errors.LimitError` to refuse a generation; issue #5 adds quotas here.

    Called before any request is made; must not see the key itself.
    """
    return None
