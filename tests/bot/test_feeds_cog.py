"""The feeds cog: /feed add|list|remove callbacks, its schema, the loop's announcements (no Discord),
and how ``bot/run.py`` wires the poller to the desk's write path."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import discord
import httpx
import pytest
from discord import app_commands
from pytest_httpserver import HTTPServer

from app.config import EngineConfig
from app.engine import Engine
from bot.cli_feeds import make_poller
from bot.client import NewsdeskBot
from bot.cogs.admin import moderators_only
from bot.cogs.feeds import FeedsCog
from bot.desk import Desk
from bot.errors import NotModeratorError
from bot.ratelimit import RateLimiter
from bot.run import desk_writer
from bot.settings import Settings
from index.feedpoller import FeedPoller
from index.feedstore import Feed, FeedStore
from index.fetch import make_client
from index.jobs import PollLock
from index.models import RawArticle
from index.pipeline import IngestReport, Progress
from index.readers import ReadResult
from index.store import Store
from tests.fakes import FakeEncoder
from tests.feedsite import STORIES, FeedSite, local_resolver

from .conftest import GUILD, OTHER_GUILD, USER

CHANNEL = 700
MANAGE_GUILD = 1 << 5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, sync_commands=False, allow_private_urls=True)


@pytest.fixture
def engine_desk(empty_engine: Engine) -> Iterator[Desk]:
    desk = Desk(empty_engine, limiter=RateLimiter(600))
    yield desk
    desk.close()


@pytest.fixture
async def bot(engine_desk: Desk, settings: Settings) -> AsyncIterator[NewsdeskBot]:
    bot = NewsdeskBot(desk=engine_desk, settings=settings)
    await bot._async_setup_hook()  # what ``async with bot`` does first: bind to this loop
    yield bot
    await bot.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(allow_private=True, resolver=local_resolver) as client:
        yield client


@pytest.fixture
def store(empty_engine: Engine) -> FeedStore:
    return FeedStore(empty_engine.store)


class Clock:
    """The poller's "now", moved on by the tests instead of rewriting the feeds' schedule in SQL."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def next_interval(self) -> None:
        self.now += timedelta(minutes=15)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cog(bot: NewsdeskBot, empty_engine: Engine, store: FeedStore, client: httpx.AsyncClient, clock: Clock) -> FeedsCog:
    poller = FeedPoller(empty_engine, store, client, allow_private=True, resolver=local_resolver, clock=clock)
    return FeedsCog(bot, poller)


@pytest.fixture
def site(httpserver: HTTPServer) -> FeedSite:
    site = FeedSite(httpserver)
    site.add(STORIES["tram"], STORIES["bridge"])
    return site


def make_interaction(bot: NewsdeskBot, *, guild_id: int | None = GUILD, manage_guild: bool = True) -> Any:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.client = bot
    interaction.guild_id = guild_id
    interaction.user = MagicMock(spec=discord.Member)
    interaction.user.id = USER
    interaction.user.roles = []
    interaction.permissions = discord.Permissions(manage_guild=manage_guild)
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.is_done.side_effect = lambda: (
        interaction.response.defer.called or interaction.response.send_message.called
    )
    interaction.followup = MagicMock(spec=discord.Webhook)
    return interaction


def sent(interaction: Any) -> list[tuple[str, bool]]:
    """Every message the interaction sent: (content, ephemeral)."""
    calls = [*interaction.response.send_message.call_args_list, *interaction.followup.send.call_args_list]
    return [(c.kwargs.get("content") or (c.args[0] if c.args else ""), c.kwargs.get("ephemeral", False)) for c in calls]


def text_channel(guild_id: int = GUILD, *, can_post: bool = True) -> Any:
    channel = MagicMock(spec=discord.TextChannel)
    channel.id = CHANNEL
    channel.mention = f"<#{CHANNEL}>"
    channel.guild = MagicMock(spec=discord.Guild)
    channel.guild.id = guild_id
    channel.permissions_for.return_value = (
        discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
        if can_post
        else discord.Permissions(view_channel=True)
    )
    return channel


# -- loading and schema ---------------------------------------------------------------------------


