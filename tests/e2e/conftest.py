"""Fixtures for end-to-end tests against the local Discord double (see discord_double.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord.gateway
import discord.http
import pytest
import pytest_asyncio

from ._bot_process import FAKE_TOKEN, SeededData, build_seeded_data
from .discord_double import DiscordDouble, point_discord_at


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeededData:
    """``newsdesk ingest seeds/ filler.jsonl`` once per session (also converts the model once); shared by the
    modules that run the real bot, each on its own copy."""
    return build_seeded_data(tmp_path_factory.mktemp("seeded"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def double() -> AsyncIterator[DiscordDouble]:
    """One double per module that runs the real ``newsdesk bot`` (it accepts only ``FAKE_TOKEN``)."""
    async with DiscordDouble(token=FAKE_TOKEN) as d:
        yield d


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
