"""A worker (or a bare claimer) in a process of its own, for the tests that kill one or race two.

``python -m tests.app._worker_process MODE DATA_DIR DATABASE_URL OUT`` (``DATABASE_URL`` empty: SQLite):

- ``work``: a worker on the fake encoder, with a 1 s lease; stops on SIGTERM.
- ``stall``: the same, but its first ingest stalls after storing its articles (before the job is
  marked done) and touches ``OUT``: the moment to SIGKILL it.
- ``claim``: waits for ``OUT.go`` to exist, then claims jobs until none is left and writes their ids
  to ``OUT`` (JSON): two of these race for the same queue.
- ``cli``: ``newsdesk worker --no-feeds`` itself (``NEWSDESK_DATABASE_URL`` from the environment), on the
  fake encoder.
- ``lead``: a worker that only polls feeds, every 0.05 s, with a fake round that appends its pid
  to ``OUT`` (whoever holds the feed-polling lock polls); ``OUT.<pid>.ready`` marks its start.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.config import EngineConfig
from app.engine import Engine
from app.worker import Worker, WorkerConfig, install_signal_handlers
from index.jobs import JobStore
from tests.fakes import FakeEncoder


def _stall_after_storing(engine: Engine, marker: Path) -> None:
    """Ingests store their articles, then stall where the new snapshot would be published."""

    def stalled() -> None:
        marker.touch()
        threading.Event().wait()  # until killed

    engine._publish = stalled  # type: ignore[method-assign]


def open_fake_engine(config: EngineConfig, check_model: bool) -> Engine:
    """``bot.cli.main``'s engine opener, on the fake encoder."""
    return Engine(config, encoder=FakeEncoder(), check_model=check_model)


def main(mode: str, data_dir: str, url: str, out: str) -> int:
    """Run one mode (see the module docstring); returns the exit code."""
    if mode == "cli":
        from bot.cli import main as newsdesk

        return newsdesk(["worker", "--no-feeds", "--idle-wait", "0.05"], open_engine=open_fake_engine)
    engine = Engine(EngineConfig(data_dir=Path(data_dir), database_url=url or None), encoder=FakeEncoder())
    jobs = JobStore(engine.store, backoff_base=timedelta(0))
    target = Path(out)
    if mode == "claim":
        while not target.with_suffix(".go").exists():
            time.sleep(0.01)
        claimed = []
        while (job := jobs.claim(f"claimer-{os.getpid()}", lease=timedelta(minutes=5))) is not None:
            claimed.append(job.id)
        target.write_text(json.dumps(claimed))
        return 0
    if mode == "stall":
        _stall_after_storing(engine, target)

    def poll(_every: bool) -> dict[str, Any]:
        with target.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return {}

    leading = mode == "lead"
    config = WorkerConfig(
        lease=timedelta(seconds=1), idle_wait=0.05, poll_feeds=leading, feed_tick=0.05, allow_private=True
    )
    worker = Worker(engine, jobs, config, feed_poll=poll if leading else None)
    install_signal_handlers(worker)
    if leading:
        target.with_suffix(f".{os.getpid()}.ready").touch()  # its feed loop starts now
    try:
        return 0 if worker.run() else 130
    finally:
        engine.close()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
