"""When a daily digest runs: a local ``HH:MM`` in an IANA timezone, turned into UTC instants.

The local time is kept, not a UTC offset, so a 08:00 digest in Europe/Paris stays at 08:00 across
daylight saving changes. On the day clocks go forward a time in the gap (02:30) runs at the same
instant the hour before would have (03:30 local); on the day they go back an ambiguous time runs
at its first occurrence (``fold=0``, Python's and zoneinfo's default).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrieval.errors import BadQuestionError

DEFAULT_TIMEZONE = "UTC"
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_clock(text: str) -> time:
    """``HH:MM`` (24-hour) as a time.

    Raises:
        BadQuestionError: for anything else.
    """
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise BadQuestionError(f"I can't read {text.strip()[:20]!r} as a time of day: use HH:MM, e.g. 08:00 or 18:30.")
    return time(int(match[1]), int(match[2]))


def parse_timezone(name: str | None) -> ZoneInfo:
    """An IANA timezone (``Europe/Paris``, ``America/New_York``); ``UTC`` when none is given.

    Raises:
        BadQuestionError: for a name the system's timezone database does not know.
    """
    name = (name or DEFAULT_TIMEZONE).strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadQuestionError(
            f"I don't know the timezone {name[:60]!r}: use an IANA name such as Europe/Paris or America/New_York."
        ) from None


def next_run(at: time, zone: ZoneInfo, *, after: datetime) -> datetime:
    """The first instant strictly after ``after`` when the local clock in ``zone`` reads ``at``, in UTC."""
    day = after.astimezone(zone).date() - timedelta(days=1)  # a day back: the local date can lag ``after``
    while True:
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=1)


def first_run(at: time, zone: ZoneInfo, *, now: datetime) -> datetime:
    """The first run of a new schedule: today's ``at`` if it is the current minute or later, else the next one.

    So a schedule made at 08:00:40 for 08:00 posts at once, not tomorrow.
    """
    minute = now.replace(second=0, microsecond=0)
    return next_run(at, zone, after=minute - timedelta(microseconds=1))
