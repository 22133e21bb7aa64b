"""The real discord.py command tree and gateway parsing, with Discord's HTTP edge replaced.

Interactions and messages enter through ``ConnectionState.parse_interaction_create`` and
``parse_message_create``, as gateway events do, so option parsing, checks, the tree's error
handler, deferral and the response payloads are discord.py's own. Only the HTTP calls are
replaced: ``AsyncWebhookAdapter.request`` (interaction responses and follow-ups),
``HTTPClient.request`` (channel messages) and the bot's ``HTTPClient.get_from_cdn`` (attachment
downloads) record what would be sent and answer like Discord (or fail like it, with
``FakeDiscord.failure``). Feeding gateway events touches private discord.py API
(``_connection``), pinned at 2.7.1, and is kept to this module. The bot and the engine are
never patched: what a test varies goes in through the desk, the settings and the engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.http import Route
from discord.webhook.async_ import AsyncWebhookAdapter

from app.engine import Engine
from bot.client import NewsdeskBot
from bot.desk import Desk
from bot.ratelimit import RateLimiter
from bot.render import CONTENT_LIMIT, DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT, FIELD_COUNT_LIMIT
from bot.settings import Settings
from retrieval.answer import Answer

from .conftest import GUILD, USER, FakeEngine, GatedReindex, answer_of

APP_ID = 900
BOT_ID = 901
CHANNEL = 700
MOD_ROLE = 555
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6
BOT_USER = {"id": str(BOT_ID), "username": "newsdesk", "discriminator": "0", "avatar": None, "bot": True}
QUESTION = "What did Peskov say about the strikes?"


@dataclass
class Call:
    method: str
    path: str
    payload: Any


class FakeDiscord:
    """Records the REST calls discord.py makes and answers them like Discord would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failure: discord.HTTPException | None = None  # raised by every interaction call when set
        self.cdn: dict[str, bytes] = {}  # attachment URL -> content
        self._ids = iter(range(10_000, 1_000_000))

    def _message(self, payload: dict[str, Any] | None, channel_id: int = CHANNEL) -> dict[str, Any]:
        payload = payload or {}
        return {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": payload.get("content") or "",
            "timestamp": "2025-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": payload.get("flags") or 0,
        }

    async def webhook_request(
        self, route: Route, session: Any, *, payload: Any = None, multipart: Any = None, **_: Any
    ) -> Any:
        if multipart:
            payload = json.loads(next(part["value"] for part in multipart if part["name"] == "payload_json"))
        path = route.url.removeprefix(Route.BASE)
        if self.failure is not None:
            raise self.failure
        self.calls.append(Call(route.method, path, payload))
        if path.endswith("/callback"):
            data = payload.get("data") or {}
            return {
                "interaction": {
                    "id": "1",
                    "type": 2,
                    "response_message_loading": payload["type"] == 5,
                    "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
                }
            }
        return self._message(payload)

    async def http_request(self, route: Route, *, json: Any = None, form: Any = None, **_: Any) -> Any:
        if form:
            json = globals()["json"].loads(next(part["value"] for part in form if part["name"] == "payload_json"))
        path = route.url.removeprefix(Route.BASE)
        self.calls.append(Call(route.method, path, json))
        if route.method == "POST" and path.endswith("/messages"):
            return self._message(json, int(path.split("/")[2]))
        return None

    async def get_from_cdn(self, url: str) -> bytes:
        return self.cdn[url]

    # What the user saw ---------------------------------------------------------------------------
    @property
    def callbacks(self) -> list[dict[str, Any]]:
        return [c.payload for c in self.calls if c.path.endswith("/callback")]

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [c.payload for c in self.calls if c.method == "POST" and re.fullmatch(r"/webhooks/\d+/[^/]+", c.path)]

    @property
    def edits(self) -> list[dict[str, Any]]:
        return [c.payload for c in self.calls if c.path.endswith("/messages/@original")]

    @property
    def channel_messages(self) -> list[dict[str, Any]]:
        return [c.payload for c in self.calls if c.method == "POST" and c.path.endswith("/messages")]

    def texts(self) -> str:
        out = []
        for call in self.calls:
            body = call.payload or {}
            body = body.get("data", body) if call.path.endswith("/callback") else body
            out.append(body.get("content") or "")
            for embed in body.get("embeds") or []:
                out += [embed.get("title", ""), embed.get("description", "")]
                out += [f["value"] for f in embed.get("fields", [])]
        return "\n".join(out)


