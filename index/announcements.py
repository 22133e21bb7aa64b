"""The outbox of feed announcements: the poller's new articles, waiting for a bot process to post them.

Feeds are polled by one process (``index.jobs.PollLock``), which may be ``newsdesk worker``: a
process that cannot post to Discord. So whoever polls ``add``s each poll's new articles here
(one row of ``announcements`` per article and channel, migration 0006), and every bot process
``claim``s pending rows and posts them (``bot/cogs/feeds.py``). A new feed's first poll (its
backlog) is never added, so following a feed does not flood its channel with old stories.

A claim leases rows to one owner: on PostgreSQL it is one ``UPDATE ... WHERE id IN (SELECT ...
FOR UPDATE SKIP LOCKED)``, so two bot processes never take the same row; on SQLite the same
statement runs in a write transaction. Each claim counts an attempt. A row is claimable while it
is not posted, has attempts left, and is not under a live claim: a claimer that died leaves its
claim to go stale after ``lease``, and a post that ``failed`` waits one lease before it is tried
again. After ``max_attempts`` tries (or a ``permanent`` failure) the row is given up and kept,
with its ``last_error``, until ``add`` prunes it with every row older than ``keep`` (posted or
not: an announcement older than ``max_age`` is never claimed, it is no longer news). Delivery is
at least once: a process that dies between posting and ``posted`` leaves a row that is posted
again after its lease.

No Discord here: the bot reads the claimed rows and posts them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from index.database import Database, Row, stamps, write_one
from index.store import Store

if TYPE_CHECKING:
    from index.feedpoller import PollResult

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_LEASE", "DEFAULT_MAX_ATTEMPTS", "Announcement", "Outbox"]

DEFAULT_MAX_ATTEMPTS: Final = 3
DEFAULT_LEASE: Final = timedelta(minutes=5)
"""How long a claim is its owner's: far longer than posting a batch takes."""
DEFAULT_KEEP: Final = timedelta(days=7)
"""How long rows are kept, posted or not (for people reading the table); longer than ``DEFAULT_MAX_AGE``."""
DEFAULT_MAX_AGE: Final = timedelta(days=1)
"""Older pending announcements are no longer news: a bot back after a long outage does not post them."""
MAX_ERROR_CHARS: Final = 300


@dataclass(frozen=True, slots=True)
class Announcement:
    """One row of ``announcements``: an article to post in a feed's channel."""

    id: int
    feed_id: int
    collection: str
    channel_id: int
    article_id: str
    created_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    posted_at: datetime | None
    attempts: int
    last_error: str | None


