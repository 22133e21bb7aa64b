"""Tests for index.feedstore: followed feeds, their polling state and handled entries in SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.feedstore import LOOKUP_CHUNK, MAX_ENTRY_ATTEMPTS, EntryOutcome, FeedStore, backoff
from index.store import Store

pytestmark = pytest.mark.both_engines

NOW = datetime(2024, 3, 12, 9, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)
URL = "https://news.example.com/rss.xml"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


@pytest.fixture
def feeds(store: Store) -> FeedStore:
    return FeedStore(store)


def test_add_is_due_at_once_and_survives_reopening(tmp_path: Path, feeds: FeedStore) -> None:
    """should store a new feed due immediately, and find it again after the database is reopened."""
    feed, created = feeds.add(URL, collection="111", channel_id=700, added_by=42, now=NOW)
    assert created
    assert (feed.collection, feed.url, feed.channel_id, feed.added_by) == ("111", URL, 700, 42)
    assert feed.next_poll == NOW and feed.failures == 0 and feed.last_success is None
    assert [f.id for f in feeds.due(NOW)] == [feed.id]
    feeds.store.close()
    again = FeedStore(Store(tmp_path))
    assert again.get(feed.id) == feed


def test_add_dedupes_by_collection_and_canonical_url(feeds: FeedStore) -> None:
    """should treat tracking parameters and host case as the same feed, but keep servers apart."""
    first, _ = feeds.add(URL, collection="111", now=NOW)
    same, created = feeds.add("https://NEWS.example.com/rss.xml?utm_source=x#top", collection="111", now=NOW)
    assert not created and same.id == first.id
    other, created = feeds.add(URL, collection="222", now=NOW)
    assert created and other.id != first.id
    assert len(feeds.list()) == 2


def test_collections_isolate_list_get_and_remove(feeds: FeedStore) -> None:
    """should never show or remove another collection's feed, and report it exactly like a missing one."""
    ours, _ = feeds.add(URL, collection="111", now=NOW)
    theirs, _ = feeds.add("https://wire.example.org/atom.xml", collection="222", now=NOW)
    assert [f.id for f in feeds.list(["111"])] == [ours.id]
    assert feeds.list([]) == []
    assert feeds.get(theirs.id, ["111"]) is None
    assert feeds.remove(theirs.id, ["111"]) is None
    assert feeds.get(theirs.id) is not None  # still there
    assert feeds.remove(9999, ["111"]) is None
    removed = feeds.remove(ours.id, ["111"])
    assert removed is not None and removed.id == ours.id
    assert feeds.list(["111"]) == []


def test_remove_forgets_entries(feeds: FeedStore, store: Store) -> None:
    """should drop the feed's handled entries with it, and ignore marks for a feed removed meanwhile."""
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    feeds.mark_seen(feed.id, "e1", "https://news.example.com/a", article_id="abc")
    feeds.remove(feed.id)
    assert store.db.execute("SELECT COUNT(*) FROM feed_entries").fetchone()[0] == 0
    feeds.mark_seen(feed.id, "e2", "https://news.example.com/b")  # no foreign-key error
    assert feeds.record_entry_failure(feed.id, "e3", "https://news.example.com/c", "500") is True
    assert store.db.execute("SELECT COUNT(*) FROM feed_entries").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("failures", "factor"),
    [pytest.param(0, 1, id="healthy"), pytest.param(1, 2, id="first"), pytest.param(3, 8, id="third"),
     pytest.param(6, 64, id="cap"), pytest.param(40, 64, id="beyond-cap")],
)  # fmt: skip
def test_backoff_doubles_up_to_a_cap(failures: int, factor: int) -> None:
    """should wait interval * 2**min(failures, 6)."""
    assert backoff(INTERVAL, failures) == INTERVAL * factor


def test_failures_back_off_and_success_resets(feeds: FeedStore) -> None:
    """should push next_poll out exponentially, keep the last error, and reset the count on success."""
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    one = feeds.record_failure(feed.id, "the page was not found (404)", now=NOW, interval=INTERVAL)
    assert one is not None and one.failures == 1 and one.next_poll == NOW + 2 * INTERVAL
    two = feeds.record_failure(feed.id, "the site had an error (500); try again later", now=NOW, interval=INTERVAL)
    assert two is not None and two.failures == 2 and two.next_poll == NOW + 4 * INTERVAL
    assert two.last_error == "the site had an error (500); try again later"
    assert feeds.due(NOW + 3 * INTERVAL) == []
    assert [f.id for f in feeds.due(NOW + 4 * INTERVAL)] == [feed.id]
    later = NOW + 4 * INTERVAL
    feeds.record_success(feed.id, now=later, interval=INTERVAL, etag='"v1"', last_modified=None, title="Top stories")
    ok = feeds.get(feed.id)
    assert ok is not None
    assert (ok.failures, ok.etag, ok.title, ok.last_success, ok.next_poll) == (
        0, '"v1"', "Top stories", later, later + INTERVAL)  # fmt: skip
    assert ok.last_error == "the site had an error (500); try again later"  # history for /feed list
    feeds.record_success(feed.id, now=later, interval=INTERVAL, etag=None, last_modified="x", title="")
    kept = feeds.get(feed.id)
    assert kept is not None and kept.title == "Top stories" and kept.last_modified == "x"


def test_record_failure_of_a_removed_feed(feeds: FeedStore) -> None:
    """should return None instead of failing when the feed is gone."""
    assert feeds.record_failure(12345, "boom", now=NOW, interval=INTERVAL) is None


