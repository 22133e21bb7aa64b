"""REST half of the Discord double.  See ``discord_double.py`` for the overview.

Every call under ``/api/v<N>/`` is recorded in ``double.requests`` (also unknown routes, answered
404 like Discord).  Responses carry ``Content-Type: application/json`` exactly (discord.py compares
the header with ``==``) and the X-RateLimit-* headers discord.py reads; a 429 also carries ``Via``
(without it discord.py assumes a Cloudflare ban and raises instead of retrying).
"""

from __future__ import annotations

import copy
import hashlib
import json
import mimetypes
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from ._double_components import (
    FormError,
    check_message_components,
    check_modal,
    form_error_body,
    number_components,
)
from ._double_permissions import SEND_MESSAGES, SEND_MESSAGES_IN_THREADS, VIEW_CHANNEL

if TYPE_CHECKING:
    from ._double_gateway import _Session

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
MENTION_RE = re.compile(r"<@!?(\d+)>")
THREAD_TYPES = (10, 11, 12)
# Callback types Discord accepts per interaction type (2 command, 3 component, 4 autocomplete, 5 modal
# submit); 6/7 (deferred update / update message) also need a message the component was on.
_CALLBACKS_FOR = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@dataclass
class RecordedFile:
    field: str  # multipart field name, e.g. "files[0]"
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST call the client made (``double.requests``)."""

    method: str
    path: str  # percent-decoded, without the "/api/v10" prefix, e.g. "/webhooks/1/tok/messages/@original"
    query: dict[str, str]
    json: Any  # parsed JSON body, or the parsed ``payload_json`` part of a multipart body, else None
    files: list[RecordedFile]
    headers: dict[str, str]
    time: float  # time.monotonic() at arrival
    route: str = ""  # route template, e.g. "POST /channels/{channel_id}/messages" ("" when unknown)
    params: dict[str, str] = field(default_factory=dict)  # path parameters of the template
    status: int = 0  # status the double answered with
    response: Any = None  # JSON the double answered with (None for 204)
    injected: bool = False  # True when the answer came from fail_next()


@dataclass
class Fault:
    method: str
    path_regex: re.Pattern[str]
    status: int
    retry_after: float
    global_: bool
    times: int
    code: int
    message: str | None


@dataclass
class InteractionRecord:
    """What happened to one interaction the double sent (``double.interactions[interaction_id]``)."""

    id: str
    token: str
    payload: dict[str, Any]  # the INTERACTION_CREATE ``d``
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # bodies of accepted POST .../callback
    original: dict[str, Any] | None = None  # the @original message (type 4/5, or the message of a 6/7)
    followups: list[dict[str, Any]] = field(default_factory=list)  # messages returned for follow-ups
    created_at: float = 0.0  # double.clock() when the double dispatched it
    acked_at: float | None = None  # double.clock() at the first accepted callback
    modal: dict[str, Any] | None = None  # ``data`` of a MODAL (type 9) callback, components numbered
    parent_id: str | None = None  # MODAL_SUBMIT only: the interaction that opened the modal

    @property
    def type(self) -> int:
        """2 application command, 3 message component, 4 autocomplete, 5 modal submit."""
        return int(self.payload["type"])

    @property
    def acked(self) -> bool:
        return bool(self.callbacks)

    @property
    def response_type(self) -> int | None:
        """The callback type: 4 message, 5 deferred message, 6 deferred update, 7 update, 8 choices, 9 modal."""
        return int(self.callbacks[0]["type"]) if self.callbacks else None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the accepted callback (Discord allows 3), None while unacknowledged."""
        return None if self.acked_at is None else self.acked_at - self.created_at


