"""Safe fetching of user-supplied URLs (web pages and feeds) with httpx.

Any Discord user can hand the bot a link, so fetching is an SSRF surface: a link (or a
redirect, or a DNS answer) pointing at 127.0.0.1, the LAN or the cloud metadata service
at 169.254.169.254 must never be requested. The defences, in order:

1. ``validate_url``: only absolute ``http``/``https`` URLs without credentials, with a
   port from 1 to 65535.
2. ``check_host``: the host is resolved and *every* address must be public (not
   loopback, private, link-local, site-local, multicast, reserved, unspecified, shared
   CGNAT, or an IPv6 form embedding such an IPv4 address); an IP literal is checked as is.
3. Redirects are followed by hand, each hop re-validated, with loop detection.
4. DNS rebinding: clients made by ``make_client`` (the default) resolve and validate the
   host again *inside the connection*, and connect to exactly the validated address
   while keeping the host name for the Host header, SNI and certificate checks. A name
   that answers "public" to the first lookup and "127.0.0.1" to the next is refused.
   A caller-supplied client without this transport only gets steps 1-3 (a small
   time-of-check/time-of-use window); pass ``make_client(...)`` to close it.
5. Bodies are streamed raw and inflated here, in bounded steps (``_Inflater``): raw and
   decoded sizes are both cut at ``max_bytes``, a compression ratio over
   ``MAX_COMPRESSION_RATIO`` is refused, and so are stacked or unknown content codings, so a
   gzip bomb never inflates more than one step past the limit. Only HTML and feed content
   types are read; the whole fetch has one deadline.

Environment proxies are ignored (``trust_env=False``): through a proxy the connection
guard would vet the proxy's address, not the target's.

Everything is ``async`` because the bot's event loop must not block on the network;
``fetch_url_sync`` runs the same code with ``asyncio.run`` for the CLI.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import httpcore
import httpx

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

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_ACCEPT",
    "FEED_TYPES",
    "HTML_TYPES",
    "MAX_COMPRESSION_RATIO",
    "FetchedPage",
    "Resolver",
    "check_host",
    "fetch_url",
    "fetch_url_sync",
    "is_public_address",
    "is_web_url",
    "make_client",
    "system_resolver",
    "validate_url",
]

HTML_TYPES: tuple[str, ...] = ("text/html", "application/xhtml+xml")
FEED_TYPES: tuple[str, ...] = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
)
DEFAULT_ACCEPT: tuple[str, ...] = HTML_TYPES + FEED_TYPES
USER_AGENT = "newsdesk/0.1 (news Q&A bot; +https://github.com/newsdesk)"
MAX_URL_LENGTH = 4096
WEB_SCHEMES: tuple[str, ...] = ("http", "https")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Content codings decoded here, by zlib ``wbits``; brotli and zstd are not asked for (see ``ACCEPT_ENCODING``).
_CODINGS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
ACCEPT_ENCODING = "gzip, deflate"
MAX_COMPRESSION_RATIO = 100
"""Decoded/raw size ratio refused as a decompression bomb (HTML and feeds gzip about 3-20:1, zeros 1000:1)."""
_RATIO_FLOOR = 1_000_000  # decoded bytes before the ratio is checked: a small page of repeated markup may pass it
_DECODE_STEP = 65_536  # the most output zlib produces before the size and ratio checks run again

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``async (host, port) -> addresses``; raise ``HostNotFoundError`` when the name does not resolve."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A fetched response.

    Attributes:
        url: the final URL, after redirects.
        status: HTTP status of the final response (200, or 304 when not modified).
        content_type: media type without parameters, lower-cased (``""`` if the server sent none).
        body: the decoded (decompressed) body; empty when ``not_modified``.
        etag: the ``ETag`` header, to send back as ``etag=`` on the next poll.
        last_modified: the ``Last-Modified`` header, to send back as ``last_modified=``.
        not_modified: the server answered 304 to a conditional request: keep the old copy.
        charset: the ``charset`` parameter of the content type, if any.
    """

    url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    charset: str | None = None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the OS resolver (in the event loop's thread pool).

    Raises:
        HostNotFoundError: the name does not resolve.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        log.info("DNS lookup failed for %s: %s", host, exc)
        raise HostNotFoundError(f"I couldn't find the site {host}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _blocked_reason(ip: str) -> str | None:
    """Why ``ip`` must not be contacted, or ``None`` if it is a public unicast address."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 scope id ("fe80::1%eth0")
    except ValueError:
        return "invalid"
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [addr]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        # ::ffff:a.b.c.d is just a.b.c.d on a dual-stack socket; the ::ffff:0:0/96 block itself counts as private.
        candidates = [addr.ipv4_mapped]
    elif isinstance(addr, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address reach that address through a gateway or the host stack.
        embedded = [addr.sixtofour, *(addr.teredo or ())]
        if addr in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        candidates.extend(e for e in embedded if e is not None)
    for candidate in candidates:
        checks = (
            (candidate.is_loopback, "loopback"),
            (candidate.is_link_local, "link-local"),
            (candidate.is_multicast, "multicast"),
            (candidate.is_unspecified, "unspecified"),
            (candidate.is_reserved, "reserved"),
            # fec0::/10, deprecated (RFC 3879) but still routed inside some networks; Python counts it as global.
            (isinstance(candidate, ipaddress.IPv6Address) and candidate.is_site_local, "site-local"),
            (candidate.is_private, "private"),
            (not candidate.is_global, "non-public"),  # e.g. 100.64.0.0/10 carrier-grade NAT
        )
        for blocked, reason in checks:
            if blocked:
                return reason
    return None


def is_public_address(ip: str) -> bool:
    """Whether ``ip`` is a global unicast address that user-supplied URLs may reach.

    Refuses loopback, private, link-local (incl. 169.254.169.254 metadata), site-local,
    multicast, reserved, unspecified and CGNAT ranges, and IPv6 addresses embedding such
    an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64).
    """
    return _blocked_reason(ip) is None


def is_web_url(text: str) -> bool:
    """Whether ``text`` is meant as an http(s) link rather than a file path.

    The one test every caller uses to tell links from paths; schemes are case-insensitive
    (RFC 3986), so ``HTTP://...`` is a link too. It says nothing about the link being valid:
    ``validate_url`` does.
    """
    scheme, separator, _ = text.strip().partition("://")
    return bool(separator) and scheme.lower() in WEB_SCHEMES


def validate_url(url: str) -> httpx.URL:
    """Parse a user-supplied URL and refuse anything but a plain absolute http(s) URL.

    Raises:
        InvalidURLError: with a message that tells the user what a valid link looks like.
    """
    text = url.strip()
    if not text:
        raise InvalidURLError("that's empty; send a link starting with http:// or https://")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURLError("that link is too long")
    if "://" not in text:
        raise InvalidURLError("that isn't a full link; it should start with http:// or https://")
    if not is_web_url(text):
        raise InvalidURLError("only http:// and https:// links can be fetched")
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InvalidURLError("that doesn't look like a valid link") from None
    if not parsed.host:
        raise InvalidURLError("that link has no site name")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InvalidURLError("that link's port is not a number from 1 to 65535")
    if parsed.userinfo:
        raise InvalidURLError("links containing a user name or password are not fetched")
    return parsed


def _host_of(url: httpx.URL) -> str:
    # raw_host is the IDNA (ASCII) form, the one DNS and httpcore use.
    return url.raw_host.decode("ascii")


def _port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


async def check_host(host: str, port: int, *, resolver: Resolver, allow_private: bool) -> list[str]:
    """Resolve ``host`` and refuse it unless every address is public.

    Every address must pass, not just one: the connection may use any of them.

    Args:
        host: host name or IP literal (IPv6 without brackets).
        port: the port, passed to the resolver.
        resolver: how to resolve names; IP literals are not resolved.
        allow_private: skip the address checks (for tests and trusted local sources).

    Returns:
        The addresses, in resolver order.

    Raises:
        HostNotFoundError: the name does not resolve.
        UnsafeURLError: an address is not public.
    """
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses: list[str] = [host]
    except ValueError:
        addresses = list(await resolver(host, port))
    if not addresses:
        raise HostNotFoundError(f"I couldn't find the site {host}")
    if allow_private:
        return addresses
    for address in addresses:
        reason = _blocked_reason(address)
        if reason is not None:
            # The address goes to the log only: telling users what internal names resolve to leaks the network.
            log.warning("refused %s: %s resolves to %s address %s", host, host, reason, address)
            raise UnsafeURLError(f"I can't fetch {host}: it points to a private or reserved network address")
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Network backend that vets the host at connect time and connects to the vetted address.

    httpcore hands ``connect_tcp`` the URL's host name; TLS (SNI and certificate checks)
    and the Host header still use that name, so only the TCP destination is pinned.
    """

    def __init__(self, *, resolver: Resolver, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(
                check_host(host, port, resolver=self._resolver, allow_private=self._allow_private), timeout
            )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        last_error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc  # try the next address, as happy-eyeballs clients do
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """``AsyncHTTPTransport`` whose connection pool uses ``_GuardedBackend``.

    httpx has no public hook for the network backend, so the pool built by the parent is
    replaced. ``tests/index/test_fetch.py`` checks that the guard is really in the path,
    so an httpx upgrade that renames ``_pool`` fails loudly instead of silently.
    """

    def __init__(self, *, resolver: Resolver, allow_private: bool, verify: bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(resolver=resolver, allow_private=allow_private),
        )


def make_client(
    *,
    allow_private: bool = False,
    resolver: Resolver | None = None,
    timeout: float = 10.0,
    user_agent: str = USER_AGENT,
) -> httpx.AsyncClient:
    """Create an ``AsyncClient`` with the connect-time SSRF guard, for reuse across fetches.

    The bot makes one in ``main()`` and passes it to every ``fetch_url`` call. Its
    ``allow_private`` is what the connection guard enforces, whatever a call passes.

    Args:
        allow_private: allow loopback and private addresses (tests, trusted intranets).
        resolver: name resolver; ``system_resolver`` by default.
        timeout: per-operation timeout (connect, read, write, pool) in seconds.
        user_agent: the ``User-Agent`` header.

    Returns:
        A client that never follows redirects by itself and ignores proxy settings.
    """
    return httpx.AsyncClient(
        transport=_GuardedTransport(resolver=resolver or system_resolver, allow_private=allow_private),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent},
    )


def _status_message(status: int) -> str:
    if status == 404 or status == 410:
        return f"the page was not found ({status})"
    if status in (401, 403):
        return f"the site refused access ({status}); it may need a login"
    if status == 429:
        return "the site is limiting requests (429); try again later"
    if status >= 500:
        return f"the site had an error ({status}); try again later"
    return f"the site refused the request ({status})"


def _describe_type(media_type: str) -> str:
    major = media_type.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return f"{'an' if major == 'image' else 'a'} {major} file"
    if media_type == "application/pdf":
        return "a PDF"
    return f"a {media_type} file"


def _human_size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"


def _too_large(max_bytes: int) -> TooLargeError:
    return TooLargeError(f"the page is larger than {_human_size(max_bytes)}")


class _Inflater:
    """Decodes one gzip or deflate content coding in bounded steps.

    httpx inflates each network chunk in one call, so 64 kB of a gzip bomb becomes 64 MB
    before any limit can look at it. zlib's ``max_length`` caps every step here at
    ``_DECODE_STEP`` bytes of output, leaving the rest of the input for the next step, so
    the caller can count and stop in time.
    """

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._zlib = zlib.decompressobj(_CODINGS[coding])
        self._fed = 0
        self._started = False

    @property
    def consumed(self) -> int:
        """Input bytes inflated so far: the ratio's denominator, exact at every step."""
        return self._fed - len(self._zlib.unconsumed_tail)

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the output of ``data`` one step at a time; stop iterating to stop inflating."""
        self._fed += len(data)
        while True:
            out = self._step(data)
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < _DECODE_STEP:
                return  # all input consumed and no output pending

    def _step(self, data: bytes) -> bytes:
        first, self._started = not self._started, True
        try:
            return self._zlib.decompress(data, _DECODE_STEP)
        except zlib.error:
            if not (first and self._coding == "deflate"):
                raise ContentEncodingError("the site sent a damaged compressed page") from None
        # Some servers send raw deflate without the zlib header; httpx accepts it the same way.
        self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._step(data)


def _inflater_for(headers: httpx.Headers) -> _Inflater | None:
    """The decoder for the response's ``Content-Encoding``; ``None`` when the body is not encoded.

    Raises:
        ContentEncodingError: several codings (``gzip, gzip`` multiplies a bomb's ratio) or an unknown one.
    """
    codings = [c.strip().lower() for c in headers.get_list("content-encoding", split_commas=True)]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        # The header's text is the server's; it is counted, not echoed.
        raise ContentEncodingError(f"the site compressed the page {len(codings)} times over; that is refused")
    if codings[0] not in _CODINGS:
        raise ContentEncodingError("the site compressed the page in a format that is not supported")
    return _Inflater(codings[0])


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """Read the body raw and decode it here, refusing it once either size or the ratio passes its limit."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    inflater = _inflater_for(response.headers)
    parts: list[bytes] = []
    raw = decoded = 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        if raw > max_bytes:
            raise _too_large(max_bytes)
        if inflater is None:
            parts.append(chunk)
            continue
        for piece in inflater.decode(chunk):
            decoded += len(piece)
            if decoded > max_bytes:
                raise _too_large(max_bytes)
            if decoded > _RATIO_FLOOR and decoded > inflater.consumed * MAX_COMPRESSION_RATIO:
                raise TooLargeError(
                    f"the page is compressed more than {MAX_COMPRESSION_RATIO}:1, like a decompression bomb; "
                    "it is refused"
                )
            parts.append(piece)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class _Options:
    resolver: Resolver
    allow_private: bool
    max_bytes: int
    max_redirects: int
    accept: tuple[str, ...]
    headers: dict[str, str]


async def _fetch(client: httpx.AsyncClient, start: httpx.URL, opts: _Options) -> FetchedPage:
    """Follow redirects by hand from ``start``, vetting every hop, and read the final body."""
    current = start
    seen = {str(current)}
    redirects = 0
    while True:
        host = _host_of(current)
        await check_host(host, _port_of(current), resolver=opts.resolver, allow_private=opts.allow_private)
        try:
            async with client.stream("GET", current, headers=opts.headers, follow_redirects=False) as response:
                status = response.status_code
                if status in _REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise RedirectError("the site sent a redirect without a target")
                    try:
                        target = validate_url(str(current.join(location)))
                    except InvalidURLError:
                        raise RedirectError("the site redirected to an invalid or unsupported link") from None
                    if str(target) in seen:
                        raise RedirectError("the link redirects in a loop")
                    redirects += 1
                    if redirects > opts.max_redirects:
                        raise RedirectError(f"the link redirects more than {opts.max_redirects} times")
                    log.debug("redirect %d: %s -> %s", redirects, current, target)
                    seen.add(str(target))
                    current = target
                    continue
                etag = response.headers.get("etag")
                last_modified = response.headers.get("last-modified")
                if status == 304:
                    return FetchedPage(str(current), status, "", b"", etag, last_modified, not_modified=True)
                if status >= 400:
                    raise HTTPStatusError(_status_message(status), status=status)
                raw_type = response.headers.get("content-type", "")
                media_type = raw_type.split(";", 1)[0].strip().lower()
                if media_type and media_type not in opts.accept:
                    raise ContentTypeError(
                        f"that link is {_describe_type(media_type)}, not a web page or feed", content_type=media_type
                    )
                body = await _read_limited(response, opts.max_bytes)
                return FetchedPage(
                    url=str(current),
                    status=status,
                    content_type=media_type,
                    body=body,
                    etag=etag,
                    last_modified=last_modified,
                    charset=response.charset_encoding,
                )
        except httpx.TimeoutException:
            raise FetchTimeoutError(f"{host} took too long to respond") from None
        except httpx.HTTPError as exc:
            log.info("fetch of %s failed: %r", current, exc)
            raise FetchError(f"I couldn't connect to {host}") from None


async def fetch_url(
    url: str,
    *,
    client: httpx.AsyncClient | None = None,
    allow_private: bool = False,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    max_redirects: int = 5,
    accept: tuple[str, ...] = DEFAULT_ACCEPT,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    resolver: Resolver | None = None,
) -> FetchedPage:
    """Fetch a user-supplied URL safely (see the module docstring for the guards).

    Args:
        url: the link as the user gave it.
        client: a client to reuse, ideally from ``make_client``; a fresh guarded client
            is made and closed when ``None``.
        allow_private: allow loopback/private/link-local addresses (tests, trusted sources).
        timeout: deadline in seconds for the whole fetch, redirects and body included.
        max_bytes: largest body accepted, both as sent and after decompression.
        max_redirects: redirects followed before giving up.
        accept: media types accepted; also sent as the ``Accept`` header. A response with
            no ``Content-Type`` is accepted and left to the parser.
        headers: extra request headers (they override the defaults).
        etag: ``ETag`` from the previous fetch, sent as ``If-None-Match``.
        last_modified: ``Last-Modified`` from the previous fetch, sent as ``If-Modified-Since``.
        resolver: name resolver, for tests; ``system_resolver`` by default.

    Returns:
        The final response; ``not_modified`` is set (and the body empty) on 304.

    Raises:
        InvalidURLError: not an absolute http(s) URL.
        UnsafeURLError: the URL, a redirect or a DNS answer points at a non-public address.
        HostNotFoundError: the host does not resolve.
        RedirectError: redirect loop or more than ``max_redirects`` redirects.
        HTTPStatusError: 4xx/5xx status.
        ContentTypeError: not one of ``accept`` (an image, a PDF, ...).
        TooLargeError: the body is over ``max_bytes`` or compressed like a bomb.
        ContentEncodingError: the body is compressed several times over, in an unknown format, or damaged.
        FetchTimeoutError: the deadline passed.
        FetchError: any other network failure (refused connection, TLS error, ...).
    """
    start = validate_url(url)
    resolve = resolver or system_resolver
    request_headers = {"User-Agent": USER_AGENT, "Accept": ", ".join(accept), "Accept-Encoding": ACCEPT_ENCODING}
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    request_headers.update(headers or {})
    opts = _Options(resolve, allow_private, max_bytes, max_redirects, accept, request_headers)
    try:
        async with asyncio.timeout(timeout):
            if client is not None:
                return await _fetch(client, start, opts)
            async with make_client(allow_private=allow_private, resolver=resolve, timeout=timeout) as own:
                return await _fetch(own, start, opts)
    except TimeoutError:
        raise FetchTimeoutError(f"{_host_of(start)} took too long to respond") from None


def fetch_url_sync(
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    max_redirects: int = 5,
    accept: tuple[str, ...] = DEFAULT_ACCEPT,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    resolver: Resolver | None = None,
) -> FetchedPage:
    """Blocking ``fetch_url`` for the CLI and worker threads; same arguments and errors.

    Runs its own event loop, so it cannot be called from a coroutine (use ``fetch_url``
    there, or ``asyncio.to_thread(fetch_url_sync, ...)``).
    """
    return asyncio.run(
        fetch_url(
            url,
            allow_private=allow_private,
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            accept=accept,
            headers=headers,
            etag=etag,
            last_modified=last_modified,
            resolver=resolver,
        )
    )
