"""Tests for index.dates: publication timestamps of articles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from index.dates import parse_published, plausible_published

NOW = datetime(2024, 3, 13, 15, 0, tzinfo=UTC)  # a Wednesday


def d(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2015-03-04", d(2015, 3, 4), id="iso-date"),
        pytest.param("2015-03-04T10:00:00Z", d(2015, 3, 4, 10), id="iso-z"),
        pytest.param("2015-03-04T11:00:00+01:00", d(2015, 3, 4, 10), id="iso-offset"),
        pytest.param("2015-03-04 10:00:00", d(2015, 3, 4, 10), id="iso-naive-space"),
        pytest.param("2015-03-04T10:00:00.123456+0000", d(2015, 3, 4, 10).replace(microsecond=123456), id="iso-frac"),
        pytest.param("Wed, 04 Mar 2015 10:00:00 GMT", d(2015, 3, 4, 10), id="rfc2822-gmt"),
        pytest.param("Wed, 04 Mar 2015 05:00:00 -0500", d(2015, 3, 4, 10), id="rfc2822-offset"),
        pytest.param(1425463200, d(2015, 3, 4, 10), id="epoch-int"),
        pytest.param("1425463200", d(2015, 3, 4, 10), id="epoch-str"),
        pytest.param("1425463200000", d(2015, 3, 4, 10), id="epoch-ms"),
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param("03/04/2015", None, id="ambiguous"),
        pytest.param("yesterday", None, id="words"),
        pytest.param("0", None, id="zero"),
        pytest.param("9999-01-01", None, id="implausible-year"),
    ],
)
def test_parse_published(value: str | int | None, expected: datetime | None) -> None:
    """should parse ISO 8601, RFC 2822 and epoch values to aware UTC, and refuse to guess otherwise."""
    result = parse_published(value)
    assert result == expected
    if result is not None:
        assert result.tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(d(1989, 12, 31, 23), None, id="before-1990"),
        pytest.param(d(1990, 1, 1), d(1990, 1, 1), id="1990"),
        pytest.param(NOW + timedelta(days=2), NOW + timedelta(days=2), id="two-days-ahead"),
        pytest.param(NOW + timedelta(days=2, seconds=1), None, id="further-ahead"),
        pytest.param(datetime(2015, 3, 4, 10), d(2015, 3, 4, 10), id="naive-is-utc"),
        pytest.param(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))), None, id="overflow"),
        pytest.param(None, None, id="none"),
    ],
)
def test_plausible_published_window(value: datetime | None, expected: datetime | None) -> None:
    """should keep times from 1990-01-01 to now + 2 days, in UTC, and make anything else unknown."""
    assert plausible_published(value, now=NOW) == expected


IMPOSSIBLE = ["9999-12-31T23:59:59-14:00", "Fri, 31 Dec 9999 23:59:59 -1400", "1970-01-01T00:00:00Z", "2999-01-01"]


@pytest.mark.parametrize("value", [pytest.param(v, id=v) for v in IMPOSSIBLE])
def test_impossible_dates_are_unknown_in_feeds_pages_and_json(value: str) -> None:
    """should give an unknown date, never an error, whether the date comes from a feed, a page or a JSON record."""
    from index.extract import extract_html
    from index.feeds import parse_feed
    from index.readers import read_bytes

    assert parse_published(value) is None
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><guid>a</guid>'
        f"<link>https://example.com/a</link><pubDate>{value}</pubDate></item></channel></rss>"
    )
    assert [e.published for e in parse_feed(rss.encode(), base_url="https://example.com/feed").entries] == [None]
    body = " ".join(["The council voted on Tuesday to approve a new tram line for the city."] * 5)
    page = (
        f'<html><head><meta property="article:published_time" content="{value}"><title>Tram</title></head>'
        f"<body><article><h1>Tram</h1><p>{body}</p></article></body></html>"
    )
    assert extract_html(page).published is None
    record = json.dumps({"title": "Tram", "text": body, "published": value})
    [result] = read_bytes(record.encode(), "articles.json")
    assert result.error is None and result.article is not None and result.article.published is None


def test_epoch_numbers_out_of_range_are_unknown_in_json() -> None:
    """should make a JSON record's absurd epoch number an unknown date, not a rejected record."""
    from index.readers import read_bytes

    record = json.dumps({"title": "Tram", "text": "The council voted.", "published": 253402300799999999})
    [result] = read_bytes(record.encode(), "articles.json")
    assert result.error is None and result.article is not None and result.article.published is None
