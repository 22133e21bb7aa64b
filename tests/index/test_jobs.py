"""The job queue: claim, lease, heartbeat, complete, fail with backoff, dead letter; the feed-polling lock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from index.jobs import FINISHED_KEPT, LOST_WORKER, IngestText, IngestUrl, JobStore, PollLock, Reindex
from tests.conftest import OpenStore

pytestmark = pytest.mark.both_engines

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
def jobs(open_store: OpenStore) -> JobStore:
    return JobStore(open_store(), backoff_base=timedelta(seconds=10), backoff_cap=timedelta(seconds=25))


def _text(title: str = "Title") -> IngestText:
    return IngestText(title=title, text="Some text of the article.")


def test_claim_leases_the_oldest_due_job_once(jobs: JobStore) -> None:
    first = jobs.enqueue(_text("one"), collection="42", created_by=7, now=T0)
    second = jobs.enqueue(Reindex(), collection="global", now=T0 + timedelta(seconds=1))
    assert (first.state, first.attempts, first.kind, first.created_by) == ("queued", 0, "ingest_text", 7)

    claimed = jobs.claim("a", lease=LEASE, now=T0 + timedelta(seconds=2))
    assert claimed is not None
    assert (claimed.id, claimed.state, claimed.attempts, claimed.owner) == (first.id, "running", 1, "a")
    assert claimed.lease_expires == T0 + timedelta(seconds=2) + LEASE
    assert claimed.parsed() == _text("one")
    again = jobs.claim("b", lease=LEASE, now=T0 + timedelta(seconds=3))
    assert again is not None and again.id == second.id and again.kind == "reindex"
    assert jobs.claim("c", lease=LEASE, now=T0 + timedelta(seconds=4)) is None


def test_heartbeat_records_progress_and_complete_the_result(jobs: JobStore) -> None:
    job = jobs.enqueue(_text(), collection="global", now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    assert jobs.heartbeat(job.id, "a", lease=LEASE, progress={"passages": 3, "articles": 1}, now=T0 + LEASE / 2)
    assert jobs.heartbeat(job.id, "a", lease=LEASE, now=T0 + LEASE)  # no progress: the last one is kept
    running = jobs.get(job.id)
    assert running is not None
    assert running.progress == {"passages": 3, "articles": 1} and running.lease_expires == T0 + 2 * LEASE
    assert jobs.heartbeat(job.id, "b", lease=LEASE, now=T0 + LEASE) is False

    assert jobs.complete(job.id, "b", {"added": 1}) is None  # not b's job
    done = jobs.complete(job.id, "a", {"added": 1}, now=T0 + LEASE)
    assert done is not None
    assert (done.state, done.result, done.owner, done.finished) == ("done", {"added": 1}, None, True)
    assert jobs.complete(job.id, "a", {"added": 2}) is None
    assert [j.id for j in jobs.list(["done"])] == [job.id]
    assert jobs.list(["queued", "running"]) == []


def test_a_failed_try_waits_with_exponential_backoff(jobs: JobStore) -> None:
    job = jobs.enqueue(_text(), collection="global", now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    failed = jobs.fail(job.id, "a", "site timed out", now=T0)
    assert failed is not None
    assert (failed.state, failed.last_error) == ("queued", "site timed out")
    assert failed.run_after == T0 + timedelta(seconds=10)
    assert jobs.claim("a", lease=LEASE, now=T0 + timedelta(seconds=9)) is None
    retried = jobs.claim("b", lease=LEASE, now=T0 + timedelta(seconds=10))
    assert retried is not None and retried.attempts == 2
    second = jobs.fail(job.id, "b", "again", now=T0 + timedelta(seconds=10))
    assert second is not None and second.run_after == T0 + timedelta(seconds=30)
    assert [jobs.backoff(n) for n in (1, 2, 3, 100)] == [timedelta(seconds=s) for s in (10, 20, 25, 25)]


def test_the_last_failed_try_dead_letters_the_job(jobs: JobStore) -> None:
    job = jobs.enqueue(_text(), collection="global", max_attempts=2, now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    jobs.fail(job.id, "a", "first", now=T0)
    jobs.claim("a", lease=LEASE, now=T0 + timedelta(minutes=1))
    dead = jobs.fail(job.id, "a", "second", now=T0 + timedelta(minutes=1))
    assert dead is not None
    assert (dead.state, dead.attempts, dead.last_error, dead.finished) == ("dead", 2, "second", True)
    assert jobs.claim("a", lease=LEASE, now=T0 + timedelta(days=1)) is None


def test_a_permanent_failure_is_not_retried(jobs: JobStore) -> None:
    job = jobs.enqueue(IngestUrl(url="https://example.com/x"), collection="global", now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    assert jobs.fail(job.id, "b", "not b's") is None
    failed = jobs.fail(job.id, "a", "no article there", permanent=True, now=T0)
    assert failed is not None and (failed.state, failed.attempts) == ("failed", 1)
    assert jobs.claim("a", lease=LEASE, now=T0 + timedelta(days=1)) is None


def test_an_expired_lease_is_taken_over_and_the_old_owner_is_refused(jobs: JobStore) -> None:
    job = jobs.enqueue(_text(), collection="global", now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    assert jobs.claim("b", lease=LEASE, now=T0 + LEASE - timedelta(seconds=1)) is None
    taken = jobs.claim("b", lease=LEASE, now=T0 + LEASE)
    assert taken is not None and (taken.id, taken.owner, taken.attempts) == (job.id, "b", 2)
    assert taken.last_error == LOST_WORKER
    assert jobs.heartbeat(job.id, "a", lease=LEASE, now=T0 + LEASE) is False
    assert jobs.complete(job.id, "a", {}) is None
    done = jobs.complete(job.id, "b", {"ok": True})
    assert done is not None and done.state == "done"


def test_an_expired_lease_out_of_attempts_is_dead(jobs: JobStore) -> None:
    job = jobs.enqueue(_text(), collection="global", max_attempts=1, now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    assert jobs.claim("b", lease=LEASE, now=T0 + LEASE) is None
    dead = jobs.get(job.id)
    assert dead is not None and (dead.state, dead.last_error, dead.owner) == ("dead", LOST_WORKER, None)


def test_release_gives_the_job_back_untried(jobs: JobStore) -> None:
    job = jobs.enqueue(_text(), collection="global", now=T0)
    jobs.claim("a", lease=LEASE, now=T0)
    released = jobs.release(job.id, "a", now=T0 + timedelta(seconds=5))
    assert released is not None and (released.state, released.attempts, released.owner) == ("queued", 0, None)
    again = jobs.claim("b", lease=LEASE, now=T0 + timedelta(seconds=5))
    assert again is not None and (again.id, again.attempts) == (job.id, 1)


def test_concurrent_claimers_never_get_the_same_job(jobs: JobStore, open_store: OpenStore) -> None:
    ids = {jobs.enqueue(_text(str(i)), collection="global").id for i in range(40)}
    queues = [jobs] + [JobStore(open_store()) for _ in range(3)]  # on PostgreSQL, four pools
    claimed: list[list[int]] = [[] for _ in queues]
    start = threading.Barrier(len(queues))

    def claim_all(n: int) -> None:
        start.wait()
        while (job := queues[n].claim(f"w{n}", lease=LEASE)) is not None:
            claimed[n].append(job.id)

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(len(queues))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = [i for ids_of_one in claimed for i in ids_of_one]
    assert sorted(every) == sorted(ids)  # each job once: none twice, none missed


def test_one_process_polls_feeds_at_a_time(open_store: OpenStore, database_url: str | None) -> None:
    first, second = PollLock(open_store().db), PollLock(open_store().db)
    if database_url is None:  # SQLite: one process owns the database, and it polls
        assert (first.acquire(), second.acquire()) == (True, True)
        return
    assert (first.acquire(), second.acquire()) == (True, False)
    assert first.acquire() is True  # still ours
    first.release()
    assert second.acquire() is True
    assert first.acquire() is False
    second.release()
    first.release()  # not held: nothing to do


def test_finished_jobs_are_kept_a_week_then_deleted(jobs: JobStore) -> None:
    """should delete done, failed and dead jobs FINISHED_KEPT after they ended, and never a pending one."""
    done = jobs.enqueue(_text("done"), collection="1", now=T0)
    claimed = jobs.claim("w", lease=LEASE, now=T0)
    assert claimed is not None and jobs.complete(claimed.id, "w", {"added": 1}, now=T0) is not None
    waiting = jobs.enqueue(_text("waiting"), collection="1", now=T0 + FINISHED_KEPT)
    jobs.reap(now=T0 + FINISHED_KEPT)
    assert {j.id for j in jobs.list()} == {done.id, waiting.id}
    jobs.reap(now=T0 + FINISHED_KEPT + timedelta(seconds=1))
    assert [j.id for j in jobs.list()] == [waiting.id]


def test_active_finds_a_pending_job_of_a_kind(jobs: JobStore) -> None:
    """should name the queued or running re-index, and nothing once it is done."""
    assert jobs.active("reindex") is None
    queued = jobs.enqueue(Reindex(), collection="global", now=T0)
    assert jobs.active("reindex") == queued
    claimed = jobs.claim("w", lease=LEASE, now=T0)
    assert claimed is not None and jobs.active("reindex") == claimed
    jobs.complete(claimed.id, "w", {"passages": 3}, now=T0)
    assert jobs.active("reindex") is None
