"""Host-key quotas and the daily budget, kept in a small SQLite file so restarts don't reset them.

Whoever hosts gridanim with their own ``OPENAI_API_KEY`` pays for every
generation made with it. This module owns the two limits on that spending:

* **per visitor**: at most ``limit_per_day`` host-key generations per visitor
  per UTC day (``GRIDANIM_GENERATIONS_PER_DAY``; the app decides who a visitor
  is, see :mod:`gridanim.hosting.policy`);
* **global**: at most ``budget_usd`` of host-key spend per UTC day
  (``GRIDANIM_DAILY_BUDGET_USD``), checked against the *estimate* before the
  request is sent (the high end of the quote, so ``quality=auto`` counts as its
  dearest quality).

Life of one host-key generation::

    r = store.reserve(visitor, estimate, limit_per_day=2, budget_usd=Decimal("0.50"))
    ...send the request...           # LimitError above means: send nothing
    store.settle(r, actual_usd)      # the exact cost replaces the estimate
    store.release(r)                 # failed before anything was sent: as if never asked
    store.keep(r)                    # failed after it was sent: the estimate stays counted

:meth:`QuotaStore.reserve` checks and records in one ``BEGIN IMMEDIATE``
transaction, so concurrent requests (threads or processes) cannot both take the
last slot or the last dollars. A reservation that is never settled (the
process died mid-request) stays counted at its estimate: a request that may
have been billed is never forgotten. An image call that fails after it was sent
may or may not be billed by OpenAI, so :meth:`~QuotaStore.keep` counts it at its
estimate, against the visitor's count too (otherwise failing requests would be
an unmetered way to spend the host's money).

Money is stored as integer micro-dollars (estimates rounded up), so sums are
exact. Visitors are stored as a salted SHA-256 of what the caller passes (an
IP address), never the value itself. The salt lives in the same file, so this
keeps addresses out of plain sight, not secret from whoever holds the file (an
IPv4 address can be brute-forced): the app must never serve it (``app.py``
blocks it with ``launch(blocked_paths=...)``). Rows older than
:data:`KEEP_DAYS` days are pruned. Nothing here ever sees an API key.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path

from ..errors import InputError, LimitError, StorageError
from ..units import money

FILENAME = "usage.sqlite3"
ENV_PER_DAY = "GRIDANIM_GENERATIONS_PER_DAY"
ENV_BUDGET = "GRIDANIM_DAILY_BUDGET_USD"
DEFAULT_PER_DAY = 5  # when GRIDANIM_GENERATIONS_PER_DAY is unset
KEEP_DAYS = 35
BUSY_TIMEOUT_S = 30.0
OWN_KEY_HINT = "paste your own OpenAI key"

Clock = Callable[[], _dt.datetime]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS generations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    day         TEXT    NOT NULL,             -- UTC date, YYYY-MM-DD
    visitor     TEXT    NOT NULL,             -- salted hash of the visitor (IP)
    session     TEXT,                         -- salted hash of the browser session, for the record
    estimate_micro INTEGER NOT NULL,          -- estimate in micro-dollars, rounded up
    actual_micro   INTEGER,                   -- exact cost once settled
    state       TEXT    NOT NULL,             -- reserved | settled | kept
    created     TEXT    NOT NULL,
    finished    TEXT
);
CREATE INDEX IF NOT EXISTS generations_day_visitor ON generations (day, visitor);
"""


# ------------------------------------------------------------------ money and config


def _micro(usd: Decimal | float | int | str, rounding: str = ROUND_CEILING) -> int:
    return int((Decimal(str(usd)) * 1_000_000).to_integral_value(rounding=rounding))


def _dollars(micro: int) -> Decimal:
    return Decimal(micro) / 1_000_000


def limit_from_env(environ: dict | None = None) -> int | None:
    """``GRIDANIM_GENERATIONS_PER_DAY``: unset -> 5; ``0`` -> none (own keys only); ``unlimited`` -> None."""
    raw = (environ if environ is not None else os.environ).get(ENV_PER_DAY, "").strip()
    if not raw:
        return DEFAULT_PER_DAY
    if raw.lower() == "unlimited":
        return None
    try:
        n = int(raw)
    except ValueError:
        n = -1
    if n < 0:
        raise InputError(f"{ENV_PER_DAY} must be a whole number of 0 or more, or 'unlimited', got {raw!r}")
    return n


