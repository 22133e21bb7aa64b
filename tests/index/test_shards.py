"""Shard claims: one live process per shard, lapsing leases, heartbeats and release, on both engines."""

from __future__ import annotations

import pytest

from index.shards import ShardConflictError, claim_shards
from tests.conftest import OpenStore

pytestmark = pytest.mark.both_engines


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_process_is_refused_the_shards_of_a_live_one(open_store: OpenStore) -> None:
    """should refuse overlapping shard ids, naming the shard and its holder."""
    store, clock = open_store(), Clock()
    claim_shards(store, [0, 1], 4, owner="a", clock=clock)
    with pytest.raises(ShardConflictError, match=r"cannot claim shards 1,2 of 4: another process holds shard 1 of 4 "):
        claim_shards(store, [1, 2], 4, owner="b", clock=clock)
    other = claim_shards(store, [2, 3], 4, owner="b", clock=clock)
    assert other.shard_ids == (2, 3)
    rows = store.db.execute("SELECT shard_id, owner FROM shard_claims ORDER BY shard_id").fetchall()
    assert [tuple(r) for r in rows] == [(0, "a"), (1, "a"), (2, "b"), (3, "b")]


def test_another_shard_count_is_refused_while_a_process_lives(open_store: OpenStore) -> None:
    """should refuse a process started with another --shard-count than a live one."""
    store, clock = open_store(), Clock()
    claim_shards(store, [0], 2, owner="a", clock=clock)
    with pytest.raises(ShardConflictError, match="shard 0 of 2"):
        claim_shards(store, [3], 4, owner="b", clock=clock)


def test_a_lapsed_claim_is_taken_over_and_its_heartbeat_then_fails(open_store: OpenStore) -> None:
    """should give the shards of a process that stopped heart-beating to the next one, and tell the old one."""
    store, clock = open_store(), Clock()
    old = claim_shards(store, [0, 1], 2, owner="a", lease=60, clock=clock)
    clock.now += 59
    old.heartbeat()  # renewed: still held a minute later
    clock.now += 59
    with pytest.raises(ShardConflictError):
        claim_shards(store, [0], 2, owner="b", lease=60, clock=clock)
    clock.now += 2
    new = claim_shards(store, [0, 1], 2, owner="b", lease=60, clock=clock)
    with pytest.raises(ShardConflictError, match="lost its claim on shards 0,1 of 2"):
        old.heartbeat()
    new.heartbeat()


def test_release_frees_the_shards_at_once(open_store: OpenStore) -> None:
    """should let another process claim released shards without waiting for the lease."""
    store, clock = open_store(), Clock()
    claim_shards(store, [0, 1], 2, owner="a", clock=clock).release()
    assert claim_shards(store, [0, 1], 2, owner="b", clock=clock).owner == "b"


def test_a_restarted_owner_reclaims_its_own_shards(open_store: OpenStore) -> None:
    """should let the same owner claim again (its earlier rows are replaced)."""
    store, clock = open_store(), Clock()
    claim_shards(store, [0, 1], 2, owner="a", clock=clock)
    assert claim_shards(store, [1], 2, owner="a", clock=clock).shard_ids == (1,)
    assert store.db.execute("SELECT COUNT(*) FROM shard_claims").fetchone()[0] == 1


@pytest.mark.parametrize(("ids", "count"), [([], 2), ([0, 0], 2), ([2], 2), ([-1], 2), ([0], 0)])
def test_bad_shard_ids_are_refused(open_store: OpenStore, ids: list[int], count: int) -> None:
    """should refuse empty, repeated or out-of-range shard ids."""
    with pytest.raises(ValueError, match="shard ids must be distinct numbers"):
        claim_shards(open_store(), ids, count)
