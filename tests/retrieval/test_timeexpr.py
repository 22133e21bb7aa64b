"""Tests for retrieval.timeexpr: time expressions in questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from retrieval.timeexpr import TimeFilter, parse_time_filter

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
