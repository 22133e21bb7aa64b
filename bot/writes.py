"""The write commands, for moderators: ``/ingest`` (a link, a file, or pasted text) and ``/reindex``.

Writes run one at a time in the desk's write pool, behind ``Desk.write_lock``; a second one
waits (ingest) or is refused (re-index), and questions keep being answered meanwhile. Progress
is shown by editing one status message. On the shared store (PostgreSQL, ``Desk.jobs`` set) they
are queued for ``newsdesk worker`` instead, and the status message follows the job's row
(``bot.jobfollow``). The cogs refuse non-moderators first; the handlers
refuse them again with the same message, so they are safe to call from anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot import jobfollow
from bot.errors import ingest_message, not_moderator_message
from bot.progress import ProgressTicker
from bot.render import CONTENT_LIMIT
from bot.timing import timed
from index.errors import IngestError
from index.jobs import IngestFile, IngestText, IngestUrl, Job, JobPayload, JobStore, Reindex
from index.models import RawArticle
from index.readers import SUPPORTED_SUFFIXES, ReadResult, read_bytes
from retrieval.answer import shorten

if TYPE_CHECKING:
    from bot.desk import Asker, Desk
    from bot.responders import Responder
    from index.pipeline import IngestReport

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
CHOOSE_ONE_INGEST = (
    "Give a link, attach a file (.txt, .json, .jsonl or .html), or paste the text with a title: one of them."
)


@dataclass(frozen=True, slots=True)
class Upload:
    """An attached file, read only after the interaction is deferred."""

    filename: str
    size: int
    read: Callable[[], Awaitable[bytes]]


def ingest_summary(report: IngestReport, what: str) -> str:
    """What an ingest did, for the moderator, within one message."""
    if report.added or report.replaced:
        head = f"Indexed {what}: {report.summary()}. Questions in this server can use it now."
    elif report.unchanged:
        head = f"Nothing new in {what}: it is already indexed ({report.summary()})."
    else:
        head = f"Nothing could be indexed from {what}."
    lines = [head]
    if report.errors:
        lines.append("Skipped:")
        lines += [f"• {shorten(error, 300)}" for error in report.errors[:10]]
        if len(report.errors) > 10:
            lines.append(f"… and {len(report.errors) - 10} more")
    return shorten("\n".join(lines), CONTENT_LIMIT)


async def ingest(
    desk: Desk,
    responder: Responder,
    asker: Asker,
    *,
    upload: Upload | None = None,
    title: str | None = None,
    text: str | None = None,
    source: str | None = None,
    url: str | None = None,
) -> None:
    """Add a linked page, an attached file, or pasted text with a title, to this server's articles (moderators)."""
    async with timed("ingest", asker) as outcome:
        title, text, source, url = (
            (title or "").strip(),
            (text or "").strip(),
            (source or "").strip(),
            (url or "").strip(),
        )
        refusal = None
        if not asker.is_moderator:
            refusal = not_moderator_message(desk.moderator_role)
        elif sum((upload is not None, bool(text), bool(url))) != 1:
            refusal = CHOOSE_ONE_INGEST
        elif url and desk.fetch is None:
            refusal = "Adding articles by link is turned off here; attach the page as a file instead."
        elif upload is not None and Path(upload.filename).suffix.lower() not in SUPPORTED_SUFFIXES:
            refusal = f"I cannot read {upload.filename!r}: attach a .txt, .json, .jsonl or .html file."
        elif upload is not None and upload.size > MAX_UPLOAD_BYTES:
            refusal = f"{upload.filename!r} is over {MAX_UPLOAD_BYTES // 2**20} MB; use `newsdesk ingest` instead."
        elif text and not title:
            refusal = "Give the pasted article a title."
        if refusal:
            outcome.status = "refused"
            await responder.notice(refusal)
            return
        what = upload.filename if upload else f"<{shorten(url, 200)}>" if url else f"“{shorten(title, 100)}”"
        await responder.defer(ephemeral=True)
        if desk.jobs is not None:  # the shared store: a worker indexes it
            payload: JobPayload = (
                IngestFile(filename=upload.filename, data=base64.b64encode(await upload.read()).decode())
                if upload is not None
                else IngestUrl(url=url)
                if url
                else IngestText(title=title, text=text, source=source or None)
            )
            outcome.status = await _queued(
                desk, desk.jobs, responder, asker, payload, what, functools.partial(_indexing, what)
            )
            return
        fetched = None
        if url and desk.fetch is not None:
            await responder.update(f"Fetching {what}…")
            try:
                fetched = await desk.fetch(url)
            except IngestError as exc:  # not a URL, not public, not an article, too big, 404, timeout...
                outcome.status = "fetch-failed"
                log.info("ingest of %s refused: %s", url, exc)
                await responder.update(f"Could not add {what}: {exc}")
                return
        if desk.write_lock.locked():
            await responder.update(f"Waiting for the ingest or re-index in progress to finish before adding {what}…")
        async with desk.write_lock:
            items: Iterable[ReadResult | RawArticle]
            if upload is not None:
                items = read_bytes(await upload.read(), upload.filename)  # a generator: parsed in the worker
            elif fetched is not None:
                items = [fetched]
            else:
                items = [RawArticle(title=title, text=text, source=source or None)]
            await responder.update(f"Indexing {what}…")
            template = functools.partial(_indexing, what)
            try:
                async with ProgressTicker(responder, template, desk.progress_every) as ticker:
                    report = await desk.write(desk.engine.ingest, items, collection=asker.collection, progress=ticker)
            except IngestError as exc:
                outcome.status = "failed"
                await responder.update(f"Could not index {what}: {ingest_message(exc)}")
                return
        outcome.status = f"added {report.added}, replaced {report.replaced}, skipped {len(report.errors)}"
        await responder.update(ingest_summary(report, what))


