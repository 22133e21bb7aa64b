"""Sharding: ``--shard-ids`` / ``--shard-count`` (and their settings) are checked before anything starts,
and ``run_bot`` builds an ``AutoShardedBot`` on exactly those shards (an unsharded bot without them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import discord
import pytest

from app.config import EngineConfig
from app.engine import Engine
from bot import run
from bot.cli import main
from bot.client import NewsdeskBot, ShardedNewsdeskBot
from bot.exit_codes import EXIT_BOT, EXIT_USAGE
from bot.settings import Settings
from bot.shards import ShardPlan, parse_shard_ids, plan_shards, shard_of
from tests.fakes import FakeEncoder

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        pytest.param("0", (0,), id="one"),
        pytest.param("0,1", (0, 1), id="list"),
        pytest.param("0-3", (0, 1, 2, 3), id="range"),
        pytest.param(" 4 , 0-1 ", (4, 0, 1), id="mixed-with-spaces"),
    ],
)
def test_parse_shard_ids(text: str, ids: tuple[int, ...]):
    """should read lists and ranges (ranges are how a systemd instance names its shards)."""
    assert parse_shard_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("x", "'x' is not a shard id or a range of them (use e.g. 0,1 or 0-3)", id="word"),
        pytest.param("1.5", "'1.5' is not a shard id or a range of them (use e.g. 0,1 or 0-3)", id="decimal"),
        pytest.param("-1", "'-1' is not a shard id or a range of them (use e.g. 0,1 or 0-3)", id="negative"),
        pytest.param("", "'' is not a shard id or a range of them (use e.g. 0,1 or 0-3)", id="empty"),
        pytest.param("0,,1", "'' is not a shard id or a range of them (use e.g. 0,1 or 0-3)", id="empty-part"),
        pytest.param("3-1", "the shard range '3-1' runs backwards (use 1-3)", id="backwards"),
        pytest.param("1,1", "shard id 1 is given twice", id="duplicate"),
        pytest.param("0-2,2", "shard id 2 is given twice", id="overlapping-range"),
    ],
)
def test_parse_shard_ids_refuses(text: str, message: str):
    """should say what is wrong with the ids."""
    with pytest.raises(ValueError) as raised:
        parse_shard_ids(text)
    assert str(raised.value) == message


def test_plan_shards():
    """should run nothing sharded without ids or count, every shard for a count alone, and sort the ids."""
    assert plan_shards(None, None) is None
    assert plan_shards(None, 3) == ShardPlan(ids=(0, 1, 2), count=3)
    assert plan_shards((3, 1), 4) == ShardPlan(ids=(1, 3), count=4)
    assert ShardPlan(ids=(1, 3), count=4).describe() == "shards 1, 3 of 4"
    assert ShardPlan(ids=(0,), count=1).describe() == "shard 0 of 1"


@pytest.mark.parametrize(
    ("ids", "count", "message"),
    [
        pytest.param(
            (0, 1),
            None,
            "shard ids need the total number of shards: add --shard-count (or set NEWSDESK_SHARD_COUNT)",
            id="ids-without-count",
        ),
        pytest.param(None, 0, "the shard count must be at least 1, not 0", id="count-zero"),
        pytest.param((0,), -2, "the shard count must be at least 1, not -2", id="count-negative"),
        pytest.param((4,), 4, "shard id 4 is out of range: with 4 shards the ids are 0 to 3", id="out-of-range"),
        pytest.param((0, 0), 2, "a shard id is given twice", id="duplicate"),
        pytest.param((), 2, "no shard ids given", id="empty"),
    ],
)
def test_plan_shards_refuses(ids: tuple[int, ...] | None, count: int | None, message: str):
    """should refuse a pair that makes no sense."""
    with pytest.raises(ValueError) as raised:
        plan_shards(ids, count)
    assert str(raised.value) == message


def test_shard_of_follows_discord():
    """should put a server on (guild_id >> 22) % count, Discord's formula."""
    guild_id = (12345 << 22) | 999  # the low 22 bits (worker, process, increment) do not count
    assert shard_of(guild_id, 4) == 12345 % 4 == 1
    assert shard_of(guild_id, 1) == 0


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        pytest.param(
            ["--shard-ids", "0,1"],
            {},
            "newsdesk bot: shard ids need the total number of shards: add --shard-count (or set NEWSDESK_SHARD_COUNT)",
            id="ids-without-count",
        ),
        pytest.param(
            ["--shard-count", "0"], {}, "newsdesk bot: the shard count must be at least 1, not 0", id="count-zero"
        ),
        pytest.param(
            ["--shard-count", "four"],
            {},
            "newsdesk bot: the shard count must be a whole number, not 'four'",
            id="count-not-a-number",
        ),
        pytest.param(
            ["--shard-ids", "0,4", "--shard-count", "4"],
            {},
            "newsdesk bot: shard id 4 is out of range: with 4 shards the ids are 0 to 3",
            id="out-of-range",
        ),
        pytest.param(
            ["--shard-ids", "1,1", "--shard-count", "4"],
            {},
            "newsdesk bot: shard id 1 is given twice",
            id="duplicate",
        ),
        pytest.param(
            ["--shard-ids", "one", "--shard-count", "4"],
            {},
            "newsdesk bot: 'one' is not a shard id or a range of them (use e.g. 0,1 or 0-3)",
            id="not-a-number",
        ),
        pytest.param(
            ["--shard-ids", "4-5"],
            {"NEWSDESK_SHARD_COUNT": "4"},
            "newsdesk bot: shard id 4 is out of range: with 4 shards the ids are 0 to 3",
            id="flag-ids-with-setting-count",
        ),
        pytest.param(
            [],
            {"NEWSDESK_SHARD_IDS": "0-1"},
            "newsdesk bot: shard ids need the total number of shards: add --shard-count (or set NEWSDESK_SHARD_COUNT)",
            id="setting-ids-without-count",
        ),
        pytest.param(
            [],
            {"NEWSDESK_SHARD_IDS": "x"},
            "newsdesk: invalid setting: shard_ids: Value error, 'x' is not a shard id or a range of them "
            "(use e.g. 0,1 or 0-3)",
            id="setting-not-a-number",
        ),
    ],
)
def test_bot_refuses_bad_shards_in_one_line(
    argv: list[str],
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    """should exit 2 with one line saying what is wrong, before the token, the index or Discord."""
    monkeypatch.chdir(tmp_path)  # no .env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["bot", *argv]) == EXIT_USAGE
    assert capsys.readouterr().err == message + "\n"


def test_invalid_combination_of_settings_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """should name the problem of a check across settings (it has no field) instead of crashing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSDESK_ANSWERER", "llm")
    assert main(["stats"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "newsdesk: invalid setting: Value error, NEWSDESK_ANSWERER=llm needs NEWSDESK_LLM_BASE_URL "
        "and NEWSDESK_LLM_MODEL\n"
    )


class _Recording:
    """Records what the bot was built as at login, then connects to nothing (``async with`` closes it)."""

    built: ClassVar[list[tuple[str, Any, Any]]] = []

    async def login(self, token: str) -> None:
        assert isinstance(self, NewsdeskBot)
        ids = self.shard_ids if isinstance(self, discord.AutoShardedClient) else None
        _Recording.built.append((type(self).__name__, ids, self.shard_count))

    async def connect(self, *, reconnect: bool = True) -> None:
        return None


class RecordingBot(_Recording, NewsdeskBot):
    pass


class RecordingShardedBot(_Recording, ShardedNewsdeskBot):
    pass


@pytest.mark.parametrize(
    ("shards", "built"),
    [
        pytest.param(None, ("RecordingBot", None, None), id="unsharded"),
        pytest.param(ShardPlan(ids=(1, 3), count=4), ("RecordingShardedBot", [1, 3], 4), id="sharded"),
    ],
)
def test_run_bot_builds_the_bot_on_its_shards(shards: ShardPlan | None, built: tuple[str, Any, Any], tmp_path: Path):
    """should run an AutoShardedBot on exactly the planned shards, and the plain bot without a plan."""
    settings = Settings(_env_file=None, discord_token=TOKEN, sync_commands=False)

    def open_engine(_settings: Settings) -> Engine:
        return Engine(EngineConfig(data_dir=tmp_path / "data"), encoder=FakeEncoder())

    _Recording.built.clear()
    code = run.run_bot(
        settings, shards=shards, open_engine=open_engine, bot_cls=RecordingBot, sharded_cls=RecordingShardedBot
    )
    assert code == 0
    assert _Recording.built == [built]


def test_sharded_bot_is_an_auto_sharded_newsdesk_bot():
    """should keep NewsdeskBot's behaviour (drain, moderators, mentions) on AutoShardedBot's connection."""
    mro = ShardedNewsdeskBot.__mro__
    assert mro.index(NewsdeskBot) < mro.index(discord.AutoShardedClient) < mro.index(discord.Client)
    assert ShardedNewsdeskBot.close is NewsdeskBot.close
    assert ShardedNewsdeskBot.connect is NewsdeskBot.connect


@pytest.mark.both_engines
def test_shards_another_process_holds_are_refused_at_start(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
):
    """should exit 4 with who holds the shard, before connecting, and leave the other process's claim alone."""
    from index.shards import claim_shards
    from index.store import Store

    settings = Settings(_env_file=None, discord_token=TOKEN, sync_commands=False)
    config = EngineConfig(data_dir=tmp_path / "data", database_url=database_url)
    other = Store(tmp_path / "data", database_url=database_url)
    held = claim_shards(other, (1,), 4, owner="elsewhere:4242:abcd")

    def open_engine(_settings: Settings) -> Engine:
        return Engine(config, encoder=FakeEncoder())

    _Recording.built.clear()
    code = run.run_bot(
        settings,
        shards=ShardPlan(ids=(0, 1), count=4),
        open_engine=open_engine,
        bot_cls=RecordingBot,
        sharded_cls=RecordingShardedBot,
    )
    assert code == EXIT_BOT
    assert _Recording.built == []
    assert "cannot claim shards 0,1 of 4: another process holds shard 1" in caplog.text
    held.heartbeat()  # still its claim
    held.release()
    code = run.run_bot(
        settings,
        shards=ShardPlan(ids=(0, 1), count=4),
        open_engine=open_engine,
        bot_cls=RecordingBot,
        sharded_cls=RecordingShardedBot,
    )
    assert code == 0
    assert other.db.execute("SELECT COUNT(*) FROM shard_claims").fetchone()[0] == 0  # released at shutdown
    other.close()