async def test_cog_registers_a_guild_only_feed_group(cog: FeedsCog, bot: NewsdeskBot) -> None:
    """should add /feed with add, list and remove, hidden behind Manage Server, in servers only."""
    await bot.add_cog(cog)
    try:
        group = bot.tree.get_command("feed")
        assert isinstance(group, app_commands.Group)
        schema = group.to_dict(bot.tree)
        assert schema["default_member_permissions"] == MANAGE_GUILD and schema["contexts"] == [0]
        subs = {o["name"]: o for o in schema["options"]}
        assert list(subs) == ["add", "list", "remove"]
        assert [(o["name"], o["type"], o["required"]) for o in subs["add"]["options"]] == [
            ("url", 3, True), ("channel", 7, False)]  # fmt: skip
        assert [(o["name"], o["type"], o.get("autocomplete")) for o in subs["remove"]["options"]] == [
            ("feed", 4, True)]  # fmt: skip
        for sub in subs.values():
            assert len(sub["description"]) <= 100
        for command in group.commands:
            assert moderators_only in command.checks
    finally:
        await bot.remove_cog("Feeds")  # stops the loop


async def test_moderator_role_makes_the_group_visible(
    engine_desk: Desk, empty_engine: Engine, store: FeedStore, tmp_path: Path
) -> None:
    """should drop the default permission when a moderator role is configured."""
    settings = Settings(_env_file=None, data_dir=tmp_path, sync_commands=False, moderator_role="Editors")
    bot = NewsdeskBot(desk=engine_desk, settings=settings)
    await bot._async_setup_hook()
    try:
        await bot.add_cog(FeedsCog(bot, FeedPoller(empty_engine, store)))
        group = bot.tree.get_command("feed")
        assert group is not None and group.to_dict(bot.tree)["default_member_permissions"] is None
        await bot.remove_cog("Feeds")
    finally:
        await bot.close()


class WatchedEngine(Engine):
    """A real engine that notes, at each ingest, which thread runs it and whether the desk's write lock is held."""

    def __init__(self, config: EngineConfig) -> None:
        super().__init__(config, encoder=FakeEncoder())
        self.desk: Desk | None = None
        self.ingests: list[tuple[str, bool]] = []

    def ingest(
        self,
        items: Iterable[ReadResult | RawArticle],
        *,
        collection: str = "global",
        progress: Progress | None = None,
    ) -> IngestReport:
        assert self.desk is not None
        self.ingests.append((threading.current_thread().name, self.desk.write_lock.locked()))
        return super().ingest(items, collection=collection, progress=progress)


async def test_feed_polls_write_through_the_desk_like_moderator_ingests(
    tmp_path: Path, settings: Settings, client: httpx.AsyncClient, site: FeedSite
) -> None:
    """should ingest a feed's articles in the desk's write thread, holding its write lock (it had a path of its own)."""
    engine = WatchedEngine(EngineConfig(data_dir=tmp_path / "watched"))
    desk = engine.desk = Desk(engine, limiter=RateLimiter(6))
    try:
        poller = make_poller(engine, settings, client, write=desk_writer(desk))
        assert poller.client is client and poller.max_entries == settings.feed_max_entries == 500
        poller.resolver = local_resolver
        feed, _ = await poller.subscribe(site.url, collection=str(GUILD))
        result = await poller.poll(feed)
        assert result.error is None and len(result.new_articles) == 2
        [(thread, locked)] = engine.ingests
        assert thread.startswith("newsdesk-write") and locked
        assert not desk.write_lock.locked()
    finally:
        desk.close()
        engine.close()


def test_check_refuses_non_moderators_and_direct_messages(bot: NewsdeskBot) -> None:
    """should let moderators through, and refuse others and DMs with the tree's known errors."""
    assert moderators_only(make_interaction(bot)) is True
    with pytest.raises(NotModeratorError, match="Only moderators"):
        moderators_only(make_interaction(bot, manage_guild=False))
    with pytest.raises(app_commands.NoPrivateMessage):
        moderators_only(make_interaction(bot, guild_id=None))


# -- commands -------------------------------------------------------------------------------------


