"""Discord-free command handlers: ask, summary, ingest, re-index.

Each handler takes the ``Desk`` (the engine, its thread pools and the rate limiter), a
``Responder`` (how to answer this request: an interaction, a mention, or a test double) and
an ``Asker`` (who asks, and in which server). The cogs adapt Discord objects to these, so
the logic is tested without Discord.

Every engine call runs in a thread pool: questions, summaries and autocomplete in the read
pool (several workers), ingests and re-indexes in the write pool (one worker, behind
``Desk.write_lock``). A re-index builds the next index beside the current one, so questions
asked meanwhile are answered from the previous index until the new one is swapped in.

Errors: handlers answer what users can act on (a bad question, an empty index, the rate
limit, not being a moderator); anything else propagates to the caller's central error
handler, which calls ``report_failure`` (an apology with an error id, and the traceback in
the log).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

from bot.ratelimit import RateLimiter
from bot.render import CONTENT_LIMIT, Reply, render_answer, render_notice
from index.errors import IngestError
from index.models import GLOBAL_COLLECTION, Article, RawArticle
from index.pipeline import IngestReport, Progress
from index.readers import SUPPORTED_SUFFIXES, ReadResult, read_bytes
from retrieval.answer import Answer, shorten
from retrieval.errors import BadQuestionError, RetrievalError
from retrieval.question import validate
from retrieval.scope import Scope
from retrieval.timeframe import parse_since

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
NOT_MODERATOR = "Only moderators can do that (the Manage Server permission, or the moderator role)."
APOLOGY = (
    "Sorry, something went wrong on my side (error id `{error_id}`). "
    "Please try again; if it keeps happening, tell a moderator the id."
)
CHOOSE_ONE_SUMMARY = "Pick an article from the list, or give a topic: one of the two."
CHOOSE_ONE_INGEST = (
    "Give a link, attach a file (.txt, .json, .jsonl or .html), or paste the text with a title: one of them."
)
Fetch = Callable[[str], Awaitable[RawArticle]]


class EngineLike(Protocol):
    """The part of ``app.engine.Engine`` the bot uses (tests pass a fake)."""

    def ask(self, question: str, scope: Scope | None = None) -> Answer:
        """Answer a question with cited quotes."""
        ...

    def summarize_article(self, article_id: str, scope: Scope | None = None) -> Answer:
        """Summarize one article."""
        ...

    def summarize_topic(self, topic: str, scope: Scope | None = None) -> Answer:
        """Summarize what the articles say on a topic."""
        ...

    def find_articles(self, text: str, scope: Scope | None = None, *, limit: int = 25) -> list[Article]:
        """Articles whose title contains ``text``."""
        ...

    def ingest(
        self, items: Iterable[ReadResult | RawArticle], *, collection: str = ..., progress: Progress | None = None
    ) -> IngestReport:
        """Index articles into ``collection``."""
        ...

    def reindex(self, *, progress: Progress | None = None) -> int:
        """Re-embed every stored article and swap the new index in."""
        ...


@dataclass(frozen=True, slots=True)
class Asker:
    """Who is asking, and where: a server's questions search its own collection and the global one."""

    user_id: int
    guild_id: int | None = None
    is_moderator: bool = False

    @property
    def collection(self) -> str:
        """Where this server's articles go (``global`` in direct messages)."""
        return GLOBAL_COLLECTION if self.guild_id is None else str(self.guild_id)

    @property
    def scope(self) -> Scope:
        """What this asker may search."""
        if self.guild_id is None:
            return Scope(collections=(GLOBAL_COLLECTION,))
        return Scope(collections=(str(self.guild_id), GLOBAL_COLLECTION))


@dataclass(frozen=True, slots=True)
class Upload:
    """An attached file, read only after the interaction is deferred."""

    filename: str
    size: int
    read: Callable[[], Awaitable[bytes]]


class Responder(Protocol):
    """How a handler answers one request."""

    async def defer(self, *, ephemeral: bool = False) -> None:
        """Acknowledge now (Discord wants an answer within 3 s); the result follows."""
        ...

    async def send(self, replies: Sequence[Reply], *, ephemeral: bool = False) -> None:
        """Send the result, one message per reply."""
        ...

    async def update(self, text: str) -> None:
        """Show ``text`` in this request's single status message, replacing what it said before."""
        ...

    async def notice(self, text: str) -> None:
        """A short message only the user sees where possible: refusals, limits, apologies."""
        ...