@pytest.fixture
def discord_api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    fake = FakeDiscord()
    monkeypatch.setattr(AsyncWebhookAdapter, "request", fake.webhook_request)
    return fake


def _role(role_id: int, name: str, permissions: int = 0) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


async def _make_bot(
    desk: Desk, settings: Settings, discord_api: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> NewsdeskBot:
    bot = NewsdeskBot(desk=desk, settings=settings)
    await bot._async_setup_hook()  # what ``async with bot`` / ``login`` do first: bind to this loop
    monkeypatch.setattr(bot.http, "request", discord_api.http_request)
    monkeypatch.setattr(bot.http, "get_from_cdn", discord_api.get_from_cdn)
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=BOT_USER)
    state.application_id = APP_ID
    guild = discord.Guild(
        data={
            "id": str(GUILD),
            "name": "Newsroom",
            "owner_id": "1",
            "roles": [_role(GUILD, "@everyone"), _role(MOD_ROLE, "Editors")],
            "channels": [{"id": str(CHANNEL), "type": 0, "name": "news", "position": 0, "permission_overwrites": []}],
        },
        state=state,
    )
    state._add_guild(guild)
    await bot.setup_hook()  # loads the cogs; sync_commands is off
    return bot


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, sync_commands=False, moderator_role="Editors")


