"""The ingestion worker: it runs every kind of job, retries and dead-letters, stops cleanly, survives SIGKILL.

Processes of their own (``tests/app/_worker_process.py``) are killed or raced; waits are explicit,
with generous timeouts, and nothing asserts on timing.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict
from pytest_httpserver import HTTPServer

from app.engine import Engine
from app.worker import Worker, WorkerConfig
from bot.cli import main
from index.jobs import IngestFile, IngestText, IngestUrl, Job, JobStore, PollFeeds, Reindex
from tests.app._worker_process import open_fake_engine
from tests.conftest import ROOT, MakeEngine
from tests.feedsite import STORIES, article_html

pytestmark = pytest.mark.both_engines

WAIT_S = 90.0


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``condition`` until it is truthy (its value), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def finished(jobs: JobStore, job_id: int) -> Job | None:
    job = jobs.get(job_id)
    return job if job is not None and job.finished else None


def all_finished(jobs: JobStore, *queued: Job) -> list[Job]:
    """Wait until every one of ``queued`` is finished; them as they are then."""
    return [wait_for(functools.partial(finished, jobs, job.id), f"job {job.id} to finish") for job in queued]


def jsonl_upload(*titles: str) -> IngestFile:
    """An uploaded .jsonl file with one short article per title."""
    lines = [json.dumps({"title": t, "text": f"The report {t} on the bridge repairs and the detour."}) for t in titles]
    return IngestFile(filename="upload.jsonl", data=base64.b64encode("\n".join(lines).encode()).decode())


class Running:
    """A worker running in a thread of this process."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.clean: bool | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.clean = self.worker.run()

    def stop(self) -> bool | None:
        """Ask it to stop (unless asked already) and wait for it; what ``run`` returned."""
        if not self.worker.stopping.is_set():
            self.worker.request_stop()
        self.thread.join(timeout=WAIT_S)
        assert not self.thread.is_alive()
        return self.clean


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine()


@pytest.fixture
def jobs(engine: Engine) -> JobStore:
    return JobStore(engine.store, backoff_base=timedelta(0))


@pytest.fixture
def start(engine: Engine, jobs: JobStore) -> Iterator[Callable[..., Running]]:
    running: list[Running] = []

    def start_(**config: Any) -> Running:
        feed_poll = config.pop("feed_poll", None)
        settings = {"lease": timedelta(seconds=5), "idle_wait": 0.05, "poll_feeds": False, **config}
        worker = Running(Worker(engine, jobs, WorkerConfig(**settings), feed_poll=feed_poll))
        running.append(worker)
        return worker

    yield start_
    for worker in running:
        if worker.thread.is_alive():
            worker.worker.aborting.set()
            worker.stop()


def test_worker_runs_text_file_url_reindex_and_feed_jobs(
    engine: Engine, jobs: JobStore, start: Callable[..., Running], httpserver: HTTPServer
) -> None:
    story = STORIES["tram"]
    httpserver.expect_request("/tram").respond_with_data(article_html(story), content_type="text/html")
    polls: list[bool] = []

    def feed_poll(every: bool) -> dict[str, Any]:
        polls.append(every)
        return {"feeds": 0}

    text = jobs.enqueue(IngestText(title="Pasted", text="The pasted story about trams."), collection="42")
    upload = jobs.enqueue(jsonl_upload("Story 1", "Story 2"), collection="42")
    link = jobs.enqueue(IngestUrl(url=httpserver.url_for("/tram")), collection="global")
    reindex = jobs.enqueue(Reindex(), collection="global")
    poll = jobs.enqueue(PollFeeds(all=True), collection="global")
    worker = start(allow_private=True, feed_poll=feed_poll)

    done = all_finished(jobs, text, upload, link, reindex, poll)
    assert worker.stop() is True
    assert [j.state for j in done] == ["done"] * 5
    assert [(j.result or {}).get("added") for j in done[:3]] == [1, 2, 1]
    assert done[3].result == {"passages": engine.store.stats()["passages"]}
    assert (done[4].result, polls) == ({"feeds": 0}, [True])
    assert engine.store.article_count() == 4
    stored = [a for a in engine.store.iter_articles() if a.url]
    assert [(a.title, a.collection) for a in stored] == [(story.title, "global")]


