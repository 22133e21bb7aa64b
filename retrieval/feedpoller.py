"""Feed polling: conditional GET of each due feed, then fetch, ingest and report its new entries.

Discord-free, so the bot's background task and ``newsdesk feeds poll`` run the same code.
One poll of one feed:

1. ``GET`` the feed with ``If-None-Match`` / ``If-Modified-Since`` from the last full
   response; a 304 ends the poll (nothing changed, nothing downloaded).
2. Parse it (RSS or Atom, ``index.feeds.parse_feed``) and keep the entries this feed has not
   handled yet (by entry id or canonical link). An entry whose link is already indexed in
   the feed's collection is marked handled without a download.
3. Fetch each new entry's page (a few at a time) and extract the article. The feed's summary
   is never indexed instead: a two-line teaser would become "evidence" for answers. A page
   that fails is tried again on later polls (``MAX_ENTRY_ATTEMPTS``), one that holds no
   article is given up at once.
4. Ingest the articles in one ``Engine.ingest`` call (one new snapshot), and report those
   that are really new: not unchanged, not replacing a stored version of the same URL, and
   not merged into a near-duplicate already indexed.
5. Save the validators only when every new entry was handled; otherwise the next poll must
   download the feed again to see the entries still pending, so the old ones are kept.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

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
from index.feedstore import Feed, FeedStore
from index.fetch import DEFAULT_ACCEPT, HTML_TYPES, Resolver, fetch_url, validate_url
from index.models import RawArticle
from index.prepare import prepare_article
from index.web import page_to_article

if TYPE_CHECKING:
    from app.engine import Engine
    from index.models import Article

log = logging.getLogger(__name__)

__all__ = ["FeedPoller", "NewArticle", "PollResult"]

# Feeds are often served as text/html or text/plain; accepting them lets the parser give the clearer
# "not an RSS or Atom feed" instead of a content-type refusal.
_FEED_ACCEPT = (*DEFAULT_ACCEPT, "text/plain")
# Errors of an entry's page that another try will not fix.
_PERMANENT = (NotAnArticleError, UnsafeURLError, InvalidURLError, ContentTypeError, TooLargeError)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


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
    """

    feed: Feed
    new_articles: list[NewArticle] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False
    backlog: bool = False
    skipped: list[str] = field(default_factory=list)
    pending: int = 0


@dataclass(frozen=True, slots=True)
class _Page:
    """One entry's page: the article, or why it failed and whether to try again."""

    entry: FeedEntry
    article: RawArticle | None = None
    error: str | None = None
    retry: bool = False


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


