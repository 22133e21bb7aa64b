"""Tests for index.fetch: SSRF guards, redirects, limits and conditional GET (127.0.0.1 only)."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from functools import cache

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from index.errors import (
    ContentEncodingError,
    ContentTypeError,
    FetchError,
    FetchTimeoutError,
    HostNotFoundError,
    HTTPStatusError,
    InvalidURLError,
    RedirectError,
    TooLargeError,
    UnsafeURLError,
)
from index.fetch import (
    MAX_COMPRESSION_RATIO,
    Resolver,
    fetch_url,
    fetch_url_sync,
    is_public_address,
    is_web_url,
    make_client,
    system_resolver,
    validate_url,
)

ARTICLE = b"<html><head><title>Tram</title></head><body><article><p>The council voted.</p></article></body></html>"
PUBLIC_IP = "93.184.216.34"
BOMB_ZEROS = 64 * 1024 * 1024  # decoding any of the bombs in full is bounded by this, not by GBs
DECODE_STEP = 65_536  # index.fetch inflates at most this much between its limit checks


@cache
def gzip_bomb(layers: int) -> bytes:
    """``BOMB_ZEROS`` zero bytes gzipped ``layers`` times (one layer: 64 kB; two or three: under 1 kB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    body = b"".join(packer.compress(block) for _ in range(BOMB_ZEROS // len(block))) + packer.flush()
    for _ in range(layers - 1):
        body = gzip.compress(body, compresslevel=9)
    return body


@pytest.fixture
def inflated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of every zlib output while the test runs, whoever decompresses (index.fetch or httpx)."""
    sizes: list[int] = []
    real = zlib.decompressobj

    class Counting:
        def __init__(self, wbits: int = zlib.MAX_WBITS) -> None:
            self._inner = real(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._inner.decompress(data, max_length)
            sizes.append(len(out))
            return out

        def flush(self, length: int = zlib.DEF_BUF_SIZE) -> bytes:
            out = self._inner.flush(length)
            sizes.append(len(out))
            return out

        @property
        def unconsumed_tail(self) -> bytes:
            return self._inner.unconsumed_tail

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    return sizes


def static_resolver(table: dict[str, list[str]]) -> Resolver:
    """A resolver answering from ``table``, like a fake DNS."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise HostNotFoundError(f"I couldn't find the site {host}")
        return table[host]

    return resolve


def rebinding_resolver(first: str, then: str) -> tuple[Resolver, list[str]]:
    """A resolver that answers ``first`` once and ``then`` afterwards (a DNS rebinding attack)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return [first] if len(calls) == 1 else [then]

    return resolve, calls


@pytest.fixture
def article_url(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/article").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    return httpserver.url_for("/article")


async def test_fetches_local_article_when_private_allowed(article_url: str) -> None:
    """should fetch a page from 127.0.0.1 when allow_private=True."""
    page = await fetch_url(article_url, allow_private=True)
    assert page.status == 200
    assert page.body == ARTICLE
    assert page.content_type == "text/html"
    assert page.charset == "utf-8"
    assert page.url == article_url
    assert not page.not_modified


async def test_refuses_loopback_by_default(httpserver: HTTPServer, article_url: str) -> None:
    """should refuse 127.0.0.1 without sending any request when allow_private is False."""
    with pytest.raises(UnsafeURLError, match="private or reserved"):
        await fetch_url(article_url)
    assert httpserver.log == []


async def test_refuses_hostname_resolving_to_private_address() -> None:
    """should refuse a host name whose DNS answer is 10.0.0.1."""
    resolver = static_resolver({"intranet.example.com": ["10.0.0.1"]})
    with pytest.raises(UnsafeURLError) as info:
        await fetch_url("https://intranet.example.com/wiki", resolver=resolver)
    assert "10.0.0.1" not in str(info.value)


async def test_refuses_when_any_address_is_private() -> None:
    """should refuse a host with one public and one private address."""
    resolver = static_resolver({"mixed.example.com": [PUBLIC_IP, "192.168.1.10"]})
    with pytest.raises(UnsafeURLError):
        await fetch_url("http://mixed.example.com/", resolver=resolver)


async def test_redirect_to_metadata_service_is_refused() -> None:
    """should refuse a redirect to http://169.254.169.254/latest/meta-data without requesting it."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    resolver = static_resolver({"news.example.com": [PUBLIC_IP]})
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnsafeURLError):
            await fetch_url("https://news.example.com/story", client=client, resolver=resolver)
    assert requested == ["https://news.example.com/story"]


async def test_redirect_to_private_hostname_is_refused() -> None:
    """should vet the DNS answer of a redirect target, not just the first host."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(301, headers={"Location": "http://admin.example.com/"})

    resolver = static_resolver({"news.example.com": [PUBLIC_IP], "admin.example.com": ["10.0.0.1"]})
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnsafeURLError, match=r"admin\.example\.com"):
            await fetch_url("https://news.example.com/story", client=client, resolver=resolver)
    assert requested == ["https://news.example.com/story"]


async def test_dns_rebinding_is_refused_at_connect_time(httpserver: HTTPServer, article_url: str) -> None:
    """should vet the address again when connecting, so a second DNS answer of 127.0.0.1 is refused."""
    resolver, calls = rebinding_resolver(PUBLIC_IP, "127.0.0.1")
    with pytest.raises(UnsafeURLError):
        await fetch_url(f"http://rebind.example.com:{httpserver.port}/article", resolver=resolver)
    assert calls == ["rebind.example.com", "rebind.example.com"]
    assert httpserver.log == []


async def test_guarded_client_blocks_direct_requests() -> None:
    """should refuse private addresses in make_client's transport itself (the connect-time guard is wired in)."""
    resolver = static_resolver({"intranet.example.com": ["10.0.0.1"]})
    async with make_client(resolver=resolver) as client:
        with pytest.raises(UnsafeURLError):
            await client.get("http://intranet.example.com/")
        with pytest.raises(UnsafeURLError):
            await client.get("http://[::ffff:127.0.0.1]/")


async def test_connects_to_resolved_address(article_url: str, httpserver: HTTPServer) -> None:
    """should connect to the address the resolver vetted, keeping the host name in the Host header."""
    resolver = static_resolver({"news.test": ["127.0.0.1"]})
    page = await fetch_url(f"http://news.test:{httpserver.port}/article", allow_private=True, resolver=resolver)
    assert page.body == ARTICLE
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"news.test:{httpserver.port}"


async def test_follows_redirects_to_final_url(httpserver: HTTPServer, article_url: str) -> None:
    """should follow a relative redirect chain and report the final URL."""
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/moved"})
    httpserver.expect_request("/moved").respond_with_data("", status=307, headers={"Location": article_url})
    page = await fetch_url(httpserver.url_for("/old"), allow_private=True)
    assert page.url == article_url
    assert page.body == ARTICLE


async def test_redirect_loop_is_detected(httpserver: HTTPServer) -> None:
    """should stop on a redirect loop with a clear message."""
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(RedirectError, match="loop"):
        await fetch_url(httpserver.url_for("/a"), allow_private=True)


async def test_too_many_redirects(httpserver: HTTPServer) -> None:
    """should give up after max_redirects hops."""
    for i in range(8):
        httpserver.expect_request(f"/r{i}").respond_with_data("", status=302, headers={"Location": f"/r{i + 1}"})
    with pytest.raises(RedirectError, match="more than 5"):
        await fetch_url(httpserver.url_for("/r0"), allow_private=True)


async def test_body_over_limit_is_cut(httpserver: HTTPServer) -> None:
    """should refuse a body over 5 MB (declared length)."""
    httpserver.expect_request("/big").respond_with_data(b"x" * 5_000_001, content_type="text/html")
    with pytest.raises(TooLargeError, match="5 MB"):
        await fetch_url(httpserver.url_for("/big"), allow_private=True)


async def test_chunked_body_over_limit_is_cut(httpserver: HTTPServer) -> None:
    """should stop reading a chunked body without Content-Length once it passes max_bytes."""

    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield b"y" * 65_536

    def handler(request: Request) -> Response:
        return Response(chunks(), content_type="text/html")

    httpserver.expect_request("/stream").respond_with_handler(handler)
    with pytest.raises(TooLargeError, match="1 MB"):
        await fetch_url(httpserver.url_for("/stream"), allow_private=True, max_bytes=1_000_000)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        pytest.param(404, "not found", id="404"),
        pytest.param(403, "refused access", id="403"),
        pytest.param(500, "try again later", id="500"),
    ],
)
async def test_error_status_maps_to_fetch_error(httpserver: HTTPServer, status: int, message: str) -> None:
    """should raise HTTPStatusError with a short message for 4xx/5xx."""
    httpserver.expect_request("/err").respond_with_data("oops", status=status)
    with pytest.raises(HTTPStatusError, match=message) as info:
        await fetch_url(httpserver.url_for("/err"), allow_private=True)
    assert info.value.status == status


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        pytest.param("image/png", "an image file", id="image"),
        pytest.param("application/pdf", "a PDF", id="pdf"),
    ],
)
async def test_wrong_content_type_is_refused(httpserver: HTTPServer, content_type: str, message: str) -> None:
    """should refuse images and PDFs before reading them."""
    httpserver.expect_request("/file").respond_with_data(b"\x89PNG....", content_type=content_type)
    with pytest.raises(ContentTypeError, match=message) as info:
        await fetch_url(httpserver.url_for("/file"), allow_private=True)
    assert info.value.content_type == content_type


async def test_feed_content_type_is_accepted(httpserver: HTTPServer) -> None:
    """should accept RSS content types by default."""
    httpserver.expect_request("/rss").respond_with_data(b"<rss/>", content_type="application/rss+xml")
    page = await fetch_url(httpserver.url_for("/rss"), allow_private=True)
    assert page.content_type == "application/rss+xml"


async def test_conditional_get_not_modified(httpserver: HTTPServer) -> None:
    """should send If-None-Match/If-Modified-Since and report 304 as not_modified."""
    last_modified = "Tue, 12 Mar 2024 08:30:00 GMT"
    httpserver.expect_request(
        "/feed", headers={"If-None-Match": '"v1"', "If-Modified-Since": last_modified}
    ).respond_with_data("", status=304, headers={"ETag": '"v1"'})
    page = await fetch_url(httpserver.url_for("/feed"), allow_private=True, etag='"v1"', last_modified=last_modified)
    assert page.not_modified
    assert page.status == 304
    assert page.body == b""
    assert page.etag == '"v1"'


async def test_returns_validators_for_next_poll(httpserver: HTTPServer) -> None:
    """should return ETag and Last-Modified so the caller can poll conditionally."""
    httpserver.expect_request("/feed").respond_with_data(
        b"<rss/>",
        content_type="application/rss+xml",
        headers={"ETag": '"v2"', "Last-Modified": "Wed, 13 Mar 2024 08:30:00 GMT"},
    )
    page = await fetch_url(httpserver.url_for("/feed"), allow_private=True)
    assert (page.etag, page.last_modified) == ('"v2"', "Wed, 13 Mar 2024 08:30:00 GMT")


async def test_slow_site_times_out(httpserver: HTTPServer) -> None:
    """should raise FetchTimeoutError when the whole fetch exceeds the deadline."""

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchTimeoutError, match="too long"):
        await fetch_url(httpserver.url_for("/slow"), allow_private=True, timeout=0.2)


async def test_unknown_host_maps_to_host_not_found() -> None:
    """should report a host that does not resolve."""
    with pytest.raises(HostNotFoundError, match="couldn't find"):
        await fetch_url("https://no-such-host.example/", resolver=static_resolver({}))


async def test_connection_refused_maps_to_fetch_error(httpserver: HTTPServer) -> None:
    """should turn a refused connection into a short FetchError."""
    port = httpserver.port
    httpserver.stop()
    try:
        with pytest.raises(FetchError, match="couldn't connect"):
            await fetch_url(f"http://127.0.0.1:{port}/", allow_private=True)
    finally:
        httpserver.start()


async def test_system_resolver_resolves_localhost() -> None:
    """should resolve localhost from the hosts file, without the network."""
    addresses = await system_resolver("localhost", 80)
    assert set(addresses) & {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="empty"),
        pytest.param("not a url", id="words"),
        pytest.param("news.example.com/story", id="no-scheme"),
        pytest.param("ftp://example.com/file", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("javascript://alert(1)", id="javascript"),
        pytest.param("http://user:secret@example.com/", id="credentials"),
        pytest.param("http:///path-only", id="no-host"),
    ],
)
def test_invalid_urls_are_refused(url: str) -> None:
    """should refuse anything that is not a plain absolute http(s) URL, with a user-facing message."""
    with pytest.raises(InvalidURLError):
        validate_url(url)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1%eth0",
        "fc00::1",
        "fec0::1",
        "feff:ffff::1",
        "fec0::1%eth0",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:7f00:1::1",
        "not-an-ip",
    ],
)
def test_non_public_addresses_are_refused(ip: str) -> None:
    """should classify loopback, private, link-local, multicast, reserved and embedded-IPv4 forms as unsafe."""
    assert not is_public_address(ip)