def test_seen_matches_entry_id_or_canonical_link(feeds: FeedStore) -> None:
    """should recognise an entry by its id, or by its link without tracking parameters, per feed."""
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    other, _ = feeds.add("https://other.example.com/feed", collection="global", now=NOW)
    link = "https://news.example.com/2024/tram?utm_source=rss"
    assert not feeds.seen(feed.id, "guid-1", link)
    feeds.mark_seen(feed.id, "guid-1", link, article_id="a1")
    assert feeds.seen(feed.id, "guid-1")
    assert feeds.seen(feed.id, "regenerated-guid", "https://NEWS.example.com/2024/tram")
    assert not feeds.seen(feed.id, "guid-2", "https://news.example.com/2024/bus")
    assert not feeds.seen(other.id, "guid-1", link)
    assert feeds.entry_count(feed.id) == 1


def test_entry_failures_retry_then_give_up(feeds: FeedStore) -> None:
    """should keep a failing entry unseen for MAX_ENTRY_ATTEMPTS polls, then give it up."""
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    link = "https://news.example.com/story"
    for _ in range(MAX_ENTRY_ATTEMPTS - 1):
        assert feeds.record_entry_failure(feed.id, "e", link, "the site had an error (500)") is False
        assert not feeds.seen(feed.id, "e", link)
    assert feeds.record_entry_failure(feed.id, "e", link, "the site had an error (500)") is True
    assert feeds.seen(feed.id, "e", link)


def test_article_for_url_is_scoped_to_the_collection(feeds: FeedStore, store: Store) -> None:
    """should find an indexed article by canonical URL in the same collection only."""
    import numpy as np

    from index.models import Article, Passage

    article = Article(id="a1", collection="111", title="Tram", text="The council voted for a tram.",
                      url="https://news.example.com/tram")  # fmt: skip
    store.put(article, [Passage("a1", 0, 0, 29, article.text)], np.zeros((1, 4), np.float32), model="m")
    assert feeds.article_for_url("111", "https://news.example.com/tram?utm_medium=feed") == "a1"
    assert feeds.article_for_url("222", "https://news.example.com/tram") is None


def test_feed_writes_do_not_bump_the_generation(feeds: FeedStore, store: Store) -> None:
    """should leave the index generation alone, so feed bookkeeping never triggers a snapshot rebuild."""
    before = store.generation
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    feeds.record_failure(feed.id, "x", now=NOW, interval=INTERVAL)
    feeds.mark_seen(feed.id, "e", "https://news.example.com/a")
    feeds.remove(feed.id)
    assert store.generation == before


def test_handled_looks_entries_up_in_bulk(feeds: FeedStore, store: Store) -> None:
    """should find handled entries among 1,200 with one query per 500 entries, not one per entry."""
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    stored = [EntryOutcome(f"e{n}", f"https://news.example.com/{n}", article_id=f"a{n}") for n in range(0, 1200, 2)]
    feeds.record_entries(feed.id, stored, now=NOW)
    entries = [(f"e{n}", f"https://news.example.com/{n}?utm_source=rss") for n in range(1200)]
    entries[1] = ("new-guid-for-e0", "https://news.example.com/0")  # a regenerated guid, same link
    statements: list[str] = []
    store.db.connection.set_trace_callback(statements.append)
    try:
        handled = feeds.handled(feed.id, entries)
    finally:
        store.db.connection.set_trace_callback(None)
    assert handled == {f"e{n}" for n in range(0, 1200, 2)} | {"new-guid-for-e0"}
    assert len([s for s in statements if "feed_entries" in s]) == 3 == -(-1200 // LOOKUP_CHUNK)


def test_record_entries_stores_a_poll_in_one_transaction(feeds: FeedStore, store: Store) -> None:
    """should store handled entries and count failed pages in one transaction, returning those left to retry."""
    feed, _ = feeds.add(URL, collection="global", now=NOW)
    link = "https://news.example.com/story"
    statements: list[str] = []
    store.db.connection.set_trace_callback(statements.append)
    try:
        retrying = feeds.record_entries(
            feed.id,
            [EntryOutcome("ok", "https://news.example.com/ok", article_id="a1"),
             EntryOutcome("gone", "https://news.example.com/gone", error="not found (404)"),
             EntryOutcome("flaky", link, error="error (500)", retry=True)],
            max_attempts=2,
            now=NOW,
        )  # fmt: skip
    finally:
        store.db.connection.set_trace_callback(None)
    assert retrying == 1 and [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert feeds.handled(feed.id, [("ok", ""), ("gone", ""), ("flaky", link)]) == {"ok", "gone"}
    assert feeds.record_entries(feed.id, [EntryOutcome("flaky", link, error="error (500)", retry=True)],
                                max_attempts=2, now=NOW) == 0  # fmt: skip
    assert feeds.seen(feed.id, "flaky") and feeds.entry_count(feed.id) == 3


def test_articles_for_urls_in_bulk(feeds: FeedStore, store: Store) -> None:
    """should map canonical URLs to the articles stored under them in the collection."""
    import numpy as np

    from index.models import Article, Passage

    for n in range(3):
        article = Article(id=f"a{n}", collection="111", title="Tram", text="The council voted for a tram.",
                          url=f"https://news.example.com/{n}")  # fmt: skip
        store.put(article, [Passage(article.id, 0, 0, 29, article.text)], np.zeros((1, 4), np.float32), model="m")
    urls = ["https://news.example.com/0?utm_source=x", "https://news.example.com/2", "https://news.example.com/9"]
    assert feeds.articles_for_urls("111", urls) == {
        "https://news.example.com/0": "a0",
        "https://news.example.com/2": "a2",
    }
    assert feeds.articles_for_urls("222", urls) == {}
