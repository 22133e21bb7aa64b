"""A local stand-in ("double") for an OpenAI-compatible ``/v1/chat/completions`` server, scripted per test.

Plain aiohttp on 127.0.0.1, in a thread of its own with its own event loop, so that both the
blocking client (CLI path) and the async streaming client (bot path) can talk to it from a
test. Each request takes the next scripted ``Reply`` (the last one repeats) and is recorded::

    with LlmDouble() as double:
        double.script(Reply(content='{"sentences": []}'))
        ... ChatClient(LlmConfig(base_url=double.base_url, model="m")) ...
        assert double.requests[0].body["model"] == "m"

A ``Reply`` is answered in the form the request asked for: one JSON completion, or (``stream:
true``) server-sent events carrying ``content`` in ``chunk``-character pieces. Faults: an HTTP
``status``, a ``stall`` before answering, a stream ``cut_after`` so many pieces (the connection
is dropped mid-reply), and ``refuse_format`` (400 when the request carries ``response_format``).

A scripted item may also be a function of the request that returns the ``Reply``, for answers
that depend on the passages sent: ``citing(...)`` cites whichever passage holds a phrase (the
passages' order is retrieval's business), ``quote_first_passage`` answers any question with the
first sentence of passage [1].
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "double-model"


@dataclass(frozen=True)
class Reply:
    """What the double does with one request."""

    content: str = ""
    status: int = 200
    stall: float = 0.0
    chunk: int = 12
    cut_after: int | None = None
    refuse_format: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request the double received."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """All message contents, joined."""
        return "\n".join(m["content"] for m in self.body["messages"])


Scripted = Reply | Callable[[RecordedRequest], Reply]
_PASSAGE = re.compile(r"<<<DATA \w+ passage \[(\d+)\]>>>\n(.*?)\n<<<END DATA", re.DOTALL)


def passages(request: RecordedRequest) -> dict[int, str]:
    """The numbered passages of a request (title, source and date lines, then ``Text: ...``)."""
    return {int(n): body for n, body in _PASSAGE.findall(request.prompt)}


@dataclass(frozen=True)
class Cite:
    """One model sentence that cites the passage holding ``needle`` (none if no passage has it)."""

    text: str
    needle: str
    quote: str | None = None


def citing(*sentences: Cite, chunk: int = 12) -> Callable[[RecordedRequest], Reply]:
    """A structured reply whose sentences cite the passages their needles are in."""

    def reply(request: RecordedRequest) -> Reply:
        found = passages(request)
        items = [
            {"text": s.text, "passages": [n for n, body in found.items() if s.needle in body][:1], "quote": s.quote}
            for s in sentences
        ]
        return Reply(content=json.dumps({"sentences": items}), chunk=chunk)

    return reply


def quote_first_passage(request: RecordedRequest) -> Reply:
    """A faithful answer to any question: the first sentence of passage [1], quoted and cited."""
    text = passages(request).get(1, "").partition("Text: ")[2]
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    items = [{"text": f'"{first}"', "passages": [1], "quote": first}] if first else []
    return Reply(content=json.dumps({"sentences": items}))


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {"content": content} if content is not None else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    data = {"id": "x", "object": "chat.completion.chunk", "model": MODEL, "choices": [choice]}
    return f"data: {json.dumps(data)}\n\n".encode()


@dataclass
class LlmDouble:
    """The server; use as a context manager (starts and stops its thread)."""

    replies: list[Scripted] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="llm-double", daemon=True)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        """The API root a client is configured with (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Scripted) -> None:
        """Answer the next requests with these replies (or functions of the request), in order; the last repeats."""
        self.replies[:] = replies

    def __enter__(self) -> LlmDouble:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _next(self) -> Reply:
        reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)] if self.replies else Reply()
        return reply if isinstance(reply, Reply) else reply(self.requests[-1])

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(RecordedRequest(dict(request.headers), body))
        reply = self._next()
        if reply.stall:
            with contextlib.suppress(TimeoutError):  # stop() ends a stall at once
                await asyncio.wait_for(self._closing.wait(), reply.stall)
        if reply.refuse_format and "response_format" in body:
            return web.json_response({"error": {"message": "response_format is not supported"}}, status=400)
        if reply.status != 200:
            return web.json_response({"error": {"message": "scripted failure"}}, status=reply.status)
        if not body.get("stream"):
            message = {"role": "assistant", "content": reply.content}
            return web.json_response(
                {"id": "x", "object": "chat.completion", "model": MODEL, "choices": [{"index": 0, "message": message}]}
            )
        return await self._stream(request, reply)

    async def _stream(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        pieces = [reply.content[i : i + reply.chunk] for i in range(0, len(reply.content), reply.chunk)]
        for i, piece in enumerate(pieces):
            if reply.cut_after is not None and i == reply.cut_after:
                assert request.transport is not None
                request.transport.abort()  # the connection drops mid-reply
                return response
            await response.write(_chunk(piece))
        await response.write(_chunk(None, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