@pytest.fixture
async def bot(
    desk: Desk, settings: Settings, discord_api: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[NewsdeskBot]:
    bot = await _make_bot(desk, settings, discord_api, monkeypatch)
    yield bot
    await bot.close()


_ids: Iterator[int] = iter(range(50_000, 10_000_000))


def _user(user_id: int = USER, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0", "avatar": None, "bot": bot}


def interaction(
    name: str,
    options: list[dict[str, Any]] | None = None,
    *,
    guild: int | None = GUILD,
    permissions: int = 0,
    roles: tuple[int, ...] = (),
    kind: int = 2,
    user_id: int = USER,
    resolved: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload as Discord sends it for a slash command (kind 2) or autocomplete (4)."""
    data: dict[str, Any] = {"id": "1", "name": name, "type": 1, "options": options or []}
    if resolved:
        data["resolved"] = resolved
    payload: dict[str, Any] = {
        "id": str(next(_ids)),
        "application_id": str(APP_ID),
        "type": kind,
        "token": "interaction-token",
        "version": 1,
        "data": data,
        "locale": "en-US",
        "attachment_size_limit": 10_000_000,
        "app_permissions": "0",
        "entitlements": [],
        "channel_id": str(CHANNEL),
    }
    if guild is None:
        payload["user"] = _user(user_id)
        payload["context"] = 1
    else:
        payload.update(
            guild_id=str(guild),
            context=0,
            member={
                "user": _user(user_id),
                "roles": [str(r) for r in roles],
                "joined_at": "2020-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            },
        )
    return payload


def option(name: str, value: Any, kind: int = 3, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "name": name, "value": value, **extra}


async def dispatch(bot: NewsdeskBot, payload: dict[str, Any], *, event: str = "interaction") -> None:
    """Feed one gateway event to discord.py and wait for the tasks it starts."""
    before = asyncio.all_tasks()
    if event == "interaction":
        bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    else:
        bot._connection.parse_message_create(payload)  # type: ignore[arg-type]
    await asyncio.gather(*(asyncio.all_tasks() - before))


# -- schema --------------------------------------------------------------------------------------


async def test_commands_load_without_collisions(bot: NewsdeskBot):
    """should register exactly the six slash commands from the three cogs."""
    names = [c.name for c in bot.tree.get_commands()]
    assert sorted(names) == ["ask", "feedback", "ingest", "reindex", "stats", "summary"]
    assert set(bot.cogs) == {"Ask", "Admin", "Talk"}


async def test_command_schema(bot: NewsdeskBot):
    """should pin option names, types, limits, autocomplete and permissions as Discord sees them."""
    ask = bot.tree.get_command("ask").to_dict(bot.tree)  # type: ignore[union-attr]
    assert ask["options"] == [
        {
            "type": 3,
            "name": "question",
            "required": True,
            "min_length": 1,
            "max_length": 1000,
            "description": "What you want to know, e.g. What did Peskov say about the strikes?",
        },
        {
            "type": 3,
            "name": "since",
            "required": False,
            "min_length": 1,
            "max_length": 40,
            "description": "Only articles published since: YYYY-MM-DD, or e.g. yesterday, last week, 7 days",
        },
    ]
    summary = bot.tree.get_command("summary").to_dict(bot.tree)  # type: ignore[union-attr]
    assert [(o["name"], o.get("autocomplete", False), o["required"]) for o in summary["options"]] == [
        ("article", True, False),
        ("topic", False, False),
    ]
    ingest = bot.tree.get_command("ingest").to_dict(bot.tree)  # type: ignore[union-attr]
    assert [(o["name"], o["type"]) for o in ingest["options"]] == [
        ("url", 3),
        ("file", 11),
        ("title", 3),
        ("text", 3),
        ("source", 3),
    ]
    assert ingest["contexts"] == [0]  # servers only
    for command in (ask, summary, ingest):
        assert len(command["description"]) <= 100


async def test_default_permission_is_manage_guild_without_a_moderator_role(desk, discord_api, monkeypatch, tmp_path):
    """should hide /ingest, /reindex and /feedback behind Manage Server unless a moderator role is configured."""
    plain = Settings(_env_file=None, data_dir=tmp_path, sync_commands=False)
    bot = await _make_bot(desk, plain, discord_api, monkeypatch)
    try:
        for name in ("ingest", "reindex", "feedback"):
            assert bot.tree.get_command(name).to_dict(bot.tree)["default_member_permissions"] == MANAGE_GUILD  # type: ignore[union-attr]
    finally:
        await bot.close()


async def test_moderator_role_makes_commands_visible(bot: NewsdeskBot):
    """should drop the default permission when a moderator role is set, leaving the check to refuse others."""
    for name in ("ingest", "feedback"):
        assert bot.tree.get_command(name).to_dict(bot.tree)["default_member_permissions"] is None  # type: ignore[union-attr]


# -- asking --------------------------------------------------------------------------------------


async def test_ask_defers_then_follows_up_with_an_embed(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should acknowledge with a public "thinking" deferral, then send the answer embed without pings."""
    await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    [callback] = discord_api.callbacks
    assert callback["type"] == 5 and not (callback.get("data") or {}).get("flags")
    [followup] = discord_api.followups
    [embed] = followup["embeds"]
    assert embed["title"] == QUESTION and "[1]" in embed["description"]
    assert embed["fields"][0]["value"].startswith("**[1]** [Russia-US ties face long haul](https://example.com/a1)")
    assert followup["allowed_mentions"] == {"parse": []}
    assert fake_engine.calls[0][1] == QUESTION


async def test_oversized_answer_is_split_into_followups(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should send an oversized answer as several follow-ups, each within Discord's limits."""
    quotes = [f"Sentence {i} " + "lorem ipsum " * 120 for i in range(6)]
    fake_engine.answer = answer_of(QUESTION, quotes, url="https://example.com/x")
    await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    followups = discord_api.followups
    assert len(followups) > 1
    for message in followups:
        for embed in message.get("embeds", []):
            assert len(embed.get("description", "")) <= DESCRIPTION_LIMIT
            assert len(embed.get("fields", [])) <= FIELD_COUNT_LIMIT
            assert len(discord.Embed.from_dict(embed)) <= EMBED_TOTAL_LIMIT
    text = discord_api.texts()
    for quote in quotes:
        assert text.count(f"> {quote} [") == 1  # every citation whole, exactly once


async def test_ask_on_an_empty_index(
    empty_engine: Engine, settings: Settings, discord_api: FakeDiscord, monkeypatch: pytest.MonkeyPatch
):
    """should tell the user there are no articles yet and that a moderator can /ingest."""
    desk = Desk(empty_engine, limiter=RateLimiter(6))
    bot = await _make_bot(desk, settings, discord_api, monkeypatch)
    try:
        await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    finally:
        await bot.close()
        desk.close()
    [followup] = discord_api.followups
    assert "No articles are indexed yet; a moderator can add some with /ingest" in followup["content"]


async def test_rate_limited_ask_gets_an_ephemeral_refusal(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should refuse the seventh question in a minute with an ephemeral message saying how long to wait."""
    for _ in range(7):
        await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    refusal = discord_api.callbacks[-1]
    assert refusal["type"] == 4 and refusal["data"]["flags"] == EPHEMERAL
    assert "6 questions a minute" in refusal["data"]["content"]


async def test_plain_text_answers_when_embeds_are_off(fake_engine: FakeEngine, tmp_path, discord_api, monkeypatch):
    """should send content, not embeds, when use_embeds is off."""
    desk = Desk(fake_engine, limiter=RateLimiter(6), use_embeds=False)
    settings = Settings(_env_file=None, data_dir=tmp_path, sync_commands=False, use_embeds=False)
    bot = await _make_bot(desk, settings, discord_api, monkeypatch)
    try:
        await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    finally:
        await bot.close()
        desk.close()
    [followup] = discord_api.followups
    assert not followup.get("embeds") and followup["content"].startswith(f"**{QUESTION}**")
    assert len(followup["content"]) <= CONTENT_LIMIT


async def test_handler_failure_apologises_with_an_error_id(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine, caplog
):
    """should answer a crashing command with an apology and error id, log the traceback, and keep working."""
    fake_engine.error = RuntimeError("index on fire")
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    [followup] = discord_api.followups
    error_id = re.search(r"error id `([0-9a-f]{8})`", followup["content"]).group(1)  # type: ignore[union-attr]
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    fake_engine.error = None
    await dispatch(bot, interaction("ask", [option("question", QUESTION)]))
    assert discord_api.followups[-1]["embeds"]


async def test_unknown_command_gets_a_friendly_message(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should explain that a stale command changed instead of failing silently."""
    await dispatch(bot, interaction("retired-command"))
    [callback] = discord_api.callbacks
    assert callback["data"]["flags"] == EPHEMERAL
    assert "changed since Discord last loaded it" in callback["data"]["content"]


# -- summaries -----------------------------------------------------------------------------------


async def test_summary_autocomplete_offers_article_titles(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should answer an autocomplete interaction with matching titles valued by article id."""
    from index.models import Article

    fake_engine.articles = [Article("abc123", str(GUILD), "Russia-US ties", "text", source="CNN")]
    await dispatch(bot, interaction("summary", [option("article", "ties", focused=True)], kind=4))
    [callback] = discord_api.callbacks
    assert callback["type"] == 8
    assert callback["data"]["choices"] == [{"name": "Russia-US ties (CNN)", "value": "abc123"}]


async def test_summary_of_a_topic(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should summarize a topic and cite its sentences."""
    await dispatch(bot, interaction("summary", [option("topic", "Syria")]))
    [followup] = discord_api.followups
    assert followup["embeds"][0]["title"] == "Summary: Syria" and "[1]" in followup["embeds"][0]["description"]


# -- moderation ----------------------------------------------------------------------------------


def _attachment(filename: str, size: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    attachment = {
        "id": "4242",
        "filename": filename,
        "size": size,
        "url": f"https://cdn.example/{filename}",
        "proxy_url": f"https://media.example/{filename}",
        "content_type": "text/plain",
    }
    return [option("file", "4242", kind=11)], {"attachments": {"4242": attachment}}


@pytest.mark.parametrize("command", ["ingest", "reindex"])
async def test_non_moderator_is_refused_ephemerally(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine, command: str
):
    """should refuse /ingest and /reindex to a member without Manage Server or the moderator role."""
    options = [option("title", "T"), option("text", "Body")] if command == "ingest" else []
    await dispatch(bot, interaction(command, options, permissions=0))
    [callback] = discord_api.callbacks
    assert callback["type"] == 4 and callback["data"]["flags"] == EPHEMERAL
    assert (
        callback["data"]["content"] == "Only moderators can do that: it needs the Manage Server permission or the "
        "'Editors' role."
    )
    assert fake_engine.calls == []


async def test_ingest_in_dm_is_refused(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should say /ingest only works in a server."""
    await dispatch(bot, interaction("ingest", [option("title", "T"), option("text", "Body")], guild=None))
    assert discord_api.callbacks[0]["data"]["content"] == "That command only works in a server."


async def test_moderator_role_can_ingest_an_attached_file(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should let the moderator role ingest a file: ephemeral deferral, progress edits, the report at the end."""
    body = b'{"title": "Dam opens", "text": "The dam opened on Monday."}\n'
    discord_api.cdn["https://cdn.example/batch.jsonl"] = body
    options, resolved = _attachment("batch.jsonl", len(body))
    await dispatch(bot, interaction("ingest", options, roles=(MOD_ROLE,), resolved=resolved))
    [callback] = discord_api.callbacks
    assert callback["type"] == 5 and callback["data"]["flags"] == EPHEMERAL
    edits = [e["content"] for e in discord_api.edits]
    assert edits[0] == "Indexing batch.jsonl…"
    assert edits[-1].startswith("Indexed batch.jsonl: 1 added")
    [(_, items, collection)] = fake_engine.calls
    assert collection == str(GUILD) and items[0].article.title == "Dam opens"


async def test_manage_guild_can_reindex(bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine):
    """should let a member with Manage Server re-index, editing the progress message to the result."""
    await dispatch(bot, interaction("reindex", permissions=MANAGE_GUILD))
    assert fake_engine.calls == [("reindex",)]
    assert discord_api.edits[-1]["content"].startswith("Re-indexed every article into 10 passages")


async def test_concurrent_asks_during_reindex(
    real_engine: Engine, settings: Settings, discord_api: FakeDiscord, monkeypatch: pytest.MonkeyPatch
):
    """should answer /ask interactions from the previous index while a /reindex is in progress."""
    engine = GatedReindex(real_engine)
    release = engine.release
    desk = Desk(engine, limiter=RateLimiter(600), progress_every=0.01)
    bot = await _make_bot(desk, settings, discord_api, monkeypatch)
    try:
        reindex = asyncio.create_task(dispatch(bot, interaction("reindex", permissions=MANAGE_GUILD)))
        assert await asyncio.to_thread(engine.in_progress.wait, 10)
        await asyncio.gather(
            *(dispatch(bot, interaction("ask", [option("question", QUESTION)], user_id=2000 + i)) for i in range(10))
        )
        assert not reindex.done()
        answers = discord_api.followups
        assert len(answers) == 10 and all("Peskov" in a["embeds"][0]["description"] for a in answers)
        release.set()
        await reindex
    finally:
        release.set()
        await bot.close()
        desk.close()
    assert discord_api.edits[-1]["content"].startswith("Re-indexed every article into 13 passages")


# -- mentions ------------------------------------------------------------------------------------


def message(
    content: str,
    *,
    mentions: tuple[int, ...] = (BOT_ID,),
    author: int = USER,
    author_bot: bool = False,
    guild: int | None = GUILD,
    roles: tuple[int, ...] = (),
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload."""
    payload: dict[str, Any] = {
        "id": str(next(_ids)),
        "channel_id": str(CHANNEL),
        "author": _user(author, bot=author_bot),
        "content": content,
        "timestamp": "2025-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [_user(i, bot=i == BOT_ID) for i in mentions],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }
    if guild is not None:
        payload["guild_id"] = str(guild)
        payload["member"] = {
            "roles": [str(r) for r in roles],
            "joined_at": "2020-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
    return payload


async def test_mention_is_answered_as_a_reply_quoting_the_question(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should strip the mention, show typing, and reply to the message (no ping) with the question as title."""
    incoming = message(f"<@{BOT_ID}> {QUESTION}")
    await dispatch(bot, incoming, event="message")
    assert fake_engine.calls[0][1] == QUESTION
    assert discord_api.calls[0].path == f"/channels/{CHANNEL}/typing"
    [reply] = discord_api.channel_messages
    assert reply["message_reference"]["message_id"] == int(incoming["id"])
    assert reply["message_reference"]["fail_if_not_exists"] is False
    assert reply["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert reply["embeds"][0]["title"] == QUESTION


async def test_direct_message_is_answered_from_global(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should answer a direct message without a mention, searching the global collection only."""
    await dispatch(bot, message(QUESTION, mentions=(), guild=None), event="message")
    assert fake_engine.calls[0][2].collections == ("global",)
    assert len(discord_api.channel_messages) == 1


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(message(QUESTION, mentions=()), id="no-mention"),
        pytest.param(message(f"<@{BOT_ID}> {QUESTION}", author=77, author_bot=True), id="from-a-bot"),
        pytest.param(message(f"<@{BOT_ID}> hi", author=BOT_ID, author_bot=True), id="from-itself"),
    ],
)
async def test_messages_not_for_the_bot_are_ignored(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine, payload: dict[str, Any]
):
    """should ignore messages that do not mention it, and messages from bots."""
    await dispatch(bot, payload, event="message")
    assert fake_engine.calls == [] and discord_api.calls == []


async def test_failing_mention_gets_an_apology(bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine):
    """should reply with an apology and error id when answering a mention fails."""
    fake_engine.error = RuntimeError("boom")
    await dispatch(bot, message(f"<@{BOT_ID}> {QUESTION}"), event="message")
    [reply] = discord_api.channel_messages
    assert re.search(r"error id `[0-9a-f]{8}`", reply["content"])


async def test_empty_mention_asks_for_a_question(bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine):
    """should ask for a question when the message is only a mention."""
    await dispatch(bot, message(f"<@{BOT_ID}>"), event="message")
    [reply] = discord_api.channel_messages
    assert reply["content"] == "Please ask a question: the text is empty."
    assert fake_engine.calls == []


async def test_moderator_mentions_are_not_rate_limited(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should exempt members of the moderator role from the rate limit on mentions too."""
    for _ in range(8):
        await dispatch(bot, message(f"<@{BOT_ID}> {QUESTION}", roles=(MOD_ROLE,)), event="message")
    assert len(fake_engine.calls) == 8
    for _ in range(7):
        await dispatch(bot, message(f"<@{BOT_ID}> {QUESTION}", author=USER + 1), event="message")
    assert len(fake_engine.calls) == 14
    assert "questions a minute" in discord_api.channel_messages[-1]["content"]


async def test_central_error_handler_survives_a_failed_send(bot: NewsdeskBot, discord_api: FakeDiscord, caplog):
    """should log, not raise, when even the error message cannot be sent."""
    response = type("Response", (), {"status": 404, "reason": "Not Found"})()
    discord_api.failure = discord.NotFound(response, {"code": 10062, "message": "Unknown interaction"})
    with caplog.at_level(logging.WARNING):
        await dispatch(bot, interaction("ingest", [option("title", "T"), option("text", "Body")]))
    assert any("could not tell user" in r.getMessage() for r in caplog.records)


def test_answer_type_is_shared():
    """should keep the handler's Answer type the engine's (guards the fake engine)."""
    assert answer_of("q", ["x"]).__class__ is Answer
    assert issubclass(app_commands.CheckFailure, app_commands.AppCommandError)
