"""``/ingest`` and ``/reindex``: moderators only, thin Discord glue over ``bot.writes``.

Who may run them: members with Manage Server (the commands' default permission, so Discord
hides them from others), or members of the configured moderator role. When a moderator role
is set the default permission is dropped, so that role's members can see the commands; the
check below refuses everyone else with an ephemeral message either way. Server admins can
further restrict the commands in Server Settings > Integrations.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import writes
from bot.client import NewsdeskBot
from bot.errors import NotModeratorError
from bot.responders import InteractionResponder


def moderators_only(interaction: discord.Interaction[NewsdeskBot]) -> bool:
    """App-command check of every moderator command: Manage Server or the moderator role, in a server."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    bot = interaction.client
    if not bot.is_moderator(interaction.user, interaction.permissions):
        raise NotModeratorError(bot.settings.moderator_role)
    return True


def show_to_moderator_role(
    bot: NewsdeskBot, *commands: app_commands.Command[Any, Any, Any] | app_commands.Group
) -> None:
    """Let the moderator role's members see these commands: drop their Manage Server default when a role is set.

    ``moderators_only`` still refuses everyone else, so this only changes who sees the commands.
    """
    if bot.settings.moderator_role:
        for command in commands:
            command.default_permissions = None


def moderator_group(name: str, description: str) -> app_commands.Group:
    """A server-only command group that Discord shows to members with Manage Server by default."""
    return app_commands.Group(
        name=name,
        description=description,
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        default_permissions=discord.Permissions(manage_guild=True),
    )


class AdminCog(commands.Cog, name="Admin"):
    """Adding articles and rebuilding the index."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        show_to_moderator_role(bot, self.ingest, self.reindex)

    @app_commands.command(name="ingest")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(moderators_only)
    @app_commands.describe(
        url="A link to a news article (http or https)",
        file="A .txt, .json, .jsonl or .html file with one or more articles",
        title="The title of the pasted article",
        text="The pasted article text",
        source="Who published it (e.g. CNN), optional",
    )
    async def ingest(
        self,
        interaction: discord.Interaction[NewsdeskBot],
        url: app_commands.Range[str, 1, 2000] | None = None,
        file: discord.Attachment | None = None,
        title: app_commands.Range[str, 1, 256] | None = None,
        text: app_commands.Range[str, 1, 6000] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Add articles to this server: a link, an attached file, or pasted text with a title (moderators)."""
        upload = writes.Upload(file.filename, file.size, file.read) if file is not None else None
        await writes.ingest(
            self.bot.desk,
            InteractionResponder(interaction),
            self.bot.asker(interaction),
            upload=upload,
            title=title,
            text=text,
            source=source,
            url=url,
        )

    @app_commands.command(name="reindex")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(moderators_only)
    async def reindex(self, interaction: discord.Interaction[NewsdeskBot]) -> None:
        """Rebuild the search index from the stored articles (moderators); answers go on meanwhile."""
        await writes.reindex(self.bot.desk, InteractionResponder(interaction), self.bot.asker(interaction))


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    if not isinstance(bot, NewsdeskBot):
        raise TypeError("the admin cog needs a NewsdeskBot")
    await bot.add_cog(AdminCog(bot))
