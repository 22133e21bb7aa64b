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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.etree
import lxml.html
from lxml.etree import ParserError

from index.dates import parse_published, plausible_published
from index.errors import FeedError

log = logging.getLogger(__name__)

__all__ = ["FeedEntry", "ParsedFeed", "canonical_url", "newest", "parse_feed"]

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
# Date elements of an entry by local name, publication before update (as feedparser prefers them).
_DATE_TAGS = ("pubDate", "published", "issued", "date", "created", "updated", "modified")
# No DTDs, no entity expansion, no network: the document is untrusted.
_XML_OPTIONS: dict[str, bool] = {"resolve_entities": False, "no_network": True, "load_dtd": False}


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
    """A parsed feed: its title, the entries read (in feed order), and how many were left out by the cap.

    Attributes:
        title: the feed's plain-text title.
        entries: the entries read, in feed order.
        beyond_cap: entries the document lists beyond ``max_entries`` (the oldest), not read.
    """

    title: str
    entries: list[FeedEntry]
    beyond_cap: int = 0


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
    """The entry's publication (else update) time, or ``None`` when absent or implausible (year 10000)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # The plain dict lookup: FeedParserDict maps a missing updated_parsed to published_parsed, with a warning.
        parsed = dict.get(entry, key)
        if not isinstance(parsed, time.struct_time):
            continue
        try:
            # feedparser normalises every date to a UTC struct_time; timegm reads it as UTC.
            value = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
        except (OverflowError, OSError, ValueError):
            value = None
        if (plausible := plausible_published(value)) is not None:
            return plausible
    return None


def newest(dates: Sequence[datetime | None], keep: int) -> list[int]:
    """Indices (ascending) of the ``keep`` newest of ``dates``: latest first, undated after dated in feed order.

    Feeds usually list newest first but need not, so the cap goes by date where there is one;
    ties and undated entries keep their feed order.
    """
    if len(dates) <= keep:
        return list(range(len(dates)))
    oldest = datetime.min.replace(tzinfo=UTC)
    by_age = sorted(range(len(dates)), key=lambda i: dates[i] or oldest, reverse=True)  # stable, even reversed
    return sorted(by_age[:keep])


def _local_name(element: Any) -> str:
    tag = element.tag
    return lxml.etree.QName(tag).localname if isinstance(tag, str) else ""


def _raw_date(entry: Any) -> datetime | None:
    texts = {_local_name(child): child.text for child in entry}
    for name in _DATE_TAGS:
        if texts.get(name):
            return parse_published(texts[name])
    return None


def _trim(body: bytes, keep: int) -> tuple[bytes, int] | None:
    """The document with only its ``keep`` newest entries, and how many it lost.

    ``feedparser`` spends about 0.1 ms per entry, so a 65,000-entry feed took seconds to
    parse; lxml finds the entries of well-formed XML a hundred times faster. ``None`` when
    lxml cannot read the document strictly (feedparser then reads it all, leniently) or when
    it has no more than ``keep`` entries.
    """
    try:
        root = lxml.etree.fromstring(body, parser=lxml.etree.XMLParser(**_XML_OPTIONS))
    except (lxml.etree.XMLSyntaxError, ValueError):
        return None
    # Atom and RSS 1.0 entries are children of the root; RSS 0.9x/2.0 items are in <channel>.
    entries = [el for parent in (root, *root) for el in parent if _local_name(el) in ("item", "entry")]
    if len(entries) <= keep:
        return None
    kept = set(newest([_raw_date(entry) for entry in entries], keep))
    for index, entry in enumerate(entries):
        if index not in kept:
            entry.getparent().remove(entry)
    return lxml.etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"), len(entries) - keep


def parse_feed(body: bytes, *, base_url: str, max_entries: int | None = None) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom document.

    feedparser is lenient: it recovers entries from slightly broken XML (setting ``bozo``),
    which we accept, since real feeds are often sloppy. A document that yields no feed
    version and no entries (an HTML page, garbage, truncated XML) is refused.

    Args:
        body: the raw feed bytes, as fetched; feedparser detects the encoding.
        base_url: the feed's URL, used to resolve relative entry links.
        max_entries: read only the newest this many entries (see ``newest``); ``None`` reads all.

    Returns:
        The feed title and its entries. Entries with neither an id nor a link are skipped.

    Raises:
        FeedError: the document is not a feed or too malformed to read.
    """
    if not body.strip():
        raise FeedError("the feed is empty")
    if max_entries is not None and max_entries < 0:
        raise ValueError("max_entries must be >= 0")
    cut = None
    if max_entries is not None and body.count(b"<item") + body.count(b"<entry") > max_entries:
        cut = _trim(body, max_entries)  # a cheap count first: most feeds are far under the cap
    body, trimmed = cut or (body, 0)
    # A stream, not bytes: feedparser tries to open() bytes as a file name first, so a body of
    # b"/etc/passwd" would read a local file. No response_headers either: without a content type
    # feedparser flags every feed as bozo; relative links are resolved against base_url below.
    parsed = feedparser.parse(io.BytesIO(body))
    version = parsed.get("version", "")
    bozo = bool(parsed.get("bozo"))
    if bozo:
        log.debug("lenient parse of %s: %r", base_url, parsed.get("bozo_exception"))
    found: list[tuple[Any, str, str, datetime | None]] = []
    for raw in parsed.get("entries", []):
        link = str(raw.get("link") or "").strip()
        if link:
            link = urljoin(base_url, link)
        entry_id = str(raw.get("id") or "").strip() or link
        if not entry_id:
            log.debug("skipping feed entry without id or link in %s", base_url)
            continue
        found.append((raw, entry_id, link, _entry_time(raw)))
    if not found and (bozo or not version):
        # Broken XML with nothing recoverable, or a document feedparser did not recognise (HTML, binary).
        log.info("not a feed at %s: version=%r bozo=%r", base_url, version, parsed.get("bozo_exception"))
        raise FeedError("this doesn't look like an RSS or Atom feed")
    kept = newest([published for *_, published in found], len(found) if max_entries is None else max_entries)
    entries = [
        FeedEntry(
            id=entry_id,
            link=link,
            title=_plain(str(raw.get("title") or "")),
            published=published,
            summary=_plain(str(raw.get("summary") or "")),
        )
        for raw, entry_id, link, published in (found[i] for i in kept)
    ]
    beyond_cap = trimmed + len(found) - len(kept)
    if beyond_cap:
        log.info("feed %s: reading its newest %d entries, %d older ones left out", base_url, len(entries), beyond_cap)
    title = _plain(str(parsed.get("feed", {}).get("title") or ""))
    return ParsedFeed(title=title, entries=entries, beyond_cap=beyond_cap)


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
