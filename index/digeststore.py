"""Daily digest schedules and what each one posted, kept in the article database (``newsdesk.db``).

Two tables, created here::

    digest_schedules  one row per schedule: the server's collection, the channel, the local time
                      (``HH:MM``) and IANA timezone, an optional topic, and the next run (UTC)
    digest_posted     per schedule, the stories it posted: story key -> the article ids shown, so a
                      later digest repeats a story only when it has new articles

The next run is computed by the caller (``bot/digests.py``) and stored with what was posted in
one transaction: a crash after posting never posts the same digest twice, and a crash before
leaves the schedule due. Removing a schedule removes what it posted (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from index.database import Row
from index.store import Store

__all__ = ["POSTED_KEPT", "DigestSchedule", "DigestStore"]

POSTED_KEPT = timedelta(days=7)
"""How long a posted story is remembered: a daily digest covers 24 hours, so a week is ample."""


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """One daily digest: where, when (local time in ``timezone``), on what, and when it runs next."""

    id: int
    collection: str
    channel_id: int
    at: time
    timezone: str
    topic: str | None
    added_by: int | None
    next_run: datetime
    last_run: datetime | None


def _schedule(row: Row) -> DigestSchedule:
    return DigestSchedule(
        id=row["id"],
        collection=row["collection"],
        channel_id=row["channel_id"],
        at=time.fromisoformat(row["at"]),
        timezone=row["timezone"],
        topic=row["topic"],
        added_by=row["added_by"],
        next_run=datetime.fromisoformat(row["next_run"]),
        last_run=datetime.fromisoformat(row["last_run"]) if row["last_run"] else None,
    )


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class DigestStore:
    """The digest tables of a ``Store``; thread-safe like the store, blocking SQLite."""

    def __init__(self, store: Store) -> None:
        """Use (creating them if needed) the tables in ``store``'s database."""
        self.store = store

    def add(
        self,
        *,
        collection: str,
        channel_id: int,
        at: time,
        timezone: str,
        topic: str | None,
        added_by: int | None,
        next_run: datetime,
        now: datetime | None = None,
    ) -> DigestSchedule:
        """A new schedule, first run at ``next_run``."""
        with self.store.transaction() as db:
            row = db.execute(
                "INSERT INTO digest_schedules (collection, channel_id, at, timezone, topic, added_by, created_at,"
                " next_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    collection,
                    channel_id,
                    at.strftime("%H:%M"),
                    timezone,
                    topic,
                    added_by,
                    _ts(now or datetime.now(UTC)),
                    _ts(next_run),
                ),
            ).fetchone()
        return _schedule(row)

    def get(self, schedule_id: int) -> DigestSchedule | None:
        """One schedule, or None."""
        row = self.store.db.execute("SELECT * FROM digest_schedules WHERE id = ?", (schedule_id,)).fetchone()
        return None if row is None else _schedule(row)

    def of(self, collections: Sequence[str]) -> list[DigestSchedule]:
        """The schedules of ``collections``, oldest first."""
        if not collections:
            return []
        rows = self.store.db.execute(
            f"SELECT * FROM digest_schedules WHERE collection IN ({_marks(collections)}) ORDER BY id",
            list(collections),
        )
        return [_schedule(r) for r in rows]

    def remove(self, schedule_id: int, collections: Sequence[str]) -> DigestSchedule | None:
        """Delete a schedule of ``collections`` (and what it posted); None when there is no such one there."""
        if not collections:
            return None
        with self.store.transaction() as db:
            row = db.execute(
                f"SELECT * FROM digest_schedules WHERE id = ? AND collection IN ({_marks(collections)})",
                [schedule_id, *collections],
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM digest_schedules WHERE id = ?", (schedule_id,))
        return _schedule(row)

    def due(self, now: datetime) -> list[DigestSchedule]:
        """The schedules whose next run is at or before ``now``, earliest first."""
        rows = self.store.db.execute(
            "SELECT * FROM digest_schedules WHERE next_run <= ? ORDER BY next_run, id", (_ts(now),)
        )
        return [_schedule(r) for r in rows]

    def posted(self, schedule_id: int) -> dict[str, list[str]]:
        """What a schedule posted: story key -> article ids shown."""
        rows = self.store.db.execute(
            "SELECT story_key, article_ids FROM digest_posted WHERE schedule_id = ?", (schedule_id,)
        )
        return {r["story_key"]: json.loads(r["article_ids"]) for r in rows}

    def record_run(
        self,
        schedule_id: int,
        stories: Mapping[str, Collection[str]],
        *,
        next_run: datetime,
        now: datetime,
    ) -> None:
        """After a run: remember the stories posted (merging ids of updated ones), move on to ``next_run``.

        Stories posted more than ``POSTED_KEPT`` ago are forgotten. A schedule removed meanwhile stays removed.
        """
        stamp = _ts(now)
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM digest_schedules WHERE id = ?", (schedule_id,)).fetchone() is None:
                return
            for key, ids in stories.items():
                row = db.execute(
                    "SELECT article_ids FROM digest_posted WHERE schedule_id = ? AND story_key = ?",
                    (schedule_id, key),
                ).fetchone()
                shown = list(dict.fromkeys([*(json.loads(row[0]) if row else []), *ids]))
                db.execute(
                    "INSERT INTO digest_posted VALUES (?, ?, ?, ?) ON CONFLICT (schedule_id, story_key)"
                    " DO UPDATE SET article_ids = excluded.article_ids, posted_at = excluded.posted_at",
                    (schedule_id, key, json.dumps(shown), stamp),
                )
            db.execute(
                "DELETE FROM digest_posted WHERE schedule_id = ? AND posted_at < ?",
                (schedule_id, _ts(now - POSTED_KEPT)),
            )
            db.execute(
                "UPDATE digest_schedules SET next_run = ?, last_run = ? WHERE id = ?",
                (_ts(next_run), stamp, schedule_id),
            )
