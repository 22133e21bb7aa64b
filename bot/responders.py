"""How a command answers: the ``Responder`` protocol, and its two Discord implementations.

An interaction (slash command) is deferred with "thinking…" and answered with follow-ups;
notices are ephemeral. A mention shows the typing indicator and is answered with a reply to
the message, further parts below it. A streamed answer edits one status message (``update``)
and ends by turning it into the answer (``finish``). No pings: every message goes out with
``AllowedMentions.none()``, and replies do not ping the author either.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import discord

from bot.render import Reply
from bot.views import controls_view

log = logging.getLogger(__name__)

Opened = Callable[[int], Awaitable[None]]
"""Awaited with a new thread's id before anything is posted in it (so a follow-up typed at once finds it bound)."""


class Responder(Protocol):
    """How a handler answers one request."""

    async def defer(self, *, ephemeral: bool = False) -> None:
        """Acknowledge now (Discord wants an answer within 3 s); the result follows."""
        ...

    async def send(self, replies: Sequence[Reply], *, ephemeral: bool = False) -> None:
        """Send the result, one message per reply."""
        ...

    async def update(self, text: str) -> None:
        """Show ``text`` in this request's single status message, replacing what it said before."""
        ...

    async def notice(self, text: str) -> None:
        """A short message only the user sees where possible: refusals, limits, apologies."""
        ...

    async def finish(self, replies: Sequence[Reply]) -> None:
        """Send the result in place of the status message (``update``): it becomes the first reply."""
        ...

    async def whisper(self, text: str) -> None:
        """A message only the user sees, or none at all where nothing is private (a mention's replies)."""

    async def show(self, reply: Reply) -> None:
        """Replace the message this request came from (a button's message) with ``reply``: paging."""
        ...

    async def open_thread(
        self, name: str, *, archive_minutes: int, opened: Opened, hint: str | None = None
    ) -> int | None:
        """Continue in a public thread on the last message sent: await ``opened(thread id)``, then post ``hint``.

        Returns:
            The thread's id, or None where there can be no thread (a thread already, a direct
            message, no permission to create threads or to send messages in them).
        """
        ...


def no_pings() -> discord.AllowedMentions:
    """A fresh ``AllowedMentions`` that pings nobody (discord.py mutates the one it is given on replies)."""
    return discord.AllowedMentions.none()


def _edit_kwargs(reply: Reply) -> dict[str, Any]:
    """Edit a message into ``reply``: what it does not have (text or embed) is removed."""
    embed = discord.Embed.from_dict(reply.embed) if reply.embed else None
    return {"content": reply.content or None, "embed": embed, "allowed_mentions": no_pings()}


def _message_kwargs(reply: Reply) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": no_pings()}
    if reply.content:
        kwargs["content"] = reply.content
    if reply.embed:
        kwargs["embed"] = discord.Embed.from_dict(reply.embed)
    if reply.controls is not None:
        kwargs["view"] = controls_view(reply.controls)
    return kwargs


# Threads carry follow-ups: starting one needs Create Public Threads, answering in it Send Messages in Threads.
_THREAD_PERMISSIONS = discord.Permissions(create_public_threads=True, send_messages_in_threads=True)


async def _start_thread(
    channel: object,
    permissions: discord.Permissions,
    message_id: int | None,
    name: str,
    archive: int,
    opened: Opened,
    hint: str | None,
) -> int | None:
    """A public thread on ``message_id`` in a text channel, or None where that is not possible or allowed."""
    if message_id is None or not isinstance(channel, discord.TextChannel):
        return None
    if not _THREAD_PERMISSIONS.is_subset(permissions):
        log.info("no thread in channel %s: the bot may not create threads or send messages in them", channel.id)
        return None
    try:
        thread = await channel.get_partial_message(message_id).create_thread(
            name=name,
            auto_archive_duration=archive,  # type: ignore[arg-type]
        )
    except discord.HTTPException as exc:
        log.info("could not continue in a thread in channel %s: %s", channel.id, exc)
        return None
    await opened(thread.id)
    if hint:
        try:
            await thread.send(hint, allowed_mentions=no_pings())
        except discord.HTTPException as exc:  # the thread is there all the same
            log.info("could not post the hint in thread %s: %s", thread.id, exc)
    return thread.id


