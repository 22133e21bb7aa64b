"""The Discord bot: intents, cogs, command sync, who moderates, and mentions.

Intents: the defaults, without the privileged message-content intent. Discord still sends
the content of messages that mention the bot and of direct messages (see discord.py's
``Intents.message_content``), which is all the mention handler reads. A reply to the bot's
message carries its content when it pings the bot (the reply's "@ON", Discord's default):
the bot is then among its mentions. A reply with "@OFF" arrives empty, and gets a hint.

No pings (``bot.responders.no_pings``); the command tree's error handler is in ``bot.tree``,
the event-loop lag monitor that runs while connected in ``bot.looplag``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.cogs import EXTENSIONS
from bot.desk import Asker
from bot.looplag import LoopLagMonitor
from bot.responders import no_pings
from bot.shards import ShardPlan
from bot.tree import NewsdeskTree

if TYPE_CHECKING:
    from bot.desk import Desk
    from bot.settings import Settings

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
"""How long a shutdown (SIGTERM) waits for answers in progress, and the threads they open, to be sent."""


def make_intents() -> discord.Intents:
    """Default intents; message content is not needed (see the module docstring)."""
    intents = discord.Intents.default()
    intents.message_content = False
    return intents


class NewsdeskBot(commands.Bot):
    """The newsdesk bot: slash commands and mentions over one engine (``desk``), built by ``run_bot``."""

    def __init__(
        self, *, desk: Desk, settings: Settings, tree_cls: type[NewsdeskTree] = NewsdeskTree, **options: Any
    ) -> None:
        """Build the bot over ``desk``; ``tree_cls`` is the command tree (tests pass one that records syncs)."""
        # The bot has no voice features: skip discord.py's warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=tree_cls,
            intents=make_intents(),
            allowed_mentions=no_pings(),
            **options,
        )
        self.desk = desk
        self.settings = settings

    async def setup_hook(self) -> None:
        """Load the cogs, then sync the slash commands (unless turned off)."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the slash commands with Discord.

        With ``guild_ids`` the global commands are copied to each of those servers and synced there
        (they show up at once); otherwise they are synced globally (every server, can take a while
        to appear). Never both: the servers would then list every command twice.
        """
        if not self.settings.guild_ids:
            try:
                synced = await self.tree.sync()
                log.info("synced %d global commands", len(synced))
            except discord.HTTPException as exc:
                log.error("could not sync the global commands: %s", exc)
            return
        for guild_id in self.settings.guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
            except discord.HTTPException as exc:  # e.g. not in that server, or no applications.commands scope
                log.error("could not sync commands to guild %s: %s", guild_id, exc)

    async def close(self) -> None:
        """Let the questions being answered finish (up to ``DRAIN_SECONDS``), then close the connection."""
        await self.desk.drain(DRAIN_SECONDS)
        await super().close()

    async def connect(self, *, reconnect: bool = True) -> None:
        """Connect to the gateway (until closed), watching the event loop's lag meanwhile."""
        monitor = LoopLagMonitor()
        task = asyncio.create_task(monitor.run(), name="newsdesk-loop-lag")
        try:
            await super().connect(reconnect=reconnect)
        finally:
            task.cancel()
            await asyncio.wait({task})
            monitor.report()

    async def on_ready(self) -> None:
        """Log who we are (and, sharded, which shards: ``on_ready`` waits for all of them)."""
        log.info("connected as %s in %d servers%s", self.user, len(self.guilds), self._shards_note())

    def _shards_note(self) -> str:
        if not isinstance(self, discord.AutoShardedClient) or not self.shard_ids or self.shard_count is None:
            return ""
        return f" ({ShardPlan(ids=tuple(self.shard_ids), count=self.shard_count).describe()})"

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the ``AskCog`` listener answers mentions."""

    async def on_shard_ready(self, shard_id: int) -> None:
        """Log each shard as it becomes ready (sharded bots only; a slow start shows which one lags)."""
        log.info("shard %d of %s ready", shard_id, self.shard_count)

    def is_moderator(self, user: discord.abc.User, permissions: discord.Permissions) -> bool:
        """Manage Server (or Administrator), or the configured moderator role (a name or an id)."""
        if permissions.manage_guild or permissions.administrator:
            return True
        role = (self.settings.moderator_role or "").strip().casefold()
        if role and isinstance(user, discord.Member):
            return any(str(r.id) == role or r.name.casefold() == role for r in user.roles)
        return False

    def asker(self, interaction: discord.Interaction[Any]) -> Asker:
        """Who runs this interaction, where, and whether they moderate it."""
        moderator = interaction.guild_id is not None and self.is_moderator(interaction.user, interaction.permissions)
        return Asker(interaction.user.id, interaction.guild_id, moderator)

    def message_asker(self, message: discord.Message) -> Asker:
        """Who sent this message, where, and whether they moderate that server."""
        channel = message.channel
        moderator = False
        if (
            message.guild is not None
            and isinstance(message.author, discord.Member)
            and not isinstance(channel, discord.DMChannel | discord.GroupChannel | discord.PartialMessageable)
        ):
            moderator = self.is_moderator(message.author, channel.permissions_for(message.author))
        return Asker(message.author.id, message.guild.id if message.guild else None, moderator)

    def replies_to_me(self, message: discord.Message) -> bool:
        """Whether a person's message replies to one of the bot's (a follow-up, mention or not)."""
        me = self.user
        reference = message.reference
        resolved = reference.resolved if reference is not None else None
        return (
            me is not None
            and not message.author.bot
            and isinstance(resolved, discord.Message)
            and resolved.author.id == me.id
        )

    def mention_question(self, message: discord.Message) -> str | None:
        """The question in a message addressed to the bot (a mention, or any direct message), else None."""
        me = self.user
        if (
            me is None
            or message.author.bot
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
        ):
            return None
        if message.guild is not None and not any(user.id == me.id for user in message.mentions):
            return None
        return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()


class ShardedNewsdeskBot(NewsdeskBot, commands.AutoShardedBot):
    """The same bot on discord.py's ``AutoShardedBot``: one gateway session per shard in ``shard_ids``.

    Built by ``run_bot`` when shards are asked for (``newsdesk bot --shard-ids 0,1 --shard-count 4``);
    pass ``shard_ids`` and ``shard_count``. Connecting, closing and the event handlers are
    ``AutoShardedClient``'s, with ``NewsdeskBot``'s drain on close and lag monitor around them.
    """