def budget_from_env(environ: dict | None = None) -> Decimal | None:
    """``GRIDANIM_DAILY_BUDGET_USD``: unset -> None (no cap; the page says so); ``0`` -> no host spend."""
    raw = (environ if environ is not None else os.environ).get(ENV_BUDGET, "").strip().lstrip("$")
    if not raw:
        return None
    try:
        d = Decimal(raw)
    except ArithmeticError:
        d = Decimal(-1)
    if not d.is_finite() or d < 0:
        raise InputError(f"{ENV_BUDGET} must be a dollar amount of 0 or more such as 5 or 0.50, got {raw!r}")
    return d


# ------------------------------------------------------------------ records


@dataclass(frozen=True)
class Reservation:
    """A host-key generation counted before its request is sent."""

    id: int
    day: str
    estimate_usd: Decimal


@dataclass(frozen=True)
class Remaining:
    """What one visitor has left today (for the page)."""

    used: int
    limit: int | None  # None = unlimited
    spent_usd: Decimal  # settled + in flight, all visitors
    budget_usd: Decimal | None  # None = no cap
    resets_in: _dt.timedelta

    @property
    def generations_left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def budget_left_usd(self) -> Decimal | None:
        return None if self.budget_usd is None else max(Decimal(0), self.budget_usd - self.spent_usd)

    def describe(self) -> str:
        """One line, e.g. ``2 of 3 free generations left today · $0.41 of $0.50 daily budget left ·
        resets in 5 h 12 min (00:00 UTC)``."""
        if self.limit is None:
            count = "unlimited free generations"
        elif self.limit == 0:
            count = "no free generations on this app: paste your own OpenAI key"
        else:
            count = f"{self.generations_left} of {self.limit} free generations left today"
        if self.budget_usd is None:
            budget = "no daily budget cap set by the host"
        else:
            budget = f"{money(self.budget_left_usd)} of {money(self.budget_usd)} daily budget left"
        return f"{count} · {budget} · resets in {_duration(self.resets_in)} (00:00 UTC)"


