"""Followed feeds and their polling state, kept in the article database (``newsdesk.db``).

Feeds live beside the articles they bring in, so they survive restarts and a backup of
the data directory keeps both. Two tables (created by ``index/store.py``)::

    feeds          one row per followed feed: collection, URL (as given and canonical), title,
                   announcement channel, conditional-GET validators (ETag, Last-Modified),
                   next_poll, consecutive failures and the last error
    feed_entries   one row per (feed, entry id) already handled, with the entry's canonical
                   link and the article it became; ``done = 0`` marks an entry whose page
                   failed and will be tried again (``attempts`` counts the tries)

A feed belongs to one collection (a server id, or ``global``), like the articles it feeds:
every method that lists, reads or removes feeds for a user takes the collections that user
may see, so one server can neither see nor change another server's feeds.

Feed writes never bump the store's ``generation``: they do not change what questions are
answered from, so they must not trigger a snapshot rebuild.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from index.database import Row
from index.feeds import canonical_url
from index.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "LOOKUP_CHUNK",
    "MAX_BACKOFF_EXPONENT",
    "MAX_ENTRY_ATTEMPTS",
    "EntryOutcome",
    "Feed",
    "FeedStore",
    "backoff",
]

MAX_BACKOFF_EXPONENT = 6
"""A failing feed waits ``interval * 2**min(failures, 6)``: at most 64 intervals (16 h at 15 min)."""
MAX_ENTRY_ATTEMPTS = 3
"""Polls that try to fetch an entry's page before it is given up (a page that 404s for ever)."""
MAX_ERROR_CHARS = 300
LOOKUP_CHUNK = 500
"""Entries or URLs looked up per SQL query (each holds up to two parameters per entry)."""


def _ts(value: datetime) -> str:
    # One fixed format (UTC, whole seconds) so that timestamps compare correctly as text in SQL.
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def backoff(interval: timedelta, failures: int) -> timedelta:
    """How long to wait before polling a feed again after ``failures`` consecutive failures (0: none).

    Doubling spares sites that are down or refuse us, and caps at ``2**MAX_BACKOFF_EXPONENT``
    intervals so that a feed that comes back is noticed within the day.
    """
    return interval * (1 << min(max(failures, 0), MAX_BACKOFF_EXPONENT))


