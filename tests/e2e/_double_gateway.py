"""Gateway (websocket) half of the Discord double.  See ``discord_double.py`` for the overview.

Implements the subset of the v10 gateway that discord.py 2.x drives: HELLO, IDENTIFY -> READY +
GUILD_CREATE, HEARTBEAT -> ACK, RESUME -> replay + RESUMED, REQUEST_GUILD_MEMBERS -> one chunk,
and the server-initiated RECONNECT / INVALID_SESSION.  Sharding as Discord does it: an IDENTIFY with
``shard: [id, count]`` gets the guilds with ``(guild_id >> 22) % count == id`` only, sessions of other
shards stay live beside it, and an event about a guild goes to its shard's session (others to shard 0).

Transport compression follows the ``compress`` query parameter: ``zlib-stream`` (one shared zlib stream
per connection, each message ending in a Z_SYNC_FLUSH), ``zstd-stream`` (one zstd stream, each message a
flushed block; needs ``zstandard``, otherwise plain text frames are sent, which discord.py also accepts)
or none (text frames).
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

try:  # discord.py asks for zstd-stream when zstandard is importable (the ``speed`` extra)
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None


OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT


@dataclass
class ConnectionInfo:
    """One websocket connection a client opened (``double.connections``)."""

    path: str  # "/" for the first connect, "/resume" when the client used resume_gateway_url
    query: dict[str, str]  # e.g. {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    opened_at: float
    received_ops: list[int] = field(default_factory=list)
    closed_at: float | None = None


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, info: ConnectionInfo) -> None:
        self.ws = ws
        self.request = request
        self.info = info
        self.session: _Session | None = None
        self.closed = False
        self._lock = asyncio.Lock()  # keeps compression order == wire order
        compress = info.query.get("compress")
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._zstd = None
        if compress == "zstd-stream" and zstandard is not None:
            self._zstd = zstandard.ZstdCompressor().compressobj()

    async def send(self, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, separators=(",", ":")).encode()
        async with self._lock:
            if self.closed or self.ws.closed:
                raise ConnectionResetError("gateway connection is closed")
            if self._zlib is not None:
                await self.ws.send_bytes(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
            elif self._zstd is not None:
                await self.ws.send_bytes(self._zstd.compress(raw) + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
            else:
                await self.ws.send_str(raw.decode())

    def abort(self) -> None:
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass
class _Session:
    id: str
    identify: dict[str, Any]
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)  # every dispatched event, for RESUME replay
    conn: _Connection | None = None
    resumable: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def intents(self) -> int:
        return int(self.identify.get("intents", 0) or 0)

    @property
    def shard(self) -> tuple[int, int] | None:
        """``(shard_id, shard_count)`` from the IDENTIFY, or None for an unsharded session."""
        shard = self.identify.get("shard")
        return (int(shard[0]), int(shard[1])) if shard else None

    def serves(self, guild_id: str) -> bool:
        """Whether this session receives the guild's events (every guild when unsharded)."""
        return self.shard is None or (int(guild_id) >> 22) % self.shard[1] == self.shard[0]


