"""gridanim.hosting.quota: per-visitor daily counts and the daily budget, persistent and race-free."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from decimal import Decimal

import pytest

from gridanim.errors import InputError, LimitError, StorageError
from gridanim.hosting.quota import DEFAULT_PER_DAY, QuotaStore, budget_from_env, limit_from_env

UTC = dt.timezone.utc
IP = "203.0.113.7"


class Clock:
    """A settable clock for day-rollover tests."""

    def __init__(self, when: dt.datetime) -> None:
        self.now = when

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 21, 15, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path, clock) -> QuotaStore:
    return QuotaStore.in_dir(tmp_path, clock=clock)


def spend(store: QuotaStore, visitor: str, usd: str, *, limit=None, budget=None) -> None:
    store.settle(store.reserve(visitor, Decimal(usd), limit_per_day=limit, budget_usd=budget), Decimal(usd))


# ------------------------------------------------------------------ per-visitor limit


def test_third_generation_of_the_day_is_refused_with_what_to_do(store):
    for _ in range(2):
        spend(store, IP, "0.05", limit=2)
    with pytest.raises(LimitError) as e:
        store.reserve(IP, Decimal("0.05"), limit_per_day=2, budget_usd=None)
    msg = str(e.value)
    assert "You have used your 2 free generations today on this app" in msg
    assert "come back after 00:00 UTC (in 9 h 0 min)" in msg
    assert "paste your own OpenAI key" in msg
    assert store.remaining(IP, limit_per_day=2, budget_usd=None).used == 2  # the refusal counted nothing


def test_the_limit_is_per_visitor(store):
    spend(store, IP, "0.05", limit=1)
    spend(store, "198.51.100.2", "0.05", limit=1)  # someone else still has theirs
    with pytest.raises(LimitError, match="1 free generation today"):
        store.reserve(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None)


def test_a_new_session_from_the_same_ip_does_not_reset_the_count(store):
    store.reserve(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None, session="session-a")
    with pytest.raises(LimitError):
        store.reserve(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None, session="session-b")


def test_limit_zero_means_own_keys_only(store):
    with pytest.raises(LimitError, match="no free generations: paste your own OpenAI key"):
        store.reserve(IP, Decimal("0.01"), limit_per_day=0, budget_usd=None)


def test_no_limits_allow_and_still_count(store):
    for _ in range(7):
        spend(store, IP, "0.10")
    rem = store.remaining(IP, limit_per_day=None, budget_usd=None)
    assert (rem.used, rem.spent_usd, rem.generations_left) == (7, Decimal("0.7"), None)


# ------------------------------------------------------------------ budget


def test_an_estimate_above_the_budget_is_refused_before_anything_is_counted(store):
    with pytest.raises(LimitError) as e:
        store.reserve(IP, Decimal("0.2112"), limit_per_day=5, budget_usd=Decimal("0.10"))
    msg = str(e.value)
    assert "daily budget of $0.10 would be exceeded by this $0.2112 generation ($0.10 left today)" in msg
    assert "paste your own OpenAI key" in msg
    rem = store.remaining(IP, limit_per_day=5, budget_usd=Decimal("0.10"))
    assert (rem.used, rem.spent_usd) == (0, 0)


def test_the_budget_is_shared_by_all_visitors_and_says_when_used_up(store):
    budget = Decimal("0.50")
    spend(store, "a", "0.30", budget=budget)
    spend(store, "b", "0.20", budget=budget)
    with pytest.raises(LimitError, match=r"daily budget of \$0\.50 is used up: come back after 00:00 UTC"):
        store.reserve("c", Decimal("0.01"), limit_per_day=None, budget_usd=budget)


def test_settle_replaces_the_estimate_with_the_actual_cost(store):
    budget = Decimal("0.50")
    r = store.reserve(IP, Decimal("0.40"), limit_per_day=None, budget_usd=budget)
    with pytest.raises(LimitError, match="would be exceeded"):  # in flight: the estimate holds the money
        store.reserve(IP, Decimal("0.20"), limit_per_day=None, budget_usd=budget)
    store.settle(r, Decimal("0.123456"))
    rem = store.remaining(IP, limit_per_day=None, budget_usd=budget)
    assert rem.spent_usd == Decimal("0.123456")
    assert rem.budget_left_usd == Decimal("0.376544")
    store.reserve(IP, Decimal("0.20"), limit_per_day=None, budget_usd=budget)  # now it fits


def test_unknown_actual_cost_keeps_the_estimate(store):
    r = store.reserve(IP, Decimal("0.25"), limit_per_day=None, budget_usd=None)
    store.settle(r, None)
    assert store.remaining(IP, limit_per_day=None, budget_usd=None).spent_usd == Decimal("0.25")


def test_release_forgets_a_request_that_was_never_sent(store):
    r = store.reserve(IP, Decimal("0.25"), limit_per_day=1, budget_usd=Decimal("0.25"))
    store.release(r)
    rem = store.remaining(IP, limit_per_day=1, budget_usd=Decimal("0.25"))
    assert (rem.used, rem.spent_usd) == (0, 0)
    store.reserve(IP, Decimal("0.25"), limit_per_day=1, budget_usd=Decimal("0.25"))


def test_keep_counts_a_failed_sent_request_at_its_estimate(store):
    r = store.reserve(IP, Decimal("0.25"), limit_per_day=1, budget_usd=None)
    store.keep(r)
    store.release(r)  # too late: only unfinished reservations can be released
    rem = store.remaining(IP, limit_per_day=1, budget_usd=None)
    assert (rem.used, rem.spent_usd) == (1, Decimal("0.25"))


def test_estimates_round_up_to_the_micro_dollar(store):
    store.reserve(IP, Decimal("0.0000001"), limit_per_day=None, budget_usd=None)
    assert store.remaining(IP, limit_per_day=None, budget_usd=None).spent_usd == Decimal("0.000001")


# ------------------------------------------------------------------ days, restarts, races


def test_counts_reset_at_midnight_utc(store, clock):
    clock.now = dt.datetime(2026, 11, 21, 23, 59, tzinfo=UTC)
    spend(store, IP, "0.50", limit=1, budget=Decimal("0.50"))
    with pytest.raises(LimitError, match=r"\(in 1 min\)"):
        store.reserve(IP, Decimal("0.01"), limit_per_day=1, budget_usd=Decimal("0.50"))
    clock.now = dt.datetime(2026, 11, 22, 0, 1, tzinfo=UTC)
    rem = store.remaining(IP, limit_per_day=1, budget_usd=Decimal("0.50"))
    assert (rem.used, rem.spent_usd) == (0, 0)
    store.reserve(IP, Decimal("0.50"), limit_per_day=1, budget_usd=Decimal("0.50"))


def test_the_day_is_the_utc_day_whatever_the_clock_zone(store, clock):
    paris = dt.timezone(dt.timedelta(hours=2))
    clock.now = dt.datetime(2026, 11, 22, 1, 0, tzinfo=paris)  # still the 21st in UTC
    spend(store, IP, "0.05", limit=1)
    clock.now = dt.datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    with pytest.raises(LimitError):
        store.reserve(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None)


def test_counts_survive_a_new_store_on_the_same_file(tmp_path, clock):
    spend(QuotaStore.in_dir(tmp_path, clock=clock), IP, "0.05", limit=2)
    spend(QuotaStore.in_dir(tmp_path, clock=clock), IP, "0.05", limit=2)
    with pytest.raises(LimitError):
        QuotaStore.in_dir(tmp_path, clock=clock).reserve(IP, Decimal("0.05"), limit_per_day=2, budget_usd=None)


def _race(store: QuotaStore, n: int, visitor, **limits) -> list:
    start = threading.Barrier(n)
    wins, losses = [], []

    def one(i: int) -> None:
        start.wait()
        try:
            wins.append(store.reserve(visitor(i), Decimal("0.10"), **limits))
        except LimitError:
            losses.append(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(wins) + len(losses) == n
    return wins


def test_racing_for_the_last_slot_exactly_one_wins(store):
    spend(store, IP, "0.05", limit=3)
    spend(store, IP, "0.05", limit=3)
    wins = _race(store, 12, lambda i: IP, limit_per_day=3, budget_usd=None)
    assert len(wins) == 1
    assert store.remaining(IP, limit_per_day=3, budget_usd=None).used == 3


def test_racing_for_the_last_dollars_never_overspends(store):
    wins = _race(store, 12, lambda i: f"10.0.0.{i}", limit_per_day=None, budget_usd=Decimal("0.30"))
    assert len(wins) == 3
    assert store.remaining("x", limit_per_day=None, budget_usd=Decimal("0.30")).spent_usd == Decimal("0.3")


def test_the_file_holds_no_raw_visitor_or_session(store, tmp_path):
    store.reserve(IP, Decimal("0.05"), limit_per_day=None, budget_usd=None, session="sess-abc123xyz")
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("usage.sqlite3*"))
    assert blob  # the store really is on disk
    assert IP.encode() not in blob and b"sess-abc123xyz" not in blob


def test_old_days_are_pruned(store, clock, tmp_path):
    spend(store, IP, "0.05")
    clock.now += dt.timedelta(days=40)
    spend(store, IP, "0.05")
    with sqlite3.connect(tmp_path / "usage.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 1


def test_an_unusable_data_dir_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="GRIDANIM_DATA_DIR"):
        QuotaStore.in_dir(blocker / "data")


# ------------------------------------------------------------------ page text and config


def test_remaining_describes_what_is_left(store, clock):
    clock.now = dt.datetime(2026, 11, 21, 18, 48, tzinfo=UTC)
    spend(store, IP, "0.09", limit=3, budget=Decimal("0.50"))
    text = store.remaining(IP, limit_per_day=3, budget_usd=Decimal("0.50")).describe()
    assert (
        text
        == "2 of 3 free generations left today · $0.41 of $0.50 daily budget left · resets in 5 h 12 min (00:00 UTC)"
    )
    assert "no daily budget cap set by the host" in store.remaining(IP, limit_per_day=3, budget_usd=None).describe()


def test_check_refuses_like_reserve_but_records_nothing(store):
    store.check(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None)
    store.check(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None)
    spend(store, IP, "0.05", limit=1)
    with pytest.raises(LimitError, match="1 free generation"):
        store.check(IP, Decimal("0.05"), limit_per_day=1, budget_usd=None)


@pytest.mark.parametrize(
    "raw, limit",
    [(None, DEFAULT_PER_DAY), ("", DEFAULT_PER_DAY), ("2", 2), (" 0 ", 0), ("unlimited", None), ("Unlimited", None)],
)
def test_generations_per_day_from_env(raw, limit):
    env = {} if raw is None else {"GRIDANIM_GENERATIONS_PER_DAY": raw}
    assert limit_from_env(env) == limit


@pytest.mark.parametrize("raw", ["-1", "two", "1.5"])
def test_bad_generations_per_day_says_what_is_allowed(raw):
    with pytest.raises(InputError, match="GRIDANIM_GENERATIONS_PER_DAY must be a whole number"):
        limit_from_env({"GRIDANIM_GENERATIONS_PER_DAY": raw})


@pytest.mark.parametrize(
    "raw, budget", [(None, None), ("", None), ("0.50", Decimal("0.50")), ("$2", Decimal(2)), ("0", Decimal(0))]
)
def test_daily_budget_from_env(raw, budget):
    env = {} if raw is None else {"GRIDANIM_DAILY_BUDGET_USD": raw}
    assert budget_from_env(env) == budget


@pytest.mark.parametrize("raw", ["-1", "five", "nan", "inf"])
def test_bad_daily_budget_says_what_is_allowed(raw):
    with pytest.raises(InputError, match="GRIDANIM_DAILY_BUDGET_USD must be a dollar amount"):
        budget_from_env({"GRIDANIM_DAILY_BUDGET_USD": raw})
