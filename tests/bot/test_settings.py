"""Settings of the bot and its run path: token checks, API pointing, clean shutdown.

The run path is driven through its seams: ``run_bot`` takes the engine opener and the bot
class, and ``NewsdeskBot`` takes its command tree class, so nothing of the bot is patched.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from app.config import EngineConfig
from app.engine import Engine
from bot import run
from bot.client import NewsdeskBot
from bot.cogs.feeds import FeedsCog
from bot.desk import Desk
from bot.exit_codes import EXIT_BOT
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from bot.tree import NewsdeskTree
from index.feedpoller import FeedPoller
from index.feedstore import FeedStore
from tests.fakes import FakeEncoder

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture(autouse=True)
def restore_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """``point_at_api`` changes discord.py globals: put them back after each test."""
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch):
    """should read the token, guild ids, moderator role and bot switches from the environment."""
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSDESK_GUILD_IDS", "123, 456")
    monkeypatch.setenv("NEWSDESK_MODERATOR_ROLE", "Editors")
    monkeypatch.setenv("NEWSDESK_SYNC_COMMANDS", "false")
    monkeypatch.setenv("NEWSDESK_USE_EMBEDS", "0")
    settings = Settings(_env_file=None)
    assert settings.require_token() == TOKEN
    assert settings.guild_ids == [123, 456]
    assert settings.moderator_role == "Editors"
    assert settings.sync_commands is False and settings.use_embeds is False


def test_settings_from_dotenv(tmp_path: Path):
    """should read a .env file."""
    env = tmp_path / ".env"
    env.write_text(f"DISCORD_TOKEN={TOKEN}\nNEWSDESK_ASKS_PER_MINUTE=3\nNEWSDESK_DATA_DIR={tmp_path}\n")
    settings = Settings(_env_file=env)
    assert settings.require_token() == TOKEN and settings.asks_per_minute == 3 and settings.data_dir == tmp_path


def test_sync_commands_is_on_by_default():
    """should sync commands unless told otherwise."""
    assert Settings(_env_file=None).sync_commands is True


@pytest.mark.parametrize(
    ("token", "message"),
    [
        pytest.param(None, "DISCORD_TOKEN is not set", id="missing"),
        pytest.param("changeme", "does not look like a bot token", id="placeholder"),
        pytest.param("abc.def", "does not look like a bot token", id="malformed"),
    ],
)
def test_run_bot_refuses_a_bad_token(token: str | None, message: str, caplog):
    """should exit 4 with a readable error, before touching the index or the network."""
    settings = Settings(_env_file=None, discord_token=token)
    with caplog.at_level(logging.ERROR, logger="bot.run"):
        assert run.run_bot(settings) == EXIT_BOT
    assert any(message in r.getMessage() for r in caplog.records)


def test_python_m_bot_without_token_exits_4(tmp_path: Path):
    """should make ``python -m bot`` fail fast with exit code 4 and say what to set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_") and k != "DISCORD_TOKEN"}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), NEWSDESK_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 4
    assert "DISCORD_TOKEN is not set" in done.stderr


@pytest.mark.parametrize(
    ("base", "rest", "gateway"),
    [
        pytest.param("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v10", "ws://127.0.0.1:8080/", id="http"),
        pytest.param(
            "https://discord.example/api/v10/",
            "https://discord.example/api/v10",
            "wss://discord.example/",
            id="https-with-api-path",
        ),
    ],
)
def test_point_at_api(base: str, rest: str, gateway: str):
    """should send REST calls and the gateway connection to the configured API."""
    run.point_at_api(base)
    assert rest == Route.BASE
    assert yarl.URL(gateway) == DiscordWebSocket.DEFAULT_GATEWAY


def test_point_at_api_refuses_a_non_http_url(caplog):
    """should refuse to start with a clear error when the API base is not an http(s) URL."""
    settings = Settings(_env_file=None, discord_token=TOKEN, discord_api_base="ftp://x")
    with caplog.at_level(logging.ERROR, logger="bot.run"):
        assert run.run_bot(settings) == EXIT_BOT
    assert any("must be an http(s) URL" in r.getMessage() for r in caplog.records)


@pytest.fixture
def opened(tmp_path: Path) -> list[Engine]:
    """The engines ``open_engine`` opened."""
    return []


