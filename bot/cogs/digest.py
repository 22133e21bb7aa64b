"""``/digest`` (everyone), ``/digest-schedule add|list|remove`` (moderators), and the task that posts daily digests.

Thin Discord glue over ``bot.digests``. Discord cannot give one command both options and
subcommands, so the schedules are their own command group. ``bot/run.py`` builds the
``Digests`` (builder over the engine, schedule store in the article database) and adds this
cog with it, like the feeds cog.

The background loop wakes every ``NEWSDESK_DIGEST_CHECK_SECONDS`` (default 60) and runs the
schedules that are due; the digests are built in the desk's read pool, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import digests as handlers
from bot.client import NewsdeskBot
from bot.cogs.admin import moderator_group, moderators_only, show_to_moderator_role
from bot.cogs.feeds import missing_permissions, server_channel
from bot.digests import Digests
from bot.render import Reply
from bot.responders import InteractionResponder, no_pings
from index.digeststore import DigestSchedule
from retrieval.answer import shorten

log = logging.getLogger(__name__)


class DigestCog(commands.Cog, name="Digest"):
    """The main stories of a time window, on demand or every day in a channel."""

    schedule = moderator_group("digest-schedule", "Post a daily digest of the news in a channel (moderators)")

    def __init__(self, bot: NewsdeskBot, digests: Digests) -> None:
        """Wire the commands and the loop to ``digests``."""
        self.bot = bot
        self.digests = digests
        show_to_moderator_role(bot, self.schedule)
        self.post_loop.change_interval(seconds=bot.settings.digest_check_seconds)

    async def cog_load(self) -> None:
        """Start the scheduler once the bot is connected."""
        self.post_loop.start()

    async def cog_unload(self) -> None:
        """Stop the scheduler (a digest being built is cancelled; its schedule stays due)."""
        self.post_loop.cancel()

    # -- commands ---------------------------------------------------------------------------------
    @app_commands.command(name="digest")
    @app_commands.describe(
        since="From when: e.g. 24h, 3 days, yesterday, monday, last week, or YYYY-MM-DD",
        topic="Only stories about this",
        source="Only stories this outlet ran, e.g. CNN",
    )
    async def digest(
        self,
        interaction: discord.Interaction[NewsdeskBot],
        since: app_commands.Range[str, 1, 40],
        topic: app_commands.Range[str, 1, 100] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """The main stories since a time, each with every outlet that ran it and a cited summary."""
        await handlers.digest(
            self.bot.desk,
            self.digests,
            InteractionResponder(interaction),
            self.bot.asker(interaction),
            since=since,
            topic=topic,
            source=source,
        )

    @schedule.command(name="add")
    @app_commands.check(moderators_only)
    @app_commands.describe(
        channel="Where to post the digest",
        time="Local time of day, HH:MM (24-hour), e.g. 08:00",
        timezone="IANA timezone, e.g. Europe/Paris or America/New_York (default UTC)",
        topic="Only stories about this",
    )
    async def add(
        self,
        interaction: discord.Interaction[NewsdeskBot],
        channel: discord.TextChannel,
        time: app_commands.Range[str, 1, 5],
        timezone: app_commands.Range[str, 1, 60] | None = None,
        topic: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Post a digest of the last 24 hours in a channel every day; a story is only repeated with news."""
        responder = InteractionResponder(interaction)
        if missing := missing_permissions(channel):
            await responder.notice(f"I can't post in {channel.mention}: I need {', '.join(missing)} there.")
            return
        await handlers.add_schedule(
            self.bot.desk,
            self.digests,
            responder,
            self.bot.asker(interaction),
            channel_id=channel.id,
            at=time,
            timezone=timezone,
            topic=topic,
        )

    @schedule.command(name="list")
    @app_commands.check(moderators_only)
    async def list_schedules(self, interaction: discord.Interaction[NewsdeskBot]) -> None:
        """This server's daily digests: channel, time, topic and next run."""
        await handlers.list_schedules(
            self.bot.desk, self.digests, InteractionResponder(interaction), self.bot.asker(interaction)
        )

    @schedule.command(name="remove")
    @app_commands.check(moderators_only)
    @app_commands.describe(schedule="The schedule's number (see /digest-schedule list)")
    async def remove(self, interaction: discord.Interaction[NewsdeskBot], schedule: app_commands.Range[int, 1]) -> None:
        """Stop a daily digest."""
        await handlers.remove_schedule(
            self.bot.desk, self.digests, InteractionResponder(interaction), self.bot.asker(interaction), schedule
        )

    # -- the scheduler ----------------------------------------------------------------------------
    @tasks.loop(seconds=60)
    async def post_loop(self) -> None:
        """One round: post the due digests; never lets an error end the loop."""
        try:
            await handlers.run_due(self.bot.desk, self.digests, self.post)
        except Exception:
            log.exception("digest round failed; trying again next round")

    @post_loop.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def post(self, schedule: DigestSchedule, replies: Sequence[Reply]) -> bool:
        """Post a digest in its schedule's channel (of its own server only); False when it could not."""
        what = f"digest schedule {schedule.id}"
        channel = await server_channel(self.bot, schedule.channel_id, schedule.collection, what)
        if channel is None:
            return False
        try:
            for reply in replies:
                embed = discord.Embed.from_dict(reply.embed) if reply.embed else None
                await channel.send(content=reply.content, embed=embed, allowed_mentions=no_pings())  # type: ignore[arg-type]
        except discord.HTTPException as exc:
            log.warning("%s: could not post in channel %s: %s", what, channel.id, shorten(str(exc), 200))
            return False
        return True