class Desk:
    """The engine, the thread pools its calls run in, and the rate limiter."""

    def __init__(
        self,
        engine: EngineLike,
        *,
        limiter: RateLimiter,
        use_embeds: bool = True,
        read_workers: int = 4,
        progress_every: float = 2.0,
        fetch: Fetch | None = None,
    ) -> None:
        """Wrap an engine for the bot.

        Args:
            engine: the engine (built once, at start-up).
            limiter: per-user rate limits of questions and summaries.
            use_embeds: answer with embeds, or plain text.
            read_workers: threads answering questions concurrently.
            progress_every: seconds between edits of a progress message.
            fetch: fetches and extracts the article at a URL (``/ingest url:``); ``None`` disables links.
        """
        self.engine = engine
        self.limiter = limiter
        self.use_embeds = use_embeds
        self.progress_every = progress_every
        self.fetch = fetch
        self.write_lock = asyncio.Lock()
        self._reads = ThreadPoolExecutor(max_workers=read_workers, thread_name_prefix="newsdesk-read")
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-write")

    async def read(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read (question, summary, lookup) in the read pool."""
        return await asyncio.get_running_loop().run_in_executor(self._reads, functools.partial(fn, *args, **kwargs))

    async def write(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a write (ingest, re-index) in the write pool."""
        return await asyncio.get_running_loop().run_in_executor(self._writes, functools.partial(fn, *args, **kwargs))

    def throttle(self, asker: Asker) -> float:
        """Seconds ``asker`` must wait before asking again (0 to go ahead); moderators are exempt."""
        return 0.0 if asker.is_moderator else self.limiter.acquire(asker.user_id)

    def close(self) -> None:
        """Stop the pools; a write already running finishes in its thread."""
        self._reads.shutdown(wait=False, cancel_futures=True)
        self._writes.shutdown(wait=False, cancel_futures=True)


@dataclass
class Outcome:
    """What a command ended with, for the latency log line."""

    status: str = "ok"


@asynccontextmanager
async def timed(command: str, asker: Asker) -> AsyncIterator[Outcome]:
    """Log the command's latency and outcome when it ends, whatever happens."""
    outcome, started = Outcome(), time.perf_counter()
    try:
        yield outcome
    except BaseException:
        outcome.status = "error"
        raise
    finally:
        where = f"guild {asker.guild_id}" if asker.guild_id else "DM"
        log.info(
            "/%s %s in %.0f ms (user %s, %s)",
            command,
            outcome.status,
            (time.perf_counter() - started) * 1000,
            asker.user_id,
            where,
        )


async def report_failure(responder: Responder, error: BaseException, *, command: str) -> str:
    """Log ``error`` with a fresh error id and apologise to the user with that id.

    Returns:
        The error id.
    """
    error_id = secrets.token_hex(4)
    log.error("/%s failed, error id %s", command, error_id, exc_info=(type(error), error, error.__traceback__))
    try:
        await responder.notice(APOLOGY.format(error_id=error_id))
    except Exception:
        log.warning("could not send the apology for error id %s", error_id, exc_info=True)
    return error_id


def rate_limited_message(wait: float, per_minute: int) -> str:
    """The friendly refusal when a user asks too fast."""
    return f"Easy there: you can ask {per_minute} questions a minute. Please try again in {max(1, math.ceil(wait))} s."


async def _admit(desk: Desk, responder: Responder, asker: Asker, outcome: Outcome) -> bool:
    wait = desk.throttle(asker)
    if wait > 0:
        outcome.status = "rate-limited"
        await responder.notice(rate_limited_message(wait, desk.limiter.per_minute))
        return False
    return True


async def ask(
    desk: Desk, responder: Responder, asker: Asker, question: str, *, command: str = "ask", since: str | None = None
) -> None:
    """Answer a question with quoted, numbered evidence and its sources (optionally only articles since a date)."""
    async with timed(command, asker) as outcome:
        scope = asker.scope
        try:
            question = validate(question)
            if since:
                scope = replace(scope, since=parse_since(since, now=datetime.now(UTC)))
        except BadQuestionError as exc:
            await _bad_input(responder, outcome, exc)
            return

        async def work() -> tuple[Answer, str]:
            return await desk.read(desk.engine.ask, question, scope), question

        await _answer_with(desk, responder, asker, outcome, work)


async def _bad_input(responder: Responder, outcome: Outcome, error: BadQuestionError) -> None:
    outcome.status = "bad-question"
    await responder.notice(str(error))


async def _answer_with(
    desk: Desk, responder: Responder, asker: Asker, outcome: Outcome, work: Callable[[], Awaitable[tuple[Answer, str]]]
) -> None:
    """Rate-limit, defer, run ``work`` (an answer and its title) and send it; user-facing errors become notices."""
    if not await _admit(desk, responder, asker, outcome):
        return
    await responder.defer()
    try:
        answer, title = await work()
    except RetrievalError as exc:  # e.g. "No articles are indexed yet; a moderator can add some with /ingest"
        outcome.status = type(exc).__name__
        await responder.send(render_notice(str(exc)))
        return
    outcome.status = "answered" if answer.answered else "no-answer"
    await responder.send(render_answer(answer, embeds=desk.use_embeds, title=title))


def _summarize_article(engine: EngineLike, ref: str, scope: Scope) -> Answer:
    """By id (what autocomplete sends), else the newest article whose title contains ``ref``."""
    try:
        return engine.summarize_article(ref, scope)
    except RetrievalError:
        matches = engine.find_articles(ref, scope, limit=1)
        if not matches:
            raise RetrievalError(f"No article here matches {ref!r}: pick one from the list as you type.") from None
        return engine.summarize_article(matches[0].id, scope)


async def summary(
    desk: Desk, responder: Responder, asker: Asker, *, article: str | None = None, topic: str | None = None
) -> None:
    """Summarize one article, or what the articles say on a topic; every sentence is cited."""
    async with timed("summary", asker) as outcome:
        article, topic = (article or "").strip(), (topic or "").strip()
        if bool(article) == bool(topic):
            outcome.status = "usage"
            await responder.notice(CHOOSE_ONE_SUMMARY)
            return
        try:
            topic = validate(topic) if topic else ""
        except BadQuestionError as exc:
            await _bad_input(responder, outcome, exc)
            return

        async def work() -> tuple[Answer, str]:
            if topic:
                return await desk.read(desk.engine.summarize_topic, topic, asker.scope), f"Summary: {topic}"
            result = await desk.read(_summarize_article, desk.engine, article, asker.scope)
            return result, "Summary: " + result.question.removeprefix("summary of ")

        await _answer_with(desk, responder, asker, outcome, work)


def _label(article: Article) -> str:
    extra = ", ".join(
        x for x in (article.source, article.published.date().isoformat() if article.published else None) if x
    )
    suffix = f" ({extra})" if extra else ""
    return shorten(article.title or f"(untitled) {article.id}", 100 - len(suffix)) + suffix


async def article_choices(desk: Desk, asker: Asker, current: str) -> list[tuple[str, str]]:
    """Autocomplete: ``(label, article id)`` for up to 25 articles whose title contains ``current``."""
    articles = await desk.read(desk.engine.find_articles, current.strip()[:100], asker.scope, limit=25)
    return [(_label(a), a.id) for a in articles]


class _ProgressTicker:
    """Relays ``(passages, articles)`` from the worker thread to a status message, at most every few seconds."""

    def __init__(self, responder: Responder, template: Callable[[int, int], str], every: float) -> None:
        self.responder, self.template, self.every = responder, template, every
        self.latest: tuple[int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    def __call__(self, passages: int, articles: int) -> None:
        # Called in the worker thread: rebinding one attribute is atomic, and the loop only reads it.
        self.latest = (passages, articles)

    async def _run(self) -> None:
        shown: tuple[int, int] | None = None
        while True:
            await asyncio.sleep(self.every)
            latest = self.latest
            if latest is not None and latest != shown:
                shown = latest
                try:
                    await self.responder.update(self.template(*latest))
                except Exception:  # an expired interaction must not stop the work
                    log.warning("could not update a progress message", exc_info=True)

    async def __aenter__(self) -> _ProgressTicker:
        self._task = asyncio.create_task(self._run(), name="newsdesk-progress")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


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
            refusal = NOT_MODERATOR
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
                async with _ProgressTicker(responder, template, desk.progress_every) as ticker:
                    report = await desk.write(desk.engine.ingest, items, collection=asker.collection, progress=ticker)
            except IngestError as exc:
                outcome.status = "failed"
                await responder.update(f"Could not index {what}: {exc}")
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
            await responder.notice(NOT_MODERATOR)
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
            async with _ProgressTicker(responder, _reindexing, desk.progress_every) as ticker:
                passages = await desk.write(desk.engine.reindex, progress=ticker)
        outcome.status = f"{passages} passages"
        await responder.update(
            f"Re-indexed every article into {passages:,} passages in "
            f"{time.perf_counter() - started:.1f} s; questions now use the new index."
        )
