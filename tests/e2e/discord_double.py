"""A local stand-in ("double") for the part of Discord API v10 that a discord.py 2.x bot uses.

Plain aiohttp, one process, one event loop (the test's).  REST lives in ``_double_rest.py``, the
gateway in ``_double_gateway.py``, the interactions a test sends in ``_double_interactions.py``,
threads in ``_double_threads.py``, component/modal checks in ``_double_components.py`` and the
permission algorithm in ``_double_permissions.py``; this module holds the state, the payload builders
and the rest of the test-facing API.

Usage (the ``discord_double`` fixture in conftest.py does the first and last two steps)::

    double = DiscordDouble()
    await double.start()                      # 127.0.0.1, free port
    point_discord_at(double.api_base)         # http://127.0.0.1:<port>/api/v10
    task = asyncio.create_task(bot.start("any-token"))
    await asyncio.wait_for(double.ready.wait(), 5)
    iid = await double.send_interaction(command_name="ping")
    await double.wait_for(lambda r: r.route == "POST /webhooks/{app}/{token}" and r.status == 200)
    await bot.close(); await double.stop()

Pointing discord.py (2.7.1) somewhere else needs exactly two class attributes (``point_discord_at``):

* ``discord.http.Route.BASE`` -- REST base incl. ``/api/v10``.  It is read when each ``Route`` is built,
  and the interaction/webhook adapter (``discord/webhook/async_.py``) builds its routes with the same
  ``Route`` class, so callbacks and follow-ups follow it too (no separate webhook constant).
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -- a ``yarl.URL``.  ``Client.connect`` never calls
  ``GET /gateway/bot`` (only ``AutoShardedClient`` does): the first connect and every re-IDENTIFY after a
  non-resumable INVALID_SESSION go to DEFAULT_GATEWAY (hardcoded ``wss://gateway.discord.gg/``).  RESUMEs
  go to READY's ``resume_gateway_url``.  Plain ``ws://`` is accepted; discord.py appends
  ``?v=10&encoding=json&compress=zlib-stream`` (``zstd-stream`` when ``zstandard`` is installed, e.g. via
  ``discord.py[speed]``) with ``with_query``, so any query in the configured URL is dropped.

discord.py details the double is built around (all checked in the 2.7.1 source):

* JSON is only decoded when the response header is exactly ``application/json``; otherwise the body
  stays a ``str`` and e.g. ``data['retry_after']`` blows up.
* A 429 without a ``Via`` header is treated as a Cloudflare ban: ``HTTPException``, no retry.
* 500/502/504 are retried after ``1 + 2*attempt`` seconds (up to 5 tries), so an injected 500 costs 1 s.
* Interaction callbacks are sent with ``?with_response=1`` and parsed as an InteractionCallbackResponse
  (``{"interaction": {...}, "resource": {...}}``).
* ``on_ready`` fires ``guild_ready_timeout`` (default 2 s) after the last GUILD_CREATE; pass
  ``guild_ready_timeout=0.1`` to the client in tests (events, incl. interactions, are handled before that).
* ``Client.before_identify_hook`` sleeps 5 s before every non-initial IDENTIFY (e.g. after a
  non-resumable INVALID_SESSION); override it in tests to skip that.
* Behaviour of the double worth knowing: the first follow-up after a ``defer(thinking=True)`` edits the
  loading message (same id), as Discord does; follow-ups before any callback get 404 10015, a second
  callback 400 40060; MESSAGE_CREATE delivery honours the IDENTIFY intents (GUILD_MESSAGES,
  MESSAGE_CONTENT unless mentioned); the bot's own messages are echoed as MESSAGE_CREATE/UPDATE.
* ``Interaction`` requires ``attachment_size_limit``; ``Member`` requires ``flags``; ``AppCommand`` requires
  ``description`` (Discord sends "" for context menus).

Test API (a user's side; every ``send_*`` / ``click`` / ``choose`` / ``submit_modal`` returns the
interaction id, and ``double.interactions[id]`` is its :class:`InteractionRecord`)::

    iid = await double.send_interaction(command_name="ask", options={"question": "..."})   # type 2
    msg = double.interactions[iid].followups[0]          # or double.messages[id]; components kept, numbered
    click = await double.click(msg, "panel:feedback")    # type 3, data {custom_id, component_type: 2}
    pick = await double.choose(msg, "panel:pick", ["world"])  # type 3, component_type 3, values
    rec = double.interactions[click]
    rec.response_type        # 4 message, 5 deferred, 6 deferred update, 7 update message, 9 modal
    rec.ack_latency          # seconds from dispatch to the accepted callback (None: never acknowledged)
    rec.modal                # data of a type 9 answer: custom_id, title, components (rows / labels)
    sub = await double.submit_modal(click, {"topic": "Budget"})   # type 5; record.parent_id == click
    double.interactions[sub].original["flags"] & FLAG_EPHEMERAL   # ephemeral answers/follow-ups: flags 64
    thread = double.channels[msg["id"]]                  # a thread the bot started on msg (type 11)
    await double.send_message(thread["id"], content="<@BOT_ID> hi")       # mentions the bot, in the thread
    await double.send_message(thread["id"], content="and?", reply_to=bot_msg, mention_author=False)  # reply
    thread = await double.create_thread(name="questions")                # a thread a user starts
    await double.set_permissions(double.channel_id, double.bot_user, deny=CREATE_PUBLIC_THREADS)
    double.advance_clock(15 * 60 + 1)                    # every interaction token has now expired

* ``click`` / ``choose`` look the component up in the message as stored now (LookupError when it is
  not there, e.g. after an edit removed it; ValueError when disabled, a link, or values the select does
  not offer); ``send_component`` sends any custom_id unchecked.  ``submit_modal`` raises ValueError for
  what Discord's client refuses (a required input left empty, a length out of range).
* Messages the bot sends or edits are checked against Discord's component limits (custom_id <= 100
  characters and unique, <= 5 rows ...) and modals against theirs: 400 50035 "Invalid Form Body".
  A callback type the interaction does not allow (7 on a slash command, 8 outside autocomplete, 9 on a
  modal submit) is a 400.
* Deadlines run on ``double.clock()``: tokens expire after ``token_ttl_s`` (15 min; then follow-ups
  and edits get 401 50027), and with ``ack_deadline_s=3`` a late callback gets 404 10062 like on
  Discord.  The default (None) only records ``ack_latency``, so a loaded machine fails no test that
  does not assert on it.
* Permissions are computed like Discord's (``double.permissions_in``): sending needs SEND_MESSAGES
  (SEND_MESSAGES_IN_THREADS in threads), starting threads CREATE_PUBLIC/PRIVATE_THREADS (403 50013).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._double_gateway import ConnectionInfo, GatewayMixin
from ._double_interactions import InteractionsMixin
from ._double_permissions import (
    ALL_PERMISSIONS,
    BOT_ROLE_PERMISSIONS,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DEFAULT_MEMBER_PERMISSIONS,
    OVERWRITE_MEMBER,
    OVERWRITE_ROLE,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    channel_permissions,
)
from ._double_rest import (
    FLAG_EPHEMERAL,
    THREAD_TYPES,
    Fault,
    InteractionRecord,
    RecordedFile,
    RecordedRequest,
    RestMixin,
)
from ._double_threads import ThreadsMixin

__all__ = [
    "BOT_ROLE_PERMISSIONS",
    "CREATE_PRIVATE_THREADS",
    "CREATE_PUBLIC_THREADS",
    "DEFAULT_MEMBER_PERMISSIONS",
    "FLAG_EPHEMERAL",
    "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS",
    "VIEW_CHANNEL",
    "ConnectionInfo",
    "DiscordDouble",
    "InteractionRecord",
    "RecordedFile",
    "RecordedRequest",
    "point_discord_at",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
INTENT_GUILD_MESSAGES, INTENT_DIRECT_MESSAGES, INTENT_MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15


def point_discord_at(base_url: str, gateway_url: str | None = None) -> None:
    """Point discord.py's REST and gateway at ``base_url`` (e.g. ``http://127.0.0.1:8123/api/v10``).

    ``/api/v<INTERNAL_API_VERSION>`` is appended when the URL has no ``/api/`` path.  The gateway URL
    defaults to ``ws(s)://<same host:port>/``; for discord.com it is Discord's real gateway, so
    ``point_discord_at("https://discord.com/api/v10")`` restores the defaults.
    """
    import discord.gateway
    import discord.http
    import yarl

    url = yarl.URL(base_url.rstrip("/"))
    if "/api/" not in url.path + "/":
        url = url.with_path(f"{url.path.rstrip('/')}/api/v{discord.http.INTERNAL_API_VERSION}")
    discord.http.Route.BASE = str(url)
    if gateway_url is None:
        if url.host in ("discord.com", "discordapp.com"):
            gateway_url = "wss://gateway.discord.gg/"
        else:
            gateway_url = str(url.with_scheme("wss" if url.scheme == "https" else "ws").with_path("/"))
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class DiscordDouble(InteractionsMixin, ThreadsMixin, RestMixin, GatewayMixin):
    """Fake Discord: REST under ``/api/v10``, gateway at ``/`` (and ``/resume``), files under ``/attachments/``.

    Public state (read it in assertions): ``requests`` (list[RecordedRequest]), ``commands`` (global,
    as stored with ids) and ``guild_commands`` ({guild_id: [...]}), ``interactions``
    ({interaction_id: InteractionRecord}), ``messages`` ({id: message} for non-ephemeral messages),
    ``attachments``, ``users``, ``guilds``, ``channels`` (threads included), ``thread_members``
    ({thread_id: {user_id: join timestamp}}), ``connections`` (list[ConnectionInfo]),
    ``identify_count``, ``resume_count``, ``heartbeat_count``, ``identify_payloads``, ``shard_events(id)``
    (the events a shard's session got, when the client shards), ``ready``
    (asyncio.Event, set once a client IDENTIFYed and got its GUILD_CREATEs).
    All ids are strings, like in Discord's JSON.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "newsdesk-test",
        heartbeat_interval_ms: int = 41_250,
        echo_own_messages: bool = True,
        privileged_intents_enabled: bool = True,
        default_guild: bool = True,
        ack_deadline_s: float | None = None,
        token_ttl_s: float = 15 * 60,
    ) -> None:
        """``token``: when set, REST auth and IDENTIFY must use it (else 401 / close 4004); None accepts any.
        ``echo_own_messages``: dispatch MESSAGE_CREATE/UPDATE for the bot's own messages, like Discord.
        ``privileged_intents_enabled``: False makes an IDENTIFY with members/presences/message_content
        fail with close code 4014 (discord.py raises PrivilegedIntentsRequired).
        ``default_guild``: create one guild "Newsroom" with a #general text channel and a human member
        ``tester`` (``guild_id``, ``channel_id``, ``user``).
        ``ack_deadline_s``: when set, a callback later than this after dispatch (on ``clock()``) gets
        404 10062 "Unknown interaction" like Discord's 3 s limit; None (default) accepts late callbacks
        (they are still timed in ``InteractionRecord.ack_latency``) so a loaded test machine cannot fail
        a test that does not ask.  ``token_ttl_s``: interaction tokens expire this long after dispatch
        (Discord: 15 minutes): follow-ups and webhook edits then get 401 50027 "Invalid Webhook Token"."""
        self.token = token
        self.ack_deadline_s = ack_deadline_s
        self.token_ttl_s = token_ttl_s
        self._clock_offset = 0.0
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.echo_own_messages = echo_own_messages
        self.privileged_intents_enabled = privileged_intents_enabled
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._last_id = 0
        self._changed = asyncio.Event()
        self.users: dict[str, dict[str, Any]] = {}
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self._dm_channels: dict[str, str] = {}
        self._init_rest()
        self._init_gateway()
        self._init_threads()
        self.application_id = self.next_id()
        self.bot_user = self.make_user(bot_name, user_id=self.application_id, bot=True, join_guilds=False)
        self.bot_user.update(verified=True, mfa_enabled=False, locale="en-US", email=None, flags=0)
        self.application_flags = (1 << 15) | (1 << 19) | (1 << 23)  # *_LIMITED intents flags + command badge
        self.owner = self.make_user("owner", join_guilds=False)
        self.application: dict[str, Any] = {
            "id": self.application_id,
            "name": bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.owner,
            "team": None,
            "bot": self.bot_user,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "tags": [],
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
        }
        self.guild_id = self.channel_id = ""
        self.user: dict[str, Any] = {}
        if default_guild:
            guild = self.add_guild("Newsroom")
            self.guild_id = guild["id"]
            self.channel_id = guild["channels"][0]["id"]
            self.user = self.make_user("tester")

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` / the bot's API-base setting."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    async def start(self) -> DiscordDouble:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{tail:.*}", self._api_handler)
        app.router.add_get("/attachments/{tail:.*}", self._attachment_handler)
        app.router.add_get("/", self._ws_handler)
        app.router.add_get("/resume", self._ws_handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        await self._close_all_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ ids, clock, notifications
    def next_id(self) -> str:
        """A new snowflake (current time, strictly increasing)."""
        now = (int(datetime.datetime.now(datetime.UTC).timestamp() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(now, self._last_id + 1)
        return str(self._last_id)

    def clock(self) -> float:
        """Monotonic seconds that ``advance_clock`` can move forward: interaction deadlines use it."""
        return time.monotonic() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for interaction deadlines (e.g. 15 * 60 + 1 to expire every token)."""
        self._clock_offset += seconds

    @staticmethod
    def iso_time(snowflake: str | int) -> str:
        ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
        return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(timespec="microseconds")

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``condition()`` is truthy: re-checked on every request / gateway change, and every
        50 ms for conditions on the client's side (e.g. a discord.py cache updated by an event)."""

        async def _loop() -> Any:
            while True:
                changed = self._changed
                result = condition()
                if result:
                    return result
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.05)

        return await asyncio.wait_for(_loop(), timeout)

    async def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 5.0, *, since: int = 0
    ) -> RecordedRequest:
        """Return the first recorded request (index >= ``since``) matching ``predicate``, waiting up to
        ``timeout`` s.  Pass ``since=len(double.requests)`` to ignore what already happened."""

        def _find() -> RecordedRequest | None:
            return next((r for r in self.requests[since:] if predicate(r)), None)

        try:
            found: RecordedRequest = await self.wait_until(_find, timeout)
        except TimeoutError:
            seen = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests[since:][-15:])
            raise TimeoutError(f"no matching request within {timeout}s; recorded since {since}:\n{seen}") from None
        return found

    # ------------------------------------------------------------------ world building
    def make_user(
        self, username: str, *, user_id: str | int | None = None, bot: bool = False, join_guilds: bool = True
    ) -> dict[str, Any]:
        """Create a user (and by default a member of every guild); returns the user object."""
        uid = str(user_id) if user_id is not None else self.next_id()
        user = {
            "id": uid,
            "username": username,
            "discriminator": "0",
            "global_name": None if bot else username,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        self.users[uid] = user
        if join_guilds:
            for gid in self.guilds:
                self.add_member(gid, user)
        return user

    def add_member(self, guild_id: str, user: dict[str, Any], roles: list[str] | None = None) -> dict[str, Any]:
        guild = self.guilds[str(guild_id)]
        member = {
            "user": user,
            "roles": list(roles or []),
            "joined_at": self.iso_time(self.next_id()),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        guild["members"] = [m for m in guild["members"] if m["user"]["id"] != user["id"]] + [member]
        return member

    def add_guild(
        self, name: str, *, guild_id: str | int | None = None, channels: tuple[str, ...] = ("general",)
    ) -> dict[str, Any]:
        """Add a guild (send it before the client IDENTIFYs) with text channels, @everyone, a managed bot
        role, the bot as member and all existing human users as members."""
        gid = str(guild_id) if guild_id is not None else self.next_id()
        role_id = self.next_id()
        guild = {
            "id": gid,
            "name": name,
            "owner_id": self.owner["id"],
            "channels": [],
            "members": [],
            "roles": [
                _role(gid, "@everyone", DEFAULT_MEMBER_PERMISSIONS, 0),
                {
                    **_role(role_id, self.bot_user["username"], BOT_ROLE_PERMISSIONS, 1),
                    "managed": True,
                    "tags": {"bot_id": self.bot_user["id"]},
                },
            ],
        }
        self.guilds[gid] = guild
        self.add_member(gid, self.bot_user, roles=[role_id])
        for user in self.users.values():
            if not user["bot"] and user is not self.owner:
                self.add_member(gid, user)
        for ch in channels:
            self.add_channel(gid, ch)
        return guild

    def add_channel(
        self, guild_id: str, name: str, *, channel_id: str | int | None = None, type: int = 0
    ) -> dict[str, Any]:
        guild = self.guilds[str(guild_id)]
        cid = str(channel_id) if channel_id is not None else self.next_id()
        channel = {
            "id": cid,
            "type": type,
            "guild_id": guild["id"],
            "name": name,
            "position": len(guild["channels"]),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        guild["channels"].append(channel)
        self.channels[cid] = channel
        return channel

    def add_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Register bytes served at ``<base_url>/attachments/<id>/<filename>``; returns the attachment
        object (pass it as an attachment option value to ``send_interaction``)."""
        att_id = self.next_id()
        path = f"/attachments/{att_id}/{filename}"
        self._blobs[path] = (bytes(data), content_type)
        att = {
            "id": att_id,
            "filename": filename,
            "size": len(data),
            "url": self.base_url + path,
            "proxy_url": self.base_url + path,
            "content_type": content_type,
            "flags": 0,
        }
        if description is not None:
            att["description"] = description
        self.attachments[att_id] = att
        return att

    def permissions_in(self, channel_id: str | int, user: dict[str, Any] | str | int | None = None) -> int:
        """The permissions ``user`` (default: the bot) has in a channel, computed like Discord from roles
        and overwrites (a thread uses its parent's; a DM allows everything)."""
        channel = self.channels[str(channel_id)]
        if channel["type"] in THREAD_TYPES:
            channel = self.channels[channel["parent_id"]]
        gid = channel.get("guild_id")
        if not gid:
            return ALL_PERMISSIONS
        uid = self.bot_user["id"] if user is None else self._resolve_user(user)["id"]
        member = self._member_of(gid, uid)
        return 0 if member is None else channel_permissions(self.guilds[gid], channel, member)

    async def set_permissions(
        self, channel_id: str | int, target: dict[str, Any] | str | int, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set (replace; ``allow=deny=0`` removes) the overwrite of a role (id or role dict; the guild
        id is @everyone) or a member (user dict or id, e.g. ``double.bot_user``) on a guild channel.  A
        connected client gets CHANNEL_UPDATE (so ``channel.permissions_for(guild.me)`` agrees with what
        the double enforces); before IDENTIFY it is simply part of GUILD_CREATE."""
        channel = self.channels[str(channel_id)]
        tid = str(target["id"] if isinstance(target, dict) else target)
        kind = OVERWRITE_MEMBER if tid in self.users else OVERWRITE_ROLE
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != tid]
        if allow or deny:
            overwrites.append({"id": tid, "type": kind, "allow": str(allow), "deny": str(deny)})
        channel["permission_overwrites"] = overwrites
        if self._session is not None:
            await self._dispatch("CHANNEL_UPDATE", dict(channel))

    def find_command(self, name: str, guild_id: str | int | None = None) -> dict[str, Any] | None:
        """A synced command by name (guild commands of ``guild_id`` first, then global)."""
        for cmd in [*self.guild_commands.get(str(guild_id), []), *self.commands]:
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        return None

    # ------------------------------------------------------------------ payload builders
    def guild_create_payload(self, guild_id: str) -> dict[str, Any]:
        g = self.guilds[str(guild_id)]
        return {
            "id": g["id"],
            "name": g["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": g["owner_id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500_000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "roles": [dict(r) for r in g["roles"]],
            "emojis": [],
            "stickers": [],
            "joined_at": self.iso_time(g["id"]),
            "large": False,
            "unavailable": False,
            "member_count": len(g["members"]),
            "voice_states": [],
            "members": [dict(m) for m in g["members"]],
            "channels": [dict(c) for c in g["channels"]],
            "threads": [self.thread_payload(t) for t in self.threads_in(g["id"])],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": True,
        }

    def _member_of(self, guild_id: str, user_id: str) -> dict[str, Any] | None:
        guild = self.guilds.get(str(guild_id))
        return next((m for m in guild["members"] if m["user"]["id"] == user_id), None) if guild else None

    def gateway_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        """A stored message as MESSAGE_CREATE ``d``: adds guild_id, the author's ``member`` and mentions' members."""
        out = dict(msg)
        gid = self.channels.get(msg["channel_id"], {}).get("guild_id")
        if gid:
            out["guild_id"] = gid
            member = self._member_of(gid, msg["author"]["id"])
            if member is not None and not msg.get("webhook_id"):
                out["member"] = {k: v for k, v in member.items() if k != "user"}
            mentions = []
            for u in msg.get("mentions", []):
                m = self._member_of(gid, u["id"])
                mentions.append({**u, "member": {k: v for k, v in m.items() if k != "user"}} if m else dict(u))
            out["mentions"] = mentions
        return out

    async def _dispatch_message(self, msg: dict[str, Any], event: str = "MESSAGE_CREATE") -> None:
        """Dispatch honouring intents like Discord: GUILD_MESSAGES / DIRECT_MESSAGES gate delivery, and
        without MESSAGE_CONTENT other users' content/embeds/attachments/components are blanked unless the
        bot is mentioned (or it is a DM)."""
        session = self._session
        if session is None:
            raise RuntimeError("no client has identified with the Discord double yet")
        d = self.gateway_message(msg)
        is_dm = "guild_id" not in d
        if not session.intents & (INTENT_DIRECT_MESSAGES if is_dm else INTENT_GUILD_MESSAGES):
            return
        mentioned = any(u["id"] == self.bot_user["id"] for u in d.get("mentions", []))
        own = d["author"]["id"] == self.bot_user["id"]
        if not (session.intents & INTENT_MESSAGE_CONTENT or mentioned or is_dm or own):
            d.update(content="", embeds=[], attachments=[], components=[])
        await self._dispatch(event, d)

    async def _publish(self, msg: dict[str, Any], event: str = "MESSAGE_CREATE") -> None:
        if msg["flags"] & FLAG_EPHEMERAL:
            return
        self.messages[msg["id"]] = msg
        if event == "MESSAGE_CREATE":
            self._note_message(msg)
        if self.echo_own_messages and self._session is not None:
            await self._dispatch_message(msg, event)

    def _resolve_user(self, user: dict[str, Any] | str | int | None) -> dict[str, Any]:
        if user is None:
            if not self.user:
                raise ValueError("no default user; pass a user")
            return self.user
        return user if isinstance(user, dict) else self.users[str(user)]

    # ------------------------------------------------------------------ test-facing dispatchers
    async def send_message(
        self,
        channel_id: str | int | None = None,
        author: dict[str, Any] | str | int | None = None,
        content: str = "",
        *,
        mentions: list[dict[str, Any] | str | int] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        embeds: list[dict[str, Any]] | None = None,
        reply_to: dict[str, Any] | str | int | None = None,
        mention_author: bool = True,
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE from a user (default: ``double.user`` in ``double.channel_id``; a
        thread id posts in the thread).  ``mentions`` defaults to the ``<@id>`` tokens found in
        ``content``.  ``reply_to`` (a message or id) makes it a reply (type 19) with
        ``message_reference`` and ``referenced_message``, and, unless ``mention_author=False`` (the
        client's "@ON" toggle off), the replied-to author among the mentions, as Discord does.
        Returns the stored message."""
        cid = str(channel_id or self.channel_id)
        body: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            target = self._message(reply_to)
            body["message_reference"] = {"message_id": target["id"], "channel_id": target["channel_id"]}
        msg = self._build_message(cid, self._resolve_user(author), body)
        if mentions is not None:
            msg["mentions"] = [dict(self._resolve_user(m)) for m in mentions]
        referenced = msg.get("referenced_message")
        if referenced and mention_author and all(u["id"] != referenced["author"]["id"] for u in msg["mentions"]):
            msg["mentions"].append(dict(referenced["author"]))
        msg["attachments"] = list(attachments or [])
        self.messages[msg["id"]] = msg
        self._note_message(msg)
        await self._dispatch_message(msg)
        return msg

    async def dispatch(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Dispatch any raw event (``t``=event, ``d``=data); returns the full payload incl. ``s``."""
        return await self._dispatch(event, data)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        *,
        retry_after: float = 1.0,
        global_: bool = False,
        times: int = 1,
        code: int = 0,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` REST calls whose method (``"*"`` = any) and decoded path (without
        ``/api/v10``; ``re.search``) match with ``status``.  429s carry Discord's body
        (``retry_after``, ``global``) and headers (Retry-After, X-RateLimit-Scope, Via); other statuses a
        ``{"message", "code"}`` body.  Injected answers are recorded with ``injected=True``."""
        import re

        self._faults.append(
            Fault(method.upper(), re.compile(path_regex), status, retry_after, global_, times, code, message)
        )


def _role(role_id: str, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }
