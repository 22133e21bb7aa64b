"""Fixtures for end-to-end tests against the local Discord double (see discord_double.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord.gateway
import discord.http
import pytest_asyncio

from .discord_double import DiscordDouble, point_discord_at


@pytest_asyncio.fixture
async def discord_double() -> AsyncIterator[DiscordDouble]:
    """A started DiscordDouble on 127.0.0.1:<free port>, with discord.py pointed at it for the test
    (``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` are restored afterwards)."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    double = DiscordDouble()
    await double.start()
    point_discord_at(double.api_base)
    try:
        yield double
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        await double.stop()
