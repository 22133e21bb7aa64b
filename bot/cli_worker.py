"""``newsdesk worker``: run the ingestion worker on the shared store (``app/worker.py``); ``newsdesk jobs``: its queue.

    newsdesk jobs [--state dead] [--limit N] [--json]   the newest jobs, with attempts and the last error
    newsdesk jobs retry ID                              queue a failed or dead job again (all attempts anew)

The worker exists for PostgreSQL, where bot processes enqueue moderators' ``/ingest`` and
``/reindex``; with SQLite the one bot process runs them itself, so the command refuses to start
without ``NEWSDESK_DATABASE_URL``.

Exit codes: 0 stopped cleanly (SIGTERM/SIGINT, after the current job); 2 no shared store
configured; 3 the store cannot be used (unreachable, another schema, another model); 130 stopped
at once by a second signal (the job in progress went back to the queue).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.exit_codes import EXIT_INDEX, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from bot.terminal import echo, one_line
from index.errors import IngestError

if TYPE_CHECKING:
    from app.config import EngineConfig
    from app.engine import Engine
    from bot.settings import Settings
    from index.jobs import Job

JOB_STATES = ("queued", "running", "done", "failed", "dead")  # index.jobs.JobState, not imported: it loads the store
NEEDS_SHARED_STORE = (
    "newsdesk worker: the worker needs the shared store: set NEWSDESK_DATABASE_URL "
    "(with SQLite, `newsdesk bot` runs ingests and re-indexes itself)"
)


def add_worker_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``newsdesk worker`` on the main parser's subcommands."""
    worker = subparsers.add_parser("worker", help="run queued ingests, re-indexes and feed polls (PostgreSQL)")
    worker.add_argument(
        "--lease", type=_positive, default=60.0, help="seconds a job stays ours without a heartbeat (default: 60)"
    )
    worker.add_argument(
        "--idle-wait", type=_positive, default=1.0, help="seconds between claims when the queue is empty (default: 1)"
    )
    worker.add_argument("--no-feeds", action="store_true", help="never poll feeds in this process")
    worker.add_argument(
        "--feed-tick", type=_positive, default=60.0, help="seconds between feed polling rounds (default: 60)"
    )
    return worker


def add_jobs_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``newsdesk jobs`` on the main parser's subcommands."""
    jobs = subparsers.add_parser("jobs", help="the worker's queue: list jobs, retry a failed or dead one")
    jobs.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    jobs.add_argument("id", nargs="?", type=int, help="the job to retry")
    jobs.add_argument("--state", action="append", choices=JOB_STATES, help="only jobs in this state")
    jobs.add_argument("--limit", type=int, default=20, help="at most this many (default: 20)")
    jobs.add_argument("--json", action="store_true", help="print JSON lines")
    return jobs


def _print_job(job: Job) -> None:
    error = f" · {one_line(job.last_error)}" if job.last_error else ""
    echo(
        f"{job.id:>6}  {job.state:<7} {job.kind:<12} attempts {job.attempts}/{job.max_attempts}"
        f"  {job.updated_at:%Y-%m-%d %H:%M:%S} UTC{error}"
    )


def run_jobs(args: argparse.Namespace, settings: Settings) -> int:
    """``newsdesk jobs [list|retry ID]``; the exit code (3 when the store cannot be opened)."""
    from bot.cli_db import open_store
    from index.jobs import JobStore

    if args.action == "retry" and args.id is None:
        echo("newsdesk jobs retry: give the ID of a failed or dead job (see `newsdesk jobs --state dead`)", err=True)
        return EXIT_USAGE
    try:
        store = open_store(settings)
    except IngestError as exc:
        echo(f"newsdesk jobs: {exc}", err=True)
        return EXIT_INDEX
    try:
        queue = JobStore(store)
        if args.action == "retry":
            job = queue.retry(args.id)
            if job is None:
                echo(f"newsdesk jobs: no failed or dead job {args.id}", err=True)
                return EXIT_USAGE
            echo(f"job {job.id} queued again")
            return EXIT_OK
        for job in queue.list(args.state, limit=args.limit):
            if args.json:
                echo(json.dumps(asdict(job), default=str))
            else:
                _print_job(job)
        return EXIT_OK
    except IngestError as exc:
        echo(f"newsdesk jobs: {exc}", err=True)
        return EXIT_INDEX
    finally:
        store.close()


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {value!r}")
    return number


def run_worker(
    args: argparse.Namespace, settings: Settings, open_engine: Callable[[EngineConfig, bool], Engine]
) -> int:
    """Run the worker until it is stopped; returns the exit code.

    Args:
        args: the parsed ``newsdesk worker`` arguments.
        settings: the process settings (the store, the fetching and feed rules).
        open_engine: opens the engine on a config, checking the index's model (``bot.cli.load_engine``).
    """
    if settings.database_url is None:
        echo(NEEDS_SHARED_STORE, err=True)
        return EXIT_USAGE
    from app.worker import Worker, WorkerConfig, install_signal_handlers
    from index.jobs import JobStore

    try:
        engine = open_engine(settings.engine_config(), True)
    except IngestError as exc:  # unreachable, another schema version, another model
        echo(f"newsdesk worker: {exc}", err=True)
        return EXIT_INDEX
    worker = Worker(
        engine,
        JobStore(engine.store),
        WorkerConfig(
            lease=timedelta(seconds=args.lease),
            idle_wait=args.idle_wait,
            poll_feeds=not args.no_feeds,
            feed_tick=args.feed_tick,
            allow_private=settings.allow_private_urls,
            feed_interval_minutes=settings.feed_interval_minutes,
            feed_max_entries=settings.feed_max_entries,
        ),
    )
    install_signal_handlers(worker)
    try:
        return EXIT_OK if worker.run() else EXIT_INTERRUPTED
    finally:
        engine.close()
