"""Tests for index.feedpoller against a local news site: conditional GET, ingestion, failures, scopes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from app.engine import Engine
from index.errors import FeedError, FetchError
from index.feedpoller import FeedPoller
from index.feedstore import FeedStore
from index.fetch import FetchedPage, fetch_url, make_client
from retrieval.scope import Scope
from tests.conftest import MakeEngine
from tests.feedsite import STORIES, FeedSite, article_html, local_resolver

pytestmark = pytest.mark.both_engines

INTERVAL = timedelta(minutes=15)


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine()


@pytest.fixture
def feeds(engine: Engine) -> FeedStore:
    return FeedStore(engine.store)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(allow_private=True, resolver=local_resolver) as client:
        yield client


@pytest.fixture
def poller(engine: Engine, feeds: FeedStore, client: httpx.AsyncClient) -> FeedPoller:
    return FeedPoller(engine, feeds, client, allow_private=True, interval_minutes=15, resolver=local_resolver)


@pytest.fixture
def site(httpserver: HTTPServer) -> FeedSite:
    site = FeedSite(httpserver)
    site.add(STORIES["tram"], STORIES["bridge"])
    return site


def _cited_urls(engine: Engine, question: str, collection: str = "global") -> set[str | None]:
    answer = engine.ask(question, Scope(collections=(collection,)))
    return {c.url for c in answer.citations} if answer.answered else set()


def _url(site: FeedSite, slug: str) -> str:
    return site.server.url_for(f"/news/{slug}")  # canonical: the tracking parameter is gone


async def test_new_entry_is_ingested_announced_once_with_conditional_get(
    poller: FeedPoller, engine: Engine, site: FeedSite
) -> None:
    """should ingest a story the feed gains between polls, report it once, then answer 304 with nothing new."""
    feed, created = await poller.subscribe(site.url, collection="global", channel_id=700)
    assert created and feed.title == "The Daily Example"
    first = await poller.poll_due()
    assert [r.feed.id for r in first] == [feed.id]
    assert first[0].error is None and first[0].backlog
    assert {a.title for a in first[0].new_articles} == {STORIES["tram"].title, STORIES["bridge"].title}
    assert _cited_urls(engine, "What did the museum unveil?") <= {_url(site, "tram"), _url(site, "bridge")}

    site.add(STORIES["museum"])
    assert await poller.poll_due() == []  # not due yet
    second = await poller.poll_due(datetime.now(UTC) + INTERVAL)
    assert len(second) == 1 and second[0].error is None and not second[0].backlog
    [new] = second[0].new_articles
    assert (new.title, new.url, new.channel_id) == (STORIES["museum"].title, _url(site, "museum"), 700)
    assert new.source == "The Daily Example" and new.published == STORIES["museum"].published
    assert _url(site, "museum") in _cited_urls(engine, "What did the museum unveil after the restoration?")
    assert engine.store.article_count() == 3

    generation = engine.store.generation
    third = await poller.poll(feed)
    assert third.not_modified and third.new_articles == [] and third.error is None
    assert site.responses == [200, 200, 200, 304]  # subscribe, backlog, new entry, unchanged
    assert site.feed_requests()[-1].headers["If-None-Match"] == site.tag
    assert site.feed_requests()[-1].headers["If-Modified-Since"] == site.modified
    assert engine.store.generation == generation and engine.store.article_count() == 3
    assert site.page_hits == {"tram": 1, "bridge": 1, "museum": 1}


async def test_if_modified_since_alone_is_used(poller: FeedPoller, httpserver: HTTPServer) -> None:
    """should send Last-Modified back as If-Modified-Since when the server gives no ETag."""
    site = FeedSite(httpserver, etag=False)
    site.add(STORIES["tram"])
    feed, _ = await poller.subscribe(site.url, collection="global")
    await poller.poll(feed)
    again = await poller.poll(feed)
    assert again.not_modified
    last = site.feed_requests()[-1]
    assert last.headers["If-Modified-Since"] == site.modified and "If-None-Match" not in last.headers


async def test_state_survives_a_restart(
    tmp_path: Path, make_engine: MakeEngine, site: FeedSite, client: httpx.AsyncClient
) -> None:
    """should keep feeds, validators and handled entries across a reopened engine: nothing is re-announced."""
    engine = make_engine(data_dir=tmp_path / "data")
    poller = FeedPoller(engine, FeedStore(engine.store), client, allow_private=True, resolver=local_resolver)
    feed, _ = await poller.subscribe(site.url, collection="global")
    await poller.poll(feed)
    engine.close()
    reopened = make_engine(data_dir=tmp_path / "data")
    try:
        poller = FeedPoller(reopened, FeedStore(reopened.store), client, allow_private=True, resolver=local_resolver)
        [stored] = poller.feeds.list()
        assert stored.etag == site.tag and stored.last_success is not None
        site.version += 1  # same entries, new version: a full response that holds nothing new
        result = await poller.poll(stored)
        assert not result.not_modified and result.new_articles == [] and result.error is None
        assert reopened.store.article_count() == 2
    finally:
        reopened.close()


async def test_failed_entry_page_is_retried_and_its_summary_never_indexed(
    poller: FeedPoller, engine: Engine, site: FeedSite
) -> None:
    """should skip a page that fails, keep the old validators so the next poll sees it again, then ingest it."""
    feed, _ = await poller.subscribe(site.url, collection="global", channel_id=700)
    await poller.poll(feed)
    old_tag = site.tag
    site.add(STORIES["museum"])
    site.page_status["museum"] = 503
    failed = await poller.poll(feed)
    assert failed.error is None and failed.new_articles == [] and failed.pending == 1
    assert failed.skipped and "503" in failed.skipped[0]
    assert engine.store.article_count() == 2
    assert not any("zebra" in a.text for a in engine.store.iter_articles())  # the summary is not an article
    stored = poller.feeds.get(feed.id)
    assert stored is not None and stored.etag == old_tag  # not the new one: a 304 would hide the entry

    del site.page_status["museum"]
    retried = await poller.poll(feed)
    assert [a.title for a in retried.new_articles] == [STORIES["museum"].title]
    assert site.feed_requests()[-1].headers["If-None-Match"] == old_tag
    assert not any("zebra" in a.text for a in engine.store.iter_articles())
    assert (await poller.poll(feed)).not_modified


async def test_entry_that_is_not_an_article_is_given_up(poller: FeedPoller, engine: Engine, site: FeedSite) -> None:
    """should give up at once on an entry whose page holds no article, and still save the validators."""
    feed, _ = await poller.subscribe(site.url, collection="global")
    await poller.poll(feed)
    site.add(STORIES["museum"])
    site.server.clear_all_handlers()
    site.server.expect_request(site.path).respond_with_handler(site.feed_response)
    site.server.expect_request("/news/museum").respond_with_data(
        "<html><body><p>Sign in to continue reading.</p></body></html>", content_type="text/html"
    )
    result = await poller.poll(feed)
    assert result.new_articles == [] and result.pending == 0 and len(result.skipped) == 1
    assert (await poller.poll(feed)).not_modified
    assert engine.store.article_count() == 2


async def test_backlog_is_capped_and_bursts_are_spread_over_polls(
    engine: Engine, feeds: FeedStore, client: httpx.AsyncClient, httpserver: HTTPServer
) -> None:
    """should ingest only the newest entries of a new feed, and take a later burst over several polls."""
    poller = FeedPoller(engine, feeds, client, allow_private=True, max_new_per_poll=2, resolver=local_resolver)
    site = FeedSite(httpserver)
    site.add(STORIES["tram"], STORIES["bridge"], STORIES["museum"])
    feed, _ = await poller.subscribe(site.url, collection="global")
    first = await poller.poll(feed)
    assert first.backlog and {a.title for a in first.new_articles} == {STORIES["museum"].title, STORIES["bridge"].title}
    assert "tram" not in site.page_hits  # the oldest entry of the backlog is skipped for good
    site.add(STORIES["harbour"], STORIES["library"])
    site.add(replace(STORIES["tram"], slug="tram2", title="Tram line approved, work starts in spring"))
    burst = await poller.poll(feed)
    assert len(burst.new_articles) == 2 and burst.pending == 1
    rest = await poller.poll(feed)
    assert len(rest.new_articles) + len(rest.skipped) == 1 and rest.pending == 0
    assert (await poller.poll(feed)).not_modified


async def test_same_story_in_two_feeds_is_fetched_and_announced_once(
    poller: FeedPoller, engine: Engine, site: FeedSite, httpserver: HTTPServer
) -> None:
    """should not fetch or announce again a link another feed of the collection already indexed."""
    feed, _ = await poller.subscribe(site.url, collection="global")
    await poller.poll(feed)
    other = FeedSite(httpserver, path="/other.xml", stories=list(site.stories))
    second, _ = await poller.subscribe(other.url, collection="global")
    result = await poller.poll(second)
    assert result.error is None and result.new_articles == []
    assert site.page_hits == {"tram": 1, "bridge": 1}
    assert engine.store.article_count() == 2


async def test_near_duplicate_is_merged_not_announced(
    poller: FeedPoller, engine: Engine, site: FeedSite, httpserver: HTTPServer
) -> None:
    """should merge a wire copy of a stored story under another URL, and not announce it."""
    feed, _ = await poller.subscribe(site.url, collection="global")
    await poller.poll(feed)
    copy = replace(STORIES["tram"], slug="tram-copy", title="Tram line gets green light")
    site.add(copy)
    result = await poller.poll(feed)
    assert result.error is None and result.new_articles == []
    assert engine.store.article_count() == 2
    merged = engine.store.other_sources([a.id for a in engine.store.iter_articles()])
    assert any(s["title"] == copy.title for sources in merged.values() for s in sources)


def _broken(httpserver: HTTPServer, kind: str) -> tuple[str, str]:
    """Serve one kind of broken feed; returns its URL and a fragment of the expected message."""
    path = f"/broken-{kind}.xml"
    if kind == "404":
        httpserver.expect_request(path).respond_with_data("gone", status=404)
        return httpserver.url_for(path), "not found (404)"
    if kind == "500":
        httpserver.expect_request(path).respond_with_data("oops", status=500)
        return httpserver.url_for(path), "error (500)"
    if kind == "malformed":
        httpserver.expect_request(path).respond_with_data(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Half', content_type="application/rss+xml"
        )
        return httpserver.url_for(path), "doesn't look like an RSS or Atom feed"
    if kind == "html":
        httpserver.expect_request(path).respond_with_data(article_html(STORIES["bridge"]), content_type="text/html")
        return httpserver.url_for(path), "doesn't look like an RSS or Atom feed"
    if kind == "image":
        httpserver.expect_request(path).respond_with_data(b"\x89PNG\r\n", content_type="image/png")
        return httpserver.url_for(path), "image"
    if kind == "loop":
        httpserver.expect_request(path).respond_with_data("", status=302, headers={"Location": "/loop-b"})
        httpserver.expect_request("/loop-b").respond_with_data("", status=302, headers={"Location": path})
        return httpserver.url_for(path), "loop"
    assert kind == "nxdomain"
    return f"http://no-such-host.test:{httpserver.port}/feed.xml", "couldn't find the site"


BROKEN = [pytest.param(k, id=k) for k in ("404", "500", "malformed", "html", "image", "loop", "nxdomain")]


@pytest.mark.parametrize("kind", BROKEN)
async def test_broken_feed_backs_off_while_the_others_work(
    poller: FeedPoller, engine: Engine, feeds: FeedStore, site: FeedSite, httpserver: HTTPServer, kind: str
) -> None:
    """should record a short error and back off for a broken feed, leave the index alone, and poll the rest."""
    url, expected = _broken(httpserver, kind)
    broken, _ = feeds.add(url, collection="global")  # it worked when added, it broke since
    good, _ = await poller.subscribe(site.url, collection="global")
    before = datetime.now(UTC)
    results = {r.feed.id: r for r in await poller.poll_due()}
    assert results[good.id].error is None and len(results[good.id].new_articles) == 2
    error = results[broken.id].error
    assert error is not None and expected in error and len(error) < 200
    stored = feeds.get(broken.id)
    assert stored is not None and stored.failures == 1 and stored.last_error == error
    assert stored.next_poll >= (before + 2 * INTERVAL).replace(microsecond=0)
    assert engine.store.article_count() == 2
    await poller.poll(stored)
    again = feeds.get(broken.id)
    assert again is not None and again.failures == 2 and again.next_poll >= before + 4 * INTERVAL - timedelta(1)


@pytest.mark.parametrize("kind", BROKEN)
async def test_subscribe_refuses_what_is_not_a_working_feed(
    poller: FeedPoller, feeds: FeedStore, httpserver: HTTPServer, kind: str
) -> None:
    """should refuse to follow a broken feed with a clear message and store nothing."""
    url, expected = _broken(httpserver, kind)
    with pytest.raises((FetchError, FeedError), match=expected.replace("(", r"\(").replace(")", r"\)")):
        await poller.subscribe(url, collection="global")
    assert feeds.list() == []


async def test_unexpected_error_in_one_feed_does_not_stop_the_others(
    engine: Engine, feeds: FeedStore, client: httpx.AsyncClient, site: FeedSite
) -> None:
    """should log a bug in one feed's poll as that feed's error and still poll the next feed."""
    bad_url = "http://localhost:1/feed.xml"

    async def flaky(
        url: str, *, accept: tuple[str, ...], etag: str | None = None, last_modified: str | None = None
    ) -> FetchedPage:
        if url == bad_url:
            raise RuntimeError("bug")
        return await fetch_url(
            url, client=client, allow_private=True, accept=accept, etag=etag, last_modified=last_modified,
            resolver=local_resolver,
        )  # fmt: skip

    poller = FeedPoller(engine, feeds, fetch=flaky)
    good, _ = await poller.subscribe(site.url, collection="global")
    bad, _ = feeds.add(bad_url, collection="global")
    results = {r.feed.id: r for r in await poller.poll_due()}
    assert results[bad.id].error is not None and "RuntimeError" in results[bad.id].error
    assert len(results[good.id].new_articles) == 2


async def test_collections_keep_feeds_and_articles_apart(
    poller: FeedPoller, engine: Engine, feeds: FeedStore, site: FeedSite
) -> None:
    """should let two servers follow the same feed separately, each seeing only its own feed and articles."""
    ours, created = await poller.subscribe(site.url, collection="111", channel_id=1)
    again, created_again = await poller.subscribe(site.url + "?utm_campaign=x", collection="111")
    theirs, _ = await poller.subscribe(site.url, collection="222", channel_id=2)
    assert created and not created_again and again.id == ours.id and theirs.id != ours.id
    results = {r.feed.id: r for r in await poller.poll_due()}
    assert {a.channel_id for a in results[ours.id].new_articles} == {1}
    assert {a.channel_id for a in results[theirs.id].new_articles} == {2}
    assert {a.collection for a in engine.store.iter_articles()} == {"111", "222"}
    assert [f.id for f in feeds.list(["111"])] == [ours.id]
    assert feeds.remove(theirs.id, ["111"]) is None and feeds.get(theirs.id) is not None
    site.add(STORIES["museum"])
    assert feeds.remove(theirs.id, ["222"]) is not None
    results = {r.feed.id: r for r in await poller.poll_due(datetime.now(UTC) + INTERVAL)}
    assert list(results) == [ours.id] and len(results[ours.id].new_articles) == 1
    assert _url(site, "museum") in _cited_urls(engine, "What did the museum unveil?", "111")
    assert _url(site, "museum") not in _cited_urls(engine, "What did the museum unveil?", "222")


async def test_removed_feed_is_not_polled(poller: FeedPoller, feeds: FeedStore, site: FeedSite) -> None:
    """should report a feed removed between listing and polling instead of polling it."""
    feed, _ = await poller.subscribe(site.url, collection="global")
    feeds.remove(feed.id)
    result = await poller.poll(feed)
    assert result.error == "the feed is no longer followed" and site.responses == [200]


async def test_large_feed_is_read_up_to_the_cap_newest_first(
    engine: Engine, feeds: FeedStore, client: httpx.AsyncClient, httpserver: HTTPServer
) -> None:
    """should read only the newest max_entries of a huge feed, report the rest, and store no entry beyond the cap."""
    site = FeedSite(httpserver, generated=3000)  # archive entries, all older than the stories
    site.add(STORIES["tram"], STORIES["bridge"])
    poller = FeedPoller(
        engine, feeds, client, allow_private=True, max_new_per_poll=2, max_entries=50, resolver=local_resolver
    )
    feed, _ = await poller.subscribe(site.url, collection="global")
    first = await poller.poll(feed)
    assert first.error is None and first.backlog and first.beyond_cap == 3002 - 50
    assert {a.title for a in first.new_articles} == {STORIES["tram"].title, STORIES["bridge"].title}
    assert feeds.entry_count(feed.id) == 50  # 2 ingested, 48 skipped as backlog, none beyond the cap
    assert first.pending == 0 and set(site.page_hits) == {"tram", "bridge"}

    site.add(STORIES["museum"])
    second = await poller.poll(feed)
    assert [a.title for a in second.new_articles] == [STORIES["museum"].title]
    assert second.beyond_cap == 3003 - 50 and second.pending == 0 and second.skipped == []
    assert feeds.entry_count(feed.id) == 51
    assert (await poller.poll(feed)).not_modified


async def test_feeds_are_polled_concurrently_up_to_the_limit(engine: Engine, feeds: FeedStore) -> None:
    """should fetch up to feed_concurrency feeds at once, never more, instead of one feed after the other."""
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    in_flight, peak, four_in = 0, 0, asyncio.Event()

    async def gated(
        url: str, *, accept: tuple[str, ...], etag: str | None = None, last_modified: str | None = None
    ) -> FetchedPage:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 4:
            four_in.set()
        await four_in.wait()  # polled one at a time, the first fetch would wait here for ever
        in_flight -= 1
        return FetchedPage(url=url, status=200, content_type="application/rss+xml", body=empty)

    poller = FeedPoller(engine, feeds, fetch=gated, feed_concurrency=4)
    added = [feeds.add(f"https://feeds{i}.example.com/rss", collection="global")[0] for i in range(6)]
    results = await asyncio.wait_for(poller.poll_due(), timeout=60)  # a guard against a hang, not a timing
    assert [r.feed.id for r in results] == [f.id for f in added]
    assert all(r.error is None for r in results) and peak == 4


async def test_an_impossible_date_does_not_break_the_feed(
    poller: FeedPoller, engine: Engine, feeds: FeedStore, site: FeedSite
) -> None:
    """should follow and poll a feed whose entry is dated 9999-12-31 at -14:00 (year 10000 in UTC), date unknown."""
    site.pub_dates["bridge"] = "9999-12-31T23:59:59-14:00"
    feed, created = await poller.subscribe(site.url, collection="global")
    assert created
    first = await poller.poll(feed)
    assert first.error is None and len(first.new_articles) == 2
    site.add(STORIES["museum"])
    second = await poller.poll(feed)
    assert second.error is None and [a.title for a in second.new_articles] == [STORIES["museum"].title]
    stored = feeds.get(feed.id)
    assert stored is not None and stored.failures == 0


async def test_every_write_goes_through_the_given_writer(
    engine: Engine, feeds: FeedStore, client: httpx.AsyncClient, site: FeedSite
) -> None:
    """should run the ingest and every poll's bookkeeping through the writer, nothing beside it."""
    written: list[str] = []

    async def write(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        written.append(fn.__name__)
        return await asyncio.to_thread(fn, *args, **kwargs)

    poller = FeedPoller(engine, feeds, client, allow_private=True, resolver=local_resolver, write=write)
    feed, _ = await poller.subscribe(site.url, collection="global")
    generation = engine.store.generation
    await poller.poll(feed)
    assert engine.store.generation > generation and engine.store.article_count() == 2
    await poller.poll(feed)
    feeds.add("http://localhost:1/feed.xml", collection="global")
    await poller.poll_due()
    assert written == ["_commit", "record_success", "record_failure"]  # new articles, 304, failure


async def test_poll_due_reads_the_injected_clock(
    engine: Engine, feeds: FeedStore, client: httpx.AsyncClient, site: FeedSite
) -> None:
    """should take "now" from the clock it is given, for due feeds and for the next poll's time."""
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    poller = FeedPoller(engine, feeds, client, allow_private=True, resolver=local_resolver, clock=lambda: now)
    feed, _ = await poller.subscribe(site.url, collection="global")
    [result] = await poller.poll_due()
    assert result.error is None
    stored = feeds.get(feed.id)
    assert stored is not None and stored.last_success == now and stored.next_poll == now + INTERVAL
    assert await poller.poll_due() == []
    now += INTERVAL
    assert [r.feed.id for r in await poller.poll_due()] == [feed.id]