def _indexing(what: str, passages: int, articles: int) -> str:
    return f"Indexing {what}… {articles:,} articles, {passages:,} passages so far."


def _reindexing(passages: int, articles: int) -> str:
    return (
        f"Re-indexing… {articles:,} articles, {passages:,} passages embedded so far. "
        "Questions are still answered from the current index."
    )


async def reindex(desk: Desk, responder: Responder, asker: Asker) -> None:
    """Re-chunk and re-embed every stored article, then swap the new index in (moderators only).

    The engine's re-index covers every collection, not only this server's.
    """
    async with timed("reindex", asker) as outcome:
        if not asker.is_moderator:
            outcome.status = "refused"
            await responder.notice(not_moderator_message(desk.moderator_role))
            return
        if desk.jobs is not None:  # the shared store: a worker re-indexes
            try:
                pending = await asyncio.to_thread(desk.jobs.active, "reindex")
            except IngestError as exc:
                outcome.status = "unavailable"
                await responder.notice(f"Could not re-index: {ingest_message(exc)}")
                return
            if pending is not None:
                outcome.status = "busy"
                await responder.notice(
                    f"A re-index is already {pending.state} (job {pending.id}); try again when it has finished."
                )
                return
            await responder.defer(ephemeral=True)
            outcome.status = await _queued(desk, desk.jobs, responder, asker, Reindex(), "every article", _reindexing)
            return
        if desk.write_lock.locked():
            outcome.status = "busy"
            await responder.notice("An ingest or re-index is already running; try again when it has finished.")
            return
        await responder.defer(ephemeral=True)
        started = time.perf_counter()
        async with desk.write_lock:
            await responder.update(
                "Re-indexing every stored article… Questions are still answered from the current "
                "index until the new one is ready."
            )
            async with ProgressTicker(responder, _reindexing, desk.progress_every) as ticker:
                passages = await desk.write(desk.engine.reindex, progress=ticker)
        outcome.status = f"{passages} passages"
        await responder.update(
            f"Re-indexed every article into {passages:,} passages in "
            f"{time.perf_counter() - started:.1f} s; questions now use the new index."
        )


async def _queued(
    desk: Desk,
    jobs: JobStore,
    responder: Responder,
    asker: Asker,
    payload: JobPayload,
    what: str,
    template: Callable[[int, int], str],
) -> str:
    """Queue a write for the worker, follow its job in the status message, and say how it ended; the status."""
    verb = "re-index" if isinstance(payload, Reindex) else "index"
    try:
        job = await jobfollow.enqueue(jobs, payload, asker)
    except IngestError as exc:  # the store is unreachable: nothing was queued
        await responder.update(f"Could not {verb} {what}: {ingest_message(exc)}")
        return "unavailable"
    await responder.update(f"Queued: the worker will {verb} {what} (job {job.id})…")
    job = await jobfollow.follow(jobs, responder, job, template, desk.progress_every)
    if job.state == "done":
        await responder.update(_queued_summary(job, what))
    elif job.finished:
        await responder.update(f"Could not {verb} {what}: {job.last_error}")
    else:
        await responder.update(f"Job {job.id} ({verb} {what}) is still {job.state}; it goes on without this message.")
    return f"job {job.id} {job.state}"


def _queued_summary(job: Job, what: str) -> str:
    from app.worker import report_from_json

    result = job.result or {}
    if job.kind == "reindex":
        seconds = (job.updated_at - job.created_at).total_seconds()
        return (
            f"Re-indexed every article into {int(result.get('passages', 0)):,} passages in {seconds:.1f} s; "
            "questions now use the new index."
        )
    return ingest_summary(report_from_json(result), what)
