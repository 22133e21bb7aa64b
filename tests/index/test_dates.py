"""Tests for index.dates: time filters in questions and publication timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from index.dates import TimeFilter, parse_published, parse_time_filter, plausible_published

NOW = datetime(2024, 3, 13, 15, 0, tzinfo=UTC)  # a Wednesday


def d(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "start", "end", "matched"),
    [
        pytest.param("What happened today?", d(2024, 3, 13), d(2024, 3, 14), "today", id="today"),
        pytest.param("news from yesterday", d(2024, 3, 12), d(2024, 3, 13), "yesterday", id="yesterday"),
        pytest.param("What did the council do this week?", d(2024, 3, 11), d(2024, 3, 18), "this week", id="this-week"),
        pytest.param("strikes last week", d(2024, 3, 4), d(2024, 3, 11), "last week", id="last-week"),
        pytest.param("floods this month", d(2024, 3, 1), d(2024, 4, 1), "this month", id="this-month"),
        pytest.param("Last month's budget", d(2024, 2, 1), d(2024, 3, 1), "Last month", id="last-month"),
        pytest.param("elections this year", d(2024, 1, 1), d(2025, 1, 1), "this year", id="this-year"),
        pytest.param("Who won in March 2015?", d(2015, 3, 1), d(2015, 4, 1), "in March 2015", id="in-month-year"),
        pytest.param("March 2015 storms", d(2015, 3, 1), d(2015, 4, 1), "March 2015", id="month-year"),
        pytest.param("What happened in 2015?", d(2015, 1, 1), d(2016, 1, 1), "in 2015", id="in-year"),
        pytest.param("the vote on 12 March 2015", d(2015, 3, 12), d(2015, 3, 13), "on 12 March 2015", id="d-m-y"),
        pytest.param("March 12, 2015 crash", d(2015, 3, 12), d(2015, 3, 13), "March 12, 2015", id="m-d-y"),
        pytest.param("report of 2015-03-12", d(2015, 3, 12), d(2015, 3, 13), "of 2015-03-12", id="iso"),
        pytest.param("What changed since Monday?", d(2024, 3, 11), None, "since Monday", id="since-weekday"),
        pytest.param("since Wednesday", d(2024, 3, 13), None, "since Wednesday", id="since-today-weekday"),
        pytest.param("rain since March 1", d(2024, 3, 1), None, "since March 1", id="since-day-month"),
        pytest.param("since April 2", d(2023, 4, 2), None, "since April 2", id="since-future-day-is-last-year"),
        pytest.param("since 2020", d(2020, 1, 1), None, "since 2020", id="since-year"),
        pytest.param("in the last 7 days", d(2024, 3, 6, 15), None, "in the last 7 days", id="last-n-days"),
        pytest.param("past three weeks", d(2024, 2, 21, 15), None, "past three weeks", id="past-n-weeks"),
        pytest.param("in the past week", d(2024, 3, 6, 15), None, "past week", id="past-week-rolling"),
        pytest.param("2 days ago", d(2024, 3, 11), d(2024, 3, 12), "2 days ago", id="days-ago"),
        pytest.param("What happened in May?", d(2023, 5, 1), d(2023, 6, 1), "in May", id="month-last-year"),
        pytest.param("in February", d(2024, 2, 1), d(2024, 3, 1), "in February", id="month-this-year"),
    ],
)
def test_time_expressions(question: str, start: datetime | None, end: datetime | None, matched: str) -> None:
    """should turn each supported time expression into the right UTC range."""
    result = parse_time_filter(question, now=NOW)
    assert result == TimeFilter(start=start, end=end, matched=matched, recency=False)


@pytest.mark.parametrize(
    ("question", "matched"),
    [
        pytest.param("What's the latest on the tram?", "latest", id="latest"),
        pytest.param("Recent news about Peskov", "Recent", id="recent"),
        pytest.param("newest articles", "newest", id="newest"),
        pytest.param("the most recent storm", "most recent", id="most-recent"),
        pytest.param("any new developments?", "new", id="new"),
        pytest.param("what's new in Elmsworth", "what's new", id="whats-new"),
    ],
)
def test_recency_words_without_range(question: str, matched: str) -> None:
    """should flag recency intent without inventing a date range."""
    assert parse_time_filter(question, now=NOW) == TimeFilter(start=None, end=None, matched=matched, recency=True)


def test_recency_with_range() -> None:
    """should keep both the range and the recency flag."""
    result = parse_time_filter("latest news from last week", now=NOW)
    assert result is not None
    assert (result.start, result.end, result.recency) == (d(2024, 3, 4), d(2024, 3, 11), True)


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("What did Peskov say about the strikes?", id="no-time"),
        pytest.param("Who is the mayor of New York?", id="new-york"),
        pytest.param("What may happen to fares?", id="modal-may"),
        pytest.param("Is 2015 mentioned as a number 20151?", id="bare-number"),
    ],
)
def test_no_filter(question: str) -> None:
    """should return None when the question has no time expression or recency word."""
    assert parse_time_filter(question, now=NOW) is None


def test_impossible_day_falls_back_to_month() -> None:
    """should read "31 February 2015" as February 2015 rather than fail or roll over into March."""
    result = parse_time_filter("on 31 February 2015", now=NOW)
    assert result is not None
    assert (result.start, result.end) == (d(2015, 2, 1), d(2015, 3, 1))


def test_now_in_other_timezone_is_converted() -> None:
    """should compute ranges in UTC even when now carries another offset."""
    late_evening_new_york = datetime(2024, 3, 13, 21, 0, tzinfo=timezone(timedelta(hours=-4)))  # 01:00 UTC next day
    result = parse_time_filter("today", now=late_evening_new_york)
    assert result is not None
    assert result.start == d(2024, 3, 14)


def test_month_rollover_in_january() -> None:
    """should give December of last year for "last month" in January."""
    result = parse_time_filter("last month", now=d(2024, 1, 10))
    assert result is not None
    assert (result.start, result.end) == (d(2023, 12, 1), d(2024, 1, 1))


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