@dataclass(frozen=True, slots=True)
class Feed:
    """One followed feed and its polling state.

    Attributes:
        id: row id, shown to users to remove the feed.
        collection: where its articles go (a server id, or ``global``).
        url: the URL as given.
        canonical: the deduplication key (``index.feeds.canonical_url``).
        title: the feed's title from its last successful poll (``""`` until then).
        channel_id: Discord channel new articles are announced in, or ``None`` for none.
        added_by: Discord user id of whoever added it (``None`` from the CLI).
        added_at: when it was added.
        etag: ``ETag`` of the last full response, sent back as ``If-None-Match``.
        last_modified: ``Last-Modified`` of the last full response, sent back as ``If-Modified-Since``.
        last_polled: the last attempt, successful or not.
        last_success: the last successful poll; ``None`` means the feed was never read (its
            entries are a backlog, not news).
        next_poll: when it is due again.
        failures: consecutive failed polls (0 when the last one worked).
        last_error: the user-safe message of the last failure, kept after a success for ``/feed list``.
    """

    id: int
    collection: str
    url: str
    canonical: str
    title: str
    channel_id: int | None
    added_by: int | None
    added_at: datetime
    etag: str | None
    last_modified: str | None
    last_polled: datetime | None
    last_success: datetime | None
    next_poll: datetime
    failures: int
    last_error: str | None

    @property
    def name(self) -> str:
        """The title, or the URL when the feed has not been read yet."""
        return self.title or self.url


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What a poll did with one entry, for ``FeedStore.record_entries``.

    Attributes:
        entry_id: the entry's id in its feed.
        link: its link as the feed gives it (stored canonical), or ``""``.
        article_id: the article it became, if any.
        error: why it was given up, or why its page failed.
        retry: its page failed in a way another poll may fix (counted, given up after a few).
    """

    entry_id: str
    link: str = ""
    article_id: str | None = None
    error: str | None = None
    retry: bool = False

    @property
    def canonical(self) -> str:
        """The link as stored and matched: canonical, or ``""``."""
        return canonical_url(self.link) if self.link else ""


def _feed(row: Row) -> Feed:
    return Feed(
        id=int(row["id"]),
        collection=row["collection"],
        url=row["url"],
        canonical=row["canonical"],
        title=row["title"],
        channel_id=row["channel_id"],
        added_by=row["added_by"],
        added_at=datetime.fromisoformat(row["added_at"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_polled=_dt(row["last_polled"]),
        last_success=_dt(row["last_success"]),
        next_poll=datetime.fromisoformat(row["next_poll"]),
        failures=int(row["failures"]),
        last_error=row["last_error"],
    )


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class FeedStore:
    """The ``feeds`` and ``feed_entries`` tables of a ``Store``; thread-safe like the store.

    Every method is blocking SQLite: call it through ``asyncio.to_thread`` from the bot.
    """

    def __init__(self, store: Store) -> None:
        """Use the tables of ``store`` (created with the rest of its schema)."""
        self.store = store

    # -- feeds ------------------------------------------------------------------------------------
    def add(
        self,
        url: str,
        *,
        collection: str,
        channel_id: int | None = None,
        added_by: int | None = None,
        title: str = "",
        now: datetime | None = None,
    ) -> tuple[Feed, bool]:
        """Follow a feed in ``collection``, due at once; the same feed twice is one feed.

        Args:
            url: the feed URL (already validated by the caller).
            collection: the collection its articles go into.
            channel_id: where to announce new articles (``None``: ingest silently).
            added_by: who added it, for the record.
            title: the feed's title, if already known.
            now: the current time (tests pass a fixed one).

        Returns:
            The feed, and whether it was created (``False``: it was already followed in
            ``collection``, under the same canonical URL, and is returned unchanged).
        """
        canonical = canonical_url(url)
        stamp = _ts(now or datetime.now(UTC))
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT * FROM feeds WHERE collection = ? AND canonical = ?", (collection, canonical)
            ).fetchone()
            if row is not None:
                return _feed(row), False
            row = db.execute(
                "INSERT INTO feeds (collection, url, canonical, title, channel_id, added_by, added_at, next_poll)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (collection, url.strip(), canonical, title, channel_id, added_by, stamp, stamp),
            ).fetchone()
        log.info("following feed %s in collection %s (id %s)", url, collection, row["id"])
        return _feed(row), True

    def get(self, feed_id: int, collections: Sequence[str] | None = None) -> Feed | None:
        """One feed, or ``None`` when it does not exist or is not in ``collections`` (``None``: any)."""
        sql, params = "SELECT * FROM feeds WHERE id = ?", [feed_id]
        if collections is not None:
            sql += f" AND collection IN ({_marks(collections)})"
            params.extend(collections)  # type: ignore[arg-type]
        row = self.store.db.execute(sql, params).fetchone()
        return None if row is None else _feed(row)

    def list(self, collections: Sequence[str] | None = None) -> list[Feed]:
        """The feeds of ``collections`` (``None``: every collection), oldest first."""
        if collections is None:
            rows = self.store.db.execute("SELECT * FROM feeds ORDER BY id")
        elif not collections:
            return []
        else:
            rows = self.store.db.execute(
                f"SELECT * FROM feeds WHERE collection IN ({_marks(collections)}) ORDER BY id", list(collections)
            )
        return [_feed(row) for row in rows]

    def remove(self, feed_id: int, collections: Sequence[str] | None = None) -> Feed | None:
        """Stop following a feed; its articles stay indexed.

        Args:
            feed_id: the feed to remove.
            collections: the collections the caller may change; a feed of another
                collection is refused exactly like a missing one, so its existence does
                not leak to other servers. ``None`` (the CLI) may remove any feed.

        Returns:
            The removed feed, or ``None`` when there was no such feed the caller may remove.
        """
        with self.store.transaction() as db:
            sql, params = "SELECT * FROM feeds WHERE id = ?", [feed_id]
            if collections is not None:
                sql += f" AND collection IN ({_marks(collections)})"
                params.extend(collections)  # type: ignore[arg-type]
            row = db.execute(sql, params).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))  # feed_entries go by ON DELETE CASCADE
        log.info("unfollowed feed %s (%s) of collection %s", feed_id, row["url"], row["collection"])
        return _feed(row)

    def due(self, now: datetime) -> builtins.list[Feed]:  # ``list`` is the method above here
        """The feeds whose next poll is at or before ``now``, the most overdue first."""
        rows = self.store.db.execute("SELECT * FROM feeds WHERE next_poll <= ? ORDER BY next_poll, id", (_ts(now),))
        return [_feed(row) for row in rows]

    def record_success(
        self,
        feed_id: int,
        *,
        now: datetime,
        interval: timedelta,
        etag: str | None,
        last_modified: str | None,
        title: str | None = None,
    ) -> None:
        """Note a successful poll: reset the failure count and schedule the next poll one interval on.

        ``last_error`` is kept (``failures == 0`` says it is history), so ``/feed list`` can
        still tell what went wrong last time.

        Args:
            feed_id: the feed.
            now: when the poll happened.
            interval: the normal polling interval.
            etag: the validator to send next time (pass the old one to keep it).
            last_modified: likewise for ``Last-Modified``.
            title: the feed's current title; ``None`` or ``""`` keeps the stored one.
        """
        with self.store.transaction() as db:
            db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, last_polled = ?, last_success = ?, next_poll = ?,"
                " failures = 0, title = COALESCE(NULLIF(?, ''), title) WHERE id = ?",
                (etag, last_modified, _ts(now), _ts(now), _ts(now + interval), title, feed_id),
            )

    def record_failure(self, feed_id: int, error: str, *, now: datetime, interval: timedelta) -> Feed | None:
        """Note a failed poll and back off: the n-th failure in a row waits ``interval * 2**min(n, 6)``.

        The validators are kept: the next successful poll may still be a cheap 304.

        Returns:
            The updated feed (``None`` if it was removed meanwhile).
        """
        with self.store.transaction() as db:
            row = db.execute("SELECT failures FROM feeds WHERE id = ?", (feed_id,)).fetchone()
            if row is None:
                return None
            failures = int(row["failures"]) + 1
            db.execute(
                "UPDATE feeds SET failures = ?, last_error = ?, last_polled = ?, next_poll = ? WHERE id = ?",
                (failures, error[:MAX_ERROR_CHARS], _ts(now), _ts(now + backoff(interval, failures)), feed_id),
            )
            updated = db.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        return _feed(updated)

    # -- entries ----------------------------------------------------------------------------------
    def handled(self, feed_id: int, entries: Sequence[tuple[str, str]]) -> builtins.set[str]:
        """The ids of ``entries`` (``(entry id, link)`` pairs) this feed already handled.

        Handled means the same entry id, or the same canonical link, is stored as done. Matching
        by link too catches feeds that change an entry's id (some regenerate GUIDs) and the same
        story listed twice. An entry whose page failed and will be retried is not handled yet.

        One query per ``LOOKUP_CHUNK`` entries, each an index search: a poll of a 500-entry feed
        costs one query, not 500 (that each scanned the feed's rows: 9 ms at 65,000 entries).
        """
        keyed = [(entry_id, canonical_url(link) if link else "") for entry_id, link in entries]
        ids: builtins.set[str] = set()
        links: builtins.set[str] = set()
        for start in range(0, len(keyed), LOOKUP_CHUNK):
            chunk = keyed[start : start + LOOKUP_CHUNK]
            wanted_ids = list(dict.fromkeys(entry_id for entry_id, _ in chunk))
            wanted_links = list(dict.fromkeys(link for _, link in chunk if link))
            # Two indexed searches in one statement: with ``entry_id IN (..) OR link IN (..)`` SQLite
            # scans every row of the feed instead.
            rows = self.store.db.execute(
                "SELECT entry_id, link FROM feed_entries WHERE feed_id = ? AND done = 1"
                f" AND entry_id IN ({_marks(wanted_ids)}) UNION ALL"
                " SELECT entry_id, link FROM feed_entries WHERE feed_id = ? AND done = 1"
                f" AND link IN ({_marks(wanted_links)})",
                [feed_id, *wanted_ids, feed_id, *wanted_links],
            )
            for row in rows:
                ids.add(row["entry_id"])
                if row["link"]:
                    links.add(row["link"])
        return {entry_id for entry_id, link in keyed if entry_id in ids or (link and link in links)}

    def seen(self, feed_id: int, entry_id: str, link: str = "") -> bool:
        """Whether this feed already handled the entry (see ``handled``)."""
        return bool(self.handled(feed_id, [(entry_id, link)]))

    def record_entries(
        self, feed_id: int, outcomes: Sequence[EntryOutcome], *, max_attempts: int = MAX_ENTRY_ATTEMPTS, now: datetime
    ) -> int:
        """Store what a poll did with each entry, in one transaction; nothing when the feed was removed meanwhile.

        An outcome without ``retry`` is handled for good (ingested as ``article_id``, or given
        up with ``error``). A ``retry`` outcome counts one more failed attempt at the entry's
        page; after ``max_attempts`` it is given up too.

        Returns:
            How many of the retry outcomes will be tried again on a later poll.
        """
        stamp = _ts(now)
        done = [o for o in outcomes if not o.retry]
        failed = [o for o in outcomes if o.retry]
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM feeds WHERE id = ?", (feed_id,)).fetchone() is None:
                return 0
            db.executemany(
                "INSERT INTO feed_entries (feed_id, entry_id, link, article_id, done, last_error, seen_at)"
                " VALUES (?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (feed_id, entry_id) DO UPDATE SET link = excluded.link,"
                " article_id = excluded.article_id, done = 1, last_error = excluded.last_error,"
                " seen_at = excluded.seen_at",
                [(feed_id, o.entry_id, o.canonical, o.article_id, o.error, stamp) for o in done],
            )
            gives_up = int(max_attempts <= 1)  # on the first failure
            rows = [
                (feed_id, o.entry_id, o.canonical, gives_up, (o.error or "failed")[:MAX_ERROR_CHARS]) for o in failed
            ]
            db.executemany(
                "INSERT INTO feed_entries (feed_id, entry_id, link, done, attempts, last_error, seen_at)"
                " VALUES (?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (feed_id, entry_id) DO UPDATE SET attempts = feed_entries.attempts + 1,"
                " last_error = excluded.last_error, seen_at = excluded.seen_at,"
                " done = CASE WHEN feed_entries.done = 1 OR feed_entries.attempts + 1 >= ? THEN 1 ELSE 0 END",
                [(*row, stamp, max_attempts) for row in rows],
            )
            retrying = 0
            for start in range(0, len(failed), LOOKUP_CHUNK):
                chunk = [o.entry_id for o in failed[start : start + LOOKUP_CHUNK]]
                row = db.execute(
                    "SELECT COUNT(*) FROM feed_entries WHERE feed_id = ? AND done = 0"
                    f" AND entry_id IN ({_marks(chunk)})",
                    [feed_id, *chunk],
                ).fetchone()
                retrying += int(row[0])
        return retrying

    def mark_seen(
        self,
        feed_id: int,
        entry_id: str,
        link: str = "",
        *,
        article_id: str | None = None,
        error: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Remember that the entry is handled: ingested as ``article_id``, or given up with ``error``.

        Does nothing when the feed was removed meanwhile.
        """
        outcome = EntryOutcome(entry_id, link, article_id=article_id, error=error)
        self.record_entries(feed_id, [outcome], now=now or datetime.now(UTC))

    def record_entry_failure(
        self,
        feed_id: int,
        entry_id: str,
        link: str,
        error: str,
        *,
        max_attempts: int = MAX_ENTRY_ATTEMPTS,
        now: datetime | None = None,
    ) -> bool:
        """Count a failed fetch of an entry's page; after ``max_attempts`` the entry is given up.

        Returns:
            Whether the entry is now given up (seen); ``False`` means the next poll retries it.
        """
        outcome = EntryOutcome(entry_id, link, error=error, retry=True)
        return not self.record_entries(feed_id, [outcome], max_attempts=max_attempts, now=now or datetime.now(UTC))

    def entry_count(self, feed_id: int) -> int:
        """Entries of this feed handled so far (ingested or given up)."""
        row = self.store.db.execute("SELECT COUNT(*) FROM feed_entries WHERE feed_id = ? AND done = 1", (feed_id,))
        return int(row.fetchone()[0])

    # -- articles ---------------------------------------------------------------------------------
    def article_for_url(self, collection: str, url: str) -> str | None:
        """The id of the article stored under this URL in ``collection``, if any (see ``articles_for_urls``)."""
        return self.articles_for_urls(collection, [url]).get(canonical_url(url))

    def articles_for_urls(self, collection: str, urls: Sequence[str]) -> dict[str, str]:
        """The articles stored in ``collection`` under these URLs: canonical URL to article id.

        An entry whose link is already indexed there (by another feed, or ``/ingest``) is not
        fetched again. Articles are keyed by their canonical URL (``index/web.py``). One query
        per ``LOOKUP_CHUNK`` URLs.
        """
        keys = list(dict.fromkeys(canonical_url(url) for url in urls))
        found: dict[str, str] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            rows = self.store.db.execute(
                f"SELECT key, id FROM articles WHERE collection = ? AND key IN ({_marks(chunk)})", [collection, *chunk]
            )
            found.update((row["key"], row["id"]) for row in rows)
        return found
