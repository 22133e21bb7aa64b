"""Moderators' writes on the shared store: queue a job for ``newsdesk worker`` and follow its row.

With PostgreSQL (``Desk.jobs`` set) the bot does not index in its own process: ``bot.writes``
enqueues the ingest or re-index, and ``follow`` reads the job back every ``every`` seconds,
showing its progress in the deferred status message until the job is done, failed or dead. The
interaction's token lasts 15 minutes, so following ends a little before that; the job goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from index.errors import IngestError
from index.jobs import Job, JobPayload, JobStore

if TYPE_CHECKING:
    from bot.desk import Asker
    from bot.responders import Responder

log = logging.getLogger(__name__)

FOLLOW_LIMIT_S = 14 * 60.0


async def enqueue(jobs: JobStore, payload: JobPayload, asker: Asker) -> Job:
    """Queue ``payload`` for ``asker``'s collection.

    Raises:
        StoreUnavailableError: when the store cannot be reached (its message is user-safe).
    """
    return await asyncio.to_thread(jobs.enqueue, payload, collection=asker.collection, created_by=asker.user_id)


async def follow(
    jobs: JobStore,
    responder: Responder,
    job: Job,
    template: Callable[[int, int], str],
    every: float,
    *,
    limit: float = FOLLOW_LIMIT_S,
) -> Job:
    """Show ``job``'s progress (``template(passages, articles)``) until it is finished or ``limit`` s have passed.

    Returns:
        The job as last read (finished, unless the limit was reached first).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    shown = job.progress
    while not job.finished and loop.time() < deadline:
        await asyncio.sleep(every)
        try:
            fresh = await asyncio.to_thread(jobs.get, job.id)
        except IngestError as exc:  # the store is briefly unreachable: the job goes on, keep following
            log.warning("cannot read job %d: %s", job.id, exc)
            continue
        job = fresh or job
        progress = job.progress
        if progress and progress != shown and not job.finished:
            shown = progress
            try:
                await responder.update(template(int(progress["passages"]), int(progress["articles"])))
            except Exception:  # an expired interaction must not stop following
                log.warning("could not update a progress message", exc_info=True)
    return job