class FeedPoller:
    """Polls feeds and ingests their new entries; one feed at a time, never raising for a feed's failure."""

    def __init__(
        self,
        engine: Engine,
        feeds: FeedStore,
        client: httpx.AsyncClient | None = None,
        *,
        allow_private: bool = False,
        interval_minutes: float = 15.0,
        max_new_per_poll: int = 20,
        page_concurrency: int = 4,
        resolver: Resolver | None = None,
    ) -> None:
        """Poll into ``engine``'s index, with feed state in ``feeds``.

        Args:
            engine: the engine whose index the articles go into (its ``ingest`` is called in a thread).
            feeds: the feed tables (usually ``FeedStore(engine.store)``).
            client: a shared client from ``index.fetch.make_client``; ``None`` makes one per fetch.
            allow_private: fetch loopback and private addresses (tests, intranets).
            interval_minutes: time between two polls of a healthy feed.
            max_new_per_poll: entry pages fetched per feed and poll; the rest wait for the next poll.
            page_concurrency: entry pages fetched at once.
            resolver: name resolver for the fetches (tests); the system's by default.
        """
        if interval_minutes <= 0 or max_new_per_poll < 1 or page_concurrency < 1:
            raise ValueError("interval_minutes must be > 0, max_new_per_poll and page_concurrency >= 1")
        self.engine = engine
        self.feeds = feeds
        self.client = client
        self.allow_private = allow_private
        self.interval = timedelta(minutes=interval_minutes)
        self.max_new_per_poll = max_new_per_poll
        self.page_concurrency = page_concurrency
        self.resolver = resolver
        # One poll at a time: the bot's loop and a manual poll must not fetch and announce the same entry twice.
        self._lock = asyncio.Lock()

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
        return await asyncio.to_thread(
            self.feeds.add, url, collection=collection, channel_id=channel_id, added_by=added_by, title=parsed.title
        )

    async def _read_feed(self, url: str) -> ParsedFeed:
        page = await fetch_url(
            url, client=self.client, allow_private=self.allow_private, accept=_FEED_ACCEPT, resolver=self.resolver
        )
        return await asyncio.to_thread(parse_feed, page.body, base_url=page.url)

    # -- polling --------------------------------------------------------------------------------
    async def poll_due(self, now: datetime | None = None) -> list[PollResult]:
        """Poll every feed whose next poll is at or before ``now`` (default: the current time)."""
        feeds = await asyncio.to_thread(self.feeds.due, now or datetime.now(UTC))
        return await self.poll_many(feeds)

    async def poll_many(self, feeds: Sequence[Feed]) -> list[PollResult]:
        """Poll these feeds one after the other; a failing feed is reported in its result, never raised."""
        return [await self.poll(feed) for feed in feeds]

    async def poll(self, feed: Feed) -> PollResult:
        """Poll one feed now, due or not, and record the outcome (success or backoff).

        Returns:
            The result; ``error`` is set when the poll failed (it is also stored on the feed).
        """
        async with self._lock:
            current = await asyncio.to_thread(self.feeds.get, feed.id)
            if current is None:  # removed while waiting
                return PollResult(feed, error="the feed is no longer followed")
            now = datetime.now(UTC)
            try:
                return await self._poll(current, now)
            except Exception as exc:
                message = describe_error(exc)
                if isinstance(exc, IngestError):
                    log.warning("feed %s (%s) failed: %s", current.id, current.url, message)
                else:
                    log.exception("feed %s (%s) failed unexpectedly", current.id, current.url)
                try:
                    await asyncio.to_thread(
                        self.feeds.record_failure, current.id, message, now=now, interval=self.interval
                    )
                except Exception:
                    log.exception("could not record the failure of feed %s", current.id)
                return PollResult(current, error=message)

    async def _poll(self, feed: Feed, now: datetime) -> PollResult:
        page = await fetch_url(
            feed.url,
            client=self.client,
            allow_private=self.allow_private,
            accept=_FEED_ACCEPT,
            etag=feed.etag,
            last_modified=feed.last_modified,
            resolver=self.resolver,
        )
        if page.not_modified:
            log.debug("feed %s not modified", feed.id)
            await asyncio.to_thread(
                self.feeds.record_success,
                feed.id,
                now=now,
                interval=self.interval,
                etag=page.etag or feed.etag,
                last_modified=page.last_modified or feed.last_modified,
            )
            return PollResult(feed, not_modified=True)
        parsed = await asyncio.to_thread(parse_feed, page.body, base_url=page.url)
        backlog = feed.last_success is None
        todo = await asyncio.to_thread(self._unseen, feed, parsed.entries)
        batch, rest = todo[: self.max_new_per_poll], todo[self.max_new_per_poll :]
        if backlog and rest:
            # A new feed's older entries are history, not news: skip them rather than trickle them in.
            log.info("feed %s: skipping %d older entries of its backlog", feed.id, len(rest))
            await asyncio.to_thread(self._mark_all, feed, rest, "older than the newest entries when the feed was added")
            rest = []
        pages = await self._fetch_pages(batch)
        skipped = [f"{p.entry.link}: {p.error}" for p in pages if p.error]
        retrying = await asyncio.to_thread(self._record_failed_pages, feed, [p for p in pages if p.error])
        fetched = [(p.entry, _complete(p.entry, p.article, parsed.title)) for p in pages if p.article is not None]
        new: list[NewArticle] = []
        if fetched:
            new, rejected = await asyncio.to_thread(self._ingest, feed, fetched)
            skipped += rejected
        pending = len(rest) + retrying
        # Keep the old validators while entries are pending: a 304 next time would hide them.
        etag, last_modified = (page.etag, page.last_modified) if not pending else (feed.etag, feed.last_modified)
        await asyncio.to_thread(
            self.feeds.record_success,
            feed.id,
            now=now,
            interval=self.interval,
            etag=etag,
            last_modified=last_modified,
            title=parsed.title,
        )
        log.info(
            "feed %s polled: %d entries, %d new articles, %d skipped, %d pending",
            feed.id,
            len(parsed.entries),
            len(new),
            len(skipped),
            pending,
        )
        return PollResult(feed, new_articles=new, backlog=backlog, skipped=skipped, pending=pending)

    # -- steps (blocking ones run in a worker thread) --------------------------------------------
    def _unseen(self, feed: Feed, entries: Sequence[FeedEntry]) -> list[FeedEntry]:
        """The entries to fetch, in feed order; entries without a link or already indexed are marked handled."""
        todo: list[FeedEntry] = []
        links: set[str] = set()
        for entry in entries:
            if self.feeds.seen(feed.id, entry.id, entry.link):
                continue
            if not entry.link:
                self.feeds.mark_seen(feed.id, entry.id, error="the entry links to no article")
                continue
            canonical = canonical_url(entry.link)
            if canonical in links:  # listed twice: the first copy stands for both
                continue
            links.add(canonical)
            holder = self.feeds.article_for_url(feed.collection, entry.link)
            if holder is not None:
                self.feeds.mark_seen(feed.id, entry.id, entry.link, article_id=holder)
                continue
            todo.append(entry)
        return todo

    def _mark_all(self, feed: Feed, entries: Sequence[FeedEntry], reason: str) -> None:
        for entry in entries:
            self.feeds.mark_seen(feed.id, entry.id, entry.link, error=reason)

    async def _fetch_pages(self, entries: Sequence[FeedEntry]) -> list[_Page]:
        gate = asyncio.Semaphore(self.page_concurrency)

        async def one(entry: FeedEntry) -> _Page:
            async with gate:
                try:
                    page = await fetch_url(
                        entry.link,
                        client=self.client,
                        allow_private=self.allow_private,
                        accept=HTML_TYPES,
                        resolver=self.resolver,
                    )
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

    def _record_failed_pages(self, feed: Feed, pages: Sequence[_Page]) -> int:
        """Store each failure; returns how many entries will be tried again."""
        retrying = 0
        for page in pages:
            error = page.error or "failed"
            if not page.retry:
                self.feeds.mark_seen(feed.id, page.entry.id, page.entry.link, error=error)
            elif not self.feeds.record_entry_failure(feed.id, page.entry.id, page.entry.link, error):
                retrying += 1
        return retrying

    def _ingest(self, feed: Feed, items: Sequence[tuple[FeedEntry, RawArticle]]) -> tuple[list[NewArticle], list[str]]:
        """Ingest the fetched articles in one call, mark their entries handled, return the really new ones.

        ``IngestReport`` has counts, not a status per article, so each article's id is computed
        first (``prepare_article`` is deterministic) and compared with the store before and with
        ``report.article_ids`` after: a different id back means a near-duplicate merge.
        """
        store, collection = self.engine.store, feed.collection
        prepared: list[tuple[FeedEntry, RawArticle, Article, bool]] = []
        rejected: list[str] = []
        for entry, raw in items:
            try:
                article = prepare_article(raw, collection=collection)
            except IngestError as exc:
                self.feeds.mark_seen(feed.id, entry.id, entry.link, error=str(exc))
                rejected.append(f"{entry.link}: {exc}")
                continue
            holder = self.feeds.article_for_url(collection, article.url) if article.url else None
            known = store.article(article.id) is not None or (holder is not None and holder != article.id)
            prepared.append((entry, raw, article, known))
        if not prepared:
            return [], rejected
        report = self.engine.ingest([raw for _, raw, _, _ in prepared], collection=collection)
        ids = report.article_ids
        if len(ids) != len(prepared):
            log.warning("feed %s: cannot match the ingest report to entries; announcing nothing", feed.id)
            ids = [article.id for _, _, article, _ in prepared]
            prepared = [(entry, raw, article, True) for entry, raw, article, _ in prepared]
        new: list[NewArticle] = []
        claimed: set[str] = set()
        for (entry, _raw, article, known), got in zip(prepared, ids, strict=True):
            self.feeds.mark_seen(feed.id, entry.id, entry.link, article_id=got)
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
        return new, rejected