class InteractionResponder:
    """Answers a slash command: defer with "thinking…", then follow-ups; notices are ephemeral."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self._edited = False
        self._last: int | None = None  # the last public message sent, where a thread can start

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
                self._last = None
            else:
                sent = await self.interaction.followup.send(**kwargs, ephemeral=ephemeral, wait=True)
                self._last = None if ephemeral or sent.flags.ephemeral else sent.id

    async def update(self, text: str) -> None:
        """Edit the deferred response in place (the progress message)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_pings())
        else:
            await self.interaction.edit_original_response(content=text, allowed_mentions=no_pings())
            self._edited = True

    async def notice(self, text: str) -> None:
        """An ephemeral message (after a public deferral Discord keeps the first follow-up public)."""
        await self.send([Reply(content=text)], ephemeral=True)

    async def finish(self, replies: Sequence[Reply]) -> None:
        """Edit the deferred response into the first reply (after ``update``), then follow up with the rest."""
        if not self._edited or not replies:
            await self.send(replies)
            return
        await self.interaction.edit_original_response(**_edit_kwargs(replies[0]))
        await self.send(replies[1:])

    async def whisper(self, text: str) -> None:
        """An ephemeral follow-up: call it after the answer, which took the deferral's public place."""
        await self.notice(text)

    async def show(self, reply: Reply) -> None:
        """Edit the message the button was on (after ``defer_update``; at once otherwise)."""
        kwargs = _message_kwargs(reply)
        for key in ("content", "embed", "view"):  # what the new page lacks is cleared, not kept
            kwargs.setdefault(key, None)
        if not self.interaction.response.is_done():
            await self.interaction.response.edit_message(**kwargs)
        else:
            await self.interaction.edit_original_response(**kwargs)

    async def defer_update(self) -> None:
        """Acknowledge a button that will edit its own message (no "thinking…")."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer()

    async def open_thread(
        self, name: str, *, archive_minutes: int, opened: Opened, hint: str | None = None
    ) -> int | None:
        """A thread on the answer just sent, if the bot may create threads in this channel."""
        interaction = self.interaction
        return await _start_thread(
            interaction.channel, interaction.app_permissions, self._last, name, archive_minutes, opened, hint
        )


class MessageResponder:
    """Answers a mention: typing indicator, then a reply to the message (no ping), further parts below it."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self._replied = False
        self._status: discord.Message | None = None
        self._last: discord.Message | None = None

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
            sent = await self.message.channel.send(**kwargs, reference=reference, mention_author=False)
        else:
            sent = await self.message.channel.send(**kwargs)
        self._last = sent
        return sent

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

    async def finish(self, replies: Sequence[Reply]) -> None:
        """Edit the status message into the first reply (after ``update``), then send the rest."""
        if self._status is None or not replies:
            await self.send(replies)
            return
        await self._status.edit(**_edit_kwargs(replies[0]))
        await self.send(replies[1:])

    async def whisper(self, text: str) -> None:
        """Nothing: a reply to a message is public, and a whisper must not be."""
        log.debug("not whispering to %s in a public reply", self.message.author.id)

    async def show(self, reply: Reply) -> None:
        """A reply (a mention has no message of the bot's to replace)."""
        await self._post(reply)

    async def open_thread(
        self, name: str, *, archive_minutes: int, opened: Opened, hint: str | None = None
    ) -> int | None:
        """A thread on the reply just sent, if the bot may create threads in this channel."""
        channel = self.message.channel
        if self._last is None or not isinstance(channel, discord.TextChannel):
            return None
        permissions = channel.permissions_for(channel.guild.me)
        return await _start_thread(channel, permissions, self._last.id, name, archive_minutes, opened, hint)
