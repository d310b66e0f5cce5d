"""Hosting seam: who is asking, and whether a paid generation may go ahead on the host's key.

``app.py`` calls :func:`check_generation_allowed` once per Generate click, after
the estimate and before any client or request exists, and settles the returned
:class:`Ticket` when the call is over. The rules (issue #5):

* A visitor who pastes their own key (``using_own_key``) is not limited or
  counted at all: their key pays, and nothing about their request is recorded.
* Otherwise the host's ``OPENAI_API_KEY`` pays, so two limits apply
  (:mod:`gridanim.hosting.quota`, SQLite in the data dir, survives restarts):
  ``GRIDANIM_GENERATIONS_PER_DAY`` per visitor per UTC day (unset = 5,
  ``0`` = own keys only, ``unlimited``) and ``GRIDANIM_DAILY_BUDGET_USD`` for
  everyone together (unset = no cap, and the page says so), checked with the
  estimate's high end before sending.
* A refusal is a :class:`~gridanim.errors.LimitError` saying why and what to do;
  no request is made.

**Who a visitor is.** The limit is per IP (:func:`client_ip`), so a new browser
session or a cleared cookie does not reset it; the Gradio session is recorded
with each generation (hashed) but does not widen the limit. On a Hugging Face
Space (``SPACE_ID`` set) the socket peer is the Space's proxy, so the first
``x-forwarded-for`` entry is used. Off Spaces that header is not read here:
anyone can send it. (uvicorn itself rewrites the peer from ``x-forwarded-for``
only for connections from 127.0.0.1, i.e. a local reverse proxy.) Whether the
Spaces proxy replaces or appends a client-sent ``x-forwarded-for`` is not
documented, so per-IP limits are best effort; the daily budget is the limit
that holds against IP rotation. Visitors behind one NAT share a count.

**Whose History.** The History tab lists the data dir. On a Space every
visitor would see everyone's prompts, so there (``SPACE_ID`` set; override
with ``GRIDANIM_PRIVATE_HISTORY=1`` or ``0``) each visitor sees only the
generations :func:`claim` marked as theirs: the sidecar gets an ``owner``
pseudonym of the same IP the quota counts plus the Gradio session (salted,
unlinkable to the usage store's rows), so two visitors behind one NAT, or two
API clients on one machine, cannot list, open or re-draw each other's grids; a
reloaded page is a new session and starts a new History. Unclaimed records
(CLI runs) are then shown to no one. Ids carry 128 random bits besides.

**What a failure costs.** Local problems (no key, unwritable data dir) are
found before reserving. Once reserved, :meth:`Ticket.fail` releases only for
errors that cannot happen after sending (:class:`LimitError`,
:class:`MissingKeyError`); any other failure, a cancelled stream included, keeps
the estimate counted, because a failed image call may still be billed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..errors import GridanimError, LimitError, MissingKeyError, StorageError
from .keys import ENV_KEY
from .quota import FILENAME, QuotaStore, Remaining, Reservation, budget_from_env, limit_from_env
from .storage import Record, data_dir, ensure_writable, list_history, load_record, update_record

ENV_PRIVATE_HISTORY = "GRIDANIM_PRIVATE_HISTORY"
NO_HOST_KEY = (
    "This app has no key of its own: paste your OpenAI key to generate "
    "(it is used for your request only and never stored)"
)
_NOT_SENT = (LimitError, MissingKeyError)


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


def session_of(request: Any) -> str | None:
    """Gradio's per-tab session hash, or None."""
    s = getattr(request, "session_hash", None) if request is not None else None
    return str(s) if s else None


@dataclass(frozen=True)
class Policy:
    """The host's limits, read from the environment on every call (cheap, and restart-free to test)."""

    host_key: bool
    limit_per_day: int | None
    budget_usd: Decimal | None

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Policy:
        env = os.environ if environ is None else environ
        return cls(bool(env.get(ENV_KEY, "").strip()), limit_from_env(env), budget_from_env(env))

    def describe(self) -> str:
        """One line for the server log at startup (never the key)."""
        if not self.host_key:
            return "no host key: visitors must paste their own OpenAI key"
        per = "unlimited" if self.limit_per_day is None else str(self.limit_per_day)
        cap = "no daily budget cap" if self.budget_usd is None else f"daily budget ${self.budget_usd}"
        return f"host key set: {per} generations per visitor per UTC day, {cap}"


@lru_cache(maxsize=8)
def _store_at(path: str) -> QuotaStore:
    return QuotaStore.in_dir(path)


def private_paths(directory: str | os.PathLike | None = None) -> list[str]:
    """The usage store's files, for ``launch(blocked_paths=...)``: the app serves the data dir, but never these."""
    base = data_dir(directory).resolve() / FILENAME
    return [str(base) + suffix for suffix in ("", "-wal", "-shm", "-journal")]


def quota_store(directory: str | os.PathLike | None = None) -> QuotaStore:
    """The usage store in the data dir (``GRIDANIM_DATA_DIR``), one per folder per process."""
    return _store_at(str(data_dir(directory).resolve()))


