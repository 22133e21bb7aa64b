"""Rate limits in the store: shared by the processes of a sharded bot, kept across restarts, and never a
single point of failure (an unreachable store falls back to memory)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.desk import Asker, Desk, Records
from bot.ratelimit import RateLimiter, StoreRateLimiter
from index.errors import StoreUnavailableError
from index.store import Store
from tests.conftest import OpenStore

from .conftest import FakeEngine

pytestmark = pytest.mark.both_engines


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _limiter(store: Store, clock: Clock, per_minute: int = 2, **kwargs: object) -> StoreRateLimiter:
    return StoreRateLimiter(store, RateLimiter(per_minute, clock=clock), clock=clock, monotonic=clock, **kwargs)  # type: ignore[arg-type]


def test_two_processes_share_one_bucket(open_store: OpenStore) -> None:
    """should let a user spend one allowance across processes, then wait for the refill."""
    store, clock = open_store(), Clock()
    a, b = _limiter(store, clock), _limiter(store, clock)
    assert (a.acquire(7), b.acquire(7)) == (0.0, 0.0)
    assert a.acquire(7) == pytest.approx(30.0)
    clock.now += 10
    assert b.acquire(7) == pytest.approx(20.0)
    clock.now += 20
    assert b.acquire(7) == 0.0
    assert a.acquire(8) == 0.0  # another user has a bucket of their own


def test_a_restart_forgives_nobody(open_store: OpenStore) -> None:
    """should keep the buckets in the store, so that a restarted process still refuses."""
    clock = Clock()
    first = open_store()
    assert [_limiter(first, clock).acquire(7) for _ in range(2)] == [0.0, 0.0]
    first.close()
    assert _limiter(open_store(), clock).acquire(7) == pytest.approx(30.0)


def test_concurrent_processes_never_spend_a_token_twice(open_store: OpenStore) -> None:
    """should grant exactly the bucket's tokens to many concurrent requests from two limiters."""
    store, clock = open_store(), Clock()
    limiters = [_limiter(store, clock, per_minute=5) for _ in range(2)]
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda i: limiters[i % 2].acquire(42), range(24)))
    assert waits.count(0.0) == 5


def test_an_unreachable_store_falls_back_to_memory_and_logs_once(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """should decide in memory while the store is down (one warning), and go back to the store after."""
    store, clock = open_store(), Clock()
    limiter = _limiter(store, clock, retry_after=30.0)
    real_execute = store.db.execute
    calls = 0

    def down(*args: object) -> object:
        nonlocal calls
        calls += 1
        raise StoreUnavailableError("cannot reach the database")

    monkeypatch.setattr(store.db, "execute", down)
    with caplog.at_level(logging.WARNING, logger="bot.ratelimit"):
        assert [limiter.acquire(7) for _ in range(3)] == [0.0, 0.0, pytest.approx(30.0)]
    assert calls == 1  # the store is not asked again before retry_after
    assert [r.getMessage() for r in caplog.records] == [
        "rate limits fall back to this process's memory: cannot reach the database"
    ]
    monkeypatch.setattr(store.db, "execute", real_execute)
    clock.now += 31
    assert [limiter.acquire(7) for _ in range(3)] == [0.0, 0.0, pytest.approx(30.0)]
    assert store.db.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0] == 1


def test_full_buckets_are_pruned(open_store: OpenStore) -> None:
    """should forget buckets that refilled, so the table does not grow with every user ever seen."""
    store, clock = open_store(), Clock()
    limiter = _limiter(store, clock, prune_every=3)
    limiter.acquire(1)
    limiter.acquire(2)
    clock.now += 61
    limiter.acquire(3)
    keys = [row[0] for row in store.db.execute("SELECT key FROM rate_limits")]
    assert keys == ["ask:3"]


async def test_the_desk_shares_limits_only_on_postgresql(open_store: OpenStore, database_engine: str) -> None:
    """should put the limits in the store when it is PostgreSQL, and keep them in memory on SQLite."""
    store = open_store()
    records = Records.open(store, conversation_ttl=timedelta(minutes=30))
    desk = Desk(FakeEngine(), limiter=RateLimiter(1), records=records)
    try:
        assert type(desk.limiter) is (StoreRateLimiter if database_engine == "postgresql" else RateLimiter)
        member = Asker(5, 9)
        assert await desk.throttle(member) == 0.0
        assert await desk.throttle(member) > 0
        assert await desk.throttle(Asker(5, 9, is_moderator=True)) == 0.0
    finally:
        desk.close()


async def test_a_slow_store_never_holds_up_the_interaction(
    open_store: OpenStore, database_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should decide in memory when the shared limit does not answer within THROTTLE_WAIT_S."""
    if database_engine == "sqlite":
        pytest.skip("the desk shares limits only on PostgreSQL")
    records = Records.open(open_store(), conversation_ttl=timedelta(minutes=30))
    desk = Desk(FakeEngine(), limiter=RateLimiter(1), records=records)
    assert isinstance(desk.limiter, StoreRateLimiter)
    released = threading.Event()
    monkeypatch.setattr(desk.limiter, "_take", lambda key, now: released.wait(5) and 0.0)
    monkeypatch.setattr("bot.desk.THROTTLE_WAIT_S", 0.05)
    try:
        member = Asker(5, 9)
        assert await desk.throttle(member) == 0.0
        assert await desk.throttle(member) > 0  # the fallback's bucket of one is spent
        assert len(desk.limiter.fallback) == 1
    finally:
        released.set()
        desk.close()
