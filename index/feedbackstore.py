"""What users think of answers: votes and reports, kept in the article database (``newsdesk.db``).

Feedback is what makes the bot better: ``newsdesk feedback export`` turns it into a question
set that ``benchmarks.quality --questions`` replays after a change. Two tables, created here::

    feedback          one row per (answer, user): the vote (+1, -1 or none), the report (reason,
                      details) if any, and a copy of what was judged (collection, the question that
                      was searched, the quotes as JSON), so it outlives the answer's own record
    feedback_secrets  the per-install salt that user ids are hashed with

User ids are never stored: ``user_key`` is a keyed BLAKE2b hash of the id under a random salt
made once per data directory, so one user's votes are recognised (one vote per user and answer;
a second click changes it) and an export or a copy of the database does not say who voted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

from index.convstore import StoredAnswer, StoredQuote
from index.database import Connection, Row
from index.store import Store

__all__ = ["REASONS", "FeedbackCounts", "FeedbackStore", "Judgement", "VoteChange"]

REASONS: dict[str, str] = {
    "wrong_quote": "Wrong quote",
    "wrong_speaker": "Wrong speaker",
    "outdated": "Outdated",
    "not_in_sources": "Not in the sources",
    "other": "Other",
}
"""Report reasons: stored key -> what users see."""
MAX_DETAILS_CHARS = 1000


VoteChange = Literal["new", "changed", "same"]


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Judgement:
    """One user's feedback on one answer.

    Attributes:
        answer_id: the answer judged.
        user_key: the hashed user id.
        collection: the server's collection the answer was given in (the first of its collections).
        question: the question that was searched (rewritten when it was a follow-up).
        quotes: what the answer quoted.
        vote: +1, -1, or None when the user only reported.
        reason: the report reason (a key of ``REASONS``), or None.
        details: the report's free text, or None.
        reported_at: when the report was made (or last changed).
        updated_at: the last change of vote or report.
    """

    answer_id: str
    user_key: str
    collection: str
    question: str
    quotes: tuple[StoredQuote, ...]
    vote: int | None
    reason: str | None
    details: str | None
    reported_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackCounts:
    """Votes and reports in some collections."""

    up: int = 0
    down: int = 0
    reports: int = 0


def _judgement(row: Row) -> Judgement:
    return Judgement(
        answer_id=row["answer_id"],
        user_key=row["user_key"],
        collection=row["collection"],
        question=row["question"],
        quotes=tuple(StoredQuote(**q) for q in json.loads(row["quotes"])),
        vote=row["vote"],
        reason=row["reason"],
        details=row["details"],
        reported_at=datetime.fromisoformat(row["reported_at"]) if row["reported_at"] else None,
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class FeedbackStore:
    """The ``feedback`` table of a ``Store``; thread-safe like the store, blocking SQLite."""

    def __init__(self, store: Store) -> None:
        """Use (creating them if needed) the tables in ``store``'s database, and its install salt."""
        self.store = store
        with store.transaction() as db:
            db.execute(
                "INSERT INTO feedback_secrets VALUES ('user_salt', ?) ON CONFLICT DO NOTHING", (secrets.token_hex(16),)
            )
            salt = db.execute("SELECT value FROM feedback_secrets WHERE name = 'user_salt'").fetchone()[0]
        self._salt = bytes.fromhex(salt)

    def user_key(self, user_id: int) -> str:
        """The stored form of a user id: a keyed hash, the same for one user within this install only."""
        return hashlib.blake2b(str(user_id).encode(), key=self._salt, digest_size=16).hexdigest()

    def _upsert(self, db: Connection, answer: StoredAnswer, key: str, stamp: str) -> Row | None:
        previous = db.execute(
            "SELECT * FROM feedback WHERE answer_id = ? AND user_key = ?", (answer.id, key)
        ).fetchone()
        if previous is None:
            quotes = json.dumps([asdict(q) for q in answer.quotes])
            db.execute(
                "INSERT INTO feedback (answer_id, user_key, collection, question, quotes, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (answer.id, key, answer.collections[0], answer.rewritten, quotes, stamp, stamp),
            )
        return previous  # type: ignore[no-any-return]

    def vote(self, answer: StoredAnswer, user_id: int, up: bool, *, now: datetime | None = None) -> VoteChange:
        """Record a user's vote on an answer: one per user, a second click in the other direction changes it.

        Returns:
            ``new`` (first vote), ``changed`` (the other direction before) or ``same`` (nothing to do).
        """
        value, key, stamp = 1 if up else -1, self.user_key(user_id), _ts(now or datetime.now(UTC))
        with self.store.transaction() as db:
            previous = self._upsert(db, answer, key, stamp)
            before = None if previous is None else previous["vote"]
            if before == value:
                return "same"
            db.execute(
                "UPDATE feedback SET vote = ?, updated_at = ? WHERE answer_id = ? AND user_key = ?",
                (value, stamp, answer.id, key),
            )
        return "new" if before is None else "changed"

    def report(
        self, answer: StoredAnswer, user_id: int, reason: str, details: str | None, *, now: datetime | None = None
    ) -> bool:
        """Record (or replace) a user's report on an answer.

        Returns:
            Whether it replaced an earlier report of the same user.

        Raises:
            ValueError: for an unknown reason or details over ``MAX_DETAILS_CHARS``.
        """
        if reason not in REASONS:
            raise ValueError(f"unknown report reason {reason!r}")
        if details is not None and len(details) > MAX_DETAILS_CHARS:
            raise ValueError(f"report details over {MAX_DETAILS_CHARS} characters")
        key, stamp = self.user_key(user_id), _ts(now or datetime.now(UTC))
        with self.store.transaction() as db:
            previous = self._upsert(db, answer, key, stamp)
            db.execute(
                "UPDATE feedback SET reason = ?, details = ?, reported_at = ?, updated_at = ?"
                " WHERE answer_id = ? AND user_key = ?",
                (reason, details or None, stamp, stamp, answer.id, key),
            )
        return previous is not None and previous["reason"] is not None

    def reports(self, collections: Sequence[str], *, offset: int = 0, limit: int = 5) -> tuple[list[Judgement], int]:
        """Reports in ``collections``, newest first, and how many there are in all (for paging)."""
        if not collections:
            return [], 0
        where = f"reason IS NOT NULL AND collection IN ({_marks(collections)})"
        total = self.store.db.execute(f"SELECT COUNT(*) FROM feedback WHERE {where}", list(collections)).fetchone()[0]
        rows = self.store.db.execute(
            f"SELECT * FROM feedback WHERE {where} ORDER BY reported_at DESC, answer_id LIMIT ? OFFSET ?",
            [*collections, limit, offset],
        )
        return [_judgement(r) for r in rows], int(total)

    def counts(self, collections: Sequence[str]) -> FeedbackCounts:
        """Votes up and down, and reports, in ``collections``."""
        if not collections:
            return FeedbackCounts()
        row = self.store.db.execute(
            "SELECT COUNT(CASE WHEN vote = 1 THEN 1 END), COUNT(CASE WHEN vote = -1 THEN 1 END), COUNT(reason)"
            f" FROM feedback WHERE collection IN ({_marks(collections)})",
            list(collections),
        ).fetchone()
        return FeedbackCounts(int(row[0]), int(row[1]), int(row[2]))

    def all(self) -> list[Judgement]:
        """Every judgement, oldest answer first (for the export)."""
        return [_judgement(r) for r in self.store.db.execute("SELECT * FROM feedback ORDER BY created_at, answer_id")]
