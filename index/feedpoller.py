"""Feed polling: conditional GET of each due feed, then fetch, ingest and report its new entries.

Discord-free, so the bot's background task and ``newsdesk feeds poll`` run the same code.
One poll of one feed:

1. ``GET`` the feed with ``If-None-Match`` / ``If-Modified-Since`` from the last full
   response; a 304 ends the poll (nothing changed, nothing downloaded).
2. Parse it (RSS or Atom, ``index.feeds.parse_feed``), reading only its newest
   ``max_entries`` entries (500 by default; the rest are counted in ``beyond_cap``), and keep
   those this feed has not handled yet (by entry id or canonical link, looked up in bulk).
   An entry whose link is already indexed in the feed's collection needs no download.
3. Fetch each new entry's page (a few at a time) and extract the article. The feed's summary
   is never indexed instead: a two-line teaser would become "evidence" for answers. A page
   that fails is tried again on later polls (``MAX_ENTRY_ATTEMPTS``), one that holds no
   article is given up at once.
4. In one call of the writer: ingest the articles in one ``ingest`` call (one new snapshot),
   store what became of every entry, and save the feed's state. Only articles that are
   really new are reported: not unchanged, not replacing a stored version of the same URL,
   and not merged into a near-duplicate already indexed.
5. The validators are saved only when every new entry was handled; otherwise the next poll
   must download the feed again to see the entries still pending, so the old ones are kept.

Writes: every write of a poll (the ingest, the entries' and the feed's state) goes through
the ``write`` the poller is given (a ``Writer``); following a feed adds one row directly.
The bot passes its desk's writer (``bot/run.py``), so feed polls, ``/ingest`` and ``/reindex``
run one at a time in the same write thread; without one, the poller serialises its own writes
(``SerialWriter``). Fetching and parsing are not writes: up to ``feed_concurrency`` feeds are
polled at once, and the same feed never twice at once.

Failures are per feed: any error is caught, logged, stored as the feed's ``last_error`` with
exponential backoff (``index.feedstore.backoff``), and the other feeds are polled as usual.
The index is only written in step 4, so a feed that fails earlier leaves it as it was.

The first successful poll of a feed is its *backlog*: the newest ``max_new_per_poll``
entries are ingested (older ones are skipped for good) and the result says ``backlog`` so
that callers do not announce a burst of old stories.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

import httpx

from index.errors import (
    ContentTypeError,
    FetchError,
    IngestError,
    InvalidURLError,
    NotAnArticleError,
    TooLargeError,
    UnsafeURLError,
)
from index.feeds import FeedEntry, ParsedFeed, canonical_url, parse_feed
from index.feedstore import EntryOutcome, Feed, FeedStore
from index.fetch import DEFAULT_ACCEPT, HTML_TYPES, FetchedPage, Resolver, fetch_url, validate_url
from index.models import RawArticle
from index.prepare import prepare_article
from index.web import page_to_article

if TYPE_CHECKING:
    from index.models import Article
    from index.pipeline import IngestReport, Progress
    from index.readers import ReadResult
    from index.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "FeedPoller",
    "Fetcher",
    "IngestEngine",
    "NewArticle",
    "PollResult",
    "SerialWriter",
    "Writer",
]

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_MAX_ENTRIES = 500
"""Entries read from one feed per poll: its newest 500 (a 65,000-entry feed exists)."""
# Feeds are often served as text/html or text/plain; accepting them lets the parser give the clearer
# "not an RSS or Atom feed" instead of a content-type refusal.
_FEED_ACCEPT = (*DEFAULT_ACCEPT, "text/plain")
# Errors of an entry's page that another try will not fix.
_PERMANENT = (NotAnArticleError, UnsafeURLError, InvalidURLError, ContentTypeError, TooLargeError)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_BACKLOG_REASON = "older than the newest entries when the feed was added"


class Writer(Protocol):
    """Runs one blocking write off the event loop; writes never overlap (the bot's ``Desk`` is one)."""

    def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]:
        """Run ``fn(*args, **kwargs)`` once every earlier write has finished, and return its result."""
        ...


class Fetcher(Protocol):
    """Fetches a URL like ``index.fetch.fetch_url`` (the poller binds its client and guards; tests pass a fake)."""

    def __call__(
        self, url: str, *, accept: tuple[str, ...], etag: str | None = None, last_modified: str | None = None
    ) -> Awaitable[FetchedPage]:
        """The response at ``url``; ``not_modified`` on a 304 to the conditional GET."""
        ...


