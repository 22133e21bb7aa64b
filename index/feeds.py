"""RSS/Atom feed parsing and URL canonicalisation for feed polling.

Parsing is pure (bytes in, records out): fetching goes through ``index.fetch`` and the
feed state (ETag, seen entry ids) lives in the caller's SQLite store. ``canonical_url``
gives the key under which an entry's link is deduplicated, so the same story linked
with different tracking parameters is fetched once.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.html
from lxml.etree import ParserError

from index.errors import FeedError

log = logging.getLogger(__name__)

__all__ = ["FeedEntry", "ParsedFeed", "canonical_url", "parse_feed"]

_WS_RE = re.compile(r"\s+")
# Query parameters that only identify the campaign or the click, never the page.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
        "ref", "ref_src", "ref_url", "referrer", "_hsenc", "_hsmi", "mkt_tok", "ocid", "cmpid", "smid",
        "ncid", "sr_share", "at_medium", "at_campaign", "wt.mc_id", "__twitter_impression", "s_cid",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_custom")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed.

    Attributes:
        id: the entry's guid/id, or its link when the feed gives none; stable across polls.
        link: absolute article URL (resolved against the feed URL), or ``""`` if absent.
        title: plain-text title.
        published: publication (or else update) time in UTC, or ``None``.
        summary: plain-text summary with HTML removed, possibly ``""``.
    """

    id: str
    link: str
    title: str
    published: datetime | None
    summary: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: its title and entries in feed order."""

    title: str
    entries: list[FeedEntry]


def _plain(html_or_text: str) -> str:
    """Strip HTML tags and collapse whitespace; feedparser hands back sanitised HTML for summaries."""
    if "<" not in html_or_text:
        return _WS_RE.sub(" ", html_or_text).strip()
    try:
        text = lxml.html.fragment_fromstring(html_or_text, create_parent="div").text_content()
    except (ParserError, ValueError):
        text = re.sub(r"<[^>]+>", " ", html_or_text)
    return _WS_RE.sub(" ", text).strip()


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            # feedparser normalises every date to a UTC struct_time; timegm reads it as UTC.
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def parse_feed(body: bytes, *, base_url: str) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom document.

    feedparser is lenient: it recovers entries from slightly broken XML (setting ``bozo``),
    which we accept, since real feeds are often sloppy. A document that yields no feed
    version and no entries (an HTML page, garbage, truncated XML) is refused.

    Args:
        body: the raw feed bytes, as fetched; feedparser detects the encoding.
        base_url: the feed's URL, used to resolve relative entry links.

    Returns:
        The feed title and its entries. Entries with neither an id nor a link are skipped.

    Raises:
        FeedError: the document is not a feed or too malformed to read.
    """
    if not body.strip():
        raise FeedError("the feed is empty")
    # A stream, not bytes: feedparser tries to open() bytes as a file name first, so a body of
    # b"/etc/passwd" would read a local file. No response_headers either: without a content type
    # feedparser flags every feed as bozo; relative links are resolved against base_url below.
    parsed = feedparser.parse(io.BytesIO(body))
    version = parsed.get("version", "")
    bozo = bool(parsed.get("bozo"))
    if bozo:
        log.debug("lenient parse of %s: %r", base_url, parsed.get("bozo_exception"))
    entries: list[FeedEntry] = []
    for raw in parsed.get("entries", []):
        link = str(raw.get("link") or "").strip()
        if link:
            link = urljoin(base_url, link)
        entry_id = str(raw.get("id") or "").strip() or link
        if not entry_id:
            log.debug("skipping feed entry without id or link in %s", base_url)
            continue
        entries.append(
            FeedEntry(
                id=entry_id,
                link=link,
                title=_plain(str(raw.get("title") or "")),
                published=_entry_time(raw),
                summary=_plain(str(raw.get("summary") or "")),
            )
        )
    if not entries and (bozo or not version):
        # Broken XML with nothing recoverable, or a document feedparser did not recognise (HTML, binary).
        log.info("not a feed at %s: version=%r bozo=%r", base_url, version, parsed.get("bozo_exception"))
        raise FeedError("this doesn't look like an RSS or Atom feed")
    title = _plain(str(parsed.get("feed", {}).get("title") or ""))
    return ParsedFeed(title=title, entries=entries)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Normalise a URL for deduplication: same article, same string.

    Lower-cases the scheme and host, drops default ports, the fragment and tracking
    parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_cid``, ``ref``, ...), and gives an
    empty path as ``/``. Other query parameters keep their order, since some sites use them
    to select the article (``?id=123``). The path's case and ``www.`` are kept: both can
    name a different page on some servers.

    Args:
        url: an absolute http(s) URL; anything else is returned stripped but unchanged.

    Returns:
        The canonical form.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    # Filter raw "k=v" segments rather than re-encoding, so kept parameters stay byte-identical.
    kept = [seg for seg in parts.query.split("&") if seg and not _is_tracking(unquote_plus(seg.split("=", 1)[0]))]
    query = "&".join(kept)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))
