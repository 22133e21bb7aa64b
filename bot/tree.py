"""The command tree, with the one error handler of every slash command (and of buttons and forms)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import report_failure, user_message
from bot.responders import InteractionResponder

if TYPE_CHECKING:
    from bot.client import NewsdeskBot

log = logging.getLogger(__name__)


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
        await answer_failure(interaction, original, command)


async def answer_failure(interaction: discord.Interaction[NewsdeskBot], error: BaseException, command: str) -> None:
    """Answer a failed command, button or form (steps 2 and 3 of ``NewsdeskTree.on_error``); never raises."""
    responder = InteractionResponder(interaction)
    message = user_message(error)
    if message is None:
        await report_failure(responder, error, command=command)
        return
    log.info("/%s refused for user %s: %s", command, interaction.user.id, message)
    try:
        await responder.notice(message)
    except discord.HTTPException:
        log.warning("could not tell user %s why /%s failed", interaction.user.id, command, exc_info=True)