class IngestEngine(Protocol):
    """What the poller needs of ``app.engine.Engine``: its store, and ingesting into it."""

    @property
    def store(self) -> Store:
        """The article database (feeds live in it too)."""
        ...

    def ingest(
        self, items: Iterable[ReadResult | RawArticle], *, collection: str = ..., progress: Progress | None = None
    ) -> IngestReport:
        """Index articles into ``collection`` and publish a new snapshot."""
        ...


class SerialWriter:
    """The default ``Writer`` (the CLI): one write at a time, in a worker thread."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` in a thread once the previous write has finished."""
        async with self._lock:
            return await asyncio.to_thread(fn, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article a poll added to the index, with what an announcement shows.

    Attributes:
        article_id: the stored article's id.
        title: its cleaned title.
        url: its canonical URL.
        source: the publisher (from the page, else the feed's title).
        published: publication time, if the page or the feed gave one.
        channel_id: the feed's announcement channel (``None``: do not announce).
    """

    article_id: str
    title: str
    url: str | None
    source: str | None
    published: datetime | None
    channel_id: int | None


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one feed did.

    Attributes:
        feed: the feed as it was before the poll.
        new_articles: articles added by this poll, oldest first.
        error: the user-safe reason the poll failed, or ``None``.
        not_modified: the server answered 304 to the conditional GET.
        backlog: this was the feed's first successful poll; ``new_articles`` are old stories.
        skipped: entries that could not be ingested this time (``"link: reason"``).
        pending: new entries left for a later poll (over the per-poll limit, or to retry).
        beyond_cap: entries older than the newest ``max_entries`` of the feed, not read at all.
    """

    feed: Feed
    new_articles: list[NewArticle] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False
    backlog: bool = False
    skipped: list[str] = field(default_factory=list)
    pending: int = 0
    beyond_cap: int = 0


@dataclass(frozen=True, slots=True)
class _Page:
    """One entry's page: the article, or why it failed and whether to try again."""

    entry: FeedEntry
    article: RawArticle | None = None
    error: str | None = None
    retry: bool = False


@dataclass(frozen=True, slots=True)
class _Plan:
    """The new entries of a parsed feed: pages to fetch, and entries settled without a download."""

    todo: list[FeedEntry]
    settled: list[EntryOutcome]


@dataclass(frozen=True, slots=True)
class _Committed:
    """What the write step of a poll did."""

    new: list[NewArticle]
    rejected: list[str]
    retrying: int


def describe_error(exc: BaseException) -> str:
    """A short message for a failed poll: ours are user-safe, anything else is summarised (and logged)."""
    if isinstance(exc, IngestError):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}); see the bot's log"


def _complete(entry: FeedEntry, article: RawArticle, feed_title: str) -> RawArticle:
    """Fill what the page lacks from the feed entry (title, date, publisher), never the text."""
    update: dict[str, object] = {}
    if not article.title and entry.title:
        update["title"] = entry.title
    if article.published is None and entry.published is not None:
        update["published"] = entry.published
    if not article.source and feed_title:
        update["source"] = feed_title
    return article.model_copy(update=update) if update else article


def _now() -> datetime:
    return datetime.now(UTC)


