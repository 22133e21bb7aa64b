"""Tests for index.feeds: RSS/Atom parsing and URL canonicalisation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.errors import FeedError
from index.feeds import canonical_url, parse_feed

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>The Daily Example - Top stories</title>
    <link>https://news.example.com/</link>
    <description>Top stories</description>
    <item>
      <title>City council approves new tram line</title>
      <link>/2024/03/12/tram-line?utm_source=rss&amp;utm_medium=feed</link>
      <guid isPermaLink="false">tram-2024-0312</guid>
      <pubDate>Tue, 12 Mar 2024 09:30:00 +0100</pubDate>
      <description>&lt;p&gt;The council voted &lt;b&gt;31 to 18&lt;/b&gt; on Tuesday.&lt;/p&gt;</description>
    </item>
    <item>
      <title>Bus fares to rise in April</title>
      <link>https://news.example.com/2024/03/11/bus-fares</link>
      <description>Fares rise by 5%.</description>
    </item>
  </channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example Wire</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2024-03-12T18:30:02Z</updated>
  <entry>
    <title type="html">Storm &lt;em&gt;hits&lt;/em&gt; coast</title>
    <link href="https://wire.example.org/storm-hits-coast"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2024-03-12T18:30:02Z</updated>
    <summary>Thousands without power after the storm.</summary>
  </entry>
</feed>
"""


def test_rss_entries_parse() -> None:
    """should read RSS items with guid, absolute link, UTC date and plain-text summary."""
    feed = parse_feed(RSS, base_url="https://news.example.com/rss.xml")
    assert feed.title == "The Daily Example - Top stories"
    first, second = feed.entries
    assert first.id == "tram-2024-0312"
    assert first.link == "https://news.example.com/2024/03/12/tram-line?utm_source=rss&utm_medium=feed"
    assert first.title == "City council approves new tram line"
    assert first.published == datetime(2024, 3, 12, 8, 30, tzinfo=UTC)
    assert first.summary == "The council voted 31 to 18 on Tuesday."
    assert second.id == "https://news.example.com/2024/03/11/bus-fares"
    assert second.published is None


def test_atom_entries_parse() -> None:
    """should read Atom entries, using updated when there is no published date."""
    feed = parse_feed(ATOM, base_url="https://wire.example.org/atom")
    assert feed.title == "Example Wire"
    (entry,) = feed.entries
    assert entry.id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.link == "https://wire.example.org/storm-hits-coast"
    assert entry.title == "Storm hits coast"
    assert entry.published == datetime(2024, 3, 12, 18, 30, 2, tzinfo=UTC)
    assert entry.summary == "Thousands without power after the storm."


def test_empty_but_valid_feed_has_no_entries() -> None:
    """should accept a well-formed feed that has no items yet."""
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert parse_feed(body, base_url="https://example.com/feed").entries == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html><body><h1>Welcome</h1><p>Not a feed.</p></body></html>", id="html-page"),
        pytest.param(b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Bro', id="truncated"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="binary"),
        pytest.param(b"   ", id="empty"),
    ],
)
def test_malformed_feed_raises(body: bytes) -> None:
    """should raise FeedError for documents that are not readable feeds."""
    with pytest.raises(FeedError):
        parse_feed(body, base_url="https://example.com/feed")


def test_sloppy_feed_with_entries_is_accepted() -> None:
    """should keep the entries feedparser recovers from slightly broken XML."""
    body = RSS.replace(b"Bus fares to rise in April", b"Bus & tram fares to rise")
    feed = parse_feed(body, base_url="https://news.example.com/rss.xml")
    assert [e.title for e in feed.entries][1] == "Bus & tram fares to rise"


def test_body_naming_a_local_file_is_not_read(tmp_path: Path) -> None:
    """should parse the body itself, never open a file whose name the body happens to be."""
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    with pytest.raises(FeedError):
        parse_feed(str(path).encode(), base_url="https://example.com/feed")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "HTTPS://News.Example.COM:443/a/B?utm_source=x&id=7&fbclid=abc#comments",
            "https://news.example.com/a/B?id=7",
            id="tracking-fragment-host-port",
        ),
        pytest.param("http://example.com", "http://example.com/", id="empty-path"),
        pytest.param("https://example.com/x?gclid=1&mc_cid=2&ref=tw", "https://example.com/x", id="only-tracking"),
        pytest.param("https://example.com:8443/x?q=a%20b", "https://example.com:8443/x?q=a%20b", id="keeps-others"),
        pytest.param("not a url", "not a url", id="not-a-url"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    """should strip tracking parameters, fragments and default ports and lower-case the host."""
    assert canonical_url(url) == expected


def _rss(items: list[tuple[str, str | None]], *, sloppy: bool = False) -> bytes:
    """An RSS document with one item per ``(guid, pubDate)``; ``sloppy`` adds an HTML entity lxml refuses."""
    body = "".join(
        f"<item><guid>{guid}</guid><link>https://example.com/{guid}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + ("<title>Caf&eacute;</title>" if sloppy else "")
        + "</item>"
        for guid, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{body}</channel></rss>'.encode()


def _day(n: int) -> str:
    return f"Mon, {n:02d} Jan 2024 10:00:00 GMT"


@pytest.mark.parametrize("sloppy", [pytest.param(False, id="well-formed"), pytest.param(True, id="sloppy")])
def test_cap_keeps_the_newest_entries_by_date_in_feed_order(sloppy: bool) -> None:
    """should read the newest max_entries of a large oldest-first feed, in feed order, and count the rest."""
    items = [(f"e{n}", _day(n % 28 + 1) if n < 28 else None) for n in range(2000)]  # 28 dated, oldest first
    feed = parse_feed(_rss(items, sloppy=sloppy), base_url="https://example.com/feed", max_entries=5)
    assert [e.id for e in feed.entries] == ["e23", "e24", "e25", "e26", "e27"]
    assert feed.beyond_cap == 1995
    assert [e.published.day for e in feed.entries if e.published] == [24, 25, 26, 27, 28]


def test_cap_keeps_undated_entries_in_feed_order() -> None:
    """should take the first entries of a feed without dates, which lists newest first by convention."""
    feed = parse_feed(_rss([(f"e{n}", None) for n in range(600)]), base_url="https://e.com/f", max_entries=3)
    assert [e.id for e in feed.entries] == ["e0", "e1", "e2"] and feed.beyond_cap == 597


def test_a_feed_under_the_cap_is_read_whole() -> None:
    """should read every entry and report nothing beyond the cap when the feed is small."""
    feed = parse_feed(RSS, base_url="https://news.example.com/rss.xml", max_entries=2)
    assert len(feed.entries) == 2 and feed.beyond_cap == 0


@pytest.mark.parametrize(
    "date",
    [
        pytest.param("9999-12-31T23:59:59-14:00", id="iso-year-10000-in-utc"),
        pytest.param("Fri, 31 Dec 9999 23:59:59 -1400", id="rfc822-year-10000-in-utc"),
        pytest.param("Mon, 01 Jan 1900 00:00:00 GMT", id="before-1990"),
        pytest.param("Tue, 01 Jan 2999 00:00:00 GMT", id="far-future"),
    ],
)
def test_an_impossible_date_is_unknown(date: str) -> None:
    """should parse the feed and leave that entry's date unknown (it raised "year 10000 is out of range")."""
    feed = parse_feed(_rss([("bad", date), ("good", _day(3))]), base_url="https://example.com/feed")
    assert [(e.id, e.published) for e in feed.entries] == [
        ("bad", None), ("good", datetime(2024, 1, 3, 10, tzinfo=UTC))]  # fmt: skip
