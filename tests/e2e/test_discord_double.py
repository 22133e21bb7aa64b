"""Self-tests of the Discord double, driven by tiny plain discord.py bots: ``PingBot`` (one slash
command) and ``PanelBot`` (a persistent view with a DynamicItem button, a select, a modal, threads)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import discord.utils
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from .discord_double import (
    CREATE_PUBLIC_THREADS,
    FLAG_EPHEMERAL,
    SEND_MESSAGES_IN_THREADS,
    DiscordDouble,
    RecordedRequest,
    point_discord_at,
)

FOLLOWUP = "POST /webhooks/{app}/{token}"
CREATE_MESSAGE = "POST /channels/{cid}/messages"


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
    def __init__(self, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1, **options)
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


class ShardedPingBot(PingBot, commands.AutoShardedBot):
    """``PingBot`` on ``AutoShardedBot``: give it ``shard_ids`` and ``shard_count``."""


@contextlib.asynccontextmanager
async def running(client: commands.Bot) -> AsyncIterator[None]:
    """``client`` connected to the double (ready) for the block, closed afterwards."""
    task = asyncio.create_task(client.start("test-token"))
    ready = asyncio.ensure_future(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # start() died: surface why
        assert client.is_ready(), "bot did not become ready"
        yield
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(task, 5)


@pytest_asyncio.fixture
async def bot(discord_double: DiscordDouble) -> AsyncIterator[PingBot]:
    client = PingBot()
    async with running(client):
        yield client


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
    assert rec.type == 2
    assert rec.ack_latency is not None
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


# ---------------------------------------------------------------------------------------------- components
class Counter(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"counter:(?P<n>[0-9]+)"):
    """A button whose count lives in its custom_id, so any process can handle a click on any message."""

    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=f"Count {n}", custom_id=f"counter:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Counter:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"count {self.n + 1}", view=PanelView(self.n + 1))


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """One text input the old way (a direct child: an action row) and one in a Label (discord.py 2.6+)."""

    topic: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Topic", custom_id="topic", max_length=50)
    details: discord.ui.Label[FeedbackModal] = discord.ui.Label(
        text="Details",
        component=discord.ui.TextInput(custom_id="details", style=discord.TextStyle.paragraph, required=False),
    )

    def __init__(self) -> None:
        super().__init__(custom_id="feedback")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        details = self.details.component
        assert isinstance(details, discord.ui.TextInput)
        await interaction.response.send_message(f"thanks: {self.topic.value}", ephemeral=True)
        assert interaction.message is not None
        thread = await interaction.message.create_thread(name=f"Feedback: {self.topic.value}")
        await thread.send(f"Discussing {self.topic.value}: {details.value}")


class PanelView(discord.ui.View):
    def __init__(self, n: int = 0) -> None:
        super().__init__(timeout=None)
        self.add_item(Counter(n))

    @discord.ui.button(
        label="Feedback", custom_id="panel:feedback", style=discord.ButtonStyle.success, emoji="\N{MEMO}"
    )
    async def feedback(self, interaction: discord.Interaction, button: discord.ui.Button[PanelView]) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @discord.ui.select(
        custom_id="panel:pick",
        max_values=2,
        options=[discord.SelectOption(label=t.title(), value=t) for t in ("world", "sports", "weather")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[PanelView]) -> None:
        await interaction.response.defer()
        await interaction.followup.send(f"picked {', '.join(select.values)}", ephemeral=True)


class PanelBot(commands.Bot):
    """Answers in threads when mentioned or replied to; ``persistent`` re-registers PanelView at start."""

    def __init__(self, *, persistent: bool = True) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.persistent = persistent
        self.new_threads: list[discord.Thread] = []

    async def setup_hook(self) -> None:
        if self.persistent:
            self.add_view(PanelView())  # custom_ids only: matches the items on any message

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.new_threads.append(thread)

    async def on_message(self, message: discord.Message) -> None:
        if message.author == self.user or not isinstance(message.channel, discord.Thread):
            return
        ref = message.reference.resolved if message.reference else None
        if self.user in message.mentions or (isinstance(ref, discord.Message) and ref.author == self.user):
            await message.reply(f"answering {message.content}")

    def text_channel(self, channel_id: str) -> discord.TextChannel:
        channel = self.get_channel(int(channel_id))
        assert isinstance(channel, discord.TextChannel)
        return channel


@pytest_asyncio.fixture
async def panel_bot(discord_double: DiscordDouble) -> AsyncIterator[PanelBot]:
    client = PanelBot()
    async with running(client):
        yield client


def _controls(msg: dict[str, Any]) -> list[list[tuple[int, str]]]:
    return [[(c["type"], c["custom_id"]) for c in row["components"]] for row in msg["components"]]


async def _acked(d: DiscordDouble, iid: str) -> Any:
    await d.wait_until(lambda: d.interactions[iid].acked)
    return d.interactions[iid]


@pytest.mark.asyncio
async def test_button_modal_thread_and_replies(discord_double: DiscordDouble, panel_bot: PanelBot) -> None:
    d = discord_double
    sent = await panel_bot.text_channel(d.channel_id).send("Newsroom panel", view=PanelView())
    msg = d.messages[str(sent.id)]
    assert _controls(msg) == [[(2, "panel:feedback"), (2, "counter:0")], [(3, "panel:pick")]]
    feedback = msg["components"][0]["components"][0]
    assert (feedback["style"], feedback["label"], feedback["emoji"]["name"]) == (3, "Feedback", "\N{MEMO}")
    assert [o["value"] for o in msg["components"][1]["components"][0]["options"]] == ["world", "sports", "weather"]
    ids = [msg["components"][0]["id"], feedback["id"], msg["components"][0]["components"][1]["id"]]
    assert ids == [1, 2, 3]  # Discord numbers components depth first

    click = await d.click(sent.id, "panel:feedback")
    rec = await _acked(d, click)
    assert rec.payload["data"] == {"custom_id": "panel:feedback", "component_type": 2}
    assert (rec.type, rec.payload["message"]["id"], rec.payload["member"]["user"]["id"]) == (3, msg["id"], d.user["id"])
    assert rec.response_type == 9
    assert rec.ack_latency is not None
    assert rec.modal is not None
    assert (rec.modal["custom_id"], rec.modal["title"]) == ("feedback", "Feedback")
    row, label = rec.modal["components"]
    assert (row["type"], row["components"][0]["custom_id"], row["components"][0]["label"]) == (1, "topic", "Topic")
    assert (label["type"], label["label"], label["component"]["custom_id"]) == (18, "Details", "details")

    with pytest.raises(ValueError, match="'topic' is required"):
        await d.submit_modal(click, {"details": "no topic"})
    submit = await d.submit_modal(click, {"topic": "Budget", "details": "Council vote"})
    in_thread = await d.wait_for(lambda r: r.route == CREATE_MESSAGE and r.params["cid"] == msg["id"])
    sub = d.interactions[submit]
    assert sub.payload["data"] == {
        "custom_id": "feedback",
        "components": [
            {"type": 1, "id": row["id"], "components": [{"type": 4, "id": 2, "custom_id": "topic", "value": "Budget"}]},
            {
                "type": 18,
                "id": label["id"],
                "component": {"type": 4, "id": 4, "custom_id": "details", "value": "Council vote"},
            },
        ],
    }
    assert (sub.type, sub.parent_id, sub.payload["message"]["id"]) == (5, click, msg["id"])
    assert sub.ack_latency is not None
    assert sub.original is not None
    assert (sub.response_type, sub.original["content"], sub.original["flags"]) == (4, "thanks: Budget", FLAG_EPHEMERAL)
    assert sub.original["id"] not in d.messages
    assert sub.original["interaction_metadata"]["triggering_interaction_metadata"]["id"] == click

    thread = d.channels[msg["id"]]  # a thread on a message has the message's id
    assert (thread["type"], thread["parent_id"], thread["name"]) == (11, d.channel_id, "Feedback: Budget")
    assert thread["owner_id"] == d.bot_user["id"]
    assert d.messages[msg["id"]]["thread"]["id"] == thread["id"]
    assert in_thread.json["content"] == "Discussing Budget: Council vote"
    await d.wait_until(lambda: panel_bot.new_threads)
    assert (panel_bot.new_threads[0].id, panel_bot.new_threads[0].parent_id) == (int(thread["id"]), int(d.channel_id))

    since = len(d.requests)
    asked = await d.send_message(thread["id"], content=f"<@{d.bot_user['id']}> who voted?")
    reply = await d.wait_for(lambda r: r.route == CREATE_MESSAGE and r.params["cid"] == thread["id"], since=since)
    assert (reply.response["type"], reply.response["message_reference"]["message_id"]) == (19, asked["id"])
    assert reply.response["content"] == f"answering <@{d.bot_user['id']}> who voted?"

    since = len(d.requests)
    follow = await d.send_message(thread["id"], content="and when?", reply_to=reply.response, mention_author=False)
    assert (follow["mentions"], follow["referenced_message"]["id"]) == ([], reply.response["id"])
    again = await d.wait_for(lambda r: r.route == CREATE_MESSAGE and r.params["cid"] == thread["id"], since=since)
    assert again.response["content"] == "answering and when?"
    assert (thread["message_count"], thread["member_count"]) == (5, 2)


@pytest.mark.asyncio
async def test_dynamic_item_and_select(discord_double: DiscordDouble, panel_bot: PanelBot) -> None:
    d = discord_double
    sent = await panel_bot.text_channel(d.channel_id).send("panel", view=PanelView())
    first = await _acked(d, await d.click(sent.id, "counter:0"))
    assert first.response_type == 7
    assert d.messages[str(sent.id)]["content"] == "count 1"
    assert _controls(d.messages[str(sent.id)])[0] == [(2, "panel:feedback"), (2, "counter:1")]
    with pytest.raises(LookupError, match="no component 'counter:0'"):
        await d.click(sent.id, "counter:0")
    await _acked(d, await d.click(sent.id, "counter:1"))
    assert d.messages[str(sent.id)]["content"] == "count 2"

    with pytest.raises(ValueError, match="no option"):
        await d.choose(sent.id, "panel:pick", ["nope"])
    pick = await d.choose(sent.id, "panel:pick", ["world", "sports"])
    await d.wait_until(lambda: d.interactions[pick].followups)
    rec = d.interactions[pick]
    assert rec.payload["data"] == {"custom_id": "panel:pick", "component_type": 3, "values": ["world", "sports"]}
    assert rec.callbacks == [{"type": 6}]
    note = rec.followups[0]
    assert (note["content"], note["flags"]) == ("picked world, sports", FLAG_EPHEMERAL)
    assert note["id"] not in d.messages


@pytest.mark.asyncio
async def test_restarted_client_handles_clicks_on_old_message(discord_double: DiscordDouble) -> None:
    d = discord_double
    first = PanelBot(persistent=False)
    async with running(first):
        sent = await first.text_channel(d.channel_id).send("panel", view=PanelView())
        thread = await d.create_thread(name="still open")
    second = PanelBot(persistent=True)  # a new process would do the same: add_view in setup_hook
    async with running(second):
        assert d.identify_count == 2
        guild = second.get_guild(int(d.guild_id))
        assert guild is not None
        known = guild.get_thread(int(thread["id"]))  # active threads come with GUILD_CREATE
        assert known is not None
        assert known.name == "still open"
        modal = await _acked(d, await d.click(sent.id, "panel:feedback"))
        assert modal.response_type == 9
        counted = await _acked(d, await d.click(sent.id, "counter:0"))
        assert counted.response_type == 7
        assert d.messages[str(sent.id)]["content"] == "count 1"


@pytest.mark.asyncio
async def test_thread_permissions(discord_double: DiscordDouble, panel_bot: PanelBot) -> None:
    d = discord_double
    channel = panel_bot.text_channel(d.channel_id)
    updated = asyncio.ensure_future(panel_bot.wait_for("guild_channel_update"))
    await d.set_permissions(d.channel_id, d.bot_user, deny=CREATE_PUBLIC_THREADS)
    await asyncio.wait_for(updated, 5)
    assert not channel.permissions_for(channel.guild.me).create_public_threads
    assert not d.permissions_in(d.channel_id) & CREATE_PUBLIC_THREADS
    sent = await channel.send("no public threads here")
    with pytest.raises(discord.Forbidden) as denied:
        await sent.create_thread(name="nope")
    assert denied.value.code == 50013
    assert str(sent.id) not in d.channels

    private = await channel.create_thread(name="private")  # discord.py's default type: private
    assert (d.channels[str(private.id)]["type"], d.channels[str(private.id)]["thread_metadata"]["invitable"]) == (
        12,
        True,
    )
    await d.set_permissions(d.channel_id, d.bot_user, deny=SEND_MESSAGES_IN_THREADS)
    with pytest.raises(discord.Forbidden):
        await private.send("hello")

    await d.set_permissions(d.channel_id, d.bot_user)  # overwrite removed
    thread = await sent.create_thread(name="now allowed")
    assert thread.id == sent.id
    with pytest.raises(discord.HTTPException) as twice:
        await sent.create_thread(name="again")
    assert twice.value.code == 160004


@pytest.mark.asyncio
async def test_user_thread_reaches_bot(discord_double: DiscordDouble, panel_bot: PanelBot) -> None:
    d = discord_double
    thread = await d.create_thread(name="reader questions")
    await d.wait_until(lambda: panel_bot.new_threads)
    assert (panel_bot.new_threads[0].id, panel_bot.new_threads[0].owner_id) == (int(thread["id"]), int(d.user["id"]))
    since = len(d.requests)
    await d.send_message(thread["id"], content=f"<@{d.bot_user['id']}> hi")
    reply = await d.wait_for(lambda r: r.route == CREATE_MESSAGE, since=since)
    assert (reply.params["cid"], reply.status) == (thread["id"], 200)
    assert d.thread_members[thread["id"]].keys() == {d.user["id"], d.bot_user["id"]}


@pytest.mark.asyncio
async def test_ack_deadline_and_token_expiry(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    iid = await d.send_interaction(command_name="ping")
    await d.wait_for(_followup_ok)
    channel = bot.get_channel(int(d.channel_id))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("no view here")
    ignored = await d.send_component(sent.id, "nobody-handles-this")  # the bot never answers
    d.ack_deadline_s = 3.0
    d.advance_clock(3.5)
    token = d.interactions[ignored].token
    async with aiohttp.ClientSession() as session:
        url = f"{d.api_base}/interactions/{ignored}/{token}/callback"
        async with session.post(url, json={"type": 6}) as resp:
            assert (resp.status, (await resp.json())["code"]) == (404, 10062)
        d.advance_clock(15 * 60)
        url = f"{d.api_base}/webhooks/{d.application_id}/{d.interactions[iid].token}"
        async with session.post(url, json={"content": "too late"}) as resp:
            assert (resp.status, (await resp.json())["code"]) == (401, 50027)
    assert not d.interactions[ignored].acked
    assert d.interactions[ignored].ack_latency is None


@pytest.mark.asyncio
async def test_invalid_components_and_modal_are_rejected(discord_double: DiscordDouble, bot: PingBot) -> None:
    d = discord_double
    long_id = "x" * 101
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "a", "custom_id": long_id}]}
    dup = {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "same"}] * 2}
    async with aiohttp.ClientSession(headers={"Authorization": "Bot x"}) as session:
        url = f"{d.api_base}/channels/{d.channel_id}/messages"
        async with session.post(url, json={"content": "x", "components": [row, dup]}) as resp:
            body = await resp.json()
    assert (resp.status, body["code"]) == (400, 50035)
    assert body["errors"]["components"]["0"]["components"]["0"]["custom_id"]["_errors"][0]["code"] == (
        "BASE_TYPE_BAD_LENGTH"
    )
    assert body["errors"]["components"]["_errors"][0]["code"] == "COMPONENT_CUSTOM_ID_DUPLICATED"

    channel = bot.get_channel(int(d.channel_id))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("no view here")
    iid = await d.send_component(sent.id, "nobody-handles-this")
    text_input = {"type": 4, "custom_id": "q", "style": 1, "label": "Question"}
    modal = {"custom_id": "m", "title": "T" * 46, "components": [{"type": 1, "components": [text_input]}]}
    async with aiohttp.ClientSession() as session:
        url = f"{d.api_base}/interactions/{iid}/{d.interactions[iid].token}/callback"
        async with session.post(url, json={"type": 8, "data": {"choices": []}}) as resp:
            assert (resp.status, list((await resp.json())["errors"])) == (400, ["type"])
        async with session.post(url, json={"type": 9, "data": modal}) as resp:
            body = await resp.json()
        assert (resp.status, list(body["errors"]["data"])) == (400, ["title"])
        async with session.post(url, json={"type": 9, "data": {**modal, "title": "Ask"}}) as resp:
            assert resp.status == 200
    rec = d.interactions[iid]
    assert rec.modal is not None
    assert rec.modal["components"][0]["components"][0] == {**text_input, "id": 2}
    assert rec.callbacks == [{"type": 9, "data": {**modal, "title": "Ask"}}]


@pytest.mark.asyncio
async def test_shards_get_their_own_guilds_and_events(discord_double: DiscordDouble) -> None:
    """A sharded client: each shard's session gets only its guilds ((guild_id >> 22) % count) and their events."""
    d = discord_double
    home = (int(d.guild_id) >> 22) % 2
    other = d.add_guild("Elsewhere", guild_id=((int(d.guild_id) >> 22) + 1) << 22)  # the next shard
    client = ShardedPingBot(shard_ids=[0, 1], shard_count=2)
    async with running(client):
        assert sorted(p["shard"] for p in d.identify_payloads) == [[0, 2], [1, 2]]
        assert {g.id for g in client.guilds} == {int(d.guild_id), int(other["id"])}
        await d.send_interaction(command_name="ping", options={"topic": "home"})
        await d.send_interaction(
            guild_id=other["id"], channel_id=other["channels"][0]["id"], command_name="ping", options={"topic": "other"}
        )
        await d.wait_until(lambda: sum(map(_followup_ok, d.requests)) == 2)
    answers = sorted(r.json["content"] for r in d.requests if _followup_ok(r))
    assert answers == ["pong home", "pong other"]
    for shard in (home, 1 - home):
        events = d.shard_events(shard)
        assert (events.count("GUILD_CREATE"), events.count("INTERACTION_CREATE")) == (1, 1)