class FeedPoller:
    """Polls feeds and ingests their new entries, a few feeds at a time, never raising for a feed's failure."""

    def __init__(
        self,
        engine: IngestEngine,
        feeds: FeedStore,
        client: httpx.AsyncClient | None = None,
        *,
        allow_private: bool = False,
        interval_minutes: float = 15.0,
        max_new_per_poll: int = 20,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        page_concurrency: int = 4,
        feed_concurrency: int = 4,
        resolver: Resolver | None = None,
        fetch: Fetcher | None = None,
        write: Writer | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """Poll into ``engine``'s index, with feed state in ``feeds``.

        Args:
            engine: the engine whose index the articles go into (its ``ingest`` runs in ``write``).
            feeds: the feed tables (usually ``FeedStore(engine.store)``).
            client: a shared client from ``index.fetch.make_client``; ``None`` makes one per fetch.
            allow_private: fetch loopback and private addresses (tests, intranets).
            interval_minutes: time between two polls of a healthy feed.
            max_new_per_poll: entry pages fetched per feed and poll; the rest wait for the next poll.
            max_entries: entries read per feed and poll, the newest ones (``NEWSDESK_FEED_MAX_ENTRIES``).
            page_concurrency: entry pages fetched at once, per feed.
            feed_concurrency: feeds polled at once.
            resolver: name resolver for the fetches (tests); the system's by default.
            fetch: fetches feeds and pages; by default ``fetch_url`` with ``client``,
                ``allow_private`` and ``resolver``.
            write: runs every write of a poll (see the module docstring); ``SerialWriter`` by default.
            clock: the current time (tests pass a controllable one).
        """
        if interval_minutes <= 0 or min(max_new_per_poll, max_entries, page_concurrency, feed_concurrency) < 1:
            raise ValueError("interval_minutes must be > 0; max_new_per_poll, max_entries and the concurrencies >= 1")
        self.engine = engine
        self.feeds = feeds
        self.client = client
        self.allow_private = allow_private
        self.interval = timedelta(minutes=interval_minutes)
        self.max_new_per_poll = max_new_per_poll
        self.max_entries = max_entries
        self.page_concurrency = page_concurrency
        self.resolver = resolver
        self.fetch: Fetcher = fetch or self._fetch_url
        self.write: Writer = write or SerialWriter()
        self.clock = clock
        self._gate = asyncio.Semaphore(feed_concurrency)
        # One poll per feed at a time: the bot's loop and a manual poll must not fetch and announce an entry twice.
        self._feed_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def _fetch_url(
        self, url: str, *, accept: tuple[str, ...], etag: str | None = None, last_modified: str | None = None
    ) -> Awaitable[FetchedPage]:
        return fetch_url(
            url,
            client=self.client,
            allow_private=self.allow_private,
            accept=accept,
            etag=etag,
            last_modified=last_modified,
            resolver=self.resolver,
        )

    # -- following ------------------------------------------------------------------------------
    async def subscribe(
        self, url: str, *, collection: str, channel_id: int | None = None, added_by: int | None = None
    ) -> tuple[Feed, bool]:
        """Follow a feed after checking that it is one: fetched and parsed once, nothing ingested yet.

        The feed is due at once, so the next ``poll_due`` reads its backlog.

        Args:
            url: the feed's URL, as the user gave it.
            collection: where its articles go (a server id, or ``global``).
            channel_id: where new articles are announced (``None``: nowhere).
            added_by: who added it.

        Returns:
            The feed and whether it is new (``False``: already followed in ``collection``).

        Raises:
            FetchError: the URL cannot be fetched (with a user-facing reason).
            FeedError: it is not an RSS or Atom feed, or too malformed to read.
        """
        url = str(validate_url(url))
        canonical = canonical_url(url)
        for feed in await asyncio.to_thread(self.feeds.list, [collection]):
            if feed.canonical == canonical:
                return feed, False
        parsed = await self._read_feed(url)
        # Not through ``write``: one row of feed bookkeeping, which must not wait for a re-index of minutes.
        return await asyncio.to_thread(
            self.feeds.add,
            url,
            collection=collection,
            channel_id=channel_id,
            added_by=added_by,
            title=parsed.title,
            now=self.clock(),
        )

    async def _read_feed(self, url: str) -> ParsedFeed:
        page = await self.fetch(url, accept=_FEED_ACCEPT)
        return await asyncio.to_thread(parse_feed, page.body, base_url=page.url, max_entries=self.max_entries)

    # -- polling --------------------------------------------------------------------------------
    async def poll_due(self, now: datetime | None = None) -> list[PollResult]:
        """Poll every feed whose next poll is at or before ``now`` (default: the clock's time)."""
        feeds = await asyncio.to_thread(self.feeds.due, now or self.clock())
        return await self.poll_many(feeds)

    async def poll_many(self, feeds: Sequence[Feed]) -> list[PollResult]:
        """Poll these feeds, ``feed_concurrency`` at a time; a failing feed is reported in its result, never raised.

        Returns:
            One result per feed, in the order given.
        """
        return list(await asyncio.gather(*(self.poll(feed) for feed in feeds)))

    async def poll(self, feed: Feed) -> PollResult:
        """Poll one feed now, due or not, and record the outcome (success or backoff).

        Returns:
            The result; ``error`` is set when the poll failed (it is also stored on the feed).
        """
        lock = self._feed_locks.get(feed.id)
        if lock is None:
            lock = self._feed_locks[feed.id] = asyncio.Lock()
        async with lock, self._gate:
            current = await asyncio.to_thread(self.feeds.get, feed.id)
            if current is None:  # removed while waiting
                return PollResult(feed, error="the feed is no longer followed")
            now = self.clock()
            try:
                return await self._poll(current, now)
            except Exception as exc:
                message = describe_error(exc)
                if isinstance(exc, IngestError):
                    log.warning("feed %s (%s) failed: %s", current.id, current.url, message)
                else:
                    log.exception("feed %s (%s) failed unexpectedly", current.id, current.url)
                try:
                    await self.write(self.feeds.record_failure, current.id, message, now=now, interval=self.interval)
                except Exception:
                    log.exception("could not record the failure of feed %s", current.id)
                return PollResult(current, error=message)

    async def _poll(self, feed: Feed, now: datetime) -> PollResult:
        page = await self.fetch(feed.url, accept=_FEED_ACCEPT, etag=feed.etag, last_modified=feed.last_modified)
        if page.not_modified:
            log.debug("feed %s not modified", feed.id)
            await self.write(
                self.feeds.record_success,
                feed.id,
                now=now,
                interval=self.interval,
                etag=page.etag or feed.etag,
                last_modified=page.last_modified or feed.last_modified,
            )
            return PollResult(feed, not_modified=True)
        parsed = await asyncio.to_thread(parse_feed, page.body, base_url=page.url, max_entries=self.max_entries)
        backlog = feed.last_success is None
        plan = await asyncio.to_thread(self._plan, feed, parsed.entries)
        batch, rest = plan.todo[: self.max_new_per_poll], plan.todo[self.max_new_per_poll :]
        settled = plan.settled
        if backlog and rest:
            # A new feed's older entries are history, not news: skip them rather than trickle them in.
            log.info("feed %s: skipping %d older entries of its backlog", feed.id, len(rest))
            settled = [*settled, *(EntryOutcome(e.id, e.link, error=_BACKLOG_REASON) for e in rest)]
            rest = []
        pages = await self._fetch_pages(batch)
        committed = await self.write(self._commit, feed, now, page, parsed.title, settled, pages, len(rest))
        skipped = [f"{p.entry.link}: {p.error}" for p in pages if p.error] + committed.rejected
        pending = len(rest) + committed.retrying
        log.info(
            "feed %s polled: %d entries read (%d beyond the cap), %d new articles, %d skipped, %d pending",
            feed.id,
            len(parsed.entries),
            parsed.beyond_cap,
            len(committed.new),
            len(skipped),
            pending,
        )
        return PollResult(
            feed,
            new_articles=committed.new,
            backlog=backlog,
            skipped=skipped,
            pending=pending,
            beyond_cap=parsed.beyond_cap,
        )

    # -- steps (blocking ones run in a worker thread) --------------------------------------------
    def _plan(self, feed: Feed, entries: Sequence[FeedEntry]) -> _Plan:
        """The entries to fetch, in feed order, and those settled without a fetch; reads only, in bulk."""
        handled = self.feeds.handled(feed.id, [(e.id, e.link) for e in entries])
        fresh = [e for e in entries if e.id not in handled]
        indexed = self.feeds.articles_for_urls(feed.collection, [e.link for e in fresh if e.link])
        todo: list[FeedEntry] = []
        settled: list[EntryOutcome] = []
        links: set[str] = set()
        for entry in fresh:
            if not entry.link:
                settled.append(EntryOutcome(entry.id, error="the entry links to no article"))
                continue
            canonical = canonical_url(entry.link)
            if canonical in links:  # listed twice: the first copy stands for both
                continue
            links.add(canonical)
            holder = indexed.get(canonical)
            if holder is not None:
                settled.append(EntryOutcome(entry.id, entry.link, article_id=holder))
            else:
                todo.append(entry)
        return _Plan(todo, settled)

    async def _fetch_pages(self, entries: Sequence[FeedEntry]) -> list[_Page]:
        gate = asyncio.Semaphore(self.page_concurrency)

        async def one(entry: FeedEntry) -> _Page:
            async with gate:
                try:
                    page = await self.fetch(entry.link, accept=HTML_TYPES)
                    article = await asyncio.to_thread(page_to_article, page, requested=entry.link)
                except _PERMANENT as exc:
                    log.info("giving up entry %s: %s", entry.link, exc)
                    return _Page(entry, error=str(exc))
                except FetchError as exc:
                    log.info("entry %s failed, will retry: %s", entry.link, exc)
                    return _Page(entry, error=str(exc), retry=True)
                except Exception as exc:
                    log.exception("entry %s failed unexpectedly", entry.link)
                    return _Page(entry, error=describe_error(exc), retry=True)
                return _Page(entry, article=article)

        return list(await asyncio.gather(*(one(entry) for entry in entries)))

    def _commit(
        self,
        feed: Feed,
        now: datetime,
        page: FetchedPage,
        title: str,
        settled: Sequence[EntryOutcome],
        pages: Sequence[_Page],
        left: int,
    ) -> _Committed:
        """The write step of a poll: ingest, store every entry's outcome, then the feed's new state.

        Args:
            feed: the feed polled.
            now: when the poll started.
            page: the feed's response (its validators).
            title: the feed's title.
            settled: entries handled without a fetch.
            pages: the fetched entry pages.
            left: new entries left for the next poll (over ``max_new_per_poll``).
        """
        failed = [EntryOutcome(p.entry.id, p.entry.link, error=p.error, retry=p.retry) for p in pages if p.error]
        fetched = [(p.entry, _complete(p.entry, p.article, title)) for p in pages if p.article is not None]
        new, ingested, rejected = self._ingest(feed, fetched) if fetched else ([], [], [])
        retrying = self.feeds.record_entries(feed.id, [*settled, *failed, *ingested], now=now)
        # Keep the old validators while entries are pending: a 304 next time would hide them.
        pending = left + retrying
        etag, last_modified = (page.etag, page.last_modified) if not pending else (feed.etag, feed.last_modified)
        self.feeds.record_success(
            feed.id, now=now, interval=self.interval, etag=etag, last_modified=last_modified, title=title
        )
        return _Committed(new, rejected, retrying)

    def _ingest(
        self, feed: Feed, items: Sequence[tuple[FeedEntry, RawArticle]]
    ) -> tuple[list[NewArticle], list[EntryOutcome], list[str]]:
        """Ingest the fetched articles in one call; returns the really new ones, every entry's outcome, the rejects.

        ``IngestReport`` has counts, not a status per article, so each article's id is computed
        first (``prepare_article`` is deterministic) and compared with the store before and with
        ``report.article_ids`` after: a different id back means a near-duplicate merge.
        """
        store, collection = self.engine.store, feed.collection
        prepared: list[tuple[FeedEntry, RawArticle, Article, bool]] = []
        outcomes: list[EntryOutcome] = []
        rejected: list[str] = []
        for entry, raw in items:
            try:
                article = prepare_article(raw, collection=collection)
            except IngestError as exc:
                outcomes.append(EntryOutcome(entry.id, entry.link, error=str(exc)))
                rejected.append(f"{entry.link}: {exc}")
                continue
            holder = self.feeds.article_for_url(collection, article.url) if article.url else None
            known = store.article(article.id) is not None or (holder is not None and holder != article.id)
            prepared.append((entry, raw, article, known))
        if not prepared:
            return [], outcomes, rejected
        report = self.engine.ingest([raw for _, raw, _, _ in prepared], collection=collection)
        ids = report.article_ids
        if len(ids) != len(prepared):
            log.warning("feed %s: cannot match the ingest report to entries; announcing nothing", feed.id)
            ids = [article.id for _, _, article, _ in prepared]
            prepared = [(entry, raw, article, True) for entry, raw, article, _ in prepared]
        new: list[NewArticle] = []
        claimed: set[str] = set()
        for (entry, _raw, article, known), got in zip(prepared, ids, strict=True):
            outcomes.append(EntryOutcome(entry.id, entry.link, article_id=got))
            if known or got != article.id or got in claimed:
                continue
            claimed.add(got)
            new.append(
                NewArticle(article.id, article.title, article.url, article.source, article.published, feed.channel_id)
            )
        if len(new) > report.added:  # another writer (the CLI in another process) got there first
            log.warning("feed %s: %d new by id but %d added; announcing nothing", feed.id, len(new), report.added)
            new = []
        new.sort(key=lambda a: a.published or _FAR_FUTURE)
        return new, outcomes, rejected