@pytest.mark.parametrize("ip", [PUBLIC_IP, "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(ip: str) -> None:
    """should allow global unicast addresses."""
    assert is_public_address(ip)


def test_sync_wrapper_fetches(article_url: str) -> None:
    """should fetch through the blocking wrapper with the same guards."""
    assert fetch_url_sync(article_url, allow_private=True).body == ARTICLE
    with pytest.raises(UnsafeURLError):
        fetch_url_sync(article_url)


def serve_encoded(httpserver: HTTPServer, body: bytes, encoding: str, content_type: str = "text/html") -> str:
    httpserver.expect_request("/enc").respond_with_data(
        body, content_type=content_type, headers={"Content-Encoding": encoding}
    )
    return httpserver.url_for("/enc")


@pytest.mark.parametrize("content_type", ["text/html", "application/rss+xml"])
async def test_single_gzip_bomb_stops_at_the_limit(
    httpserver: HTTPServer, inflated: list[int], content_type: str
) -> None:
    """should stop a 64 kB gzip of 64 MB of zeros (page or feed) after inflating at most the limit plus one step."""
    url = serve_encoded(httpserver, gzip_bomb(1), "gzip", content_type)
    with pytest.raises(TooLargeError):
        await fetch_url(url, allow_private=True, max_bytes=1_000_000)
    assert 0 < sum(inflated) <= 1_000_000 + DECODE_STEP


@pytest.mark.parametrize("layers", [2, 3])
async def test_stacked_gzip_bomb_is_refused_before_decoding(
    httpserver: HTTPServer, inflated: list[int], layers: int
) -> None:
    """should refuse ``Content-Encoding: gzip, gzip`` (under 1 kB inflating to 64 MB) without inflating anything."""
    body = gzip_bomb(layers)
    assert len(body) < 1000
    url = serve_encoded(httpserver, body, ", ".join(["gzip"] * layers))
    with pytest.raises(ContentEncodingError, match=f"compressed the page {layers} times over"):
        await fetch_url(url, allow_private=True)
    assert sum(inflated) == 0


async def test_stacked_codings_in_separate_headers_are_refused(httpserver: HTTPServer) -> None:
    """should count codings across repeated Content-Encoding headers too."""
    httpserver.expect_request("/enc").respond_with_data(
        gzip_bomb(2), content_type="text/html", headers=[("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")]
    )
    with pytest.raises(ContentEncodingError, match="2 times over"):
        await fetch_url(httpserver.url_for("/enc"), allow_private=True)


async def test_compression_ratio_is_capped(httpserver: HTTPServer, inflated: list[int]) -> None:
    """should refuse a 1000:1 body as a bomb once past 1 MB, even when the size limit is far higher."""
    url = serve_encoded(httpserver, gzip_bomb(1), "gzip")
    with pytest.raises(TooLargeError, match=f"more than {MAX_COMPRESSION_RATIO}:1"):
        await fetch_url(url, allow_private=True, max_bytes=50_000_000)
    assert sum(inflated) <= 1_000_000 + DECODE_STEP


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        pytest.param("gzip", gzip.compress, id="gzip"),
        pytest.param("x-gzip", gzip.compress, id="x-gzip"),
        pytest.param("deflate", zlib.compress, id="deflate"),
        pytest.param("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS), id="raw-deflate"),
        pytest.param("identity", lambda b: b, id="identity"),
    ],
)
async def test_compressed_page_is_decoded(
    httpserver: HTTPServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    """should decode a legitimately compressed page, 600 kB of HTML in many network chunks, in full."""
    html = ARTICLE * 5000
    page = await fetch_url(serve_encoded(httpserver, compress(html), encoding), allow_private=True)
    assert page.body == html
    request, _ = httpserver.log[0]
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        pytest.param("br", b"\x1b\x00", "not supported", id="unknown"),
        pytest.param("gzip", b"\x1f\x8b\x08\x00garbage" * 10, "damaged", id="damaged"),
    ],
)
async def test_bad_encodings_are_refused_clearly(
    httpserver: HTTPServer, encoding: str, body: bytes, message: str
) -> None:
    """should refuse an unsupported or corrupt compression with its own message, not a connection error."""
    with pytest.raises(ContentEncodingError, match=message):
        await fetch_url(serve_encoded(httpserver, body, encoding), allow_private=True)


@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1"])
async def test_out_of_range_port_is_refused(port: str) -> None:
    """should refuse a port outside 1-65535 with a clear message (99999 raised OverflowError in an ExceptionGroup)."""
    url = f"http://news.example.com:{port}/story"
    with pytest.raises(InvalidURLError, match="port"):
        validate_url(url)
    with pytest.raises(InvalidURLError, match="port"):
        await fetch_url(url, resolver=static_resolver({"news.example.com": [PUBLIC_IP]}))


def test_highest_port_is_accepted() -> None:
    """should keep ports 1 and 65535."""
    assert validate_url("http://news.example.com:65535/").port == 65535
    assert validate_url("http://news.example.com:1/").port == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("http://example.com/a", True, id="http"),
        pytest.param("HTTP://example.com/a", True, id="upper"),
        pytest.param("HttpS://example.com/a", True, id="mixed"),
        pytest.param("ftp://example.com/a", False, id="ftp"),
        pytest.param("articles/http://x", False, id="path-containing-url"),
        pytest.param("news/2024.jsonl", False, id="path"),
        pytest.param("C:\\news\\a.txt", False, id="windows-path"),
    ],
)
def test_is_web_url_ignores_scheme_case(text: str, expected: bool) -> None:
    """should tell links from paths, whatever the case of the scheme."""
    assert is_web_url(text) is expected


async def test_uppercase_scheme_is_fetched(article_url: str) -> None:
    """should fetch HTTP:// links like http:// ones."""
    page = await fetch_url(article_url.replace("http://", "HTTP://"), allow_private=True)
    assert page.body == ARTICLE
