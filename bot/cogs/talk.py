"""``/stats``, ``/feedback``, and the buttons and forms under answers: thin Discord glue.

The handlers are Discord-free (``bot.talk``, ``bot.feedback``, ``bot.context``, ``bot.stats``).
Buttons arrive as ``newsdesk_control`` events from the dynamic items of ``bot.views``,
registered when this cog loads, so buttons on messages sent before a restart still work.
Forms and buttons with an ``nd:`` id this bot does not know (an old version's) arrive through
``on_interaction``.

Every button and form is acknowledged within Discord's 3 s: a form opens at once, a vote,
context or page defers before it reads the database, and a follow-up defers before it is
answered. Votes, Show context and reports count against the same per-user rate limit as
questions (a follow-up is a question); opening a form or turning a page costs nothing. Any
failure goes through the command tree's error handler (``bot.tree.answer_failure``): a short
message or an apology with an error id, never a traceback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import NewsdeskBot
from bot.cogs.admin import moderators_only, show_to_moderator_role
from bot.context import show_context
from bot.controls import FORM_FOLLOW_UP, FORM_REPORT, PREFIX
from bot.feedback import feedback_list, report, vote
from bot.responders import InteractionResponder
from bot.stats import stats as show_stats
from bot.talk import Where, ask
from bot.tree import answer_failure
from bot.views import DYNAMIC_ITEMS, Action, FollowUpForm, ReportForm, form_values, known_control

log = logging.getLogger(__name__)

STALE_CONTROL = "This button is from an older version of the bot and no longer works. Ask again with /ask."
STALE_FORM = "This form is from an older version of the bot and can no longer be sent. Ask again with /ask."
_CHARGED = frozenset({"vote", "context"})


def too_fast(wait: float, per_minute: int) -> str:
    """The refusal of a button clicked too often (the questions' rate limit)."""
    seconds = max(1, math.ceil(wait))
    return f"Easy there: that is more than {per_minute} requests a minute. Please try again in {seconds} s."


class TalkCog(commands.Cog, name="Talk"):
    """Statistics, feedback, and the buttons and forms under answers."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        show_to_moderator_role(bot, self.feedback)

    async def cog_load(self) -> None:
        """Listen for the answers' buttons, on old messages too."""
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        """Stop listening for them."""
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    @app_commands.command(name="stats")
    async def stats(self, interaction: discord.Interaction[NewsdeskBot]) -> None:
        """What I can answer from here, how the feeds are doing, and how answering goes."""
        await show_stats(self.bot.desk, InteractionResponder(interaction), self.bot.asker(interaction))

    @app_commands.command(name="feedback")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(moderators_only)
    async def feedback(self, interaction: discord.Interaction[NewsdeskBot]) -> None:
        """Recent reports on answers in this server (moderators)."""
        await feedback_list(self.bot.desk, InteractionResponder(interaction), self.bot.asker(interaction), 0)

    async def _guarded(self, interaction: discord.Interaction[Any], name: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception as exc:  # the same answer as a failed command: a message, or an apology with an id
            await answer_failure(interaction, exc, name)

    @commands.Cog.listener("on_newsdesk_control")
    async def on_control(self, interaction: discord.Interaction[Any], action: Action) -> None:
        """A click on a button of an answer or a page."""
        await self._guarded(interaction, action.kind, self._control(interaction, action))

    async def _control(self, interaction: discord.Interaction[Any], action: Action) -> None:
        desk, asker, responder = self.bot.desk, self.bot.asker(interaction), InteractionResponder(interaction)
        if action.kind in _CHARGED and (wait := await desk.throttle(asker)) > 0:
            await responder.notice(too_fast(wait, desk.limiter.per_minute))
            return
        answer_id, value = action.answer_id or "", action.value or ""
        if action.kind == "follow_up":
            await interaction.response.send_modal(FollowUpForm(answer_id))
        elif action.kind == "report":
            await interaction.response.send_modal(ReportForm(answer_id))
        elif action.kind == "vote":
            await vote(desk, responder, asker, answer_id, value == "up")
        elif action.kind == "context":
            await show_context(desk, responder, asker, answer_id, int(value))
        else:
            await responder.defer_update()
            await feedback_list(desk, responder, asker, int(value), edit=True)

    @commands.Cog.listener("on_interaction")
    async def on_form_or_stale_control(self, interaction: discord.Interaction[Any]) -> None:
        """A submitted form, or a click on a button whose id this version does not know."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(PREFIX):
            return
        if interaction.type is discord.InteractionType.modal_submit:
            values = form_values(data.get("components") or [])
            await self._guarded(interaction, "form", self._form(interaction, custom_id, values))
        elif interaction.type is discord.InteractionType.component and not known_control(custom_id):
            log.info("stale control %r clicked by user %s", custom_id, interaction.user.id)
            await self._guarded(interaction, "control", InteractionResponder(interaction).notice(STALE_CONTROL))

    async def _form(self, interaction: discord.Interaction[Any], custom_id: str, values: dict[str, Any]) -> None:
        desk, asker, responder = self.bot.desk, self.bot.asker(interaction), InteractionResponder(interaction)
        if match := FORM_FOLLOW_UP.fullmatch(custom_id):
            question = values.get("question")
            where = Where(answer_id=match["answer_id"])
            await ask(desk, responder, asker, str(question or ""), where=where, command="follow-up")
        elif match := FORM_REPORT.fullmatch(custom_id):
            if (wait := await desk.throttle(asker)) > 0:
                await responder.notice(too_fast(wait, desk.limiter.per_minute))
                return
            reasons, details = values.get("reason") or [], values.get("details") or ""
            reason = reasons[0] if isinstance(reasons, list) and reasons else ""
            await report(desk, responder, asker, match["answer_id"], reason, str(details))
        else:
            log.info("stale form %r sent by user %s", custom_id, interaction.user.id)
            await responder.notice(STALE_FORM)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    if not isinstance(bot, NewsdeskBot):
        raise TypeError("the talk cog needs a NewsdeskBot")
    await bot.add_cog(TalkCog(bot))
