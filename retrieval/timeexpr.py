"""Time expressions in questions: "yesterday", "this week", "in March 2015", "the latest".

``parse_time_filter`` turns the time words of a question into a half-open ``[start, end)``
UTC range, so retrieval can filter by publication date. It is deliberately conservative:
an expression it does not understand gives ``None`` rather than a guess, because a wrong
date filter silently hides the right articles while a missing one only ranks them less
precisely. (Publication dates of articles are read by ``index/dates.py``.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

log = logging.getLogger(__name__)

__all__ = ["TimeFilter", "parse_time_filter"]


@dataclass(frozen=True, slots=True)
class TimeFilter:
    """A publication-date constraint read from a question.

    Attributes:
        start: inclusive lower bound (UTC), or ``None`` for no lower bound.
        end: exclusive upper bound (UTC), or ``None`` for "up to now".
        matched: the words of the question that produced the filter, e.g. ``"last week"``,
            so the caller can strip them from the search query or echo them to the user.
        recency: the question asks for the newest articles ("latest", "recent", ...);
            the caller should sort or boost by date. May be set with or without a range.
    """

    start: datetime | None
    end: datetime | None
    matched: str
    recency: bool = False


_MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "thirty": 30,
}  # fmt: skip

# Longest names first so "sept" wins over "sep" and "march" over "mar".
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NUM_RE = r"\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_MONTH = rf"(?P<month>{_MONTH_RE})\.?"
# Month words that are also common English words count only when capitalised ("May", not "may").
_AMBIGUOUS_MONTHS = frozenset({"may", "mar"})

# Case-insensitive recency words; "new" only when not the start of a name ("New York", "New Delhi").
_RECENCY_RE = re.compile(
    r"\b(?:(?i:most\s+recent(?:ly)?|latest|recent(?:ly)?|newest|(?:what's|what\s+is|anything)\s+new)"
    r"|(?i:new)(?!\s+[A-Z])(?=\s+\w))\b"
)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(year: int, month: int) -> datetime:
    return _month_start(year + month // 12, month % 12 + 1)


def _month_range(year: int, month: int) -> tuple[datetime, datetime]:
    return _month_start(year, month), _next_month(year, month)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _past_year_for(month: int, day: int, today: date) -> int:
    """Year of the latest ``month``/``day`` not after ``today``: "since March 1" said in February is last year."""
    return today.year if (month, day) <= (today.month, today.day) else today.year - 1


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token.lower()]


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str], datetime], tuple[datetime | None, datetime | None] | None]


def _full_date(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    day = _safe_date(int(m["year"]), _MONTHS[m["month"].lower()], int(m["day"]))
    if day is None:
        return None
    start = _day_start(day)
    return (start, None) if m["since"] else (start, start + timedelta(days=1))


def _iso_date(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    day = _safe_date(int(m["year"]), int(m["mon"]), int(m["day"]))
    if day is None:
        return None
    start = _day_start(day)
    return (start, None) if m["since"] else (start, start + timedelta(days=1))


def _month_year(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    start, end = _month_range(int(m["year"]), _MONTHS[m["month"].lower()])
    return (start, None) if m["since"] else (start, end)


def _year(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    year = int(m["year"])
    start = datetime(year, 1, 1, tzinfo=UTC)
    return (start, None) if m["prep"].lower() == "since" else (start, datetime(year + 1, 1, 1, tzinfo=UTC))


def _day_month_no_year(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    if m["month"].lower() in _AMBIGUOUS_MONTHS and not m["month"][0].isupper():
        return None
    month, day_num = _MONTHS[m["month"].lower()], int(m["day"])
    today = now.date()
    day = _safe_date(_past_year_for(month, day_num, today), month, day_num)
    if day is None:
        return None
    start = _day_start(day)
    return (start, None) if m["prep"].lower() == "since" else (start, start + timedelta(days=1))


def _month_no_year(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    if m["month"].lower() in _AMBIGUOUS_MONTHS and not m["month"][0].isupper():
        return None
    month = _MONTHS[m["month"].lower()]
    year = now.year if month <= now.month else now.year - 1
    start, end = _month_range(year, month)
    return (start, None) if m["prep"].lower() == "since" else (start, end)


def _since_weekday(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    today = now.date()
    back = (today.weekday() - _WEEKDAYS[m["weekday"].lower()]) % 7
    return _day_start(today - timedelta(days=back)), None


def _relative_span(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    count = _number(m["count"]) if m["count"] else 1
    unit = m["unit"].lower().rstrip("s")
    if count <= 0:
        return None
    if unit == "hour":
        return now - timedelta(hours=count), None
    if unit == "day":
        return now - timedelta(days=count), None
    if unit == "week":
        return now - timedelta(weeks=count), None
    if unit == "month":
        month_index = now.year * 12 + (now.month - 1) - count
        year, month = divmod(month_index, 12)
        day = min(now.day, 28)
        return now.replace(year=year, month=month + 1, day=day), None
    # years
    return now.replace(year=now.year - count, day=min(now.day, 28)), None


def _days_ago(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    start = _day_start(now.date() - timedelta(days=_number(m["count"])))
    return start, start + timedelta(days=1)


def _calendar_period(which: str, unit: str, now: datetime) -> tuple[datetime, datetime]:
    """Whole UTC calendar period: ``which`` is "this" or "last", ``unit`` is day, week, month or year."""
    today = now.date()
    offset = 0 if which == "this" else -1
    if unit == "day":
        start = _day_start(today) + timedelta(days=offset)
        return start, start + timedelta(days=1)
    if unit == "week":
        monday = _day_start(today - timedelta(days=today.weekday())) + timedelta(weeks=offset)
        return monday, monday + timedelta(weeks=1)
    if unit == "month":
        year, month0 = divmod(today.year * 12 + (today.month - 1) + offset, 12)
        return _month_range(year, month0 + 1)
    year = today.year + offset
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _named_period(m: re.Match[str], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    """Read "today", "yesterday" and "this/last/past week|month|year"; "past ..." is a rolling window.

    "in the past week" usually means the last seven days rather than the previous calendar
    week, so "past" gives an open-ended range ending now.
    """
    if m["day_word"]:
        return _calendar_period("this" if m["day_word"].lower() == "today" else "last", "day", now)
    which, unit = m["which"].lower(), m["unit"].lower()
    if which == "past":
        delta = {"week": timedelta(weeks=1), "month": timedelta(days=30), "year": timedelta(days=365)}[unit]
        return now - delta, None
    return _calendar_period(which, unit, now)


def _compile(pattern: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


_SINCE = r"(?:(?P<since>since)\s+|(?:on|in|during|of|for|from)\s+)?"
# Most specific first: the first rule that matches wins, so "March 12, 2015" is a day, not a month.
_RULES: tuple[_Rule, ...] = (
    _Rule(_compile(rf"\b{_SINCE}(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"), _full_date),
    _Rule(_compile(rf"\b{_SINCE}{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"), _full_date),
    _Rule(_compile(rf"\b{_SINCE}{_YEAR}-(?P<mon>[01]\d)-(?P<day>[0-3]\d)\b"), _iso_date),
    _Rule(_compile(rf"\b{_SINCE}{_MONTH},?\s+(?:of\s+)?{_YEAR}\b"), _month_year),
    _Rule(_compile(rf"\b(?P<prep>in|during|since|throughout|from)\s+(?:the\s+year\s+)?{_YEAR}\b(?![-/]\d)"), _year),
    _Rule(
        _compile(r"\b(?:(?P<which>this|last|past)\s+(?P<unit>week|month|year)|(?P<day_word>today|yesterday))\b"),
        _named_period,
    ),
    _Rule(
        _compile(
            rf"\b(?:in\s+|over\s+|during\s+|within\s+)?(?:the\s+)?(?:last|past|previous)\s+(?P<count>{_NUM_RE})"
            r"\s+(?P<unit>hours?|days?|weeks?|months?|years?)\b"
        ),
        _relative_span,
    ),
    _Rule(_compile(rf"\b(?P<count>{_NUM_RE})\s+days?\s+ago\b"), _days_ago),
    _Rule(_compile(rf"\bsince\s+(?:last\s+)?(?P<weekday>{_WEEKDAY_RE})\b"), _since_weekday),
    _Rule(_compile(rf"\b(?P<prep>since|on)\s+(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?!\w)"), _day_month_no_year),
    _Rule(_compile(rf"\b(?P<prep>since|on)\s+{_MONTH}\s+{_DAY}(?!\w)"), _day_month_no_year),
    _Rule(
        _compile(rf"\b(?P<prep>in|during|since|throughout)\s+(?:early\s+|late\s+|mid-?)?{_MONTH}(?!\w)"), _month_no_year
    ),
)


def parse_time_filter(question: str, *, now: datetime) -> TimeFilter | None:
    """Read the time constraint of a question, if it has one.

    Calendar periods are whole UTC periods: "last week" is Monday 00:00 to Monday 00:00,
    "this month" runs to the first of next month (the store holds nothing from the future,
    so the open end costs nothing). "since X", "last N days", "past week" are open-ended
    (``end=None``). Months and days given without a year mean the most recent one not in
    the future ("in March" asked in February is last March). "since Monday" on a Monday
    means today. "may" counts as a month only when capitalised, so "what may happen"
    is not a date. The first matching rule, most specific first, wins; recency words
    ("latest", "recent", "newest", "most recent", "new", but not "New York") set
    ``recency`` whether or not a range was found.

    Args:
        question: the user's question, free text.
        now: the current time; naive values are taken as UTC. Passed in so tests and
            replays are deterministic.

    Returns:
        The filter, or ``None`` when the question has neither a time range nor recency words.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    recency_match = _RECENCY_RE.search(question)
    recency = recency_match is not None
    for rule in _RULES:
        for m in rule.pattern.finditer(question):
            span = rule.build(m, now)
            if span is None:
                continue
            start, end = span
            log.debug("time filter %r -> %s .. %s", m.group(0), start, end)
            return TimeFilter(start=start, end=end, matched=m.group(0).strip(), recency=recency)
    if recency_match is not None:
        return TimeFilter(start=None, end=None, matched=recency_match.group(0), recency=True)
    return None
