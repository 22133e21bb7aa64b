"""The job queue in the store: what bot processes hand to ``newsdesk worker``, and who polls feeds.

A job is one row of ``jobs`` (migration 0004). ``claim`` takes the oldest queued job that is due
and leases it to one worker until ``lease_expires``; the worker's heartbeat moves that forward
while the job runs. A worker that dies (SIGKILL, a lost host) stops heartbeating, and once its
lease has expired the next ``claim`` puts the job back in the queue (or dead-letters it when its
attempts are spent), so another worker runs it again: jobs must be idempotent, and ingests are
(articles are keyed by collection and content). Every change of a leased job names its owner, so
a worker whose lease was taken over cannot complete or fail what another worker now runs.

States: ``queued`` (waiting, possibly until ``run_after`` after a failure), ``running`` (leased),
``done`` (``result`` set), ``failed`` (an error that retrying cannot fix: not an article, an
unsafe URL), ``dead`` (the dead letter: ``max_attempts`` tries failed; ``last_error`` says why).

On PostgreSQL the claim is one ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED)``, so
concurrent claimers skip each other's rows instead of queueing; queue statements run outside the
store's global write lock so that a long ingest never delays a heartbeat. On SQLite the same
statement, without the locking clause, runs in a write transaction (writers are serialised).

``PollLock``: exactly one process polls feeds at a time. On PostgreSQL it is a session-level
advisory lock held on a connection of its own, released by the server when the process dies.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from index.database import Database, Row, stamps, write_one
from index.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "FINISHED",
    "IngestFile",
    "IngestText",
    "IngestUrl",
    "Job",
    "JobKind",
    "JobPayload",
    "JobState",
    "JobStore",
    "PollFeeds",
    "PollLock",
    "Reindex",
    "default_owner",
]

JobKind = Literal["ingest_url", "ingest_file", "ingest_text", "reindex", "poll_feeds"]
JobState = Literal["queued", "running", "done", "failed", "dead"]
FINISHED: Final = frozenset({"done", "failed", "dead"})
DEFAULT_MAX_ATTEMPTS = 5
POLL_LOCK: Final = 0x66656564  # "feed": the session advisory lock of the one process that polls feeds
JOBS_CHANNEL = "newsdesk_jobs"
"""Notified (payload: the job id) when a job is queued, so that an idle worker claims it at once."""
FINISHED_KEPT = timedelta(days=7)
"""How long done, failed and dead jobs stay in the table (for ``/reindex`` follow-ups and an operator's look)."""
LOST_WORKER = "the worker running it stopped before finishing (its lease expired)"


class JobPayload(BaseModel):
    """A job's payload: one model per kind, stored as JSON text."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class IngestUrl(JobPayload):
    """``ingest_url``: fetch the page and index its article."""

    url: str = Field(min_length=1)


class IngestFile(JobPayload):
    """``ingest_file``: an uploaded file (.txt, .json, .jsonl, .html), base64 in the row."""

    filename: str = Field(min_length=1)
    data: str  # base64


class IngestText(JobPayload):
    """``ingest_text``: pasted text with a title."""

    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    source: str | None = None


class PollFeeds(JobPayload):
    """``poll_feeds``: one polling round of the due feeds (``all``: every feed now)."""

    all: bool = False


class Reindex(JobPayload):
    """``reindex``: re-chunk and re-embed every stored article."""


PAYLOADS: Final[dict[str, type[JobPayload]]] = {
    "ingest_url": IngestUrl,
    "ingest_file": IngestFile,
    "ingest_text": IngestText,
    "reindex": Reindex,
    "poll_feeds": PollFeeds,
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def default_owner() -> str:
    """Who holds a lease, for people reading the table: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Job:
    """One row of ``jobs``."""

    id: int
    kind: JobKind
    payload: dict[str, Any]
    collection: str
    state: JobState
    attempts: int
    max_attempts: int
    run_after: datetime
    owner: str | None
    lease_expires: datetime | None
    last_error: str | None
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def finished(self) -> bool:
        """Whether nothing more will happen to it (done, failed or dead)."""
        return self.state in FINISHED

    def parsed(self) -> JobPayload:
        """The payload, validated as its kind's model."""
        return PAYLOADS[self.kind].model_validate(self.payload)


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None


def _job(row: Row) -> Job:
    return Job(
        id=int(row["id"]),
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        collection=row["collection"],
        state=row["state"],
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        run_after=datetime.fromisoformat(row["run_after"]),
        owner=row["owner"],
        lease_expires=stamps.parse(row["lease_expires"]),
        last_error=row["last_error"],
        progress=_json(row["progress"]),
        result=_json(row["result"]),
        created_by=None if row["created_by"] is None else int(row["created_by"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


class JobStore:
    """Enqueue, claim, heartbeat, complete and fail jobs in the store's database."""

    def __init__(
        self,
        store: Store,
        *,
        backoff_base: timedelta = timedelta(seconds=30),
        backoff_cap: timedelta = timedelta(hours=1),
    ) -> None:
        """Queue jobs in ``store``'s database; a failed try waits ``backoff_base * 2**(attempts-1)`` (capped)."""
        self.db: Database = store.db
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap

    def _write(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return write_one(self.db, sql, params)

    def backoff(self, attempts: int) -> timedelta:
        """How long a job waits after its ``attempts``-th failed try."""
        wait: timedelta = self.backoff_base * 2 ** min(max(0, attempts - 1), 30)  # no timedelta overflow
        return min(self.backoff_cap, wait)

    def enqueue(
        self,
        payload: JobPayload,
        *,
        collection: str,
        created_by: int | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        now: datetime | None = None,
    ) -> Job:
        """Queue a job, due now; its kind follows from the payload's model."""
        kind = next(k for k, model in PAYLOADS.items() if type(payload) is model)
        stamp = stamps.stamp(_now(now))
        rows = self._write(
            "INSERT INTO jobs (kind, payload, collection, max_attempts, run_after, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (kind, payload.model_dump_json(), collection, max_attempts, stamp, created_by, stamp, stamp),
        )
        job = _job(rows[0])
        self._wake_workers(job)
        return job

    def _wake_workers(self, job: Job) -> None:
        """Tell idle workers (``LISTEN newsdesk_jobs``) that a job is due, rather than wait for their next look."""
        if self.db.dialect == "postgresql":
            self.db.execute("SELECT pg_notify(?, ?)", (JOBS_CHANNEL, str(job.id)))

    def reap(self, *, now: datetime | None = None) -> list[Job]:
        """Requeue the running jobs whose lease expired (their worker died); dead-letter those out of attempts.

        Jobs finished more than ``FINISHED_KEPT`` ago are deleted on the way (an upload is kept in its row).
        """
        stamp = stamps.stamp(_now(now))
        self._write(
            "DELETE FROM jobs WHERE state IN ('done', 'failed', 'dead') AND updated_at < ? RETURNING id",
            (stamps.stamp(_now(now) - FINISHED_KEPT),),
        )
        rows = self._write(
            "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,"
            " owner = NULL, lease_expires = NULL, run_after = ?, last_error = ?, updated_at = ?"
            " WHERE state = 'running' AND lease_expires <= ? RETURNING *",
            (stamp, LOST_WORKER, stamp, stamp),
        )
        jobs = [_job(r) for r in rows]
        for job in jobs:
            log.warning("job %d (%s): %s; now %s", job.id, job.kind, LOST_WORKER, job.state)
        return jobs

    def claim(self, owner: str, *, lease: timedelta, now: datetime | None = None) -> Job | None:
        """Lease the oldest due job to ``owner`` (after reaping expired leases); None when none is due."""
        moment = _now(now)
        self.reap(now=moment)
        stamp = stamps.stamp(moment)
        lock = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        rows = self._write(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, owner = ?, lease_expires = ?,"
            " heartbeat_at = ?, updated_at = ?"
            " WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= ?"
            f" ORDER BY run_after, id LIMIT 1{lock}) RETURNING *",
            (owner, stamps.stamp(moment + lease), stamp, stamp, stamp),
        )
        return _job(rows[0]) if rows else None

    def heartbeat(
        self,
        job_id: int,
        owner: str,
        *,
        lease: timedelta,
        progress: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Extend ``owner``'s lease (and record ``progress``); False when the job is no longer ``owner``'s."""
        moment = _now(now)
        rows = self._write(
            "UPDATE jobs SET lease_expires = ?, heartbeat_at = ?, updated_at = ?,"
            " progress = COALESCE(?, progress) WHERE id = ? AND owner = ? AND state = 'running' RETURNING id",
            (
                stamps.stamp(moment + lease),
                stamps.stamp(moment),
                stamps.stamp(moment),
                None if progress is None else json.dumps(progress),
                job_id,
                owner,
            ),
        )
        return bool(rows)

    def _finish(self, job_id: int, owner: str, assignments: str, params: Sequence[Any]) -> Job | None:
        rows = self._write(
            f"UPDATE jobs SET {assignments}, owner = NULL, lease_expires = NULL"
            " WHERE id = ? AND owner = ? AND state = 'running' RETURNING *",
            (*params, job_id, owner),
        )
        return _job(rows[0]) if rows else None

    def complete(
        self, job_id: int, owner: str, result: dict[str, Any] | None = None, *, now: datetime | None = None
    ) -> Job | None:
        """Mark ``owner``'s job done with ``result``; None when it is no longer ``owner``'s."""
        return self._finish(
            job_id,
            owner,
            "state = 'done', result = ?, last_error = NULL, updated_at = ?",
            (json.dumps(result or {}), stamps.stamp(_now(now))),
        )

    def fail(
        self, job_id: int, owner: str, error: str, *, permanent: bool = False, now: datetime | None = None
    ) -> Job | None:
        """Record a failed try: queued again after a backoff, ``failed`` when ``permanent``, ``dead`` when out of tries.

        Returns:
            The job as it is now; None when it is no longer ``owner``'s.
        """
        job = self.get(job_id)
        if job is None or job.owner != owner or job.state != "running":
            return None
        moment = _now(now)
        state = "failed" if permanent else "dead" if job.attempts >= job.max_attempts else "queued"
        return self._finish(
            job_id,
            owner,
            "state = ?, last_error = ?, run_after = ?, updated_at = ?",
            (state, error, stamps.stamp(moment + self.backoff(job.attempts)), stamps.stamp(moment)),
        )

    def release(self, job_id: int, owner: str, *, now: datetime | None = None) -> Job | None:
        """Give a job back untried (a worker told to stop at once): queued, due now, this try not counted."""
        stamp = stamps.stamp(_now(now))
        return self._finish(
            job_id,
            owner,
            "state = 'queued', attempts = attempts - 1, run_after = ?, updated_at = ?",
            (stamp, stamp),
        )

    def retry(self, job_id: int, *, now: datetime | None = None) -> Job | None:
        """Queue a failed or dead job again, due now, with all its attempts; None when it is not failed or dead."""
        stamp = stamps.stamp(_now(now))
        rows = self._write(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, updated_at = ?"
            " WHERE id = ? AND state IN ('failed', 'dead') RETURNING *",
            (stamp, stamp, job_id),
        )
        if not rows:
            return None
        job = _job(rows[0])
        self._wake_workers(job)
        return job

    def active(self, kind: str) -> Job | None:
        """The oldest queued or running job of ``kind`` (a second re-index is refused while one is pending)."""
        row = self.db.execute(
            "SELECT * FROM jobs WHERE kind = ? AND state IN ('queued', 'running') ORDER BY id LIMIT 1", (kind,)
        ).fetchone()
        return None if row is None else _job(row)

    def get(self, job_id: int) -> Job | None:
        """One job, or None."""
        row = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def list(self, states: Sequence[JobState] | None = None, *, limit: int = 50) -> list[Job]:
        """The newest jobs (of ``states``), newest first."""
        wanted = tuple(states) if states is not None else get_args(JobState)
        marks = ", ".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id DESC LIMIT ?", (*wanted, limit)
        ).fetchall()
        return [_job(r) for r in rows]


class PollLock:
    """Whether this process is the one that polls feeds.

    PostgreSQL: ``pg_try_advisory_lock`` on a pooled connection kept for as long as the lock is held;
    the server releases it when that session ends, so when the polling process dies another one takes
    over at its next ``acquire``. SQLite: one process owns the database, so it always polls.
    """

    def __init__(self, db: Database) -> None:
        """Contend for the feed-polling lock of ``db``."""
        self.db = db
        self._held: ExitStack | None = None
        self._conn: Any = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock (as of the last ``acquire``)."""
        return self._held is not None or self.db.dialect == "sqlite"

    def acquire(self) -> bool:
        """Take the lock, or check that it is still ours (a lost connection loses it); True when ours."""
        if self.db.dialect != "postgresql":
            return True
        from index.database.postgres import PostgresDatabase

        assert isinstance(self.db, PostgresDatabase)
        if self._held is not None:
            try:
                self._conn.execute("SELECT 1")
                return True
            except Exception as exc:  # the session is gone, and the server released the lock with it
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.warning("lost the connection that held the feed-polling lock (%s): taking it again", detail)
                self._drop()
        stack = ExitStack()
        try:
            conn = stack.enter_context(self.db.session())
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (POLL_LOCK,)).fetchone()
            got = bool(row and row[0])
        except BaseException:
            stack.close()
            raise
        if not got:
            stack.close()
            return False
        self._held, self._conn = stack, conn
        log.info("this process polls the feeds now (it holds the feed-polling lock)")
        return True

    def _drop(self) -> None:
        held, self._held, self._conn = self._held, None, None
        if held is not None:
            try:
                held.close()
            except Exception:
                log.debug("closing the feed-polling lock's connection failed", exc_info=True)

    def release(self) -> None:
        """Let another process poll (idempotent)."""
        if self._held is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (POLL_LOCK,))
            except Exception:
                log.debug("could not unlock the feed-polling lock (its session is gone)", exc_info=True)
            self._drop()
