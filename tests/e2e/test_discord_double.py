"""Self-tests of the Discord double, driven by a tiny plain discord.py bot with one slash command."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import discord.gateway
import discord.http
import discord.utils
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from .discord_double import DiscordDouble, RecordedRequest, point_discord_at

FOLLOWUP = "POST /webhooks/{app}/{token}"


@app_commands.command(name="ping", description="Defers, then follows up with pong.")
@app_commands.describe(topic="What to ping about", file="A file to echo back")
async def ping(
    interaction: discord.Interaction, topic: str | None = None, file: discord.Attachment | None = None
) -> None:
    await interaction.response.defer(thinking=True)
    if topic == "button":
        await interaction.followup.send("pick one", view=AgainView())
    elif file is not None:
        data = await file.read()
        await interaction.followup.send(f"pong {file.filename}", file=discord.File(io.BytesIO(data), file.filename))
    else:
        await interaction.followup.send(f"pong {topic}" if topic else "pong")


class AgainView(discord.ui.View):
    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]) -> None:
        await interaction.response.edit_message(content="clicked", view=None)


@ping.autocomplete("topic")
async def _topic_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=t, value=t) for t in ("world", "weather", "sports") if t.startswith(current)]


class PingBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.tree.add_command(ping)
        self.seen: list[discord.Message] = []

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py sleeps 5 s here before every re-IDENTIFY; not worth it against the double

    async def on_message(self, message: discord.Message) -> None:
        if message.author == self.user:  # the double echoes our own messages, like Discord
            return
        self.seen.append(message)
        if self.user in message.mentions:
            await message.add_reaction("\N{WHITE HEAVY CHECK MARK}")
            await message.channel.send(f"hi {message.author.mention}")


@pytest_asyncio.fixture
async def bot(discord_double: DiscordDouble) -> AsyncIterator[PingBot]:
    client = PingBot()
    task = asyncio.create_task(client.start("test-token"))
    ready = asyncio.ensure_future(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # start() died: surface why
        assert client.is_ready(), "bot did not become ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(task, 5)


def _followup_ok(r: RecordedRequest) -> bool:
    return r.route == FOLLOWUP and r.status == 200


@pytest.mark.asyncio
async def test_login_sync_defer_and_followup(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    assert [c["name"] for c in d.commands] == ["ping"]
    assert {o["name"]: o["type"] for o in d.commands[0]["options"]} == {"topic": 3, "file": 11}
    put = next(r for r in d.requests if r.route == "PUT /applications/{app}/commands")
    assert put.headers["Authorization"] == "Bot test-token"
    assert [r.route for r in d.requests[:2]] == ["GET /users/@me", "GET /applications/@me"]
    compress = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert d.connections[0].query == {"v": "10", "encoding": "json", "compress": compress}
    assert bot.user is not None
    assert bot.user.id == int(d.bot_user["id"])
    assert bot.application_id == int(d.application_id)
    guild = bot.get_guild(int(d.guild_id))
    assert guild is not None
    assert guild.me is not None

    iid = await d.send_interaction(command_name="ping")
    await d.wait_for(_followup_ok)
    rec = d.interactions[iid]
    assert [c["type"] for c in rec.callbacks] == [5]
    assert rec.followups[0]["content"] == "pong"
    assert rec.original is not None
    assert rec.followups[0]["id"] == rec.original["id"]  # the follow-up replaced the "thinking" message
    assert rec.original["flags"] & 128 == 0
    callback = next(r for r in d.requests if r.route == "POST /interactions/{iid}/{token}/callback")
    assert callback.query == {"with_response": "1"}
    assert "Authorization" not in callback.headers


@pytest.mark.asyncio
async def test_followup_429_is_retried(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    d.fail_next("POST", r"^/webhooks/\d+/[^/]+$", status=429, retry_after=0.5)
    await d.send_interaction(command_name="ping")
    ok = await d.wait_for(_followup_ok)
    tries = [r for r in d.requests if r.route == FOLLOWUP]
    assert [(r.status, r.injected) for r in tries] == [(429, True), (200, False)]
    assert ok.time - tries[0].time >= 0.5


@pytest.mark.asyncio
async def test_500_on_channel_send_is_retried(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    d.fail_next("POST", r"^/channels/\d+/messages$", status=500)
    channel = bot.get_channel(int(d.channel_id))
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("hello")
    statuses = [r.status for r in d.requests if r.route == "POST /channels/{cid}/messages"]
    assert statuses == [500, 200]
    assert d.messages[str(message.id)]["content"] == "hello"


@pytest.mark.asyncio
async def test_dropped_socket_resumes_and_replays(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    await d.drop_socket()
    await d.send_interaction(command_name="ping", options={"topic": "after-drop"})  # sent while disconnected
    ok = await d.wait_for(_followup_ok)
    assert ok.json["content"] == "pong after-drop"
    assert (d.identify_count, d.resume_count) == (1, 1)
    assert [c.path for c in d.connections] == ["/", "/resume"]


@pytest.mark.asyncio
async def test_op7_reconnect_resumes(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    await d.send_reconnect()
    await d.wait_until(lambda: d.resume_count == 1)
    await d.send_interaction(command_name="ping", options={"topic": "after-op7"})
    assert (await d.wait_for(_followup_ok)).json["content"] == "pong after-op7"
    assert d.identify_count == 1
    assert len(d.connections) == 2


@pytest.mark.asyncio
async def test_invalid_session_reidentifies(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    await d.send_invalid_session(resumable=False)
    await d.wait_until(lambda: d.identify_count == 2)
    await d.send_interaction(command_name="ping")
    await d.wait_for(_followup_ok)
    assert d.resume_count == 0
    assert [c.path for c in d.connections] == ["/", "/"]


@pytest.mark.asyncio
async def test_mention_reaches_on_message(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    sent = await d.send_message(content=f"<@{d.bot_user['id']}> hello", mentions=[d.bot_user])
    reply = await d.wait_for(lambda r: r.route == "POST /channels/{cid}/messages")
    assert reply.json["content"] == f"hi <@{d.user['id']}>"
    assert bot.seen[0].content == sent["content"]
    assert bot.user in bot.seen[0].mentions
    react = next(r for r in d.requests if r.route.startswith("PUT /channels/{cid}/messages/{mid}/reactions"))
    assert react.status == 204
    assert react.params["emoji"] == "\N{WHITE HEAVY CHECK MARK}"
    assert d.messages[sent["id"]]["reactions"][0]["me"] is True


@pytest.mark.asyncio
async def test_autocomplete_and_attachment_roundtrip(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    iid = await d.send_autocomplete(command_name="ping", options={"topic": "w"}, focused="topic")
    await d.wait_until(lambda: d.interactions[iid].callbacks)
    callback = d.interactions[iid].callbacks[0]
    assert callback["type"] == 8
    assert [c["value"] for c in callback["data"]["choices"]] == ["world", "weather"]

    att = d.add_attachment("notes.txt", b"hello newsroom", "text/plain")
    iid = await d.send_interaction(command_name="ping", options={"file": att})
    req = await d.wait_for(_followup_ok)
    assert [(f.field, f.filename, f.data) for f in req.files] == [("files[0]", "notes.txt", b"hello newsroom")]
    assert req.json["attachments"] == [{"id": 0, "filename": "notes.txt"}]
    echoed = d.interactions[iid].followups[0]["attachments"][0]
    assert echoed["content_type"] == "text/plain"
    assert echoed["id"] != att["id"]
    async with aiohttp.ClientSession() as session, session.get(echoed["url"]) as resp:
        assert await resp.read() == b"hello newsroom"


@pytest.mark.asyncio
async def test_button_click_updates_message(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    iid = await d.send_interaction(command_name="ping", options={"topic": "button"})
    await d.wait_for(_followup_ok)
    msg = d.interactions[iid].followups[0]
    assert msg["components"][0]["components"][0]["custom_id"] == "again"
    click = await d.send_component(msg, "again")
    await d.wait_until(lambda: d.interactions[click].callbacks)
    assert d.interactions[click].callbacks[0]["type"] == 7
    assert d.messages[msg["id"]]["content"] == "clicked"
    assert d.messages[msg["id"]]["components"] == []


@pytest.mark.asyncio
async def test_rest_basics_without_a_bot(discord_double: DiscordDouble) -> None:
    d = discord_double
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{d.api_base}/users/@me", headers={"Authorization": "Bot x"}) as resp:
            assert resp.headers["Content-Type"] == "application/json"
            assert resp.headers["X-RateLimit-Remaining"] == "49"
            assert (await resp.json())["id"] == d.bot_user["id"]
        async with session.get(f"{d.api_base}/users/@me") as resp:
            assert resp.status == 401
        async with session.get(f"{d.api_base}/nope", headers={"Authorization": "Bot x"}) as resp:
            assert resp.status == 404
    assert [(r.path, r.status) for r in d.requests] == [("/users/@me", 200), ("/users/@me", 401), ("/nope", 404)]
    with pytest.raises(LookupError):
        await d.send_interaction(command_name="ping")  # never synced


def test_point_discord_at() -> None:
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        point_discord_at("http://127.0.0.1:8123")
        assert discord.http.Route.BASE == "http://127.0.0.1:8123/api/v10"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:8123/"
        point_discord_at("https://discord.com/api/v10")
        assert discord.http.Route.BASE == "https://discord.com/api/v10"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
