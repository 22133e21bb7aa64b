"""The announcement outbox: add (never a backlog), claim under a lease, posted, failed and retried, pruned."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from index.announcements import Outbox
from index.feedpoller import NewArticle, PollResult
from index.feedstore import Feed, FeedStore
from tests.conftest import OpenStore

pytestmark = pytest.mark.both_engines

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
CHANNEL = 2**62 + 7  # a Discord id needs 64 bits


@pytest.fixture
def feeds(open_store: OpenStore) -> FeedStore:
    return FeedStore(open_store())


@pytest.fixture
def outbox(feeds: FeedStore) -> Outbox:
    return Outbox(feeds.store, max_attempts=3)


@pytest.fixture
def feed(feeds: FeedStore) -> Feed:
    return feeds.add("https://example.com/rss", collection="42", channel_id=CHANNEL, now=T0)[0]


def _result(feed: Feed, *ids: str, backlog: bool = False) -> PollResult:
    articles = [NewArticle(i, f"Title {i}", f"https://example.com/{i}", None, None, feed.channel_id) for i in ids]
    return PollResult(feed, new_articles=articles, backlog=backlog)


def test_add_queues_new_articles_once_and_never_a_backlog(outbox: Outbox, feeds: FeedStore, feed: Feed) -> None:
    assert outbox.add(_result(feed, "old1", "old2", backlog=True), now=T0) == 0
    silent, _ = feeds.add("https://example.com/quiet", collection="42", now=T0)  # no channel
    assert outbox.add(_result(silent, "q1"), now=T0) == 0
    assert outbox.add(_result(feed, "a1", "a2"), now=T0) == 2
    assert outbox.add(_result(feed, "a2", "a3"), now=T0) == 1  # a2 is queued already
    rows = outbox.list()
    assert [(r.feed_id, r.collection, r.channel_id, r.article_id) for r in rows] == [
        (feed.id, "42", CHANNEL, "a1"),
        (feed.id, "42", CHANNEL, "a2"),
        (feed.id, "42", CHANNEL, "a3"),
    ]
    assert [(r.attempts, r.claimed_by, r.posted_at, r.created_at) for r in rows] == [(0, None, None, T0)] * 3


def test_claim_leases_oldest_first_and_posted_rows_are_never_claimed_again(outbox: Outbox, feed: Feed) -> None:
    outbox.add(_result(feed, "a1", "a2", "a3"), now=T0)
    first = outbox.claim("bot-1", limit=2, lease=LEASE, now=T0)
    assert [(a.article_id, a.claimed_by, a.claimed_at, a.attempts) for a in first] == [
        ("a1", "bot-1", T0, 1),
        ("a2", "bot-1", T0, 1),
    ]
    [third] = outbox.claim("bot-2", limit=5, lease=LEASE, now=T0)
    assert third.article_id == "a3"
    assert outbox.claim("bot-3", lease=LEASE, now=T0 + LEASE / 2) == []  # every claim is live
    for announcement in (*first, third):
        outbox.posted(announcement.id, now=T0 + timedelta(seconds=1))
    assert outbox.claim("bot-3", lease=LEASE, now=T0 + 2 * LEASE) == []
    assert [a.posted_at for a in outbox.list()] == [T0 + timedelta(seconds=1)] * 3


def test_a_stale_claim_is_taken_over(outbox: Outbox, feed: Feed) -> None:
    outbox.add(_result(feed, "a1"), now=T0)
    [claimed] = outbox.claim("died", lease=LEASE, now=T0)
    assert outbox.claim("bot-2", lease=LEASE, now=T0 + LEASE - timedelta(seconds=1)) == []
    [taken] = outbox.claim("bot-2", lease=LEASE, now=T0 + LEASE)
    assert (taken.id, taken.claimed_by, taken.attempts) == (claimed.id, "bot-2", 2)


def test_a_failed_post_is_retried_after_a_lease_then_given_up(outbox: Outbox, feed: Feed) -> None:
    outbox.add(_result(feed, "a1"), now=T0)
    moment = T0
    for attempt in (1, 2, 3):
        [claimed] = outbox.claim("bot", lease=LEASE, now=moment)
        assert claimed.attempts == attempt
        failed = outbox.failed(claimed.id, f"503 try {attempt}", now=moment)
        assert failed is not None
        assert (failed.claimed_by, failed.last_error, failed.posted_at) == (None, f"503 try {attempt}", None)
        assert outbox.claim("bot", lease=LEASE, now=moment + LEASE / 2) == []  # waits one lease
        moment += LEASE
    assert outbox.claim("bot", lease=LEASE, now=moment + LEASE) == []  # given up after 3 tries
    [row] = outbox.list()
    assert (row.attempts, row.last_error, row.posted_at) == (3, "503 try 3", None)


def test_a_permanent_failure_is_given_up_at_once(outbox: Outbox, feed: Feed) -> None:
    outbox.add(_result(feed, "a1"), now=T0)
    [claimed] = outbox.claim("bot", lease=LEASE, now=T0)
    failed = outbox.failed(claimed.id, "not allowed to post", permanent=True, now=T0)
    assert failed is not None and failed.attempts == 3
    assert outbox.claim("bot", lease=LEASE, now=T0 + 2 * LEASE) == []
    outbox.posted(claimed.id, now=T0)
    assert outbox.failed(claimed.id, "late", now=T0) is None  # posted meanwhile: nothing to fail


def test_old_rows_are_pruned_and_old_news_is_not_claimed(outbox: Outbox, feed: Feed) -> None:
    outbox.add(_result(feed, "posted", "stale"), now=T0)
    [posted, _stale] = outbox.claim("bot", lease=LEASE, now=T0)
    outbox.posted(posted.id, now=T0)
    later = T0 + outbox.max_age + LEASE
    assert outbox.claim("bot", lease=LEASE, now=later) == []  # "stale" is a day old: no longer news
    assert outbox.add(_result(feed, "fresh"), now=T0 + outbox.keep + timedelta(seconds=1)) == 1
    assert [a.article_id for a in outbox.list()] == ["fresh"]


def test_removing_the_feed_drops_its_announcements(outbox: Outbox, feeds: FeedStore, feed: Feed) -> None:
    outbox.add(_result(feed, "a1"), now=T0)
    feeds.remove(feed.id)
    assert outbox.list() == []


def test_concurrent_claimers_never_share_an_announcement(outbox: Outbox, open_store: OpenStore, feed: Feed) -> None:
    outbox.add(_result(feed, *(f"a{i}" for i in range(40))), now=datetime.now(UTC))
    boxes = [Outbox(open_store()) for _ in range(3)]  # one store each, as separate processes have
    claimed: list[list[int]] = [[] for _ in boxes]
    start = threading.Barrier(len(boxes))

    def claim_all(n: int) -> None:
        start.wait()
        while batch := boxes[n].claim(f"bot-{n}", limit=3, lease=LEASE):
            claimed[n].extend(a.id for a in batch)

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(len(boxes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = [i for ids in claimed for i in ids]
    assert sorted(every) == sorted(a.id for a in outbox.list())  # each once: none twice, none missed
    assert len(every) == 40
