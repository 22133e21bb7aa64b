"""The desk: the engine, the thread pools its calls run in, the rate limiter, and who is asking.

Every engine call runs in a thread pool, so the event loop never waits on embedding, FAISS or
SQLite: questions, summaries and autocomplete in the read pool (several workers), ingests and
re-indexes in the write pool (one worker, behind ``Desk.write_lock``). A re-index builds the
next index beside the current one, so questions asked meanwhile are answered from the previous
index until the new one is swapped in.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ParamSpec, Protocol, TypeVar

from bot.metrics import AnswerMetrics
from bot.ratelimit import Limiter, RateLimiter, StoreRateLimiter
from bot.streaming import Pacing
from index.convstore import ConversationStore
from index.feedbackstore import FeedbackStore
from index.feedstore import FeedStore
from index.jobs import JobStore
from index.models import GLOBAL_COLLECTION, Article, RawArticle
from index.pipeline import IngestReport, Progress
from index.readers import ReadResult
from index.store import Store
from retrieval.answer import Answer
from retrieval.scope import Scope

P = ParamSpec("P")
T = TypeVar("T")
Fetch = Callable[[str], Awaitable[RawArticle]]
THROTTLE_WAIT_S = 1.0  # the longest a shared rate limit may take: Discord wants an answer within 3 s


class EngineLike(Protocol):
    """The part of ``app.engine.Engine`` the bot uses (tests pass a fake)."""

    def ask(self, question: str, scope: Scope | None = None, *, abstain: bool = True) -> Answer:
        """Answer a question with cited quotes (``abstain=False``: quote the best evidence even when unsure)."""
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
class Records:
    """What the bot keeps besides the index, in the same database: conversations, answers, feedback, feeds.

    Attributes:
        store: the article store (articles for Show context, per-collection counts for ``/stats``).
        conversations: conversations and the answers shown in them.
        feedback: votes and reports.
        feeds: followed feeds (their health for ``/stats``).
        conversation_ttl: how long after its last question a conversation ends.
    """

    store: Store
    conversations: ConversationStore
    feedback: FeedbackStore
    feeds: FeedStore
    conversation_ttl: timedelta

    @classmethod
    def open(cls, store: Store, *, conversation_ttl: timedelta) -> Records:
        """The records in ``store``'s database (their tables are created on first use)."""
        return cls(store, ConversationStore(store), FeedbackStore(store), FeedStore(store), conversation_ttl)


def shared_limiter(limiter: Limiter, records: Records | None) -> Limiter:
    """The limiter to use: with several processes possible (a PostgreSQL store), the store's buckets."""
    if isinstance(limiter, RateLimiter) and records is not None and records.store.db.dialect == "postgresql":
        return StoreRateLimiter(records.store, limiter)
    return limiter


class Desk:
    """The engine, the thread pools its calls run in, the rate limiter, and who moderates."""

    def __init__(
        self,
        engine: EngineLike,
        *,
        limiter: Limiter,
        use_embeds: bool = True,
        read_workers: int = 4,
        progress_every: float = 2.0,
        fetch: Fetch | None = None,
        moderator_role: str | None = None,
        pacing: Pacing | None = None,
        records: Records | None = None,
        jobs: JobStore | None = None,
    ) -> None:
        """Wrap an engine for the bot.

        Args:
            engine: the engine (built once, at start-up).
            limiter: per-user rate limits of questions and summaries; with ``records`` in a PostgreSQL store
                an in-memory ``RateLimiter`` becomes a ``StoreRateLimiter`` (shared by every process, with
                it as the fallback while the store is unreachable).
            use_embeds: answer with embeds, or plain text.
            read_workers: threads answering questions concurrently.
            progress_every: seconds between edits of a progress message.
            fetch: fetches and extracts the article at a URL (``/ingest url:``); ``None`` disables links.
            moderator_role: the role that moderates besides Manage Server, named in refusals.
            pacing: how a language model's answer is streamed (edit interval, deadline, clock).
            records: conversations, answers and feedback; without them answers carry no buttons and every
                question stands alone.
            jobs: the job queue of the shared store (PostgreSQL): ``/ingest`` and ``/reindex`` are queued for
                ``newsdesk worker`` instead of run here; None (SQLite) runs them in this process.
        """
        self.engine = engine
        self.limiter = shared_limiter(limiter, records)
        self.use_embeds = use_embeds
        self.progress_every = progress_every
        self.fetch = fetch
        self.moderator_role = moderator_role
        self.pacing = pacing or Pacing()
        self.records = records
        self.jobs = jobs
        self.metrics = AnswerMetrics()
        self._answering: set[asyncio.Task[Any]] = set()
        self.write_lock = asyncio.Lock()
        self._reads = ThreadPoolExecutor(max_workers=read_workers, thread_name_prefix="newsdesk-read")
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-write")

    async def read(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read (question, summary, lookup) in the read pool."""
        return await asyncio.get_running_loop().run_in_executor(self._reads, functools.partial(fn, *args, **kwargs))

    async def write(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a write (ingest, re-index) in the write pool."""
        return await asyncio.get_running_loop().run_in_executor(self._writes, functools.partial(fn, *args, **kwargs))

    async def quick(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a short store call (a lookup, a vote) off the event loop, not queued behind answers in the read pool.

        Buttons that answer with a form must do so within 3 s, so their lookups cannot wait for a busy pool.
        """
        return await asyncio.to_thread(fn, *args, **kwargs)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Mark the current task as answering a question, so that a shutdown lets it finish (``drain``)."""
        task = asyncio.current_task()
        if task is not None:
            self._answering.add(task)
        try:
            yield
        finally:
            self._answering.discard(task)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the questions being answered (and their threads) to finish."""
        pending = {t for t in self._answering if t is not asyncio.current_task() and not t.done()}
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def throttle(self, asker: Asker) -> float:
        """Seconds ``asker`` must wait before asking again (0 to go ahead); moderators are exempt."""
        if asker.is_moderator:
            return 0.0
        if not isinstance(self.limiter, StoreRateLimiter):
            return self.limiter.acquire(asker.user_id)
        try:  # a database round trip: off the event loop, and never long enough for the interaction to expire
            return await asyncio.wait_for(self.quick(self.limiter.acquire, asker.user_id), THROTTLE_WAIT_S)
        except TimeoutError:  # the store is slow or going away: this process decides alone this time
            return self.limiter.fallback.acquire(asker.user_id)

    def close(self) -> None:
        """Stop the pools; a write already running finishes in its thread."""
        self._reads.shutdown(wait=False, cancel_futures=True)
        self._writes.shutdown(wait=False, cancel_futures=True)