# (method, path regex on the raw path, handler, template, needs bot auth)
_ROUTES: list[tuple[str, str, str, str, bool]] = [
    ("GET", r"/gateway/bot", "_r_gateway_bot", "/gateway/bot", True),
    ("GET", r"/gateway", "_r_gateway", "/gateway", False),
    ("GET", r"/users/@me", "_r_users_me", "/users/@me", True),
    ("POST", r"/users/@me/channels", "_r_create_dm", "/users/@me/channels", True),
    ("GET", r"/(?:oauth2/)?applications/@me", "_r_application", "/applications/@me", True),
    ("PUT", r"/applications/(?P<app>\d+)/commands", "_r_put_commands", "/applications/{app}/commands", True),
    ("GET", r"/applications/(?P<app>\d+)/commands", "_r_get_commands", "/applications/{app}/commands", True),
    (
        "PUT",
        r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands",
        "_r_put_commands",
        "/applications/{app}/guilds/{guild}/commands",
        True,
    ),
    (
        "GET",
        r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands",
        "_r_get_commands",
        "/applications/{app}/guilds/{guild}/commands",
        True,
    ),
    (
        "POST",
        r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback",
        "_r_callback",
        "/interactions/{iid}/{token}/callback",
        False,
    ),
    ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", "_r_followup", "/webhooks/{app}/{token}", False),
    (
        "*",
        r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
        "_r_webhook_message",
        "/webhooks/{app}/{token}/messages/{mid}",
        False,
    ),
    ("POST", r"/channels/(?P<cid>\d+)/messages", "_r_create_message", "/channels/{cid}/messages", True),
    ("GET", r"/channels/(?P<cid>\d+)/messages", "_r_list_messages", "/channels/{cid}/messages", True),
    (
        "*",
        r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)",
        "_r_channel_message",
        "/channels/{cid}/messages/{mid}",
        True,
    ),
    (
        "*",
        r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
        "_r_reaction",
        "/channels/{cid}/messages/{mid}/reactions/{emoji}/@me",
        True,
    ),
    (
        "POST",
        r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads",
        "_r_start_thread_from_message",
        "/channels/{cid}/messages/{mid}/threads",
        True,
    ),
    ("POST", r"/channels/(?P<cid>\d+)/threads", "_r_start_thread", "/channels/{cid}/threads", True),
    (
        "*",
        r"/channels/(?P<cid>\d+)/thread-members/@me",
        "_r_thread_member_me",
        "/channels/{cid}/thread-members/@me",
        True,
    ),
    ("POST", r"/channels/(?P<cid>\d+)/typing", "_r_typing", "/channels/{cid}/typing", True),
    ("GET", r"/channels/(?P<cid>\d+)", "_r_get_channel", "/channels/{cid}", True),
]
_COMPILED = [(m, re.compile(rx + r"/?"), h, t, a) for m, rx, h, t, a in _ROUTES]
_API_RE = re.compile(r"^/api/v(\d+)(/.*)$")


def _json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # NOT web.json_response: its "application/json; charset=utf-8" fails discord.py's equality check.
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json_response({"message": message, "code": code}, status)


def _form_error(errors: list[FormError]) -> web.Response:
    return _json_response(form_error_body(errors), 400)


async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        async for part in reader:
            assert isinstance(part, BodyPartReader), "nested multipart is not supported"
            data = bytes(await part.read(decode=False))
            if part.name == "payload_json":
                payload = json.loads(data)
            else:
                files.append(RecordedFile(part.name or "", part.filename, part.headers.get("Content-Type"), data))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    if request.content_type == "application/json":
        return json.loads(raw), []
    return raw.decode(errors="replace"), []


