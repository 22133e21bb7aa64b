"""Server collections, ``/ingest url:`` and ``/ask since:``, through the Discord-free handlers on a real engine."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from app.engine import Engine
from bot import talk, writes
from bot.desk import Asker, Desk
from bot.ratelimit import RateLimiter
from index.web import read_url_async
from retrieval.scope import Scope
from tests.bot.conftest import GUILD, OTHER_GUILD, USER, RecordingResponder

MOD_HERE = Asker(USER, GUILD, is_moderator=True)
MOD_THERE = Asker(USER + 1, OTHER_GUILD, is_moderator=True)
PAGE = """<html><head><title>Harbour reopens after storm | Coast News</title>
<meta property="og:site_name" content="Coast News">
<meta property="article:published_time" content="2026-11-20T09:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>Harbour reopens after storm</h1>
<p>The harbour of Porthleven reopened on Thursday after engineers repaired the sea wall damaged in the storm.</p>
<p>Harbour master Jenna Cole said the first fishing boats left before dawn and that the repairs cost 40,000 pounds.</p>
<p>The council said a permanent barrier would be built next year to protect the harbour from winter storms.</p>
</article><footer>Subscribe to our newsletter. Privacy policy.</footer></body></html>"""


def _desk(engine: Engine, *, allow_private: bool) -> Desk:
    fetch = functools.partial(read_url_async, allow_private=allow_private)
    return Desk(engine, limiter=RateLimiter(600), progress_every=0.01, fetch=fetch)


@pytest.fixture
def desk(real_engine: Engine) -> Iterator[Desk]:
    d = _desk(real_engine, allow_private=True)
    yield d
    d.close()


async def test_servers_never_see_each_others_articles(desk: Desk, real_engine: Engine):
    """should answer a server's question from its own articles and global ones, never another server's."""
    text = '"The talks in Geneva were useful and constructive," Kremlin spokesman Dmitry Peskov said on Monday.'
    await writes.ingest(desk, RecordingResponder(), MOD_THERE, title="Geneva talks", text=text + " " * 2 + text)
    there, here = RecordingResponder(), RecordingResponder()
    await talk.ask(desk, there, MOD_THERE, "What did Peskov say about the talks?")
    await talk.ask(desk, here, MOD_HERE, "What did Peskov say about the talks?")
    assert "Geneva" in there.text and "Russia-US ties" not in there.text
    assert "Geneva" not in here.text
    seed_id = next(a.id for a in real_engine.store.iter_articles() if a.collection == str(GUILD))
    with pytest.raises(Exception, match="No article"):
        real_engine.summarize_article(seed_id, Scope(collections=(str(OTHER_GUILD), "global")))


async def test_ingest_by_link_makes_the_page_answerable(desk: Desk, real_engine: Engine, httpserver: HTTPServer):
    """should fetch a linked page, extract the article without navigation, and answer from it with its URL."""
    httpserver.expect_request("/news/harbour").respond_with_data(PAGE, content_type="text/html; charset=utf-8")
    url = httpserver.url_for("/news/harbour") + "?utm_source=discord"
    progress = RecordingResponder()
    await writes.ingest(desk, progress, MOD_HERE, url=url)
    assert "1 added" in progress.text, progress.text
    article = next(a for a in real_engine.store.iter_articles() if a.title.startswith("Harbour reopens"))
    assert article.collection == str(GUILD) and article.source == "Coast News"
    assert article.url == httpserver.url_for("/news/harbour") and "Privacy policy" not in article.text
    assert article.published is not None and article.published.day == 20
    answer = RecordingResponder()
    await talk.ask(desk, answer, MOD_HERE, "How much did the harbour repairs cost?")
    assert "40,000 pounds" in answer.text and "Coast News" in answer.text


async def test_private_link_is_refused_and_nothing_changes(real_engine: Engine, httpserver: HTTPServer):
    """should refuse a loopback link with a clear message while private addresses are not allowed."""
    httpserver.expect_request("/a").respond_with_data(PAGE, content_type="text/html")
    desk = _desk(real_engine, allow_private=False)
    try:
        before = real_engine.store.generation
        responder = RecordingResponder()
        url = httpserver.url_for("/a")
        await writes.ingest(desk, responder, MOD_HERE, url=url)
        assert responder.of("update")[-1] == (
            f"Could not add <{url}>: I can't fetch {httpserver.host}: "
            "it points to a private or reserved network address"
        )
        assert real_engine.store.generation == before
        not_a_url = RecordingResponder()
        await writes.ingest(desk, not_a_url, MOD_HERE, url="harbour news please")
        assert not_a_url.of("update")[-1] == (
            "Could not add <harbour news please>: that isn't a full link; it should start with http:// or https://"
        )
    finally:
        desk.close()


async def test_since_option(desk: Desk):
    """should search only articles published since the given date, and explain a date it cannot read."""
    old = RecordingResponder()
    await talk.ask(desk, old, MOD_HERE, "What did Peskov say about the strikes?", since="2030-01-01")
    assert "Peskov added" not in old.text
    bad = RecordingResponder()
    await talk.ask(desk, bad, MOD_HERE, "What did Peskov say?", since="whenever")
    assert bad.events == [
        ("notice", "I can't read 'whenever' as a date: use YYYY-MM-DD, or e.g. 'yesterday', '7 days'.")
    ]