class GatewayMixin:
    """Websocket side of :class:`DiscordDouble` (mixed in; uses its state)."""

    if TYPE_CHECKING:  # provided by DiscordDouble
        token: str | None
        heartbeat_interval_ms: int
        privileged_intents_enabled: bool
        application_id: str
        application_flags: int
        bot_user: dict[str, Any]
        guilds: dict[str, dict[str, Any]]

        @property
        def gateway_url(self) -> str: ...

        def _notify(self) -> None: ...
        def guild_create_payload(self, guild_id: str) -> dict[str, Any]: ...

    def _init_gateway(self) -> None:
        self.connections: list[ConnectionInfo] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self._sessions: dict[str, _Session] = {}
        self._session: _Session | None = None
        self._shard_sessions: dict[int, _Session] = {}  # the latest session of each shard id
        self._conns: set[_Connection] = set()

    # ------------------------------------------------------------------ websocket endpoint
    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        info = ConnectionInfo(path=request.path, query=dict(request.query), opened_at=time.monotonic())
        self.connections.append(info)
        conn = _Connection(ws, request, info)
        self._conns.add(conn)
        self._notify()
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms}
            await conn.send({"op": OP_HELLO, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                data = json.loads(msg.data)
                info.received_ops.append(data.get("op"))
                await self._on_gateway_message(conn, data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            conn.closed = True
            info.closed_at = time.monotonic()
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._conns.discard(conn)
            self._notify()
        return ws

    async def _on_gateway_message(self, conn: _Connection, msg: dict[str, Any]) -> None:
        op, d = msg.get("op"), msg.get("d") or {}
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d)
        elif op == OP_RESUME:
            await self._resume(conn, d)
        elif op == OP_REQUEST_MEMBERS:
            await self._request_members(conn, d)
        # OP_PRESENCE / OP_VOICE_STATE and anything else: accepted and ignored (visible in received_ops)

    async def _identify(self, conn: _Connection, d: dict[str, Any]) -> None:
        if self.token is not None and d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if not self.privileged_intents_enabled and int(d.get("intents", 0) or 0) & PRIVILEGED_INTENTS:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identify_count += 1
        self.identify_payloads.append(d)
        session = _Session(id=f"session-{self.identify_count}", identify=d)
        for earlier in self._sessions.values():  # a new IDENTIFY of a shard ends that shard's earlier sessions
            if earlier.shard == session.shard or earlier.shard is None or session.shard is None:
                earlier.resumable = False
        self._sessions[session.id] = session
        self._session = session
        if session.shard is not None:
            self._shard_sessions[session.shard[0]] = session
        guild_ids = [gid for gid in self.guilds if session.serves(gid)]
        conn.session = session
        session.conn = conn
        ready = {
            "v": 10,
            "user": dict(self.bot_user),
            "user_settings": {},
            "private_channels": [],
            "relationships": [],
            "guilds": [{"id": gid, "unavailable": True} for gid in guild_ids],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": f"{self.gateway_url.rstrip('/')}/resume",
            "application": {"id": self.application_id, "flags": self.application_flags},
            "geo_ordered_rtc_regions": ["local"],
            "auth_session_id_hash": "double",
            "_trace": ['["discord-double",{"micros":0}]'],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]
        await self._dispatch("READY", ready, session=session)
        for gid in guild_ids:
            await self._dispatch("GUILD_CREATE", self.guild_create_payload(gid), session=session)
        self.ready.set()
        self._notify()

    async def _resume(self, conn: _Connection, d: dict[str, Any]) -> None:
        session = self._sessions.get(str(d.get("session_id")))
        if session is None or not session.resumable or (self.token is not None and d.get("token") != self.token):
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        async with session.lock:
            old = session.conn
            if old is not None and old is not conn:
                old.abort()
            session.conn = conn
            conn.session = session
            client_seq = int(d.get("seq") or 0)
            for event in [e for e in session.log if e["s"] > client_seq]:
                await conn.send(event)
            session.seq += 1
            resumed = {"op": OP_DISPATCH, "t": "RESUMED", "s": session.seq, "d": {"_trace": ["discord-double"]}}
            session.log.append(resumed)
            await conn.send(resumed)
        self.resume_count += 1
        self._notify()

    async def _request_members(self, conn: _Connection, d: dict[str, Any]) -> None:
        gids = d.get("guild_id")
        for gid in gids if isinstance(gids, list) else [gids]:
            guild = self.guilds.get(str(gid))
            if guild is None:
                continue
            chunk = {
                "guild_id": str(gid),
                "members": [dict(m) for m in guild["members"]],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if d.get("nonce") is not None:
                chunk["nonce"] = d["nonce"]
            await self._dispatch("GUILD_MEMBERS_CHUNK", chunk, session=conn.session)

    # ------------------------------------------------------------------ dispatch
    async def _dispatch(self, event: str, data: dict[str, Any], *, session: _Session | None = None) -> dict[str, Any]:
        """Send a DISPATCH (op 0) to the current session (sharded: the session of the event's guild); if
        it has no live socket the event is only logged and will be replayed when the client RESUMEs
        (exactly like Discord)."""
        session = session or self._route(data)
        if session is None:
            raise RuntimeError("no client has identified with the Discord double yet")
        async with session.lock:
            session.seq += 1
            payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
            session.log.append(payload)
            conn = session.conn
            if conn is not None:
                try:
                    await conn.send(payload)
                except (ConnectionError, RuntimeError):
                    session.conn = None
        return payload

    def _route(self, data: dict[str, Any]) -> _Session | None:
        """The session an event goes to: unsharded the current one; sharded the one of the event's guild
        (``guild_id``; shard 0 for direct messages), as on Discord."""
        current = self._session
        if current is None or current.shard is None:
            return current
        guild_id = data.get("guild_id")
        shard_id = (int(guild_id) >> 22) % current.shard[1] if guild_id is not None else 0
        return self._shard_sessions.get(shard_id, current)

    def shard_events(self, shard_id: int) -> list[str]:
        """The events dispatched on the latest session of shard ``shard_id`` (``[]`` if it never identified)."""
        session = self._shard_sessions.get(shard_id)
        return [str(event["t"]) for event in session.log] if session is not None else []

    def _live_connection(self) -> _Connection:
        if self._session is None or self._session.conn is None or self._session.conn.closed:
            raise RuntimeError("no live gateway connection")
        return self._session.conn

    # ------------------------------------------------------------------ fault injection (public)
    async def drop_socket(self, code: int | None = None) -> None:
        """Kill the live gateway socket.  ``code=None`` aborts the TCP connection with no close frame
        (discord.py sees close code 1006 and RESUMEs); an int sends that close code instead."""
        conn = self._live_connection()
        if conn.session is not None:
            conn.session.conn = None
        if code is None:
            conn.abort()
        else:
            conn.closed = True
            await asyncio.wait_for(conn.ws.close(code=code), timeout=2.0)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes the socket and RESUMEs on resume_gateway_url."""
        conn = self._live_connection()
        await conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    async def send_invalid_session(self, resumable: bool) -> None:
        """Send op 9 INVALID_SESSION.  ``resumable=False`` also forgets the session, so the client must
        IDENTIFY again (discord.py reconnects to ``DiscordWebSocket.DEFAULT_GATEWAY``)."""
        conn = self._live_connection()
        if not resumable and conn.session is not None:
            conn.session.resumable = False
        await conn.send({"op": OP_INVALID_SESSION, "d": resumable, "s": None, "t": None})

    async def _close_all_sockets(self) -> None:
        for conn in list(self._conns):
            conn.abort()
