"""``/feed add|list|remove`` (moderators) and the background task that polls feeds and announces new articles.

Thin Discord glue over ``index.feedpoller.FeedPoller``: the poller fetches, ingests and
keeps the feed state in the article database; this cog only turns commands into poller calls
and poll results into channel messages. ``bot/run.py`` builds the one poller (on the bot's
HTTP client, writing through the desk's writer like ``/ingest`` and ``/reindex``) and adds
this cog with it; the cog makes nothing of its own.

Scope: a server's feeds live in its own collection (the server id), like its articles, and
every command works on that collection only, so one server's moderators can neither see nor
change another server's feeds. Who may run the commands: as ``/ingest`` (Manage Server, or
the configured moderator role; see ``bot/cogs/admin.py``).

The background loop wakes every minute (or every polling interval, if shorter) and polls
the feeds that are due; each feed has its own schedule and backoff in the database. On the
shared store (PostgreSQL) a round runs only in the one process, bot or worker, that holds the
feed-polling lock (``index.jobs.PollLock``). Whoever polls queues the new articles in the
announcement outbox (``index.announcements``): not those of a feed's first poll (its backlog),
so following a feed does not flood the channel with old stories. Then, at every tick and in
every bot process (on both engines), the cog claims pending announcements and posts them: a
feed polled by ``newsdesk worker`` is announced too, any shard can post to any channel through
the REST API, the claim keeps two processes from posting the same one, and a post that failed
for a passing reason is tried again a few times.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import NewsdeskBot
from bot.cogs.admin import moderator_group, moderators_only, show_to_moderator_role
from bot.render import CONTENT_LIMIT, FOOTER_LIMIT, MAX_LINK_CHARS, TITLE_LIMIT, Reply, escape_markdown, pack
from bot.responders import InteractionResponder, no_pings
from index.announcements import Announcement, Outbox
from index.errors import IngestError
from index.feedpoller import FeedPoller, NewArticle, PollResult
from index.feedstore import Feed, FeedStore
from index.jobs import PollLock, default_owner
from retrieval.answer import shorten

log = logging.getLogger(__name__)

ANNOUNCE_COLOUR = 0x3B6EA5
MAX_TICK_MINUTES = 1.0
ANNOUNCE_BATCH = 20
"""Announcements claimed (and posted) per tick and process."""
# Announcements need these in the chosen channel; checked when the feed is added.
_NEEDED = ("view_channel", "send_messages", "embed_links")


def article_embed(article: NewArticle, feed: Feed) -> discord.Embed:
    """The short announcement of one new article: linked title, publisher, date, and the feed it came from."""
    url = article.url if article.url and len(article.url) <= MAX_LINK_CHARS else None
    embed = discord.Embed(
        title=shorten(article.title, TITLE_LIMIT), url=url, colour=ANNOUNCE_COLOUR, timestamp=article.published
    )
    if article.source:
        embed.set_author(name=shorten(article.source, 256))
    embed.set_footer(text=shorten(f"New in {feed.name} · ask me about it with /ask", FOOTER_LIMIT))
    return embed


def _feed_line(feed: Feed) -> str:
    """One feed in ``/feed list``: id, name, channel, and how its polling goes."""
    channel = f" → <#{feed.channel_id}>" if feed.channel_id else ""
    head = f"**{feed.id}** · {escape_markdown(shorten(feed.name, 100))}{channel}\n<{shorten(feed.url, 300)}>"
    checked = discord.utils.format_dt(feed.last_success, "R") if feed.last_success else "not yet"
    status = f"last read {checked}, next {discord.utils.format_dt(feed.next_poll, 'R')}"
    if feed.failures:
        status = f"⚠️ failing ({feed.failures}× in a row): {escape_markdown(feed.last_error or '?')}; {status}"
    return f"{head}\n{status}"


class FeedsCog(commands.Cog, name="Feeds"):
    """Feeds this server follows, and the task that polls them."""

    feed = moderator_group("feed", "Follow RSS or Atom news feeds in this server (moderators)")

    def __init__(self, bot: NewsdeskBot, poller: FeedPoller, outbox: Outbox | None = None) -> None:
        """Wire the commands and the loop to ``poller``.

        Args:
            bot: the bot (moderator rule, settings, channels).
            poller: polls and ingests; its ``feeds`` store is what the commands change.
            outbox: the announcement outbox; by default the one in the feeds' store.
        """
        self.bot = bot
        self.poller = poller
        self.feeds: FeedStore = poller.feeds
        self.lock = PollLock(poller.feeds.store.db)  # SQLite: always ours
        self.outbox = outbox or Outbox(poller.feeds.store)
        self.owner = default_owner()  # names this process's claims of announcements
        show_to_moderator_role(bot, self.feed)
        tick = min(MAX_TICK_MINUTES, poller.interval.total_seconds() / 60)
        self.poll_loop.change_interval(minutes=tick)

    async def cog_load(self) -> None:
        """Start polling once the bot is connected."""
        self.poll_loop.start()

    async def cog_unload(self) -> None:
        """Stop polling (a poll in progress is cancelled; its entries are retried next time)."""
        self.poll_loop.cancel()
        await asyncio.to_thread(self.lock.release)

    # -- commands ---------------------------------------------------------------------------------
    @feed.command(name="add")
    @app_commands.check(moderators_only)
    @app_commands.describe(
        url="The feed's address (RSS or Atom), e.g. https://example.com/rss.xml",
        channel="Where to post new articles; leave empty to only index them",
    )
    async def add(
        self,
        interaction: discord.Interaction[NewsdeskBot],
        url: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Follow a news feed: its new articles are indexed for this server, and posted in a channel."""
        responder = InteractionResponder(interaction)
        if channel is not None and (missing := missing_permissions(channel)):
            await responder.notice(
                f"I can't post in {channel.mention}: I need {', '.join(missing)} there. "
                "Give me those, or pick another channel."
            )
            return
        await responder.defer(ephemeral=True)  # fetching the feed can take a few seconds
        try:
            feed, created = await self.poller.subscribe(
                url,
                collection=str(interaction.guild_id),
                channel_id=channel.id if channel else None,
                added_by=interaction.user.id,
            )
        except IngestError as exc:
            log.info("/feed add %s refused for guild %s: %s", url, interaction.guild_id, exc)
            await responder.notice(f"I can't follow that feed: {exc}")
            return
        name = escape_markdown(shorten(feed.name, 200))
        if not created:
            await responder.notice(f"This server already follows **{name}** (feed {feed.id}).")
            return
        where = f"new ones will be posted in <#{feed.channel_id}>" if feed.channel_id else "new ones will be indexed"
        minutes = self.poller.interval.total_seconds() / 60
        await responder.notice(
            f"Following **{name}** (feed {feed.id}). I'll index its latest articles within a minute; {where} "
            f"as they appear (I check every {minutes:g} minutes)."
        )

    @feed.command(name="list")
    @app_commands.check(moderators_only)
    async def list_feeds(self, interaction: discord.Interaction[NewsdeskBot]) -> None:
        """The feeds this server follows, when each was last read, and the last error of failing ones."""
        feeds = await asyncio.to_thread(self.feeds.list, [str(interaction.guild_id)])
        responder = InteractionResponder(interaction)
        if not feeds:
            await responder.notice("This server follows no feeds yet; add one with `/feed add`.")
            return
        parts = pack([_feed_line(f) for f in feeds], CONTENT_LIMIT, sep="\n\n")
        await responder.send([Reply(content=part) for part in parts[:5]], ephemeral=True)

    @feed.command(name="remove")
    @app_commands.check(moderators_only)
    @app_commands.describe(feed="The feed to stop following: start typing its name, or give its number")
    async def remove(self, interaction: discord.Interaction[NewsdeskBot], feed: app_commands.Range[int, 1]) -> None:
        """Stop following a feed; the articles it brought stay indexed."""
        removed = await asyncio.to_thread(self.feeds.remove, feed, [str(interaction.guild_id)])
        responder = InteractionResponder(interaction)
        if removed is None:
            await responder.notice(f"This server follows no feed {feed}; see `/feed list`.")
            return
        await responder.notice(
            f"Stopped following **{escape_markdown(shorten(removed.name, 200))}**; its articles stay indexed."
        )

    @remove.autocomplete("feed")
    async def feed_autocomplete(
        self, interaction: discord.Interaction[NewsdeskBot], current: str
    ) -> list[app_commands.Choice[int]]:
        """This server's feeds whose number, title or URL contains what was typed (moderators only)."""
        if interaction.guild_id is None or not self.bot.is_moderator(interaction.user, interaction.permissions):
            return []
        feeds = await asyncio.to_thread(self.feeds.list, [str(interaction.guild_id)])
        needle = current.strip().casefold()
        matches = [f for f in feeds if needle in f"{f.id} {f.name} {f.url}".casefold()]
        return [app_commands.Choice(name=shorten(f"{f.id} · {f.name}", 100), value=f.id) for f in matches[:25]]

    # -- polling ----------------------------------------------------------------------------------
    @tasks.loop(minutes=MAX_TICK_MINUTES)
    async def poll_loop(self) -> None:
        """One tick: poll the due feeds and announce what they brought; never lets an error end the loop."""
        try:
            await self.poll_once()
        except Exception:
            log.exception("feed polling round failed; trying again next tick")

    @poll_loop.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def poll_once(self) -> list[PollResult]:
        """Poll the due feeds and queue their news, if this process polls; then post the pending announcements.

        Returns:
            The results of this process's polls (none when another process polls).
        """
        results: list[PollResult] = []
        if await asyncio.to_thread(self.lock.acquire):
            results = await self.poller.poll_due()
            for result in results:
                await asyncio.to_thread(self.outbox.add, result)  # nothing for a backlog
        await self.announce_pending()
        return results

    async def announce_pending(self) -> int:
        """Claim pending announcements, whoever polled their feed, and post them; returns how many were posted."""
        claimed = await asyncio.to_thread(self.outbox.claim, self.owner, limit=ANNOUNCE_BATCH)
        groups: dict[tuple[int, int], list[Announcement]] = {}
        for announcement in claimed:
            groups.setdefault((announcement.feed_id, announcement.channel_id), []).append(announcement)
        posted = 0
        for (feed_id, channel_id), group in groups.items():
            posted += await self._announce_claimed(feed_id, channel_id, group)
        return posted

    async def _announce_claimed(self, feed_id: int, channel_id: int, claimed: Sequence[Announcement]) -> int:
        """Post one feed's claimed announcements in its channel and settle each row; returns how many were posted."""
        feed = await asyncio.to_thread(self.feeds.get, feed_id)
        stored = await asyncio.to_thread(self.feeds.store.articles, [a.article_id for a in claimed])
        rows = {a.article_id: a for a in claimed}
        gone = [a for a in claimed if feed is None or a.article_id not in stored]
        for announcement in gone:
            why = "the feed is no longer followed" if feed is None else "the article is no longer indexed"
            await asyncio.to_thread(self.outbox.failed, announcement.id, why, permanent=True)
        found = [stored[row.article_id] for row in claimed if row.article_id in stored]
        articles = [NewArticle(a.id, a.title, a.url, a.source, a.published, channel_id) for a in found]
        if feed is None or not articles:
            return 0
        posted = 0
        async for article, failure in self._post(feed, channel_id, articles):
            row = rows[article.article_id]
            if failure is None:
                posted += 1
                await asyncio.to_thread(self.outbox.posted, row.id)
            else:
                await asyncio.to_thread(self.outbox.failed, row.id, failure.error, permanent=failure.permanent)
        return posted

    async def announce(self, result: PollResult) -> int:
        """Post a poll's new articles in the feed's channel now, bypassing the outbox; returns how many were posted."""
        if result.feed.channel_id is None:
            return 0
        outcomes = [
            failure async for _, failure in self._post(result.feed, result.feed.channel_id, result.new_articles)
        ]
        return outcomes.count(None)

    async def _post(
        self, feed: Feed, channel_id: int, articles: Sequence[NewArticle]
    ) -> AsyncIterator[tuple[NewArticle, _Failure | None]]:
        """Post one embed per article in ``channel_id``, in order, yielding each article's outcome.

        The channel must belong to the feed's own server: a stored channel id can never make
        one server's feed post into another server. A channel the bot may not post in (or that
        is gone) fails every remaining article for good; another HTTP error fails one article,
        to be tried again.
        """
        channel = await server_channel(self.bot, channel_id, feed.collection, f"feed {feed.id}")
        if channel is None:
            for article in articles:
                yield article, _Failure(f"channel {channel_id} is unreachable or not a text channel of the server")
            return
        refused: _Failure | None = None
        for article in articles:
            if refused is not None:
                yield article, refused
                continue
            try:
                await channel.send(embed=article_embed(article, feed), allowed_mentions=no_pings())
            except (discord.Forbidden, discord.NotFound) as exc:
                log.warning("feed %s: cannot post in channel %s: %s", feed.id, channel.id, exc)
                refused = _Failure(f"cannot post in channel {channel.id}: {exc}", permanent=True)
                yield article, refused
            except discord.HTTPException as exc:
                log.warning("feed %s: could not announce %s: %s", feed.id, article.article_id, exc)
                yield article, _Failure(f"Discord error: {exc}")
            else:
                yield article, None


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why an announcement was not posted, and whether trying again cannot help."""

    error: str
    permanent: bool = False


async def server_channel(
    bot: NewsdeskBot, channel_id: int, collection: str, what: str
) -> discord.TextChannel | discord.Thread | None:
    """The text channel (or thread) ``channel_id`` if it belongs to the server of ``collection``, else None (logged).

    A stored channel id can never make one server's feed or digest post into another server.
    """
    channel = bot.get_channel(channel_id)
    if channel is None:
        try:
            channel = await bot.fetch_channel(channel_id)
        except discord.HTTPException as exc:
            log.warning("%s: cannot reach channel %s: %s", what, channel_id, exc)
            return None
    if not isinstance(channel, discord.TextChannel | discord.Thread) or str(channel.guild.id) != collection:
        log.warning("%s: channel %s is not a text channel of its server", what, channel_id)
        return None
    return channel


def missing_permissions(channel: discord.TextChannel) -> list[str]:
    """The permissions the bot lacks in ``channel`` for announcements (none if it cannot tell)."""
    me = channel.guild.me
    if me is None:
        return []
    permissions = channel.permissions_for(me)
    return [name.replace("_", " ").title() for name in _NEEDED if not getattr(permissions, name)]
