"""Threads in the Discord double.  See ``discord_double.py`` for the overview.

* ``POST /channels/{id}/messages/{id}/threads`` (discord.py ``Message.create_thread``): a public thread
  whose id is the message's id, as on Discord; the message gets a ``thread`` field (MESSAGE_UPDATE).
  400 160004 when the message already has one.
* ``POST /channels/{id}/threads`` (``TextChannel.create_thread`` without a message): ``type`` 11
  public or 12 private (Discord's and discord.py's default), 10 in announcement channels.
* Both need VIEW_CHANNEL and CREATE_PUBLIC_THREADS / CREATE_PRIVATE_THREADS in the parent (403 50001 /
  50013 otherwise; take them away with ``double.set_permissions``) and dispatch THREAD_CREATE with
  ``newly_created`` and the bot's thread ``member``.  Threads live in ``double.channels`` (with
  ``parent_id``, ``owner_id``, ``thread_metadata``, counts) and in GUILD_CREATE's ``threads``.
* ``PUT|DELETE /channels/{thread}/thread-members/@me`` (``Thread.join`` / ``leave``); posting in a thread
  joins it, as on Discord.  ``double.thread_members`` maps thread id -> {user id: join timestamp}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._double_components import FormError
from ._double_permissions import CREATE_PRIVATE_THREADS, CREATE_PUBLIC_THREADS, READ_MESSAGE_HISTORY, VIEW_CHANNEL
from ._double_rest import THREAD_TYPES, RecordedRequest, _error, _form_error, _json_response

if TYPE_CHECKING:
    from ._double_gateway import _Session

PUBLIC_THREAD, PRIVATE_THREAD, ANNOUNCEMENT_THREAD = 11, 12, 10
TEXT_CHANNEL, ANNOUNCEMENT_CHANNEL = 0, 5
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


class ThreadsMixin:
    """Thread side of :class:`DiscordDouble` (mixed in; uses its state)."""

    if TYPE_CHECKING:  # provided by DiscordDouble / RestMixin / GatewayMixin
        bot_user: dict[str, Any]
        channels: dict[str, dict[str, Any]]
        messages: dict[str, dict[str, Any]]
        channel_id: str
        _session: _Session | None

        def next_id(self) -> str: ...
        def iso_time(self, snowflake: str | int) -> str: ...
        def permissions_in(self, channel_id: str | int, user: dict[str, Any] | str | int | None = ...) -> int: ...
        def _resolve_user(self, user: dict[str, Any] | str | int | None) -> dict[str, Any]: ...
        async def _dispatch(
            self, event: str, data: dict[str, Any], *, session: _Session | None = ...
        ) -> dict[str, Any]: ...
        async def _dispatch_message(self, msg: dict[str, Any], event: str = ...) -> None: ...

    def _init_threads(self) -> None:
        self.thread_members: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ state
    def threads_in(self, guild_id: str | int) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c.get("guild_id") == str(guild_id) and c["type"] in THREAD_TYPES]

    def thread_payload(self, thread: dict[str, Any]) -> dict[str, Any]:
        """The thread channel object as Discord sends it to the bot (with its ``member`` once it joined)."""
        out = dict(thread)
        joined = self.thread_members.get(thread["id"], {}).get(self.bot_user["id"])
        if joined is not None:
            out["member"] = {"id": thread["id"], "user_id": self.bot_user["id"], "join_timestamp": joined, "flags": 0}
        return out

    def _join_thread(self, thread: dict[str, Any], user_id: str) -> None:
        members = self.thread_members.setdefault(thread["id"], {})
        members.setdefault(user_id, self.iso_time(self.next_id()))
        thread["member_count"] = len(members)

    def _note_message(self, msg: dict[str, Any]) -> None:
        """Bookkeeping for a new message: ``last_message_id``; in a thread also counts and membership."""
        channel = self.channels.get(msg["channel_id"])
        if channel is None:
            return
        channel["last_message_id"] = msg["id"]
        if channel["type"] in THREAD_TYPES:
            channel["message_count"] += 1
            channel["total_message_sent"] += 1
            self._join_thread(channel, msg["author"]["id"])

    def _new_thread(
        self,
        parent: dict[str, Any],
        owner: dict[str, Any],
        body: dict[str, Any],
        thread_type: int,
        thread_id: str | None = None,
    ) -> dict[str, Any]:
        tid = thread_id or self.next_id()
        created = self.iso_time(self.next_id())
        metadata: dict[str, Any] = {
            "archived": False,
            "auto_archive_duration": int(body.get("auto_archive_duration") or 1440),
            "archive_timestamp": created,
            "locked": False,
            "create_timestamp": created,
        }
        if thread_type == PRIVATE_THREAD:
            metadata["invitable"] = bool(body.get("invitable", True))
        thread = {
            "id": tid,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": owner["id"],
            "name": body["name"],
            "type": thread_type,
            "last_message_id": None,
            "rate_limit_per_user": int(body.get("rate_limit_per_user") or 0),
            "message_count": 0,
            "member_count": 0,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": metadata,
        }
        self.channels[tid] = thread
        self._join_thread(thread, owner["id"])
        return thread

    async def _announce_thread(self, thread: dict[str, Any], starter: dict[str, Any] | None) -> None:
        """THREAD_CREATE to the bot if it may see the thread (public, or it is a member), then the
        starter message's MESSAGE_UPDATE with its new ``thread`` field."""
        if starter is not None:
            starter["thread"] = self.thread_payload(thread)
        if self._session is None:
            return
        if thread["type"] != PRIVATE_THREAD or self.bot_user["id"] in self.thread_members[thread["id"]]:
            await self._dispatch("THREAD_CREATE", {**self.thread_payload(thread), "newly_created": True})
        if starter is not None:
            await self._dispatch_message(starter, "MESSAGE_UPDATE")

    # ------------------------------------------------------------------ REST
    def _thread_parent(self, rec: RecordedRequest, needed: int) -> dict[str, Any] | web.Response:
        """The parent channel if the bot may create threads in it, else Discord's error."""
        parent = self.channels.get(rec.params["cid"])
        if parent is None:
            return _error(404, 10003, "Unknown Channel")
        if parent["type"] not in (TEXT_CHANNEL, ANNOUNCEMENT_CHANNEL):
            return _error(400, 50024, "Cannot execute action on this channel type")
        perms = self.permissions_in(parent["id"])
        if not perms & VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        if perms & needed != needed:
            return _error(403, 50013, "Missing Permissions")
        body = rec.json or {}
        errors = []
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.append(FormError(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
        if body.get("auto_archive_duration") not in (None, *ARCHIVE_DURATIONS):
            errors.append(
                FormError(
                    ("auto_archive_duration",), "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080)."
                )
            )
        return _form_error(errors) if errors else parent

    async def _r_start_thread_from_message(self, rec: RecordedRequest) -> web.Response:
        parent = self._thread_parent(rec, CREATE_PUBLIC_THREADS | READ_MESSAGE_HISTORY)
        if isinstance(parent, web.Response):
            return parent
        msg = self.messages.get(rec.params["mid"])
        if msg is None or msg["channel_id"] != parent["id"]:
            return _error(404, 10008, "Unknown Message")
        if msg["id"] in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        kind = ANNOUNCEMENT_THREAD if parent["type"] == ANNOUNCEMENT_CHANNEL else PUBLIC_THREAD
        thread = self._new_thread(parent, self.bot_user, rec.json, kind, thread_id=msg["id"])
        await self._announce_thread(thread, msg)
        return _json_response(self.thread_payload(thread))

    async def _r_start_thread(self, rec: RecordedRequest) -> web.Response:
        body = rec.json or {}
        kind = int(body.get("type") or PRIVATE_THREAD)
        parent = self._thread_parent(rec, CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS)
        if isinstance(parent, web.Response):
            return parent
        allowed = (ANNOUNCEMENT_THREAD,) if parent["type"] == ANNOUNCEMENT_CHANNEL else (PUBLIC_THREAD, PRIVATE_THREAD)
        if kind not in allowed:
            return _form_error([FormError(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {allowed}.")])
        thread = self._new_thread(parent, self.bot_user, body, kind)
        await self._announce_thread(thread, None)
        return _json_response(self.thread_payload(thread))

    async def _r_thread_member_me(self, rec: RecordedRequest) -> web.Response:
        thread = self.channels.get(rec.params["cid"])
        if thread is None:
            return _error(404, 10003, "Unknown Channel")
        if thread["type"] not in THREAD_TYPES:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if rec.method == "PUT":
            self._join_thread(thread, self.bot_user["id"])
        elif rec.method == "DELETE":
            self.thread_members.get(thread["id"], {}).pop(self.bot_user["id"], None)
            thread["member_count"] = len(self.thread_members.get(thread["id"], {}))
        else:
            return _error(405, 0, "405: Method Not Allowed")
        return web.Response(status=204)

    # ------------------------------------------------------------------ test API
    async def create_thread(
        self,
        channel_id: str | int | None = None,
        name: str = "thread",
        *,
        owner: dict[str, Any] | str | int | None = None,
        message: dict[str, Any] | str | int | None = None,
    ) -> dict[str, Any]:
        """A public thread a user (default ``double.user``) starts in a text channel (default
        ``double.channel_id``), on ``message`` if given (the thread then has the message's id).
        Dispatches THREAD_CREATE (+ the starter's MESSAGE_UPDATE); returns the thread channel."""
        parent = self.channels[str(channel_id or self.channel_id)]
        starter = None
        if message is not None:
            starter = self.messages[str(message["id"] if isinstance(message, dict) else message)]
            if starter["channel_id"] != parent["id"] or starter["id"] in self.channels:
                raise ValueError("the message is not in that channel, or already has a thread")
        kind = ANNOUNCEMENT_THREAD if parent["type"] == ANNOUNCEMENT_CHANNEL else PUBLIC_THREAD
        body = {"name": name}
        thread = self._new_thread(parent, self._resolve_user(owner), body, kind, starter["id"] if starter else None)
        await self._announce_thread(thread, starter)
        return thread