@dataclass
class Ticket:
    """A generation allowed to go ahead; tell it how the request ended.

    ``reservation`` is None for unmetered requests (the visitor's own key), and
    then every method does nothing. Each ticket is finished at most once.
    """

    store: QuotaStore | None = None
    reservation: Reservation | None = None
    done: bool = False

    @property
    def metered(self) -> bool:
        return self.reservation is not None

    def settle(self, actual_usd: Decimal | None) -> None:
        """The request came back: count its exact cost (None = unknown: the estimate stays)."""
        if self._finish():
            self.store.settle(self.reservation, actual_usd)

    def fail(self, error: BaseException | None = None) -> None:
        """The request failed: release it if it surely was not sent, else keep the estimate counted."""
        if self._finish():
            if isinstance(error, _NOT_SENT):
                self.store.release(self.reservation)
            else:
                self.store.keep(self.reservation)

    def _finish(self) -> bool:
        if self.done or self.reservation is None or self.store is None:
            return False
        self.done = True
        return True

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, kind, error, tb) -> None:
        """Leaving the block unsettled is a failure (``GeneratorExit`` from a closed stream included)."""
        if not self.done:
            self.fail(error)


def check_generation_allowed(
    request: Any,
    estimate_usd: Decimal,
    using_own_key: bool,
    *,
    policy: Policy | None = None,
    directory: str | os.PathLike | None = None,
) -> Ticket:
    """Reserve one host-key generation for this visitor, or raise why not; own keys pass unmetered.

    Raises :class:`MissingKeyError` when there is no key at all and
    :class:`LimitError` when a limit refuses; in both cases nothing was counted
    and no request may be sent. Must not see the key itself.
    """
    if using_own_key:
        return Ticket()
    policy = policy or Policy.from_env()
    if not policy.host_key:
        raise MissingKeyError(NO_HOST_KEY)
    ensure_writable(directory)  # a grid that cannot be saved must not be paid for (nor counted)
    store = quota_store(directory)
    r = store.reserve(
        client_ip(request),
        estimate_usd,
        limit_per_day=policy.limit_per_day,
        budget_usd=policy.budget_usd,
        session=session_of(request),
    )
    return Ticket(store, r)


def remaining(request: Any, *, policy: Policy | None = None, directory: str | os.PathLike | None = None) -> Remaining:
    """This visitor's count and today's spend (for tests and the page)."""
    policy = policy or Policy.from_env()
    return quota_store(directory).remaining(
        client_ip(request), limit_per_day=policy.limit_per_day, budget_usd=policy.budget_usd
    )


def allowance_markdown(
    request: Any, *, policy: Policy | None = None, directory: str | os.PathLike | None = None
) -> str:
    """The Generate tab's "what's left" line, e.g. ``2 of 3 free generations left today · ...``."""
    policy = policy or Policy.from_env()
    if not policy.host_key:
        return f"**{NO_HOST_KEY}.**"
    try:
        rem = remaining(request, policy=policy, directory=directory)
    except GridanimError:  # the page must load even if the store is broken; generating will say why
        return "**Free generations:** unknown right now (the usage store cannot be read)."
    return (
        f"**Free generations on this app's key:** {rem.describe()}. "
        "With your own key there is no limit here; OpenAI bills you."
    )


# ------------------------------------------------------------------ whose History


def billing(request: Any, using_own_key: bool):
    """The pipeline's billing hooks for one visitor: reserve on the host's key (or not at all), claim for History."""
    from ..pipeline import Billing

    return Billing(
        reserve=lambda estimate_usd: check_generation_allowed(request, estimate_usd, using_own_key),
        claim=lambda record: claim(record, request),
    )


def history_is_private(environ: dict | None = None) -> bool:
    """Each visitor sees only their own generations: on a Space, unless ``GRIDANIM_PRIVATE_HISTORY`` says otherwise."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_PRIVATE_HISTORY, "").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    return bool(env.get("SPACE_ID"))


def _owner(request: Any) -> str:
    """The visitor's pseudonym: their IP and their Gradio session, so two sessions behind one address stay apart."""
    return quota_store().tag(f"history:{client_ip(request)}|{session_of(request) or ''}")


def claim(record: Record, request: Any) -> Record:
    """Mark a just-saved generation as this visitor's (a pseudonym in the sidecar, never the IP)."""
    return update_record(record, owner=_owner(request))


def may_see(request: Any, record: Record) -> bool:
    return not history_is_private() or record.meta.get("owner") == _owner(request)


def visible_history(request: Any, limit: int | None = None) -> list[Record]:
    """Saved generations this visitor may see, newest first."""
    records = [r for r in list_history() if may_see(request, r)]
    return records[:limit] if limit is not None else records


def load_visible(request: Any, record_id: str) -> Record:
    """One saved generation, if this visitor may see it; else the same error as a missing one."""
    rec = load_record(record_id)
    if not may_see(request, rec):
        raise StorageError(f"no saved generation '{record_id}' of yours on this app: see the History tab")
    return rec
