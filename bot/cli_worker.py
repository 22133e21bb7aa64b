"""``newsdesk worker``: run the ingestion worker on the shared store (``app/worker.py``).

The worker exists for PostgreSQL, where bot processes enqueue moderators' ``/ingest`` and
``/reindex``; with SQLite the one bot process runs them itself, so the command refuses to start
without ``NEWSDESK_DATABASE_URL``.

Exit codes: 0 stopped cleanly (SIGTERM/SIGINT, after the current job); 2 no shared store
configured; 3 the store cannot be used (unreachable, another schema, another model); 130 stopped
at once by a second signal (the job in progress went back to the queue).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.exit_codes import EXIT_INDEX, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from bot.terminal import echo
from index.errors import IngestError

if TYPE_CHECKING:
    from app.config import EngineConfig
    from app.engine import Engine
    from bot.settings import Settings

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
