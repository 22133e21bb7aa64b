"""Publication dates of articles, always in UTC.

``parse_published`` reads the publication timestamps that feeds, pages and JSON records
carry. It is deliberately conservative: a value it does not understand gives ``None``
rather than a guess, because a wrong date filter silently hides the right articles while a
missing date only ranks them less precisely. (Time words in questions are read by
``retrieval/timeexpr.py``.)
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

__all__ = ["EARLIEST_PUBLISHED", "FUTURE_SLACK", "parse_published", "plausible_published"]


_DIGITS_RE = re.compile(r"[+-]?\d{9,13}(?:\.\d+)?")
_ISO_HINT_RE = re.compile(r"^\d{4}-?\d{2}-?\d{2}")
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=UTC)
"""No news article on the web is older: an earlier date is a parse accident (a 0 timestamp, a typo)."""
FUTURE_SLACK = timedelta(days=2)
"""How far past now a publication time may lie (time zones, embargoed stories scheduled a day ahead)."""


def plausible_published(value: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """The one gate every publication time passes: in UTC, or ``None`` when it cannot be true.

    Feeds, page metadata and JSON records all go through here (``parse_published``,
    ``index.feeds``, ``RawArticle``), so one bad date makes that article's date unknown and
    never fails an ingest or a poll: a wrong date would filter the article out of answers,
    a missing one only ranks it less precisely.

    Args:
        value: the parsed time; naive values are taken as UTC (see ``_to_utc``).
        now: the current time (tests pass a fixed one).

    Returns:
        ``value`` in UTC when it lies between 1990-01-01 and ``now`` plus two days, else ``None``
        (also for values that overflow on conversion to UTC, such as year 9999 at -14:00).
    """
    if value is None:
        return None
    try:
        utc = _to_utc(value)
    except (OverflowError, ValueError):
        return None
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    return utc if EARLIEST_PUBLISHED <= utc <= latest else None


def _from_epoch(seconds: float) -> datetime | None:
    if abs(seconds) >= 1e11:  # milliseconds, as JavaScript and many JSON APIs give them
        seconds /= 1000.0
    try:
        return plausible_published(datetime.fromtimestamp(seconds, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _to_utc(value: datetime) -> datetime:
    # A naive timestamp with a full time of day is taken as UTC: feeds and JSON APIs that omit
    # the offset overwhelmingly mean UTC, and a few hours' error is harmless for date filters.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_published(value: str | float | None) -> datetime | None:
    """Parse a publication timestamp into an aware UTC datetime.

    Accepted: ISO 8601 (``2015-03-04``, ``2015-03-04T10:00:00Z``, with offsets or
    fractions), RFC 2822 as in RSS (``Wed, 04 Mar 2015 10:00:00 GMT``) and Unix epoch
    seconds or milliseconds (as numbers or digit strings). A date without a time is
    midnight UTC; a naive time is UTC. Ambiguous forms such as ``03/04/2015`` and times
    outside ``plausible_published``'s window (before 1990, or more than two days ahead)
    give ``None`` instead of a guess, so a wrong date never filters an article out of an
    answer.

    Args:
        value: the raw value from a feed, page or record.

    Returns:
        The UTC datetime, or ``None`` when the value is empty or not understood.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = value.strip()
    if not text:
        return None
    if _DIGITS_RE.fullmatch(text):
        return _from_epoch(float(text))
    if _ISO_HINT_RE.match(text):
        iso = text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text
        iso = re.sub(r"([+-]\d\d)$", r"\1:00", iso)  # "+01" -> "+01:00"
        try:
            return plausible_published(datetime.fromisoformat(iso))
        except ValueError:
            pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        log.debug("unparsed published value %r", text)
        return None
    return plausible_published(parsed)
