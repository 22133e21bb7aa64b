"""Fixtures of the bot tests: a fast fake engine, a real engine on a fake encoder, a recording responder."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.config import EngineConfig
from app.engine import Engine
from bot.desk import Desk
from bot.ratelimit import RateLimiter
from bot.render import Reply
from index.models import Article, RawArticle
from index.pipeline import IngestReport
from index.readers import ReadResult
from retrieval.answer import Answer, Citation
from retrieval.scope import Scope
from tests.fakes import FakeEncoder

GUILD = 111
OTHER_GUILD = 222
USER = 42
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def citation(
    n: int,
    quote: str,
    *,
    title: str = "Russia-US ties face long haul",
    url: str | None = None,
    source: str | None = "CNN",
    article_id: str | None = None,
) -> Citation:
    return Citation(
        n, article_id or f"a{n}", title, source, url, datetime(2017, 4, 7, tzinfo=UTC), quote, 0, len(quote)
    )


def answer_of(question: str, quotes: Iterable[str], **kwargs: Any) -> Answer:
    cites = tuple(citation(i, q, **kwargs) for i, q in enumerate(quotes, start=1))
    text = "\n".join(f"> {c.quote} [{c.n}]" for c in cites)
    return Answer(question, True, text, cites, confidence=0.8, latency_ms=12.0)


@dataclass
class FakeEngine:
    """Answers instantly, records calls; ``error`` makes every call raise it."""

    answer: Answer | None = None
    articles: list[Article] = field(default_factory=list)
    error: BaseException | None = None
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    reindex_gate: threading.Event | None = None

    def _call(self, *record: Any) -> None:
        self.calls.append(record)
        if self.error is not None:
            raise self.error

    def ask(self, question: str, scope: Scope | None = None, *, abstain: bool = True) -> Answer:
        self._call("ask", question, scope)
        return self.answer or answer_of(
            question, ['"We are very concerned," Peskov added.'], url="https://example.com/a1"
        )

    def summarize_article(self, article_id: str, scope: Scope | None = None) -> Answer:
        self._call("summarize_article", article_id, scope)
        match = [a for a in self.articles if a.id == article_id]
        if not match:
            from retrieval.errors import RetrievalError

            raise RetrievalError(f"No article with id {article_id!r} here.")
        return answer_of(f"summary of {match[0].title}", ["First salient sentence of it."], title=match[0].title)

    def summarize_topic(self, topic: str, scope: Scope | None = None) -> Answer:
        self._call("summarize_topic", topic, scope)
        return answer_of(f"summary of {topic}", ["One sentence on the topic.", "Another one."])

    def find_articles(self, text: str, scope: Scope | None = None, *, limit: int = 25) -> list[Article]:
        self._call("find_articles", text, scope, limit)
        return [a for a in self.articles if text.casefold() in a.title.casefold()][:limit]

    def ingest(
        self, items: Iterable[ReadResult | RawArticle], *, collection: str = "global", progress: Any = None
    ) -> IngestReport:
        items = list(items)
        self._call("ingest", items, collection)
        if progress:
            progress(3, 1)
        return IngestReport(added=len(items), passages=3 * len(items))

    def reindex(self, *, progress: Any = None) -> int:
        self._call("reindex")
        if progress:
            progress(10, 2)
        if self.reindex_gate is not None:
            self.reindex_gate.wait(10)
        return 10


class GatedReindex:
    """A real engine whose re-index holds at its first progress report, inside the engine's write lock.

    A seam rather than a patch: the engine's public ``reindex(progress=...)`` is called with a
    progress callback that sets ``in_progress`` and waits for ``release``; everything else is the
    engine's own.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.in_progress, self.release = threading.Event(), threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def reindex(self, *, progress: Any = None) -> int:
        def gated(passages: int, articles: int) -> None:
            self.in_progress.set()
            self.release.wait(10)
            if progress:
                progress(passages, articles)

        return self.engine.reindex(progress=gated)


@dataclass
class RecordingResponder:
    """A ``Responder`` that records what the handler did, in order."""

    events: list[tuple[str, Any]] = field(default_factory=list)
    thread_id: int | None = None  # what open_thread returns (None: no thread here)

    async def defer(self, *, ephemeral: bool = False) -> None:
        self.events.append(("defer", ephemeral))

    async def send(self, replies: Iterable[Reply], *, ephemeral: bool = False) -> None:
        for reply in replies:
            self.events.append(("send", reply))

    async def update(self, text: str) -> None:
        self.events.append(("update", text))

    async def notice(self, text: str) -> None:
        self.events.append(("notice", text))

    async def finish(self, replies: Iterable[Reply]) -> None:
        for reply in replies:
            self.events.append(("finish", reply))

    async def whisper(self, text: str) -> None:
        self.events.append(("whisper", text))

    async def show(self, reply: Reply) -> None:
        self.events.append(("show", reply))

    async def open_thread(self, name: str, *, archive_minutes: int, opened: Any, hint: str | None = None) -> int | None:
        self.events.append(("thread", (name, archive_minutes)))
        if self.thread_id is not None:
            await opened(self.thread_id)
        return self.thread_id

    def of(self, kind: str) -> list[Any]:
        return [value for k, value in self.events if k == kind]

    @property
    def replies(self) -> list[Reply]:
        return self.of("send")

    @property
    def text(self) -> str:
        """Everything sent for all to see, as one string (content, embed titles, descriptions, fields, footers)."""
        parts: list[str] = []
        for kind, value in self.events:
            if kind in ("send", "finish"):
                parts.append(value.content or "")
                embed = value.embed or {}
                parts += [embed.get("title", ""), embed.get("description", "")]
                parts += [f["value"] for f in embed.get("fields", [])]
                parts.append(embed.get("footer", {}).get("text", ""))
            elif kind in ("update", "notice"):
                parts.append(value)
        return "\n".join(parts)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def responder() -> RecordingResponder:
    return RecordingResponder()


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def desk(fake_engine: FakeEngine, clock: FakeClock) -> Iterator[Desk]:
    d = Desk(fake_engine, limiter=RateLimiter(6, clock=clock), progress_every=0.01)
    yield d
    d.close()


@pytest.fixture
def engine_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def real_engine(engine_dir: Path) -> Iterator[Engine]:
    """A real engine on the deterministic fake encoder, with the seed article in GUILD's collection."""
    engine = Engine(EngineConfig(data_dir=engine_dir), encoder=FakeEncoder())
    report = engine.ingest_paths([SEEDS], collection=str(GUILD))
    assert report.added == 1, report.summary()
    yield engine
    engine.close()


@pytest.fixture
def empty_engine(engine_dir: Path) -> Iterator[Engine]:
    engine = Engine(EngineConfig(data_dir=engine_dir), encoder=FakeEncoder())
    yield engine
    engine.close()


@pytest.fixture
def real_desk(real_engine: Engine, clock: FakeClock) -> Iterator[Desk]:
    d = Desk(real_engine, limiter=RateLimiter(600, clock=clock), progress_every=0.01)
    yield d
    d.close()