def _announcement(row: Row) -> Announcement:
    return Announcement(
        id=int(row["id"]),
        feed_id=int(row["feed_id"]),
        collection=row["collection"],
        channel_id=int(row["channel_id"]),
        article_id=row["article_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        claimed_by=row["claimed_by"],
        claimed_at=stamps.parse(row["claimed_at"]),
        posted_at=stamps.parse(row["posted_at"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
    )


class Outbox:
    """Add, claim and settle announcements in the store's database; blocking (call it off the event loop)."""

    def __init__(
        self,
        store: Store,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        lease: timedelta = DEFAULT_LEASE,
        keep: timedelta = DEFAULT_KEEP,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        """Keep announcements in ``store``'s database; a row is tried ``max_attempts`` times at most.

        ``lease`` is how long a claim lasts unless ``claim`` says otherwise (every claimer of one
        database should use the same), ``keep`` how long rows stay, ``max_age`` how long they are news.
        """
        if max_attempts < 1 or keep < max_age:
            raise ValueError("max_attempts must be >= 1 and keep >= max_age")
        self.db: Database = store.db
        self.max_attempts = max_attempts
        self.lease = lease
        self.keep = keep
        self.max_age = max_age

    def _write(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return write_one(self.db, sql, params)

    def add(self, result: PollResult, *, now: datetime | None = None) -> int:
        """Queue the new articles of one poll for announcement, oldest first; prunes old rows.

        Nothing is added for a feed's backlog (its first poll) nor for a feed without a channel; an
        article already queued for the same channel is not queued twice.

        Returns:
            How many announcements were queued.
        """
        feed = result.feed
        if result.backlog or feed.channel_id is None or not result.new_articles:
            return 0
        moment = now or datetime.now(UTC)
        stamp = stamps.stamp(moment)
        added = 0
        with self.db.transaction() as tx:
            for article in result.new_articles:
                row = tx.execute(
                    "INSERT INTO announcements (feed_id, collection, channel_id, article_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, article_id) DO NOTHING RETURNING id",
                    (feed.id, feed.collection, feed.channel_id, article.article_id, stamp),
                ).fetchone()
                added += row is not None
            tx.execute("DELETE FROM announcements WHERE created_at < ?", (stamps.stamp(moment - self.keep),))
        log.info("feed %s: %d new articles to announce in channel %s", feed.id, added, feed.channel_id)
        return added

    def claim(
        self, owner: str, *, limit: int = 20, lease: timedelta | None = None, now: datetime | None = None
    ) -> list[Announcement]:
        """Lease up to ``limit`` pending announcements to ``owner``, oldest first (each claim is one attempt).

        Pending: not posted, attempts left, no older than ``max_age``, and unclaimed or claimed longer
        than ``lease`` ago (the claimer died, or its post failed).
        """
        # Most ticks find nothing: a read first spares SQLite's write lock (and PostgreSQL a row-locking statement).
        pending = self.db.execute(
            "SELECT 1 FROM announcements WHERE posted_at IS NULL AND attempts < ? LIMIT 1", (self.max_attempts,)
        ).fetchone()
        if pending is None:
            return []
        moment = now or datetime.now(UTC)
        lease = self.lease if lease is None else lease
        lock = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        rows = self._write(
            "UPDATE announcements SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM announcements WHERE posted_at IS NULL AND attempts < ?"
            " AND created_at >= ? AND (claimed_at IS NULL OR claimed_at <= ?)"
            f" ORDER BY id LIMIT ?{lock}) RETURNING *",
            (
                owner,
                stamps.stamp(moment),
                self.max_attempts,
                stamps.stamp(moment - self.max_age),
                stamps.stamp(moment - lease),
                limit,
            ),
        )
        return sorted((_announcement(r) for r in rows), key=lambda a: a.id)

    def posted(self, announcement_id: int, *, now: datetime | None = None) -> None:
        """Note that the announcement was posted: it is never claimed again."""
        self._write(
            "UPDATE announcements SET posted_at = ?, claimed_by = NULL, last_error = NULL WHERE id = ?",
            (stamps.stamp(now or datetime.now(UTC)), announcement_id),
        )

    def failed(
        self, announcement_id: int, error: str, *, permanent: bool = False, now: datetime | None = None
    ) -> Announcement | None:
        """Note a failed post: tried again one lease from ``now`` while attempts are left; never when ``permanent``.

        Returns:
            The row as it is now; None when it does not exist or was posted meanwhile.
        """
        rows = self._write(
            "UPDATE announcements SET claimed_by = NULL, claimed_at = ?, last_error = ?,"
            " attempts = CASE WHEN ? = 1 THEN ? ELSE attempts END"
            " WHERE id = ? AND posted_at IS NULL RETURNING *",
            (
                stamps.stamp(now or datetime.now(UTC)),
                error[:MAX_ERROR_CHARS],
                int(permanent),
                self.max_attempts,
                announcement_id,
            ),
        )
        return _announcement(rows[0]) if rows else None

    def get(self, announcement_id: int) -> Announcement | None:
        """One announcement, or None."""
        row = self.db.execute("SELECT * FROM announcements WHERE id = ?", (announcement_id,)).fetchone()
        return None if row is None else _announcement(row)

    def list(self, *, limit: int = 100) -> list[Announcement]:
        """The oldest announcements, whatever their state (tests, inspection)."""
        rows = self.db.execute("SELECT * FROM announcements ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [_announcement(r) for r in rows]
