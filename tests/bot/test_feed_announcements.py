"""Feed announcements through the outbox: a worker polls, a bot posts; claims keep two bots from posting one
announcement twice; a post that failed for a passing reason is tried again, one refused is given up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import discord
import httpx
import pytest

from app.engine import Engine
from app.worker import Worker, WorkerConfig
from bot.client import NewsdeskBot
from bot.cogs import feeds as feeds_cog
from bot.cogs.feeds import FeedsCog
from bot.desk import Desk
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from index.announcements import Outbox
from index.feedpoller import FeedPoller, NewArticle, PollResult
from index.feedstore import Feed, FeedStore
from index.fetch import make_client
from index.jobs import JobStore, PollLock
from index.models import RawArticle
from tests.conftest import MakeEngine, OpenStore
from tests.feedsite import STORIES, FeedSite, local_resolver

from .conftest import GUILD
from .test_feeds_cog import CHANNEL, text_channel

pytestmark = pytest.mark.both_engines


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine()


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    desk = Desk(engine, limiter=RateLimiter(600))
    yield desk
    desk.close()


@pytest.fixture
async def bot(desk: Desk, tmp_path: Path) -> AsyncIterator[NewsdeskBot]:
    settings = Settings(_env_file=None, data_dir=tmp_path, sync_commands=False, allow_private_urls=True)
    bot = NewsdeskBot(desk=desk, settings=settings)
    await bot._async_setup_hook()
    yield bot
    await bot.close()


@pytest.fixture
def channel(bot: NewsdeskBot, monkeypatch: pytest.MonkeyPatch) -> Any:
    channel = text_channel()
    monkeypatch.setattr(bot, "get_channel", lambda channel_id: channel if channel_id == CHANNEL else None)
    return channel


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(allow_private=True, resolver=local_resolver) as client:
        yield client


def make_cog(bot: NewsdeskBot, engine: Engine, client: httpx.AsyncClient, **outbox: Any) -> FeedsCog:
    """A bot process's feeds cog on ``engine``'s store (each call: another process)."""
    poller = FeedPoller(engine, FeedStore(engine.store), client, allow_private=True, resolver=local_resolver)
    return FeedsCog(bot, poller, Outbox(engine.store, **outbox))


def titles(*channels: Any) -> list[str]:
    """The titles of every embed posted in ``channels``, in order."""
    return [call.kwargs["embed"].title for c in channels for call in c.send.await_args_list]


def queue(engine: Engine, feed: Feed, *names: str) -> list[str]:
    """Index one article per name and queue their announcement, as a poll of ``feed`` would."""
    raws = [RawArticle(title=n, text=f"The story of {n}, told in a sentence or two.", source="Daily") for n in names]
    ids = engine.ingest(raws, collection=feed.collection).article_ids
    news = [NewArticle(i, n, None, "Daily", None, feed.channel_id) for i, n in zip(ids, names, strict=True)]
    assert Outbox(engine.store).add(PollResult(feed, new_articles=news)) == len(names)
    return ids


@pytest.fixture
def feed(engine: Engine) -> Feed:
    return FeedStore(engine.store).add("https://example.com/rss", collection=str(GUILD), channel_id=CHANNEL)[0]


async def test_a_feed_polled_by_a_worker_is_announced_by_a_bot_backlog_never(
    bot: NewsdeskBot,
    engine: Engine,
    make_engine: MakeEngine,
    open_store: OpenStore,
    database_url: str | None,
    client: httpx.AsyncClient,
    channel: Any,
    httpserver: Any,
    tmp_path: Path,
) -> None:
    """should post, from a bot process that does not poll, the new article a worker's poll queued (fixed: never)."""
    if database_url is None:
        pytest.skip("a worker needs the shared store; on SQLite the one bot process polls and posts")
    site = FeedSite(httpserver)
    site.add(STORIES["tram"], STORIES["bridge"])
    worker_engine = make_engine(data_dir=tmp_path / "worker")
    worker = Worker(worker_engine, JobStore(worker_engine.store), WorkerConfig(allow_private=True, poll_feeds=False))
    FeedStore(worker_engine.store).add(site.url, collection=str(GUILD), channel_id=CHANNEL)
    polling = PollLock(open_store().db)  # the worker's feed loop holds the lock: bots do not poll
    assert polling.acquire() is True
    cog, other = make_cog(bot, make_engine(data_dir=tmp_path / "bot"), client), make_cog(bot, engine, client)
    try:
        backlog = await asyncio.to_thread(worker.feed_poll, False)
        assert (backlog["new_articles"], backlog["announcements"]) == (2, 0)
        assert await cog.poll_once() == [] and await other.poll_once() == []
        channel.send.assert_not_awaited()

        site.add(STORIES["museum"])
        news = await asyncio.to_thread(worker.feed_poll, True)
        assert (news["new_articles"], news["announcements"]) == (1, 1)
        assert await cog.poll_once() == []  # this bot does not poll, but it posts
        assert await other.poll_once() == []  # the other bot has nothing left to post
        assert titles(channel) == [STORIES["museum"].title]
        embed = channel.send.await_args.kwargs["embed"]
        assert embed.url == site.server.url_for("/news/museum") and embed.author.name == "The Daily Example"
        [row] = cog.outbox.list()
        assert row.posted_at is not None and row.attempts == 1
    finally:
        polling.release()


