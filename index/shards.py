"""Which bot process serves which Discord shards: claims in the shared store, kept alive by heartbeats.

Two processes connected to the same shards would answer every interaction twice, so a bot process
claims its shard ids at start (``claim_shards``) and is refused, with who holds them, when another
live process has any of them, or runs with another shard count. A claim lives as long as its owner
renews it (``ShardClaim.heartbeat``, every ``lease / 3`` seconds); the claim of a process that died
without releasing it lapses after ``lease`` seconds, so a restarted process gets its shards back.
Times are the hosts' wall clocks (keep them in sync, as every Discord bot host must).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.store import Store

DEFAULT_LEASE_S = 60.0
Clock = Callable[[], float]


class ShardConflictError(RuntimeError):
    """Another live process holds some of the shards (the message says which, and who); safe to show."""


@dataclass(frozen=True, slots=True)
class _Holder:
    shard_count: int
    shard_id: int
    owner: str
    host: str
    pid: int
    heartbeat_at: float

    def describe(self, now: float) -> str:
        return (
            f"shard {self.shard_id} of {self.shard_count} (process {self.pid} on {self.host}, "
            f"last heartbeat {max(0.0, now - self.heartbeat_at):.0f} s ago)"
        )


class ShardClaim:
    """This process's hold on some shards: renew it with ``heartbeat``, give it up with ``release``."""

    def __init__(
        self, store: Store, shard_ids: tuple[int, ...], shard_count: int, owner: str, lease: float, clock: Clock
    ) -> None:
        """Hold ``shard_ids`` (already claimed by ``claim_shards``)."""
        self.store = store
        self.shard_ids = shard_ids
        self.shard_count = shard_count
        self.owner = owner
        self.lease = lease
        self._clock = clock

    @property
    def heartbeat_every(self) -> float:
        """How often to call ``heartbeat``: three chances before the lease lapses."""
        return self.lease / 3

    def heartbeat(self) -> None:
        """Renew the claim (one statement: it never waits behind a long write).

        Raises:
            ShardConflictError: when the claim lapsed and another process took some of the shards.
        """
        marks = ",".join("?" * len(self.shard_ids))
        renewed = self.store.db.execute(
            f"UPDATE shard_claims SET heartbeat_at = ? WHERE owner = ? AND shard_count = ? AND shard_id IN ({marks})",
            (self._clock(), self.owner, self.shard_count, *self.shard_ids),
        ).rowcount
        if renewed != len(self.shard_ids):
            raise ShardConflictError(
                f"this process lost its claim on shards {_ids(self.shard_ids)} of {self.shard_count} "
                f"(no heartbeat for {self.lease:.0f} s, and another process took them over)"
            )

    def release(self) -> None:
        """Give the shards up (at a clean shutdown), so that another process may take them at once."""
        self.store.db.execute("DELETE FROM shard_claims WHERE owner = ?", (self.owner,))


def _ids(ids: Sequence[int]) -> str:
    return ",".join(map(str, ids))


def claim_shards(
    store: Store,
    shard_ids: Sequence[int],
    shard_count: int,
    *,
    owner: str | None = None,
    lease: float = DEFAULT_LEASE_S,
    clock: Clock = time.time,
) -> ShardClaim:
    """Claim ``shard_ids`` of ``shard_count`` for this process.

    Raises:
        ValueError: when the ids are empty, repeated or not below ``shard_count``.
        ShardConflictError: when another live process holds some of them, or runs with another shard count.
    """
    ids = tuple(shard_ids)
    if shard_count < 1 or not ids or len(set(ids)) != len(ids) or any(not 0 <= i < shard_count for i in ids):
        raise ValueError(f"shard ids must be distinct numbers from 0 to {shard_count - 1}, got {_ids(ids) or 'none'}")
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with store.transaction() as tx:  # serialised with every other claim: two processes never both succeed
        now = clock()
        live = [
            _Holder(*row)
            for row in tx.execute(
                "SELECT shard_count, shard_id, owner, host, pid, heartbeat_at FROM shard_claims"
                " WHERE heartbeat_at >= ? AND owner <> ? ORDER BY shard_count, shard_id",
                (now - lease, owner),
            )
        ]
        conflicts = [h for h in live if h.shard_count != shard_count or h.shard_id in ids]
        if conflicts:
            raise ShardConflictError(
                f"cannot claim shards {_ids(ids)} of {shard_count}: another process holds "
                + "; ".join(h.describe(now) for h in conflicts)
                + ". Give each process its own --shard-ids, with the same --shard-count everywhere"
                f" (a stopped process's claim lapses after {lease:.0f} s)"
            )
        tx.execute("DELETE FROM shard_claims WHERE heartbeat_at < ? OR owner = ?", (now - lease, owner))
        tx.executemany(
            "INSERT INTO shard_claims (shard_count, shard_id, owner, host, pid, heartbeat_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(shard_count, i, owner, socket.gethostname(), os.getpid(), now) for i in ids],
        )
    return ShardClaim(store, ids, shard_count, owner, lease, clock)