async def test_add_follows_the_feed_in_this_server(cog: FeedsCog, bot: NewsdeskBot, site: FeedSite) -> None:
    """should defer, check the feed, store it in the server's collection with the channel, and say so privately."""
    interaction = make_interaction(bot)
    await cog.add.callback(cog, interaction, url=site.url, channel=text_channel())
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    [(message, ephemeral)] = sent(interaction)
    assert ephemeral and "Following **The Daily Example** (feed 1)" in message and f"<#{CHANNEL}>" in message
    [feed] = cog.feeds.list()
    assert (feed.collection, feed.channel_id, feed.added_by) == (str(GUILD), CHANNEL, USER)
    again = make_interaction(bot)
    await cog.add.callback(cog, again, url=site.url, channel=None)
    assert "already follows **The Daily Example** (feed 1)" in sent(again)[0][0]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [pytest.param(404, "gone", "the page was not found (404)", id="404"),
     pytest.param(200, "<html><body><p>hi</p></body></html>", "doesn't look like an RSS or Atom feed", id="html")],
)  # fmt: skip
async def test_add_refuses_what_is_not_a_feed(
    cog: FeedsCog, bot: NewsdeskBot, httpserver: HTTPServer, status: int, body: str, expected: str
) -> None:
    """should answer a short private reason and follow nothing."""
    httpserver.expect_request("/bad").respond_with_data(body, status=status, content_type="text/html")
    interaction = make_interaction(bot)
    await cog.add.callback(cog, interaction, url=httpserver.url_for("/bad"), channel=None)
    [(message, ephemeral)] = sent(interaction)
    assert ephemeral and message.startswith("I can't follow that feed: ") and message.endswith(expected)
    assert cog.feeds.list() == []


async def test_add_refuses_a_channel_the_bot_cannot_post_in(cog: FeedsCog, bot: NewsdeskBot, site: FeedSite) -> None:
    """should name the missing permissions before fetching anything."""
    interaction = make_interaction(bot)
    await cog.add.callback(cog, interaction, url=site.url, channel=text_channel(can_post=False))
    [(message, ephemeral)] = sent(interaction)
    assert ephemeral and "I can't post in <#700>" in message and "Send Messages, Embed Links" in message
    assert cog.feeds.list() == [] and site.responses == []


async def test_list_shows_only_this_servers_feeds_with_their_last_error(cog: FeedsCog, bot: NewsdeskBot) -> None:
    """should list this server's feeds with failures and last error, and never another server's."""
    from datetime import UTC, datetime, timedelta

    ours, _ = cog.feeds.add("https://ours.example.com/rss", collection=str(GUILD), channel_id=CHANNEL)
    cog.feeds.add("https://theirs.example.com/rss", collection=str(OTHER_GUILD))
    cog.feeds.record_failure(ours.id, "the site had an error (500)", now=datetime.now(UTC), interval=timedelta(1))
    interaction = make_interaction(bot)
    await cog.list_feeds.callback(cog, interaction)
    [(message, ephemeral)] = sent(interaction)
    assert ephemeral and "ours.example.com" in message and "theirs.example.com" not in message
    assert "failing (1× in a row): the site had an error (500)" in message and f"<#{CHANNEL}>" in message
    empty = make_interaction(bot, guild_id=999)
    await cog.list_feeds.callback(cog, empty)
    assert "follows no feeds yet" in sent(empty)[0][0]


async def test_remove_cannot_touch_another_servers_feed(cog: FeedsCog, bot: NewsdeskBot) -> None:
    """should answer as if another server's feed did not exist, and remove this server's own."""
    ours, _ = cog.feeds.add("https://ours.example.com/rss", collection=str(GUILD))
    theirs, _ = cog.feeds.add("https://theirs.example.com/rss", collection=str(OTHER_GUILD))
    interaction = make_interaction(bot)
    await cog.remove.callback(cog, interaction, feed=theirs.id)
    assert sent(interaction) == [(f"This server follows no feed {theirs.id}; see `/feed list`.", True)]
    assert cog.feeds.get(theirs.id) is not None
    interaction = make_interaction(bot)
    await cog.remove.callback(cog, interaction, feed=ours.id)
    assert "Stopped following **ours.example.com/rss**" in sent(interaction)[0][0].replace("https://", "")
    assert cog.feeds.get(ours.id) is None