class RestMixin:
    """REST side of :class:`DiscordDouble` (mixed in; uses its state)."""

    if TYPE_CHECKING:  # provided by DiscordDouble / GatewayMixin
        token: str | None
        application_id: str
        application: dict[str, Any]
        bot_user: dict[str, Any]
        users: dict[str, dict[str, Any]]
        channels: dict[str, dict[str, Any]]
        _dm_channels: dict[str, str]
        _session: _Session | None
        ack_deadline_s: float | None
        token_ttl_s: float

        @property
        def gateway_url(self) -> str: ...

        def clock(self) -> float: ...
        def permissions_in(self, channel_id: str | int, user: dict[str, Any] | str | int | None = ...) -> int: ...
        def next_id(self) -> str: ...
        def iso_time(self, snowflake: str | int) -> str: ...
        def _notify(self) -> None: ...
        async def _publish(self, msg: dict[str, Any], event: str = ...) -> None: ...
        def add_attachment(
            self, filename: str, data: bytes, content_type: str = ..., *, description: str | None = ...
        ) -> dict[str, Any]: ...

    def _init_rest(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.messages: dict[str, dict[str, Any]] = {}  # every non-ephemeral message by id
        self._faults: list[Fault] = []
        self.attachments: dict[str, dict[str, Any]] = {}  # attachment objects by id
        self._blobs: dict[str, tuple[bytes, str]] = {}  # "/attachments/<id>/<name>" -> (bytes, content type)

    # ------------------------------------------------------------------ plumbing
    def _ratelimit_headers(self, template: str) -> dict[str, str]:
        # Constant, never-exhausted bucket: discord.py only sleeps pre-emptively when Remaining hits 0.
        return {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": hashlib.sha1(template.encode()).hexdigest()[:16],
        }

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method) and fault.path_regex.search(path):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        if fault.status == 429:
            body = {
                "message": fault.message or "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.global_,
            }
            if not fault.global_:
                body["code"] = fault.code
            headers = {
                "Retry-After": str(max(1, round(fault.retry_after))),
                "X-RateLimit-Scope": "global" if fault.global_ else "user",
                "Via": "1.1 google",
            }
            if fault.global_:
                headers["X-RateLimit-Global"] = "true"
            return _json_response(body, 429, headers)
        reason = {500: "500: Internal Server Error", 502: "502: Bad Gateway", 503: "503: Service Unavailable"}
        return _json_response(
            {"message": fault.message or reason.get(fault.status, "error"), "code": fault.code}, fault.status
        )

    async def _api_handler(self, request: web.Request) -> web.StreamResponse:
        m = _API_RE.match(request.rel_url.raw_path)
        raw_tail = m.group(2) if m else request.rel_url.raw_path
        body, files = await _read_body(request)
        rec = RecordedRequest(
            method=request.method,
            path=unquote(raw_tail),
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
            time=time.monotonic(),
        )
        resp: web.Response | None = None
        for method, rx, handler, template, needs_auth in _COMPILED:
            match = rx.fullmatch(raw_tail)
            if match is None or method not in ("*", request.method):
                continue
            rec.route = f"{request.method} {template}"
            rec.params = {k: unquote(v) for k, v in match.groupdict().items()}
            fault = self._take_fault(request.method, rec.path)
            if fault is not None:
                rec.injected = True
                resp = self._fault_response(fault)
            elif needs_auth and not self._authorized(request):
                resp = _error(401, 0, "401: Unauthorized")
            else:
                resp = await getattr(self, handler)(rec)
            for k, v in self._ratelimit_headers(template).items():
                resp.headers.setdefault(k, v)
            break
        if resp is None:
            known_path = any(rx.fullmatch(raw_tail) for _, rx, *_ in _COMPILED)
            resp = _error(405, 0, "405: Method Not Allowed") if known_path else _error(404, 0, "404: Not Found")
        rec.status = resp.status
        rec.response = json.loads(resp.body) if isinstance(resp.body, bytes) and resp.body else None
        self.requests.append(rec)
        self._notify()
        return resp

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bot ") and (self.token is None or auth == f"Bot {self.token}")

    async def _attachment_handler(self, request: web.Request) -> web.StreamResponse:
        blob = self._blobs.get(request.path)
        if blob is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=blob[0], headers={"Content-Type": blob[1]})

    # ------------------------------------------------------------------ messages (shared with the test API)
    def _store_files(self, body: dict[str, Any], files: list[RecordedFile]) -> list[dict[str, Any]]:
        """Turn ``attachments`` (+ uploaded ``files[n]`` parts) into attachment objects served by the double.
        Entries whose id names an upload (``files[<id>]``) are new; other ids are kept existing attachments."""
        uploads = {f.field: f for f in files}
        out, used = [], set()
        for att in body.get("attachments") or []:
            f = uploads.get(f"files[{att.get('id')}]")
            if f is None:
                if str(att.get("id")) in self.attachments:
                    out.append(self.attachments[str(att["id"])])
                continue
            used.add(f.field)
            out.append(self._store_upload(f, att.get("filename"), att.get("description")))
        out.extend(self._store_upload(f) for f in files if f.field not in used)
        return out

    def _store_upload(
        self, f: RecordedFile, filename: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        name = filename or f.filename or "file"
        ctype = f.content_type
        if not ctype or ctype == "application/octet-stream":  # discord.py always sends octet-stream
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self.add_attachment(name, f.data, ctype, description=description)

    def _mentions(self, content: str) -> list[dict[str, Any]]:
        return [dict(self.users[uid]) for uid in dict.fromkeys(MENTION_RE.findall(content)) if uid in self.users]

    def find_message(self, message_id: str | int) -> dict[str, Any] | None:
        """A stored message by id: channel messages, then ephemeral interaction responses."""
        mid = str(message_id)
        if mid in self.messages:
            return self.messages[mid]
        for record in self.interactions.values():
            for m in [record.original, *record.followups]:
                if m is not None and m["id"] == mid:
                    return m
        return None

    def _check_body(self, body: dict[str, Any], *, flags: int | None = None) -> web.Response | None:
        """Discord's 400 for invalid components or a reply to an unknown message, else None."""
        errors = check_message_components(body.get("components"), int(body.get("flags") or 0) | (flags or 0))
        ref = body.get("message_reference") or {}
        if ref.get("message_id") and ref.get("fail_if_not_exists", True) and not self.find_message(ref["message_id"]):
            errors.append(FormError(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"))
        return _form_error(errors) if errors else None

    def _reference(self, channel_id: str, ref: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(``message_reference``, ``referenced_message``) as Discord stores a reply."""
        target = self.find_message(ref["message_id"]) if ref.get("message_id") else None
        out: dict[str, Any] = {"type": int(ref.get("type", 0)), "channel_id": str(ref.get("channel_id") or channel_id)}
        if ref.get("message_id"):
            out["message_id"] = str(ref["message_id"])
        gid = self.channels.get(out["channel_id"], {}).get("guild_id")
        if gid:
            out["guild_id"] = gid
        resolved = None if target is None else {k: v for k, v in target.items() if k != "referenced_message"}
        return out, copy.deepcopy(resolved)

    def _build_message(
        self,
        channel_id: str,
        author: dict[str, Any],
        body: dict[str, Any],
        files: list[RecordedFile] | None = None,
        *,
        msg_type: int = 0,
        flags: int = 0,
        **extra: Any,
    ) -> dict[str, Any]:
        msg_id = self.next_id()
        content = body.get("content") or ""
        msg = {
            "id": msg_id,
            "channel_id": str(channel_id),
            "type": msg_type,
            "content": content,
            "author": dict(author),
            "timestamp": self.iso_time(msg_id),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": self._mentions(content),
            "mention_roles": [],
            "attachments": self._store_files(body, list(files or [])),
            "embeds": body.get("embeds") or [],
            "components": number_components(body.get("components")),
            "pinned": False,
            "flags": flags | int(body.get("flags") or 0),
        }
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if body.get("message_reference"):
            msg["message_reference"], msg["referenced_message"] = self._reference(
                str(channel_id), body["message_reference"]
            )
            msg["type"] = 19 if msg_type == 0 else msg_type
        msg.update(extra)
        return msg

    def _edit_message(self, msg: dict[str, Any], body: dict[str, Any], files: list[RecordedFile]) -> dict[str, Any]:
        for key in ("content", "embeds"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "components" in body:
            msg["components"] = number_components(body["components"])
        if "content" in body:
            msg["mentions"] = self._mentions(msg["content"])
        if "attachments" in body or files:
            msg["attachments"] = self._store_files(body, files)
        if "flags" in body and body["flags"] is not None:
            msg["flags"] = (msg["flags"] & (FLAG_EPHEMERAL | FLAG_LOADING)) | int(body["flags"])
        msg["flags"] &= ~FLAG_LOADING
        msg["edited_timestamp"] = self.iso_time(self.next_id())
        return msg

    # ------------------------------------------------------------------ handlers: identity / gateway
    async def _r_gateway_bot(self, rec: RecordedRequest) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url.rstrip("/"),
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _r_gateway(self, rec: RecordedRequest) -> web.Response:
        return _json_response({"url": self.gateway_url.rstrip("/")})

    async def _r_users_me(self, rec: RecordedRequest) -> web.Response:
        return _json_response(self.bot_user)

    async def _r_application(self, rec: RecordedRequest) -> web.Response:
        return _json_response(self.application)

    async def _r_create_dm(self, rec: RecordedRequest) -> web.Response:
        uid = str((rec.json or {}).get("recipient_id"))
        if uid not in self.users:
            return _error(400, 50033, "Invalid Recipients")
        cid = self._dm_channels.get(uid)
        if cid is None:
            cid = self._dm_channels[uid] = self.next_id()
            self.channels[cid] = {
                "id": cid,
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [dict(self.users[uid])],
            }
        return _json_response(self.channels[cid])

    # ------------------------------------------------------------------ handlers: commands
    async def _r_put_commands(self, rec: RecordedRequest) -> web.Response:
        if rec.params["app"] != self.application_id:
            return _error(403, 50001, "Missing Access")
        guild_id = rec.params.get("guild")
        old = self.guild_commands.get(guild_id, []) if guild_id else self.commands
        old_ids = {(c["name"], c.get("type", 1)): c["id"] for c in old}
        stored = []
        for cmd in rec.json or []:
            cmd = json.loads(json.dumps(cmd))
            _fill_descriptions(cmd)
            cmd.setdefault("type", 1)
            cmd["id"] = old_ids.get((cmd["name"], cmd["type"])) or self.next_id()
            cmd["application_id"] = self.application_id
            cmd["version"] = self.next_id()
            cmd.setdefault("default_member_permissions", None)
            cmd.setdefault("nsfw", False)
            cmd.setdefault("integration_types", [0])
            cmd.setdefault("contexts", None)
            if guild_id:
                cmd["guild_id"] = guild_id
            stored.append(cmd)
        if guild_id:
            self.guild_commands[guild_id] = stored
        else:
            self.commands = stored
        return _json_response(stored)

    async def _r_get_commands(self, rec: RecordedRequest) -> web.Response:
        guild_id = rec.params.get("guild")
        return _json_response(self.guild_commands.get(guild_id, []) if guild_id else self.commands)

    # ------------------------------------------------------------------ handlers: interactions
    def _token_expired(self, record: InteractionRecord) -> bool:
        return self.clock() - record.created_at > self.token_ttl_s

    def _too_late_to_ack(self, record: InteractionRecord) -> bool:
        late = self.ack_deadline_s is not None and self.clock() - record.created_at > self.ack_deadline_s
        return late or self._token_expired(record)

    async def _r_callback(self, rec: RecordedRequest) -> web.Response:
        record = self.interactions.get(rec.params["iid"])
        if record is None or record.token != rec.params["token"] or self._too_late_to_ack(record):
            return _error(404, 10062, "Unknown interaction")
        if record.acked:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = rec.json or {}
        cb_type, data = int(body.get("type", 0)), body.get("data") or {}
        payload = record.payload
        if cb_type not in _CALLBACKS_FOR.get(record.type, set()) or (cb_type in (6, 7) and not payload.get("message")):
            why = f"Callback type {cb_type} is not valid for interaction type {record.type}"
            return _form_error([FormError(("type",), "INTERACTION_CALLBACK_TYPE_INVALID", why)])
        invalid = self._check_body(data) if cb_type in (4, 7) else None
        if cb_type == 9 and (errors := check_modal(data)):
            invalid = _form_error(errors)
        if invalid is not None:
            return invalid
        record.callbacks.append(body)
        record.acked_at = self.clock()
        resource: dict[str, Any] = {"type": cb_type}
        with_resource = cb_type not in (6, 8)
        if cb_type in (4, 5):
            flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            if cb_type == 5:
                flags |= FLAG_LOADING
                data = {}
            msg = self._build_message(
                payload["channel_id"],
                self.bot_user,
                data,
                rec.files,
                msg_type=20 if record.type == 2 else 0,
                flags=flags,
                webhook_id=self.application_id,
                application_id=self.application_id,
                interaction_metadata=self._interaction_metadata(record),
            )
            record.original = msg
            resource["message"] = msg
            await self._publish(msg)
        elif cb_type in (6, 7):
            msg = self.find_message(payload["message"]["id"]) or payload["message"]
            record.original = msg
            if cb_type == 7:
                resource["message"] = self._edit_message(msg, data, rec.files)
                if not msg["flags"] & FLAG_EPHEMERAL:
                    await self._publish(msg, "MESSAGE_UPDATE")
        elif cb_type == 9:
            record.modal = {**copy.deepcopy(data), "components": number_components(data.get("components"))}
        result: dict[str, Any] = {
            "interaction": {
                "id": record.id,
                "type": payload["type"],
                "response_message_id": record.original["id"] if record.original else None,
                "response_message_loading": cb_type == 5,
                "response_message_ephemeral": bool(record.original and record.original["flags"] & FLAG_EPHEMERAL),
            }
        }
        if with_resource:
            result["resource"] = resource
        return _json_response(result)

    def _interaction_metadata(self, record: InteractionRecord) -> dict[str, Any]:
        """``interaction_metadata`` of a message sent in response to ``record`` (Discord's shape per type)."""
        payload = record.payload
        meta: dict[str, Any] = {
            "id": payload["id"],
            "type": payload["type"],
            "user": payload.get("member", {}).get("user") or payload.get("user"),
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if payload.get("data", {}).get("name"):
            meta["name"] = payload["data"]["name"]
        if payload.get("message") and record.type == 3:
            meta["interacted_message_id"] = payload["message"]["id"]
        parent = self.interactions.get(record.parent_id or "")
        if parent is not None:
            meta["triggering_interaction_metadata"] = self._interaction_metadata(parent)
        return meta

    def _webhook_record(self, rec: RecordedRequest) -> InteractionRecord | web.Response:
        """The interaction a follow-up/webhook call is for, or Discord's error (unknown / expired token)."""
        record = None
        if rec.params["app"] == self.application_id:
            record = next((r for r in self.interactions.values() if r.token == rec.params["token"]), None)
        if record is None:
            return _error(404, 10015, "Unknown Webhook")
        if self._token_expired(record):
            return _error(401, 50027, "Invalid Webhook Token")
        return record

    async def _r_followup(self, rec: RecordedRequest) -> web.Response:
        record = self._webhook_record(rec)
        if isinstance(record, web.Response):
            return record
        if not record.acked:
            return _error(404, 10015, "Unknown Webhook")
        body = rec.json or {}
        invalid = self._check_body(body)
        if invalid is not None:
            return invalid
        original = record.original
        if original is not None and original["flags"] & FLAG_LOADING and not record.followups:
            # Discord: the first follow-up after a "thinking" defer replaces the loading message.
            msg = self._edit_message(original, {k: v for k, v in body.items() if k != "flags"}, rec.files)
            if not msg["flags"] & FLAG_EPHEMERAL:
                await self._publish(msg, "MESSAGE_UPDATE")
        else:
            msg = self._build_message(
                record.payload["channel_id"],
                self.bot_user,
                body,
                rec.files,
                webhook_id=self.application_id,
                application_id=self.application_id,
                interaction_metadata=self._interaction_metadata(record),
            )
            await self._publish(msg)
        record.followups.append(msg)
        return _json_response(msg)

    async def _r_webhook_message(self, rec: RecordedRequest) -> web.Response:
        record = self._webhook_record(rec)
        if isinstance(record, web.Response):
            return record
        mid = rec.params["mid"]
        candidates = [m for m in [record.original, *record.followups] if m is not None]
        msg = record.original if mid == "@original" else next((m for m in candidates if m["id"] == mid), None)
        if msg is None or rec.method not in ("GET", "PATCH", "DELETE"):
            return _error(404, 10008, "Unknown Message") if msg is None else _error(405, 0, "405: Method Not Allowed")
        if rec.method == "GET":
            return _json_response(msg)
        if rec.method == "DELETE":
            self.messages.pop(msg["id"], None)
            if mid == "@original":
                record.original = None
            return web.Response(status=204)
        invalid = self._check_body(rec.json or {}, flags=msg["flags"])
        if invalid is not None:
            return invalid
        self._edit_message(msg, rec.json or {}, rec.files)
        if not msg["flags"] & FLAG_EPHEMERAL:
            await self._publish(msg, "MESSAGE_UPDATE")
        return _json_response(msg)

    # ------------------------------------------------------------------ handlers: channels
    async def _r_get_channel(self, rec: RecordedRequest) -> web.Response:
        ch = self.channels.get(rec.params["cid"])
        return _json_response(ch) if ch else _error(404, 10003, "Unknown Channel")

    async def _r_typing(self, rec: RecordedRequest) -> web.Response:
        return web.Response(status=204) if rec.params["cid"] in self.channels else _error(404, 10003, "Unknown Channel")

    async def _r_create_message(self, rec: RecordedRequest) -> web.Response:
        cid = rec.params["cid"]
        if cid not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        perms = self.permissions_in(cid)
        needed = SEND_MESSAGES_IN_THREADS if self.channels[cid]["type"] in THREAD_TYPES else SEND_MESSAGES
        if not perms & VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        if not perms & needed:
            return _error(403, 50013, "Missing Permissions")
        body = rec.json or {}
        if not (
            body.get("content")
            or body.get("embeds")
            or rec.files
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            return _error(400, 50006, "Cannot send an empty message")
        invalid = self._check_body(body)
        if invalid is not None:
            return invalid
        msg = self._build_message(cid, self.bot_user, body, rec.files)
        await self._publish(msg)
        return _json_response(msg)

    async def _r_list_messages(self, rec: RecordedRequest) -> web.Response:
        cid = rec.params["cid"]
        if cid not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        msgs = sorted((m for m in self.messages.values() if m["channel_id"] == cid), key=lambda m: -int(m["id"]))
        q = rec.query
        if "before" in q:
            msgs = [m for m in msgs if int(m["id"]) < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if int(m["id"]) > int(q["after"])]
        return _json_response(msgs[: int(q.get("limit", 50))])

    async def _r_channel_message(self, rec: RecordedRequest) -> web.Response:
        msg = self.messages.get(rec.params["mid"])
        if msg is None or msg["channel_id"] != rec.params["cid"]:
            return _error(404, 10008, "Unknown Message")
        if rec.method == "GET":
            return _json_response(msg)
        if rec.method == "DELETE":
            del self.messages[msg["id"]]
            return web.Response(status=204)
        if rec.method == "PATCH":
            if msg["author"]["id"] != self.bot_user["id"]:
                return _error(403, 50005, "Cannot edit a message authored by another user")
            invalid = self._check_body(rec.json or {}, flags=msg["flags"])
            if invalid is not None:
                return invalid
            self._edit_message(msg, rec.json or {}, rec.files)
            await self._publish(msg, "MESSAGE_UPDATE")
            return _json_response(msg)
        return _error(405, 0, "405: Method Not Allowed")

    async def _r_reaction(self, rec: RecordedRequest) -> web.Response:
        msg = self.messages.get(rec.params["mid"])
        if msg is None or msg["channel_id"] != rec.params["cid"]:
            return _error(404, 10008, "Unknown Message")
        if rec.method not in ("PUT", "DELETE"):
            return _error(405, 0, "405: Method Not Allowed")
        name, _, emoji_id = rec.params["emoji"].partition(":")
        emoji = {"id": emoji_id or None, "name": name}
        reactions = msg.setdefault("reactions", [])
        existing = next((r for r in reactions if r["emoji"] == emoji), None)
        if rec.method == "PUT" and (existing is None or not existing["me"]):
            if existing is None:
                existing = {
                    "emoji": emoji,
                    "count": 0,
                    "me": False,
                    "burst_colors": [],
                    "me_burst": False,
                    "count_details": {"burst": 0, "normal": 0},
                }
                reactions.append(existing)
            existing["count"] += 1
            existing["count_details"]["normal"] += 1
            existing["me"] = True
        elif rec.method == "DELETE" and existing is not None and existing["me"]:
            existing["count"] -= 1
            existing["count_details"]["normal"] -= 1
            existing["me"] = False
            if existing["count"] <= 0:
                reactions.remove(existing)
        return web.Response(status=204)


def _fill_descriptions(cmd: dict[str, Any]) -> None:
    """Discord always returns ``description`` ("" for context menus); discord.py indexes it."""
    cmd.setdefault("description", "")
    for opt in cmd.get("options") or []:
        _fill_descriptions(opt)