def test_inputs_no_retry_can_fix_fail_at_once_others_are_retried(
    jobs: JobStore, start: Callable[..., Running], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/busy").respond_with_data("busy", status=503)
    bad_file = jobs.enqueue(IngestFile(filename="x.txt", data="not base64!"), collection="global")
    unsafe = jobs.enqueue(IngestUrl(url="http://127.0.0.1:9/private"), collection="global")
    worker = start(allow_private=False)
    failed = all_finished(jobs, bad_file, unsafe)
    assert worker.stop() is True
    gone = jobs.enqueue(IngestUrl(url=httpserver.url_for("/gone")), collection="global")
    busy = jobs.enqueue(IngestUrl(url=httpserver.url_for("/busy")), collection="global", max_attempts=2)
    worker = start(allow_private=True)  # the local test site is a private address
    failed += all_finished(jobs, gone, busy)
    assert worker.stop() is True
    assert [(j.state, j.attempts) for j in failed] == [("failed", 1), ("failed", 1), ("failed", 1), ("dead", 2)]
    assert [j.last_error for j in failed] == [
        "the job's file 'x.txt' is not valid base64",
        "I can't fetch 127.0.0.1: it points to a private or reserved network address",
        "the page was not found (404)",
        "the site had an error (503); try again later",
    ]
    assert [r.path for r, _ in httpserver.log].count("/busy") == 2


def test_an_unexpected_error_is_retried_then_dead_lettered(
    engine: Engine, jobs: JobStore, start: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def broken(*_args: object, **_kwargs: object) -> int:
        calls.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine, "reindex", broken)
    job = jobs.enqueue(Reindex(), collection="global", max_attempts=3)
    worker = start()
    [dead] = all_finished(jobs, job)
    assert worker.stop() is True
    assert (dead.state, dead.attempts, len(calls)) == ("dead", 3, 3)
    assert dead.last_error == "unexpected error (RuntimeError: disk on fire); see the worker's log"


class Gate:
    """Holds an engine's reindex until opened, reporting progress meanwhile."""

    def __init__(self) -> None:
        self.entered, self.opened = threading.Event(), threading.Event()

    def reindex(self, *, progress: Callable[[int, int], None] | None = None) -> int:
        if progress:
            progress(7, 2)
        self.entered.set()
        assert self.opened.wait(WAIT_S)
        return 7


def test_stop_finishes_the_current_job_and_heartbeats_its_progress(
    engine: Engine, jobs: JobStore, start: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    monkeypatch.setattr(engine, "reindex", gate.reindex)
    job = jobs.enqueue(Reindex(), collection="global")
    later = jobs.enqueue(Reindex(), collection="global")
    worker = start(lease=timedelta(seconds=0.3))  # heartbeats every 0.1 s
    assert gate.entered.wait(WAIT_S)
    wait_for(lambda: (jobs.get(job.id) or job).progress, "the progress heartbeat")
    assert (jobs.get(job.id) or job).progress == {"passages": 7, "articles": 2}
    worker.worker.request_stop()
    gate.opened.set()
    assert worker.stop() is True
    assert [(j.state, j.result) for j in (jobs.get(job.id), jobs.get(later.id)) if j] == [
        ("done", {"passages": 7}),
        ("queued", None),
    ]


def test_a_second_stop_gives_the_job_back(
    engine: Engine, jobs: JobStore, start: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    monkeypatch.setattr(engine, "reindex", gate.reindex)
    job = jobs.enqueue(Reindex(), collection="global")
    worker = start(lease=timedelta(seconds=0.3))
    assert gate.entered.wait(WAIT_S)
    worker.worker.request_stop()
    worker.worker.request_stop()
    assert worker.stop() is False
    released = jobs.get(job.id)
    assert released is not None and (released.state, released.attempts, released.owner) == ("queued", 0, None)
    gate.opened.set()


def _process(
    mode: str, data_dir: Path, url: str | None, out: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.app._worker_process", mode, str(data_dir), url or "", str(out)],
        cwd=ROOT,
        env={**clean, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT_S)


def test_a_job_of_a_killed_worker_is_retried_and_stored_once(
    engine: Engine,
    jobs: JobStore,
    tmp_path: Path,
    database_url: str | None,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    job = jobs.enqueue(jsonl_upload("Story 1", "Story 2"), collection="global")
    marker = tmp_path / "stored"
    stalled = _process("stall", tmp_path, database_url, marker)
    processes.append(stalled)
    wait_for(marker.exists, "the first worker to store the articles")
    assert engine.store.article_count() == 2
    os.kill(stalled.pid, signal.SIGKILL)
    stalled.wait(timeout=WAIT_S)

    processes.append(_process("work", tmp_path, database_url, tmp_path / "unused"))
    [done] = all_finished(jobs, job)  # by the second worker, once the first one's lease has expired
    assert (done.state, done.attempts) == ("done", 2)
    assert done.result is not None and (done.result["added"], done.result["unchanged"]) == (0, 2)
    assert engine.store.article_count() == 2
    assert sorted(a.title for a in engine.store.iter_articles()) == ["Story 1", "Story 2"]


@pytest.mark.sqlite_only
def test_the_worker_command_needs_the_shared_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker"], open_engine=open_fake_engine) == 2
    assert capsys.readouterr().err.strip() == (
        "newsdesk worker: the worker needs the shared store: set NEWSDESK_DATABASE_URL "
        "(with SQLite, `newsdesk bot` runs ingests and re-indexes itself)"
    )


@pytest.mark.sqlite_only
def test_the_worker_command_refuses_an_unreachable_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://newsdesk@127.0.0.1:1/newsdesk")
    assert main(["worker"], open_engine=open_fake_engine) == 3
    err = capsys.readouterr().err
    assert err.startswith("newsdesk worker: cannot reach the database at postgresql://newsdesk@127.0.0.1:1/newsdesk")
    assert "Traceback" not in err


def test_the_worker_command_runs_jobs_until_sigterm(
    jobs: JobStore, tmp_path: Path, database_url: str | None, processes: list[subprocess.Popen[bytes]]
) -> None:
    if database_url is None:
        pytest.skip("the worker command runs only on the shared store (its refusal is tested above)")
    job = jobs.enqueue(jsonl_upload("Story 1"), collection="global")
    parts = conninfo_to_dict(database_url)  # the fixture's key=value form, as the postgresql:// URL settings want
    url = f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"
    env = {"NEWSDESK_DATABASE_URL": url, "NEWSDESK_DATA_DIR": str(tmp_path / "worker")}
    worker = _process("cli", tmp_path, None, tmp_path / "unused", env)
    processes.append(worker)
    [done] = all_finished(jobs, job)
    assert (done.state, (done.result or {}).get("added")) == ("done", 1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=WAIT_S) == 0


def test_two_worker_processes_never_claim_the_same_job(
    jobs: JobStore, tmp_path: Path, database_url: str | None, processes: list[subprocess.Popen[bytes]]
) -> None:
    ids = sorted(jobs.enqueue(IngestText(title=str(i), text="x"), collection="global").id for i in range(200))
    outs = [tmp_path / f"claimed-{n}.json" for n in range(2)]
    processes += [_process("claim", tmp_path, database_url, out) for out in outs]
    for out in outs:
        out.with_suffix(".go").touch()
    assert [p.wait(timeout=WAIT_S) for p in processes] == [0, 0]
    claimed = [json.loads(out.read_text()) for out in outs]
    assert sorted(claimed[0] + claimed[1]) == ids


def test_one_of_two_worker_processes_polls_feeds_until_it_dies(
    tmp_path: Path, database_url: str | None, processes: list[subprocess.Popen[bytes]]
) -> None:
    if database_url is None:
        pytest.skip("several processes share only PostgreSQL; with SQLite the one bot process polls")
    polls = tmp_path / "polls"

    def pids() -> list[int]:
        return [int(line) for line in polls.read_text().split()] if polls.exists() else []

    first = _process("lead", tmp_path / "a", database_url, polls)
    processes.append(first)
    wait_for(lambda: first.pid in pids(), "the first process to poll")
    second = _process("lead", tmp_path / "b", database_url, polls)
    processes.append(second)
    wait_for(polls.with_suffix(f".{second.pid}.ready").exists, "the second process to contend")
    seen = len(pids())
    wait_for(lambda: len(pids()) >= seen + 40, "forty more rounds")  # the second process tries every round
    assert set(pids()) == {first.pid}
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=WAIT_S)
    wait_for(lambda: second.pid in pids(), "the second process to take over")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=WAIT_S) == 0


def test_an_idle_worker_is_woken_by_a_queued_job(
    jobs: JobStore, start: Callable[..., Running], database_url: str | None
) -> None:
    """should claim a job as soon as it is queued (NOTIFY), not after its idle wait of ten minutes."""
    if database_url is None:
        pytest.skip("only PostgreSQL notifies; with SQLite the one bot process runs its jobs itself")
    worker = start(idle_wait=600.0)
    time.sleep(1.0)  # let it connect its listener and fall idle
    job = jobs.enqueue(IngestText(title="Wake", text="A story queued while the worker was idle."), collection="1")
    done = wait_for(functools.partial(finished, jobs, job.id), "the idle worker to run the job", timeout=60)
    assert done.state == "done"
    assert worker.stop() is True