async def test_autocomplete_offers_this_servers_feeds_to_moderators(cog: FeedsCog, bot: NewsdeskBot) -> None:
    """should suggest only this server's feeds, and nothing to non-moderators."""
    ours, _ = cog.feeds.add("https://ours.example.com/rss", collection=str(GUILD), title="Our Paper")
    cog.feeds.add("https://theirs.example.com/rss", collection=str(OTHER_GUILD), title="Their Paper")
    choices = await cog.feed_autocomplete(make_interaction(bot), "paper")
    assert [(c.name, c.value) for c in choices] == [(f"{ours.id} · Our Paper", ours.id)]
    assert await cog.feed_autocomplete(make_interaction(bot, manage_guild=False), "") == []


# -- polling and announcements --------------------------------------------------------------------


async def test_new_article_is_announced_once_backlog_never(
    cog: FeedsCog, bot: NewsdeskBot, site: FeedSite, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should post one embed for a story the feed gains, none for the backlog, and none when polling again."""
    channel = text_channel()
    monkeypatch.setattr(bot, "get_channel", lambda channel_id: channel if channel_id == CHANNEL else None)
    await cog.add.callback(cog, make_interaction(bot), url=site.url, channel=channel)
    [backlog] = await cog.poll_once()
    assert backlog.backlog and len(backlog.new_articles) == 2
    channel.send.assert_not_awaited()

    site.add(STORIES["museum"])
    assert await cog.poll_once() == []  # not due yet
    clock.next_interval()
    [result] = await cog.poll_once()
    assert len(result.new_articles) == 1
    channel.send.assert_awaited_once()
    embed = channel.send.await_args.kwargs["embed"]
    assert embed.title == STORIES["museum"].title and embed.url == site.server.url_for("/news/museum")
    assert embed.author.name == "The Daily Example" and embed.timestamp == STORIES["museum"].published
    assert channel.send.await_args.kwargs["allowed_mentions"].to_dict()["parse"] == []

    clock.next_interval()
    [again] = await cog.poll_once()
    assert again.not_modified and channel.send.await_count == 1


async def test_announce_refuses_a_channel_of_another_server(
    cog: FeedsCog, bot: NewsdeskBot, site: FeedSite, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should never post a server's feed into a channel that belongs to another server."""
    foreign = text_channel(OTHER_GUILD)
    monkeypatch.setattr(bot, "get_channel", lambda channel_id: foreign)
    # Due at the poller's clock, not the wall clock: added a second boundary later, it was not due yet (flaky in CI).
    cog.feeds.add(site.url, collection=str(GUILD), channel_id=CHANNEL, now=clock())
    [backlog] = await cog.poller.poll_due()
    assert await cog.announce(backlog) == 0
    foreign.send.assert_not_awaited()


class LockedFeedStore(FeedStore):
    """A feed store whose database is locked by another process when the loop asks for the due feeds."""

    def due(self, now: datetime) -> list[Feed]:
        raise sqlite3.OperationalError("database is locked")


async def test_loop_tick_survives_an_error(
    bot: NewsdeskBot, empty_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """should log a failed polling round and keep the loop alive."""
    cog = FeedsCog(bot, FeedPoller(empty_engine, LockedFeedStore(empty_engine.store)))
    with caplog.at_level(logging.ERROR):
        await cog.poll_loop()
    assert "feed polling round failed" in caplog.text and "database is locked" in caplog.text


@pytest.mark.both_engines
async def test_on_the_shared_store_only_the_process_holding_the_polling_lock_polls(
    bot: NewsdeskBot,
    make_engine: Callable[..., Engine],
    open_store: Callable[..., Store],
    database_url: str | None,
    client: httpx.AsyncClient,
    site: FeedSite,
) -> None:
    """should skip a round while another process (a worker, another bot) holds the feed-polling lock."""
    if database_url is None:
        pytest.skip("SQLite has one process, which always polls (the tests above)")
    engine = make_engine()
    poller = FeedPoller(engine, FeedStore(engine.store), client, allow_private=True, resolver=local_resolver)
    cog = FeedsCog(bot, poller)
    await cog.add.callback(cog, make_interaction(bot), url=site.url, channel=None)
    other = PollLock(open_store().db)
    assert other.acquire() is True
    assert await cog.poll_once() == []
    other.release()
    [backlog] = await cog.poll_once()
    assert backlog.backlog and len(backlog.new_articles) == 2
    assert other.acquire() is False
    await cog.cog_unload()
    assert other.acquire() is True
    other.release()
