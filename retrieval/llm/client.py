"""A small client for any OpenAI-compatible ``/v1/chat/completions`` endpoint (Ollama, llama.cpp, vLLM).

httpx, which newsdesk already depends on: a blocking call for the CLI, and server-sent-event
streaming for the bot. Every failure becomes an ``LlmError`` whose text can be shown to users;
the API key only ever goes into the ``Authorization`` header (it is a ``SecretStr`` everywhere
else, so it never reaches a log or a traceback). A server that refuses ``response_format``
with a 400 is asked again without it, and from then on never with it: the reply parser reads
plain text too.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from retrieval.llm.errors import LlmConnectionError, LlmHttpError, LlmReplyError, LlmTimeoutError
from retrieval.llm.schema import RESPONSE_FORMAT

log = logging.getLogger(__name__)

TIMED_OUT = "the language model did not answer in time"
UNREACHABLE = "the language model could not be reached"
CUT_OFF = "the language model's answer was cut off"
MALFORMED = "the language model's answer was not in the expected form"


@dataclass(frozen=True)
class LlmConfig:
    """Where the model is and how to call it.

    ``timeout`` is the longest wait, in seconds, for the connection or for the next bytes of the
    reply (so a slow but steadily streaming model is not cut off).
    """

    base_url: str
    model: str
    api_key: SecretStr | None = None
    timeout: float = 60.0
    max_tokens: int = 512
    temperature: float = 0.0

    @property
    def url(self) -> str:
        """The chat completions URL (``base_url`` may already be it)."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: str | None = None


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: _Message | None = None
    delta: _Message | None = None
    finish_reason: str | None = None


class _Completion(BaseModel):
    """A completion, or one streamed chunk of it: only what newsdesk reads."""

    model_config = ConfigDict(extra="ignore")
    choices: list[_Choice] = []


Messages = Sequence[dict[str, str]]


class ChatClient:
    """Sends chat messages to the model and returns (or streams) the text of its reply."""

    def __init__(
        self, config: LlmConfig, *, http: httpx.Client | None = None, ahttp: httpx.AsyncClient | None = None
    ) -> None:
        """Use ``config``; ``http``/``ahttp`` are shared clients to reuse (default: one per call)."""
        self.config = config
        self._http = http
        self._ahttp = ahttp
        self._structured = True  # turned off for good when the server refuses response_format

    def _headers(self) -> dict[str, str]:
        key = self.config.api_key
        return {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}

    def _payload(self, messages: Messages, *, stream: bool, structured: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.config.model,
            "messages": list(messages),
            "max_tokens": self.config.max_tokens,
            "temperature": self.config.temperature,
            "stream": stream,
        }
        if structured:
            payload["response_format"] = RESPONSE_FORMAT
        return payload

    def _attempts(self) -> list[bool]:
        return [True, False] if self._structured else [False]

    def _refused_format(self, status: int, structured: bool) -> bool:
        if status == 400 and structured:
            log.warning("%s refused response_format json_schema; asking for plain JSON", self.config.url)
            self._structured = False
            return True
        return False

    def complete(self, messages: Messages) -> str:
        """The text of the model's reply (blocking).

        Raises:
            LlmError: on a timeout, a connection or HTTP error, or a reply without text.
        """
        with _client(self._http, self.config.timeout) as http:
            for structured in self._attempts():
                payload = self._payload(messages, stream=False, structured=structured)
                with _translated():
                    response = http.post(self.config.url, json=payload, headers=self._headers())
                if self._refused_format(response.status_code, structured):
                    continue
                if response.status_code >= 400:
                    raise LlmHttpError(response.status_code)
                return _content(response.content)
        raise LlmHttpError(400)

    async def stream(self, messages: Messages) -> AsyncIterator[str]:
        """Yield the text of the model's reply piece by piece as it streams (``stream: true``).

        Raises:
            LlmError: as ``complete``; ``LlmReplyError`` when the stream ends before the model finished.
        """
        async with _aclient(self._ahttp, self.config.timeout) as http:
            for structured in self._attempts():
                payload = self._payload(messages, stream=True, structured=structured)
                with _translated():
                    async with http.stream("POST", self.config.url, json=payload, headers=self._headers()) as response:
                        if self._refused_format(response.status_code, structured):
                            continue
                        if response.status_code >= 400:
                            raise LlmHttpError(response.status_code)
                        async for piece in _deltas(response):
                            yield piece
                        return
        raise LlmHttpError(400)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Turn httpx's transport errors into ``LlmError``s."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise LlmTimeoutError(TIMED_OUT) from exc
    except httpx.RemoteProtocolError as exc:  # the server hung up mid-reply
        raise LlmReplyError(CUT_OFF) from exc
    except httpx.TransportError as exc:
        raise LlmConnectionError(UNREACHABLE) from exc


def _client(shared: httpx.Client | None, timeout: float) -> contextlib.AbstractContextManager[httpx.Client]:
    return contextlib.nullcontext(shared) if shared else httpx.Client(timeout=timeout)


def _aclient(
    shared: httpx.AsyncClient | None, timeout: float
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    return contextlib.nullcontext(shared) if shared else httpx.AsyncClient(timeout=timeout)


def _parse(body: bytes | object) -> _Completion:
    """A completion from a response body (bytes) or an already decoded stream chunk."""
    try:
        if isinstance(body, bytes):
            return _Completion.model_validate_json(body)
        return _Completion.model_validate(body)
    except ValidationError as exc:
        raise LlmReplyError(MALFORMED) from exc


def _content(body: bytes) -> str:
    """The message text of a non-streamed completion."""
    choices = _parse(body).choices
    message = choices[0].message if choices else None
    if message is None or not message.content:
        raise LlmReplyError("the language model sent an empty answer")
    return message.content


async def _deltas(response: httpx.Response) -> AsyncIterator[str]:
    """The text pieces of a server-sent-event stream; a stream that stops early is an error."""
    finished = False
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue  # blank separators, comments, "event:" lines
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise LlmReplyError(MALFORMED) from exc
        if isinstance(chunk, dict) and "error" in chunk:
            raise LlmReplyError("the language model reported an error")
        for choice in _parse(chunk).choices[:1]:
            if choice.delta and choice.delta.content:
                yield choice.delta.content
            finished = finished or choice.finish_reason is not None
    if not finished:
        raise LlmReplyError(CUT_OFF)
