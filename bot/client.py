"""The Discord side: the bot, its command tree with the central error handler, and the responders.

Intents: the defaults, without the privileged message-content intent. Discord still sends
the content of messages that mention the bot and of direct messages (see discord.py's
``Intents.message_content``), which is all the mention handler reads.

No pings: every message goes out with ``AllowedMentions.none()``; replies do not ping the
author either.

Event-loop lag: while connected, ``LoopLagMonitor`` measures how late the event loop wakes a
timer (blocking work on the loop shows up as lag) and logs p50/p95/p99/max every 15 minutes,
on ``SIGUSR1`` (``kill -USR1 <pid>``; the window then starts again) and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import signal
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs import EXTENSIONS
from bot.handlers import Asker, Desk, report_failure
from bot.render import Reply
from index.errors import IngestError
from retrieval.errors import RetrievalError

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


def no_pings() -> discord.AllowedMentions:
    """A fresh ``AllowedMentions`` that pings nobody (discord.py mutates the one it is given on replies)."""
    return discord.AllowedMentions.none()


def _message_kwargs(reply: Reply) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": no_pings()}
    if reply.content:
        kwargs["content"] = reply.content
    if reply.embed:
        kwargs["embed"] = discord.Embed.from_dict(reply.embed)
    return kwargs


class InteractionResponder:
    """Answers a slash command: defer with "thinking…", then follow-ups; notices are ephemeral."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction

    async def defer(self, *, ephemeral: bool = False) -> None:
        """Show "thinking…" (ephemeral or not; Discord fixes that choice here)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(ephemeral=ephemeral, thinking=True)

    async def send(self, replies: Sequence[Reply], *, ephemeral: bool = False) -> None:
        """Send each reply; after a deferral the first one replaces the "thinking…" message."""
        for reply in replies:
            kwargs = _message_kwargs(reply)
            if not self.interaction.response.is_done():
                await self.interaction.response.send_message(**kwargs, ephemeral=ephemeral)
            else:
                await self.interaction.followup.send(**kwargs, ephemeral=ephemeral)

    async def update(self, text: str) -> None:
        """Edit the deferred response in place (the progress message)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_pings())
        else:
            await self.interaction.edit_original_response(content=text, allowed_mentions=no_pings())

    async def notice(self, text: str) -> None:
        """An ephemeral message (after a public deferral Discord keeps the first follow-up public)."""
        await self.send([Reply(content=text)], ephemeral=True)


