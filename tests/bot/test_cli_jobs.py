"""``newsdesk jobs``: an operator's view of the worker's queue, and a way to retry what died."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.exit_codes import EXIT_INDEX, EXIT_OK, EXIT_USAGE
from index.jobs import IngestUrl, JobStore, Reindex
from tests.conftest import OpenStore

pytestmark = pytest.mark.both_engines


@pytest.fixture
def queue(open_store: OpenStore, tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> JobStore:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path))
    if database_url:
        monkeypatch.setenv("NEWSDESK_DATABASE_URL", database_url)
    return JobStore(open_store())


def test_lists_jobs_with_their_last_error_and_retries_a_dead_one(
    queue: JobStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """should show the dead job's error on one escaped line, and queue it again with all its attempts."""
    dead = queue.enqueue(IngestUrl(url="https://example.com/a"), collection="1", max_attempts=1)
    claimed = queue.claim("w", lease=timedelta(minutes=1))
    assert claimed is not None and claimed.id == dead.id
    queue.fail(dead.id, "w", "timed out\x1b[2J after 30 s")
    waiting = queue.enqueue(Reindex(), collection="global")

    assert main(["jobs", "--state", "dead"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].split()[:4] == [str(dead.id), "dead", "ingest_url", "attempts"]
    assert "\x1b" not in lines[0] and lines[0].endswith("timed out\\u001b[2J after 30 s")

    assert main(["jobs", "--json"]) == EXIT_OK
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["state"]) for r in rows] == [(waiting.id, "queued"), (dead.id, "dead")]

    assert main(["jobs", "retry", str(dead.id)]) == EXIT_OK
    assert capsys.readouterr().out == f"job {dead.id} queued again\n"
    again = queue.get(dead.id)
    assert again is not None and (again.state, again.attempts) == ("queued", 0)
    assert main(["jobs", "retry", str(waiting.id)]) == EXIT_USAGE
    assert f"no failed or dead job {waiting.id}" in capsys.readouterr().err


def test_retry_needs_an_id_and_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """should exit 2 without an id, and 3 where there is no store."""
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "nothing"))
    assert main(["jobs", "retry"]) == EXIT_USAGE
    assert main(["jobs"]) == EXIT_INDEX
    assert "no index in" in capsys.readouterr().err
