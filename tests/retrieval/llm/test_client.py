from __future__ import annotations

import logging
import socket

import pytest
from pydantic import SecretStr

from retrieval.llm.client import CUT_OFF, TIMED_OUT, ChatClient, LlmConfig
from retrieval.llm.errors import LlmConnectionError, LlmHttpError, LlmReplyError, LlmTimeoutError
from retrieval.llm.schema import RESPONSE_FORMAT
from tests.llm_double import LlmDouble, Reply

MESSAGES = [{"role": "system", "content": "rules"}, {"role": "user", "content": "question"}]
KEY = "sk-test-0123456789abcdef"


def client_for(double: LlmDouble, **config: object) -> ChatClient:
    settings = {"base_url": double.base_url, "model": "m", "timeout": 5.0, **config}
    return ChatClient(LlmConfig(**settings))  # type: ignore[arg-type]


async def collect(client: ChatClient) -> str:
    return "".join([piece async for piece in client.stream(MESSAGES)])


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://localhost:11434/v1", "http://localhost:11434/v1/chat/completions"),
        ("http://localhost:8080/v1/", "http://localhost:8080/v1/chat/completions"),
        ("http://h/v1/chat/completions", "http://h/v1/chat/completions"),
    ],
)
def test_url(base: str, url: str):
    """should accept an API root with or without a slash, or the full endpoint."""
    assert LlmConfig(base_url=base, model="m").url == url


def test_request_shape(double: LlmDouble):
    """should send the model, messages, limits and the JSON schema, and the key as a bearer token."""
    double.script(Reply(content="hello"))
    client = client_for(double, api_key=SecretStr(KEY), max_tokens=300, temperature=0.2)
    assert client.complete(MESSAGES) == "hello"
    (request,) = double.requests
    assert request.body == {
        "model": "m",
        "messages": MESSAGES,
        "max_tokens": 300,
        "temperature": 0.2,
        "stream": False,
        "response_format": RESPONSE_FORMAT,
    }
    assert request.headers["Authorization"] == f"Bearer {KEY}"


def test_no_key_no_header(double: LlmDouble):
    """should send no Authorization header when no key is configured."""
    double.script(Reply(content="hello"))
    client_for(double).complete(MESSAGES)
    assert "Authorization" not in double.requests[0].headers


def test_key_never_logged(double: LlmDouble, caplog: pytest.LogCaptureFixture):
    """should keep the API key out of the log and out of reprs, even on errors."""
    caplog.set_level(logging.DEBUG)
    config = LlmConfig(base_url=double.base_url, model="m", api_key=SecretStr(KEY))
    double.script(Reply(content="hello"), Reply(status=500))
    client = ChatClient(config)
    client.complete(MESSAGES)
    with pytest.raises(LlmHttpError) as err:
        client.complete(MESSAGES)
    assert caplog.records
    assert KEY not in caplog.text and KEY not in repr(config) and KEY not in repr(err.value)


def test_server_refusing_response_format(double: LlmDouble):
    """should ask again without response_format after a 400, and not send it any more."""
    double.script(Reply(content="plain", refuse_format=True))
    client = client_for(double)
    assert client.complete(MESSAGES) == "plain"
    assert client.complete(MESSAGES) == "plain"
    assert ["response_format" in r.body for r in double.requests] == [True, False, False]


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        pytest.param(Reply(stall=30.0), LlmTimeoutError, TIMED_OUT, id="stall"),
        pytest.param(Reply(status=500), LlmHttpError, "the language model failed (HTTP 500)", id="500"),
        pytest.param(Reply(status=401), LlmHttpError, "the language model failed (HTTP 401)", id="401"),
        pytest.param(Reply(content=""), LlmReplyError, "the language model sent an empty answer", id="empty"),
    ],
)
def test_complete_failures(double: LlmDouble, reply: Reply, error: type[Exception], message: str):
    """should turn every failure of a blocking call into an LlmError with a short reason."""
    double.script(reply)
    with pytest.raises(error, match=r"^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        client_for(double, timeout=0.5).complete(MESSAGES)


def test_unreachable_server():
    """should say the model could not be reached when nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ChatClient(LlmConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2))
    with pytest.raises(LlmConnectionError, match="could not be reached"):
        client.complete(MESSAGES)


async def test_stream(double: LlmDouble):
    """should yield the reply piece by piece, as the server streams it."""
    double.script(Reply(content="x" * 30, chunk=7))
    client = client_for(double)
    pieces = [piece async for piece in client.stream(MESSAGES)]
    assert pieces == ["x" * 7] * 4 + ["xx"]
    assert double.requests[0].body["stream"] is True


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        pytest.param(Reply(content="x" * 50, chunk=5, cut_after=3), LlmReplyError, CUT_OFF, id="cut-midway"),
        pytest.param(Reply(stall=30.0), LlmTimeoutError, TIMED_OUT, id="stall"),
        pytest.param(Reply(status=500), LlmHttpError, r"the language model failed \(HTTP 500\)", id="500"),
    ],
)
async def test_stream_failures(double: LlmDouble, reply: Reply, error: type[Exception], message: str):
    """should turn every failure of a stream into an LlmError with a short reason."""
    double.script(reply)
    with pytest.raises(error, match=message):
        await collect(client_for(double, timeout=0.5))


async def test_stream_refusing_response_format(double: LlmDouble):
    """should stream again without response_format after a 400."""
    double.script(Reply(content="plain text", refuse_format=True))
    assert await collect(client_for(double)) == "plain text"
    assert ["response_format" in r.body for r in double.requests] == [True, False]