class MessageResponder:
    """Answers a mention: typing indicator, then a reply to the message (no ping), further parts below it."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self._replied = False
        self._status: discord.Message | None = None

    async def defer(self, *, ephemeral: bool = False) -> None:
        """Show the typing indicator (lasts 10 s, or until the reply)."""
        try:
            await self.message.channel.typing()
        except discord.HTTPException:
            log.debug("could not show typing in channel %s", self.message.channel.id, exc_info=True)

    async def _post(self, reply: Reply) -> discord.Message:
        kwargs = _message_kwargs(reply)
        if not self._replied:
            self._replied = True
            reference = self.message.to_reference(fail_if_not_exists=False)  # the question may be deleted by now
            return await self.message.channel.send(**kwargs, reference=reference, mention_author=False)
        return await self.message.channel.send(**kwargs)

    async def send(self, replies: Sequence[Reply], *, ephemeral: bool = False) -> None:
        """Reply with the first part, then send the others to the channel."""
        for reply in replies:
            await self._post(reply)

    async def update(self, text: str) -> None:
        """Post the status message once, then edit it."""
        if self._status is None:
            self._status = await self._post(Reply(content=text))
        else:
            await self._status.edit(content=text, allowed_mentions=no_pings())

    async def notice(self, text: str) -> None:
        """A plain reply (messages cannot be ephemeral)."""
        await self._post(Reply(content=text))


class NotModeratorError(app_commands.CheckFailure):
    """The user may not run a moderation command; the message says who may."""


def user_message(error: BaseException) -> str | None:
    """The message for an error the user can act on, or None for a failure that needs an error id."""
    if isinstance(error, NotModeratorError | RetrievalError | IngestError):
        return str(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that command here."
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return "That command has changed since Discord last loaded it; please try again in a minute."
    if isinstance(error, app_commands.TransformerError):
        return f"I could not use {error.value!r} for that option."
    return None


class LoopLagMonitor:
    """How late the event loop runs a timer: the time it spent on other work (or blocked) meanwhile.

    Samples every ``interval`` seconds; ``report`` logs the percentiles since the last report and
    starts a new window. A single lag over ``warn_after`` seconds is logged at once as a warning.
    """

    def __init__(
        self, *, interval: float = 0.05, report_every: float = 900.0, warn_after: float = 0.5, max_samples: int = 50_000
    ) -> None:
        self.interval, self.report_every, self.warn_after = interval, report_every, warn_after
        self.max_samples = max_samples
        self.samples: list[float] = []
        self.window_started = time.monotonic()

    def report(self) -> str | None:
        """Log (INFO) and return the lag percentiles of the window; ``None`` when it has no samples."""
        lags, started = sorted(self.samples), self.window_started
        self.samples, self.window_started = [], time.monotonic()
        if not lags:
            return None

        def pct(q: float) -> float:
            return lags[min(len(lags) - 1, max(0, math.ceil(q * len(lags)) - 1))] * 1000

        line = (
            f"event loop lag over the last {time.monotonic() - started:.1f} s: p50 {pct(0.5):.1f} ms, "
            f"p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms, max {lags[-1] * 1000:.1f} ms ({len(lags)} samples)"
        )
        log.info("%s", line)
        return line

    async def run(self) -> None:
        """Sample until cancelled; reports on SIGUSR1 (where signals can be handled) and every ``report_every``."""
        loop = asyncio.get_running_loop()
        usr1 = getattr(signal, "SIGUSR1", None)
        try:
            if usr1 is not None:
                loop.add_signal_handler(usr1, self.report)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            usr1 = None
        try:
            while True:
                expected = time.monotonic() + self.interval
                await asyncio.sleep(self.interval)
                lag = max(0.0, time.monotonic() - expected)
                if lag > self.warn_after:
                    log.warning("the event loop was blocked for %.0f ms", lag * 1000)
                if len(self.samples) < self.max_samples:
                    self.samples.append(lag)
                if time.monotonic() - self.window_started >= self.report_every:
                    self.report()
        finally:
            if usr1 is not None:
                loop.remove_signal_handler(usr1)


class NewsdeskTree(app_commands.CommandTree["NewsdeskBot"]):
    """The command tree, with the one error handler of every slash command."""

    async def on_error(
        self, interaction: discord.Interaction[NewsdeskBot], error: app_commands.AppCommandError, /
    ) -> None:
        """Answer a failed command; never raises.

        Dispatch order:
        1. ``CommandInvokeError`` is unwrapped to what the handler raised.
        2. Errors the user can act on (not a moderator, wrong place, stale command, a retrieval or
           ingest error, whose messages are user-safe) get that message, ephemeral, and an INFO log.
        3. Anything else gets ``report_failure``: the traceback logged under a short error id, and
           an apology quoting the id.
        A failure to send the message (an expired interaction) is logged, not raised.
        """
        command = interaction.command.qualified_name if interaction.command else "unknown command"
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        responder = InteractionResponder(interaction)
        message = user_message(original)
        if message is None:
            await report_failure(responder, original, command=command)
            return
        log.info("/%s refused for user %s: %s", command, interaction.user.id, message)
        try:
            await responder.notice(message)
        except discord.HTTPException:
            log.warning("could not tell user %s why /%s failed", interaction.user.id, command, exc_info=True)


def make_intents() -> discord.Intents:
    """Default intents; message content is not needed (see the module docstring)."""
    intents = discord.Intents.default()
    intents.message_content = False
    return intents


class NewsdeskBot(commands.Bot):
    """The newsdesk bot: slash commands and mentions over one engine (``desk``), built by ``run_bot``."""

    def __init__(self, *, desk: Desk, settings: Settings, **options: Any) -> None:
        # The bot has no voice features: skip discord.py's warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=NewsdeskTree,
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
        """Log who we are."""
        log.info("connected as %s in %d servers", self.user, len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the ``AskCog`` listener answers mentions."""

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