def _duration(td: _dt.timedelta) -> str:
    minutes = max(1, int(td.total_seconds() // 60))
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if h else f"{m} min"


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


# ------------------------------------------------------------------ the store


class QuotaStore:
    """Per-visitor daily counts and daily spend in ``<data dir>/usage.sqlite3``.

    Safe to share between threads (one connection per call) and between
    processes on the same file (SQLite locking, WAL journal). ``clock`` returns
    an aware datetime and is injectable for tests of the UTC day rollover.
    """

    def __init__(self, path: str | os.PathLike, *, clock: Clock = _utcnow) -> None:
        self.path = Path(path)
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
                self._salt = bytes.fromhex(db.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()[0])
        except sqlite3.Error as e:
            raise StorageError(
                f"cannot open the usage store {self.path} ({e}): set GRIDANIM_DATA_DIR to a writable folder"
            ) from None
        except OSError as e:
            raise StorageError(
                f"cannot create {self.path.parent} ({e.strerror or e}): set GRIDANIM_DATA_DIR to a writable folder"
            ) from None

    @classmethod
    def in_dir(cls, directory: str | os.PathLike, **kw) -> QuotaStore:
        return cls(Path(directory) / FILENAME, **kw)

    # -- plumbing

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading so check + insert are atomic."""
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as e:
            raise StorageError(
                f"the usage store {self.path} failed ({e}): check the disk and GRIDANIM_DATA_DIR"
            ) from None

    def _now(self) -> _dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(_dt.timezone.utc)

    def tag(self, value: str) -> str:
        """A stable pseudonym for ``value`` under this store's salt (for marking who owns what)."""
        return self._hash(value)

    def _hash(self, value: str) -> str:
        return hashlib.sha256(self._salt + value.encode("utf-8")).hexdigest()[:32]

    @staticmethod
    def _usage(db: sqlite3.Connection, day: str, visitor: str) -> tuple[int, int]:
        """(this visitor's generations today, everyone's spend today in micro-dollars)."""
        used = db.execute("SELECT COUNT(*) FROM generations WHERE day = ? AND visitor = ?", (day, visitor)).fetchone()[
            0
        ]
        spent = db.execute(
            "SELECT COALESCE(SUM(COALESCE(actual_micro, estimate_micro)), 0) FROM generations WHERE day = ?", (day,)
        ).fetchone()[0]
        return int(used), int(spent)

    # -- the verbs

    def reserve(
        self,
        visitor: str,
        estimate_usd: Decimal | float,
        *,
        limit_per_day: int | None,
        budget_usd: Decimal | None,
        session: str | None = None,
    ) -> Reservation:
        """Count one generation at ``estimate_usd`` if both limits allow it; else :class:`LimitError`.

        ``limit_per_day=None`` / ``budget_usd=None`` mean no such limit.
        """
        est = _micro(estimate_usd)
        now = self._now()
        day = now.date().isoformat()
        with self._write() as db:
            who = self._hash(visitor)
            used, spent = self._usage(db, day, who)
            _refuse_if_over(used, spent, est, limit_per_day, budget_usd, _until_midnight(now))
            sess = self._hash("session:" + session) if session else None
            cur = db.execute(
                "INSERT INTO generations (day, visitor, session, estimate_micro, state, created) "
                "VALUES (?, ?, ?, ?, 'reserved', ?)",
                (day, who, sess, est, now.isoformat(timespec="seconds")),
            )
            cutoff = (now.date() - _dt.timedelta(days=KEEP_DAYS)).isoformat()
            db.execute("DELETE FROM generations WHERE day < ?", (cutoff,))
            return Reservation(int(cur.lastrowid), day, _dollars(est))

    def check(
        self, visitor: str, estimate_usd: Decimal | float, *, limit_per_day: int | None, budget_usd: Decimal | None
    ) -> Remaining:
        """Would :meth:`reserve` allow this now? Raises the same :class:`LimitError`; records nothing."""
        rem = self.remaining(visitor, limit_per_day=limit_per_day, budget_usd=budget_usd)
        _refuse_if_over(rem.used, _micro(rem.spent_usd), _micro(estimate_usd), limit_per_day, budget_usd, rem.resets_in)
        return rem

    def settle(self, r: Reservation, actual_usd: Decimal | float | None) -> None:
        """The request finished: record its exact cost (None = unknown, the estimate stays)."""
        actual = None if actual_usd is None else _micro(actual_usd, ROUND_HALF_UP)
        self._finish(r, "settled" if actual is not None else "kept", actual)

    def keep(self, r: Reservation) -> None:
        """The request failed after it was sent: it may be billed, so the estimate stays counted."""
        self._finish(r, "kept", None)

    def release(self, r: Reservation) -> None:
        """The request was never sent: forget the reservation (count and money)."""
        with self._write() as db:
            db.execute("DELETE FROM generations WHERE id = ? AND state = 'reserved'", (r.id,))

    def _finish(self, r: Reservation, state: str, actual_micro: int | None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE generations SET state = ?, actual_micro = ?, finished = ? WHERE id = ? AND state = 'reserved'",
                (state, actual_micro, self._now().isoformat(timespec="seconds"), r.id),
            )

    def remaining(self, visitor: str, *, limit_per_day: int | None, budget_usd: Decimal | None) -> Remaining:
        """This visitor's count and everyone's spend today, against the limits given."""
        now = self._now()
        try:
            with closing(self._connect()) as db:
                used, spent = self._usage(db, now.date().isoformat(), self._hash(visitor))
        except sqlite3.Error as e:
            raise StorageError(
                f"the usage store {self.path} failed ({e}): check the disk and GRIDANIM_DATA_DIR"
            ) from None
        return Remaining(used, limit_per_day, _dollars(spent), budget_usd, _until_midnight(now))


def _until_midnight(now: _dt.datetime) -> _dt.timedelta:
    tomorrow = _dt.datetime.combine(now.date() + _dt.timedelta(days=1), _dt.time(), tzinfo=_dt.timezone.utc)
    return tomorrow - now


def _refuse_if_over(
    used: int, spent_micro: int, est_micro: int, limit: int | None, budget: Decimal | None, resets_in: _dt.timedelta
) -> None:
    back = f"come back after 00:00 UTC (in {_duration(resets_in)}) or {OWN_KEY_HINT}"
    if limit is not None and used >= limit:
        if limit == 0:
            raise LimitError(f"This app offers no free generations: {OWN_KEY_HINT} to generate")
        plural = "generation" if limit == 1 else "generations"
        raise LimitError(f"You have used your {limit} free {plural} today on this app: {back}")
    if budget is None:
        return
    cap = _micro(budget, ROUND_HALF_UP)
    if spent_micro >= cap:
        raise LimitError(f"This app's daily budget of {money(budget)} is used up: {back}")
    if spent_micro + est_micro > cap:
        left = _dollars(cap - spent_micro)
        raise LimitError(
            f"This app's daily budget of {money(budget)} would be exceeded by this "
            f"{money(_dollars(est_micro))} generation "
            f"({money(left)} left today): pick a lower quality or fewer frames, {back}"
        )
