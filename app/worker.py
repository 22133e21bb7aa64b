"""``newsdesk worker``: takes jobs from the shared store and runs them through the engine; polls feeds when it leads.

One loop claims a job (``index.jobs.JobStore``), runs it in a thread of its own and, while it runs,
heartbeats its lease with the latest progress, then records the result or the error (a retry after
a backoff, or ``failed`` for an input that no retry fixes). The first SIGTERM or SIGINT stops the
loop after the current job; a second gives the job back to the queue untried and exits at once.
A worker that is killed outright leaves its lease to expire, and the next claim anywhere retries
the job; ingests are idempotent, so nothing is stored twice.

Beside the loop, a thread polls the feeds every ``feed_tick`` seconds, but only while this process
holds the feed-polling lock (``index.jobs.PollLock``): of all the workers alive, exactly one polls.
A worker cannot post to Discord: it queues each poll's new articles in the announcement outbox
(``index.announcements``), and the bot processes post them.

No Discord here: the bot enqueues (``bot/writes.py``) and reads the job row back for its progress.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.engine import Engine
from index.errors import (
    ContentTypeError,
    HTTPStatusError,
    IngestError,
    InvalidURLError,
    NotAnArticleError,
    RedirectError,
    TooLargeError,
    UnsafeURLError,
)
from index.jobs import (
    JOBS_CHANNEL,
    IngestFile,
    IngestText,
    IngestUrl,
    Job,
    JobStore,
    PollFeeds,
    PollLock,
    default_owner,
)
from index.listener import GenerationListener
from index.models import RawArticle
from index.pipeline import IngestReport

log = logging.getLogger(__name__)

__all__ = [
    "FeedPoll",
    "PermanentJobError",
    "Worker",
    "WorkerConfig",
    "install_signal_handlers",
    "report_from_json",
    "report_json",
]

FeedPoll = Callable[[bool], dict[str, Any]]
"""Runs one polling round (``True``: every feed, not only the due ones) and says what it did."""
# Inputs that another try will not fix (the feed poller gives up on the same ones, and a redirect loop).
_PERMANENT = (NotAnArticleError, UnsafeURLError, InvalidURLError, ContentTypeError, TooLargeError, RedirectError)
_TRANSIENT_STATUS = frozenset({408, 425, 429})


class PermanentJobError(Exception):
    """A job that cannot succeed as it is: it is marked ``failed`` instead of retried."""


@dataclass(frozen=True)
class WorkerConfig:
    """How the worker leases, waits and polls.

    Attributes:
        lease: how long a claimed job stays this worker's without a heartbeat (heartbeats every third of it).
        idle_wait: seconds between two claims when the queue is empty.
        poll_feeds: whether this worker contends for polling the feeds at all.
        feed_tick: seconds between two polling rounds (and two tries for the polling lock).
        allow_private: fetch loopback and private addresses (tests, intranets).
        feed_interval_minutes: time between two polls of a healthy feed.
        feed_max_entries: entries read per feed and poll.
        owner: the name of this worker's leases.
    """

    lease: timedelta = timedelta(seconds=60)
    idle_wait: float = 1.0
    poll_feeds: bool = True
    feed_tick: float = 60.0
    allow_private: bool = False
    feed_interval_minutes: float = 15.0
    feed_max_entries: int = 500
    owner: str = field(default_factory=default_owner)

    @property
    def heartbeat(self) -> float:
        """Seconds between heartbeats: a third of the lease, so one late beat never loses it."""
        return self.lease.total_seconds() / 3


def report_json(report: IngestReport) -> dict[str, Any]:
    """An ingest's report as a job's result (``bot.writes`` rebuilds the report from it)."""
    return dataclasses.asdict(report)


def report_from_json(result: dict[str, Any]) -> IngestReport:
    """The report of ``report_json`` (fields another version does not know are left out)."""
    known = {f.name for f in dataclasses.fields(IngestReport)}
    return IngestReport(**{k: v for k, v in result.items() if k in known})


class Worker:
    """Claims and runs jobs until stopped; polls feeds while it holds the polling lock."""

    def __init__(self, engine: Engine, jobs: JobStore, config: WorkerConfig, *, feed_poll: FeedPoll | None = None):
        """Work for ``engine`` on the queue ``jobs``.

        Args:
            engine: the open engine (its store is the shared store).
            jobs: the queue, in the same store.
            config: leases, waits and polling.
            feed_poll: one polling round (tests pass a fake); by default the feed poller of ``index.feedpoller``.
        """
        self.engine = engine
        self.jobs = jobs
        self.config = config
        self.feed_poll: FeedPoll = feed_poll or self._poll_feeds
        self.stopping = threading.Event()  # finish the current job, then exit
        self._wake = threading.Event()  # a job was queued, or a stop was asked: look for work now
        self.aborting = threading.Event()  # give the current job back and exit now

    def request_stop(self) -> None:
        """First call: stop after the current job. Second call: give it back and stop now."""
        if self.stopping.is_set():
            log.warning("stopping now: the current job goes back to the queue")
            self.aborting.set()
        else:
            log.info("stopping after the current job (signal again to stop at once)")
            self.stopping.set()
            self._wake.set()

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> bool:
        """Work until stopped; False when a job had to be given back (stopped at once)."""
        feeds = threading.Thread(target=self._feed_loop, name="newsdesk-feeds", daemon=True)
        if self.config.poll_feeds:
            feeds.start()
        listener = self._listen()
        log.info("worker %s started on %s", self.config.owner, self.engine.store.location)
        clean = True
        while not self.stopping.is_set():
            try:
                job = self.jobs.claim(self.config.owner, lease=self.config.lease)
            except IngestError as exc:  # the store is unreachable: wait for it
                log.warning("cannot claim a job: %s", exc)
                job = None
            if job is None:
                self._wake.wait(self.config.idle_wait)  # a NOTIFY (PostgreSQL) or a stop wakes it sooner
                self._wake.clear()
                continue
            if not self._process(job):
                clean = False
                break
        self.stopping.set()
        if listener is not None:
            listener.stop()
        if feeds.is_alive():
            feeds.join(timeout=self.config.heartbeat)
        log.info("worker %s stopped", self.config.owner)
        return clean

    def _listen(self) -> GenerationListener | None:
        """On PostgreSQL, wake up when a job is queued (``JOBS_CHANNEL``); the idle wait stays the fallback."""
        url = getattr(self.engine.store.database, "url", None)
        if self.engine.store.database.dialect != "postgresql" or not url:
            return None
        listener = GenerationListener(url, self._wake.set, interval=self.config.idle_wait, channel=JOBS_CHANNEL)
        listener.start()
        return listener

    def _process(self, job: Job) -> bool:
        """Run one claimed job to its end; False when it was given back (abort)."""
        log.info("job %d (%s, try %d of %d) started", job.id, job.kind, job.attempts, job.max_attempts)
        latest: list[dict[str, Any] | None] = [None]
        outcome: dict[str, Any] = {}

        def progress(passages: int, articles: int) -> None:
            latest[0] = {"passages": passages, "articles": articles}  # rebinding an item is atomic

        def target() -> None:
            try:
                outcome["result"] = self.execute(job, progress)
            except BaseException as exc:  # recorded on the job, not raised in a thread nobody joins
                outcome["error"] = exc

        # A daemon thread: a worker told to stop at once exits without waiting for it (its writes are atomic).
        thread = threading.Thread(target=target, name=f"newsdesk-job-{job.id}", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(self.config.heartbeat)
            if self.aborting.is_set():
                self._quietly(self.jobs.release, job.id, self.config.owner)
                log.warning("job %d given back to the queue", job.id)
                return False
            if thread.is_alive() and not self._beat(job.id, latest[0]):
                log.warning("job %d is no longer this worker's (its lease expired); its result will be dropped", job.id)
        error = outcome.get("error")
        if error is None:
            self._quietly(self.jobs.complete, job.id, self.config.owner, outcome["result"])
            log.info("job %d done", job.id)
            return True
        permanent = _is_permanent(error)
        message = str(error) if isinstance(error, IngestError | PermanentJobError) else _unexpected(error)
        if not isinstance(error, IngestError | PermanentJobError):
            log.error("job %d failed", job.id, exc_info=error)
        failed = self._quietly(self.jobs.fail, job.id, self.config.owner, message, permanent=permanent)
        log.warning("job %d failed (%s): %s", job.id, getattr(failed, "state", "?"), message)
        return True

    def _beat(self, job_id: int, progress: dict[str, Any] | None) -> bool:
        """Extend the lease with the latest progress; False only when the job is no longer ours."""
        lease = self.config.lease
        owned = self._quietly(self.jobs.heartbeat, job_id, self.config.owner, lease=lease, progress=progress)
        return owned is not False  # None: the store was unreachable this time, the lease still runs

    @staticmethod
    def _quietly(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """A queue update that must not end the loop when the store is briefly unreachable (the lease covers it)."""
        try:
            return fn(*args, **kwargs)
        except IngestError as exc:
            log.warning("could not update the job queue: %s", exc)
            return None

    # -- the jobs ---------------------------------------------------------------------------------
    def execute(self, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
        """Run one job's work (in the job's thread); returns its result.

        Raises:
            PermanentJobError: when the payload is unusable.
            IngestError: what fetching or indexing raised (permanent for the inputs no retry fixes).
        """
        try:
            payload = job.parsed()
        except ValueError as exc:
            raise PermanentJobError(f"the job's payload is not a valid {job.kind}: {exc}") from None
        if isinstance(payload, IngestUrl):
            from index.web import read_url  # the CLI's fetch path: same SSRF guard, size and type rules

            article = read_url(payload.url, allow_private=self.config.allow_private)
            report = self.engine.ingest([article], collection=job.collection, progress=progress)
            return report_json(report)
        if isinstance(payload, IngestFile):
            from index.readers import read_bytes

            try:
                data = base64.b64decode(payload.data, validate=True)
            except binascii.Error:
                raise PermanentJobError(f"the job's file {payload.filename!r} is not valid base64") from None
            report = self.engine.ingest(
                read_bytes(data, payload.filename), collection=job.collection, progress=progress
            )
            return report_json(report)
        if isinstance(payload, IngestText):
            article_in = RawArticle(title=payload.title, text=payload.text, source=payload.source)
            return report_json(self.engine.ingest([article_in], collection=job.collection, progress=progress))
        if isinstance(payload, PollFeeds):
            return self.feed_poll(payload.all)
        return {"passages": self.engine.reindex(progress=progress)}

    # -- feeds ------------------------------------------------------------------------------------
    def _feed_loop(self) -> None:
        """Poll the feeds every ``feed_tick`` seconds while this process holds the polling lock."""
        lock = PollLock(self.engine.store.db)
        try:
            while not self.stopping.is_set():
                try:
                    if lock.acquire():
                        self.feed_poll(False)
                except Exception:  # a round's failure (or the store's absence) must not end polling
                    log.exception("feed polling round failed; trying again next tick")
                self.stopping.wait(self.config.feed_tick)
        finally:
            lock.release()

    def _poll_feeds(self, every: bool) -> dict[str, Any]:
        """One round of the feed poller (the one ``newsdesk feeds poll`` runs); its news goes to the outbox."""
        from index.announcements import Outbox
        from index.feedpoller import FeedPoller
        from index.feedstore import FeedStore
        from index.fetch import make_client

        async def round_() -> dict[str, Any]:
            async with make_client(allow_private=self.config.allow_private) as client:
                poller = FeedPoller(
                    self.engine,
                    FeedStore(self.engine.store),
                    client,
                    allow_private=self.config.allow_private,
                    interval_minutes=self.config.feed_interval_minutes,
                    max_entries=self.config.feed_max_entries,
                )
                results = await (poller.poll_many(poller.feeds.list()) if every else poller.poll_due())
            outbox = Outbox(self.engine.store)
            queued = [await asyncio.to_thread(outbox.add, result) for result in results]  # nothing for a backlog
            return {
                "feeds": len(results),
                "new_articles": sum(len(r.new_articles) for r in results),
                "announcements": sum(queued),
                "errors": [f"feed {r.feed.id}: {r.error}" for r in results if r.error],
            }

        return asyncio.run(round_())


def _is_permanent(exc: BaseException) -> bool:
    """Whether retrying cannot help: a bad payload or input, or a page the site says is not there (4xx)."""
    if isinstance(exc, HTTPStatusError):
        return 400 <= exc.status < 500 and exc.status not in _TRANSIENT_STATUS
    return isinstance(exc, (PermanentJobError, *_PERMANENT))


def _unexpected(exc: BaseException) -> str:
    return f"unexpected error ({type(exc).__name__}: {str(exc)[:300]}); see the worker's log"


def install_signal_handlers(worker: Worker) -> None:
    """SIGTERM and SIGINT ask the worker to stop (twice: at once). Call from the main thread."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: worker.request_stop())
