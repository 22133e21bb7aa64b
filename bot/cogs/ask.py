"""``/ask``, ``/summary`` and mentions: thin Discord glue over ``bot.talk`` and ``bot.reads``."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import digests, reads, talk
from bot.client import NewsdeskBot
from bot.desk import Asker
from bot.errors import report_failure
from bot.responders import InteractionResponder, MessageResponder, Responder
from bot.talk import Where
from retrieval.question import MAX_QUESTION_CHARS

PING_ME = (
    "I can only read replies that mention me: keep **@ON** when you reply to my answer, or mention me "
    "(@newsdesk) with your question."
)


class AskCog(commands.Cog, name="Ask"):
    """Questions and summaries, answered with quoted, numbered sources."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="What you want to know, e.g. What did Peskov say about the strikes?",
        since="Only articles published since: YYYY-MM-DD, or e.g. yesterday, last week, 7 days",
    )
    async def ask(
        self,
        interaction: discord.Interaction[NewsdeskBot],
        question: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
        since: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        """Ask about the news: the answer quotes the articles and lists its sources."""
        # Asked in a thread: it continues (or starts) the conversation that thread carries.
        in_thread = isinstance(interaction.channel, discord.Thread)
        where = Where(thread_id=interaction.channel_id if in_thread else None)
        responder, asker = InteractionResponder(interaction), self.bot.asker(interaction)
        if await self._digest_instead(question, responder, asker, since=since):
            return
        await talk.ask(self.bot.desk, responder, asker, question, where=where, since=since)

    async def _digest_instead(
        self, question: str, responder: Responder, asker: Asker, *, since: str | None = None
    ) -> bool:
        """Answer "any news?" with the digest of the window it asks for; False if the question is not that.

        In a conversation's thread too: such a message is never read as a follow-up (it names no story).
        """
        built = getattr(self.bot.get_cog("Digest"), "digests", None)
        window = digests.asked_window(question)
        if window is None or not isinstance(built, digests.Digests):
            return False
        await digests.digest(self.bot.desk, built, responder, asker, since=since or window)
        return True

    @app_commands.command(name="summary")
    @app_commands.describe(
        article="An indexed article: start typing its title and pick one",
        topic="Or a topic, summarized across the articles",
    )
    async def summary(
        self,
        interaction: discord.Interaction[NewsdeskBot],
        article: app_commands.Range[str, 1, 100] | None = None,
        topic: app_commands.Range[str, 1, MAX_QUESTION_CHARS] | None = None,
    ) -> None:
        """Summarize an article, or what the articles say on a topic, citing every sentence."""
        await reads.summary(
            self.bot.desk, InteractionResponder(interaction), self.bot.asker(interaction), article=article, topic=topic
        )

    @summary.autocomplete("article")
    async def article_autocomplete(
        self, interaction: discord.Interaction[NewsdeskBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Indexed articles of this server (and the global ones) whose title contains what was typed."""
        choices = await reads.article_choices(self.bot.desk, self.bot.asker(interaction), current)
        return [app_commands.Choice(name=label, value=value) for label, value in choices]

    @commands.Cog.listener("on_message")
    async def answer_mention(self, message: discord.Message) -> None:
        """Answer ``@newsdesk <question>`` in a channel, a reply to the bot, or any direct message, as a reply.

        In a thread or a direct message the question continues the conversation held there.
        """
        question = self.bot.mention_question(message)
        if question is None and self.bot.replies_to_me(message):
            # Without the Message Content intent a reply that does not ping the bot arrives empty.
            question = message.content.strip() or None
            if question is None:
                await MessageResponder(message).notice(PING_ME)
                return
        if question is None:
            return
        channel = message.channel
        held_here = isinstance(channel, discord.Thread | discord.DMChannel)
        where = Where(thread_id=channel.id if held_here else None)
        responder, asker = MessageResponder(message), self.bot.message_asker(message)
        try:
            if not await self._digest_instead(question, responder, asker):
                await talk.ask(self.bot.desk, responder, asker, question, where=where, command="mention")
        except Exception as exc:  # the listener's central handler: apologise with an error id, keep running
            await report_failure(responder, exc, command="mention")


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    if not isinstance(bot, NewsdeskBot):
        raise TypeError("the ask cog needs a NewsdeskBot")
    await bot.add_cog(AskCog(bot))
