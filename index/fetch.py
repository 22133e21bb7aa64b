"""Safe fetching of user-supplied URLs (web pages and feeds) with httpx.

Any Discord user can hand the bot a link, so fetching is an SSRF surface: a link (or a
redirect, or a DNS answer) pointing at 127.0.0.1, the LAN or the cloud metadata service
at 169.254.169.254 must never be requested. The defences, in order:

1. ``validate_url``: only absolute ``http``/``https`` URLs without credentials.
2. ``check_host``: the host is resolved and *every* address must be public (not
   loopback, private, link-local, multicast, reserved, unspecified, shared CGNAT, or an
   IPv6 form embedding such an IPv4 address); an IP literal is checked as is.
3. Redirects are followed by hand, each hop re-validated, with loop detection.
4. DNS rebinding: clients made by ``make_client`` (the default) resolve and validate the
   host again *inside the connection*, and connect to exactly the validated address
   while keeping the host name for the Host header, SNI and certificate checks. A name
   that answers "public" to the first lookup and "127.0.0.1" to the next is refused.
   A caller-supplied client without this transport only gets steps 1-3 (a small
   time-of-check/time-of-use window); pass ``make_client(...)`` to close it.
5. Bodies are streamed and cut at ``max_bytes`` (after decompression, so gzip bombs stop
   too); only HTML and feed content types are read; the whole fetch has one deadline.

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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpcore
import httpx

from index.errors import (
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
    "FetchedPage",
    "Resolver",
    "check_host",
    "fetch_url",
    "fetch_url_sync",
    "is_public_address",
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
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

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
            (candidate.is_private, "private"),
            (not candidate.is_global, "non-public"),  # e.g. 100.64.0.0/10 carrier-grade NAT
        )
        for blocked, reason in checks:
            if blocked:
                return reason
    return None


def is_public_address(ip: str) -> bool:
    """Whether ``ip`` is a global unicast address that user-supplied URLs may reach.

    Refuses loopback, private, link-local (incl. 169.254.169.254 metadata), multicast,
    reserved, unspecified and CGNAT ranges, and IPv6 addresses embedding such an IPv4
    address (IPv4-mapped, 6to4, Teredo, NAT64).
    """
    return _blocked_reason(ip) is None


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
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InvalidURLError("that doesn't look like a valid link") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidURLError("only http:// and https:// links can be fetched")
    if not parsed.host:
        raise InvalidURLError("that link has no site name")
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


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"the page is larger than {_human_size(max_bytes)}")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise TooLargeError(f"the page is larger than {_human_size(max_bytes)}")
        chunks.append(chunk)
    return b"".join(chunks)


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
        max_bytes: largest body accepted, after decompression.
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
        TooLargeError: the body is over ``max_bytes``.
        FetchTimeoutError: the deadline passed.
        FetchError: any other network failure (refused connection, TLS error, ...).
    """
    start = validate_url(url)
    resolve = resolver or system_resolver
    request_headers = {"User-Agent": USER_AGENT, "Accept": ", ".join(accept)}
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