@pytest.fixture
def open_engine(tmp_path: Path, opened: list[Engine]) -> run.OpenEngine:
    """Open a real engine on the fake encoder instead of loading the model."""

    def open_it(settings: Settings) -> Engine:
        engine = Engine(EngineConfig(data_dir=tmp_path / "data"), encoder=FakeEncoder())
        opened.append(engine)
        return engine

    return open_it


def test_unreachable_api_exits_4(open_engine: run.OpenEngine, opened: list[Engine], caplog):
    """should exit 4 with a clear error when the Discord API cannot be reached."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = Settings(
        _env_file=None, discord_token=TOKEN, discord_api_base=f"http://127.0.0.1:{port}", sync_commands=False
    )
    with caplog.at_level(logging.ERROR, logger="bot.run"):
        assert run.run_bot(settings, open_engine=open_engine) == EXIT_BOT
    assert opened, "the engine is opened before logging in"
    assert any("cannot be reached" in r.getMessage() for r in caplog.records)


def test_sigterm_closes_the_bot_cleanly(tmp_path: Path):
    """should close the bot on SIGTERM and exit 0, after loading the cogs (in a process of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_") and k != "DISCORD_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.bot._offline_bot", str(tmp_path / "data"), TOKEN],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    commands = json.loads(result.stdout.strip().splitlines()[-1])
    assert commands == ["ask", "digest", "digest-schedule", "feed", "feedback", "ingest", "reindex", "stats", "summary"]


class RecordingTree(NewsdeskTree):
    """Records command syncs instead of sending them to Discord."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.synced: list[tuple[int | None, list[str]]] = []

    async def sync(self, *, guild: Any = None) -> list[Any]:
        self.synced.append((guild.id if guild else None, sorted(c.name for c in self.get_commands(guild=guild))))
        return []


async def test_sync_to_guilds_copies_global_commands(tmp_path: Path):
    """should copy the commands to each configured guild and sync there, not globally."""
    engine = Engine(EngineConfig(data_dir=tmp_path / "d"), encoder=FakeEncoder())
    desk = Desk(engine, limiter=RateLimiter(6))
    for guild_ids, expected in (([1, 2], [1, 2]), ([], [None])):
        bot = NewsdeskBot(desk=desk, settings=Settings(_env_file=None, guild_ids=guild_ids), tree_cls=RecordingTree)
        await bot.add_cog(FeedsCog(bot, FeedPoller(engine, FeedStore(engine.store))))  # as run.py does, before login
        await bot.setup_hook()
        tree = bot.tree
        assert isinstance(tree, RecordingTree)
        commands = ["ask", "feed", "feedback", "ingest", "reindex", "stats", "summary"]
        assert tree.synced == [(guild, commands) for guild in expected]
        await bot.close()
    desk.close()


async def test_a_moderator_role_shows_moderator_commands_to_its_members(tmp_path: Path):
    """should drop Manage Server as the default permission of every moderator command when a role is set, per bot."""
    engine = Engine(EngineConfig(data_dir=tmp_path / "d"), encoder=FakeEncoder())
    desk = Desk(engine, limiter=RateLimiter(6))
    manage = discord.Permissions(manage_guild=True)
    for role, expected in (("Editors", None), (None, manage), ("Editors", None)):
        settings = Settings(_env_file=None, moderator_role=role, sync_commands=False)
        bot = NewsdeskBot(desk=desk, settings=settings, tree_cls=RecordingTree)
        await bot.add_cog(FeedsCog(bot, FeedPoller(engine, FeedStore(engine.store))))
        await bot.setup_hook()
        shown = {
            name: bot.tree.get_command(name).default_permissions for name in ("ingest", "reindex", "feed", "feedback")
        }
        assert shown == dict.fromkeys(shown, expected), role
        await bot.close()
    desk.close()


def test_the_cross_encoder_can_be_switched_off(monkeypatch: pytest.MonkeyPatch):
    """should pass NEWSDESK_CROSS_ENCODER to the engine (on unless told otherwise)."""
    assert Settings(_env_file=None).engine_config().cross_encoder is True
    monkeypatch.setenv("NEWSDESK_CROSS_ENCODER", "false")
    assert Settings(_env_file=None).engine_config().cross_encoder is False