async def test_two_bots_never_post_the_same_announcement(
    bot: NewsdeskBot,
    engine: Engine,
    open_store: OpenStore,
    client: httpx.AsyncClient,
    feed: Feed,
    channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """should post each queued announcement exactly once when two processes claim at the same time."""
    monkeypatch.setattr(feeds_cog, "ANNOUNCE_BATCH", 2)  # small claims, so that both processes get some
    names = [f"Story {n}" for n in range(7)]
    queue(engine, feed, *names)
    first, second = make_cog(bot, engine, client), make_cog(bot, engine, client)
    second.outbox = Outbox(open_store())  # its own connection, as another process has
    posted = 0
    while batch := sum(await asyncio.gather(first.announce_pending(), second.announce_pending())):
        posted += batch
    assert posted == 7 and sorted(titles(channel)) == sorted(names)


async def test_a_transient_error_is_retried_and_a_refusal_given_up(
    bot: NewsdeskBot, engine: Engine, client: httpx.AsyncClient, feed: Feed, channel: Any
) -> None:
    """should try a post again after a Discord server error, and never again once posting is forbidden."""
    response = MagicMock(status=503, reason="Service Unavailable")
    sent: list[str] = []

    async def send(*, embed: discord.Embed, allowed_mentions: discord.AllowedMentions) -> None:
        if len(sent) == 0 and embed.title == "Flaky":
            sent.append("failed")
            raise discord.DiscordServerError(response, "try later")
        assert embed.title is not None
        sent.append(embed.title)

    channel.send.side_effect = send
    cog = make_cog(bot, engine, client, lease=timedelta(0))  # a failed post is due again at once
    queue(engine, feed, "Flaky")
    assert await cog.announce_pending() == 0
    [row] = cog.outbox.list()
    assert (row.attempts, row.posted_at, row.claimed_by) == (1, None, None)
    assert row.last_error is not None and "503" in row.last_error
    assert await cog.announce_pending() == 1
    assert sent == ["failed", "Flaky"] and cog.outbox.list()[0].posted_at is not None

    channel.send.side_effect = discord.Forbidden(MagicMock(status=403, reason="Forbidden"), "Missing Access")
    queue(engine, feed, "Refused one", "Refused two")
    assert await cog.announce_pending() == 0
    assert channel.send.await_count == 3  # the second was not even tried
    refused = cog.outbox.list()[1:]
    assert [(r.attempts, r.posted_at) for r in refused] == [(3, None), (3, None)]
    assert await cog.announce_pending() == 0 and channel.send.await_count == 3


async def test_an_announcement_for_another_servers_channel_is_not_posted(
    bot: NewsdeskBot, engine: Engine, client: httpx.AsyncClient, feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should refuse a channel of another server at posting time too, and leave the row unposted."""
    foreign = text_channel(GUILD + 1)
    monkeypatch.setattr(bot, "get_channel", lambda channel_id: foreign)
    cog = make_cog(bot, engine, client)
    queue(engine, feed, "Local news")
    assert await cog.announce_pending() == 0
    foreign.send.assert_not_awaited()
    [row] = cog.outbox.list()
    assert row.posted_at is None and row.last_error is not None and "not a text channel" in row.last_error


async def test_an_article_no_longer_indexed_is_given_up_unposted(
    bot: NewsdeskBot, engine: Engine, client: httpx.AsyncClient, feed: Feed, channel: Any
) -> None:
    """should skip an announcement whose article is gone, for good, and still post the others of the batch."""
    gone = NewArticle("no-such-article", "Gone", None, None, None, CHANNEL)
    assert Outbox(engine.store).add(PollResult(feed, new_articles=[gone])) == 1
    queue(engine, feed, "Still here")
    cog = make_cog(bot, engine, client)
    assert await cog.announce_pending() == 1
    assert titles(channel) == ["Still here"]
    first, second = cog.outbox.list()
    assert (first.article_id, first.attempts, first.posted_at) == ("no-such-article", 3, None)
    assert first.last_error == "the article is no longer indexed" and second.posted_at is not None
