"""When daily digests run: HH:MM and timezones parsed, next runs across days, timezones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.digesttime import first_run, next_run, parse_clock, parse_timezone
from retrieval.errors import BadQuestionError

PARIS, NEW_YORK, TOKYO = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


@pytest.mark.parametrize(("text", "expected"), [("08:00", time(8)), ("7:05", time(7, 5)), (" 23:59 ", time(23, 59))])
def test_parse_clock(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8", "08:60", "8am", "08:00:00", ""])
def test_parse_clock_refuses_other_forms(text: str) -> None:
    with pytest.raises(BadQuestionError, match="HH:MM"):
        parse_clock(text)


def test_parse_timezone() -> None:
    assert (parse_timezone(None).key, parse_timezone("Europe/Paris").key) == ("UTC", "Europe/Paris")
    for bad in ("Mars/Olympus", "../etc/passwd", "Europe/"):
        with pytest.raises(BadQuestionError, match="IANA"):
            parse_timezone(bad)


def test_next_run_is_today_or_tomorrow_in_local_time() -> None:
    assert next_run(time(8), PARIS, after=utc(2025, 1, 10, 6, 0)) == utc(2025, 1, 10, 7, 0)  # CET = UTC+1
    assert next_run(time(8), PARIS, after=utc(2025, 1, 10, 7, 0)) == utc(2025, 1, 11, 7, 0)  # strictly after


def test_next_run_when_the_local_date_is_ahead_of_utc() -> None:
    # 23:30 UTC on the 10th is 08:30 on the 11th in Tokyo: 08:00 there has passed, next is the 12th at 08:00.
    assert next_run(time(8), TOKYO, after=utc(2025, 1, 10, 23, 30)) == utc(2025, 1, 11, 23, 0)
    assert next_run(time(9), TOKYO, after=utc(2025, 1, 10, 23, 30)) == utc(2025, 1, 11, 0, 0)


def test_next_run_keeps_the_local_time_across_dst() -> None:
    # Paris goes to summer time on 2025-03-30: 08:00 is 07:00 UTC before, 06:00 UTC after.
    assert next_run(time(8), PARIS, after=utc(2025, 3, 29, 8, 0)) == utc(2025, 3, 30, 6, 0)
    # New York goes back on 2025-11-02: 08:00 is 12:00 UTC before, 13:00 UTC after.
    assert next_run(time(8), NEW_YORK, after=utc(2025, 11, 1, 12, 0)) == utc(2025, 11, 2, 13, 0)


def test_times_in_a_dst_gap_or_overlap() -> None:
    # 02:30 does not exist in New York on 2025-03-09: it runs at 07:30 UTC (03:30 EDT), once.
    assert next_run(time(2, 30), NEW_YORK, after=utc(2025, 3, 9, 0, 0)) == utc(2025, 3, 9, 7, 30)
    assert next_run(time(2, 30), NEW_YORK, after=utc(2025, 3, 9, 7, 30)) == utc(2025, 3, 10, 6, 30)
    # 01:30 happens twice on 2025-11-02: the first one (EDT, 05:30 UTC), then the next day.
    assert next_run(time(1, 30), NEW_YORK, after=utc(2025, 11, 2, 0, 0)) == utc(2025, 11, 2, 5, 30)
    assert next_run(time(1, 30), NEW_YORK, after=utc(2025, 11, 2, 5, 30)) == utc(2025, 11, 3, 6, 30)


def test_first_run_includes_the_current_minute() -> None:
    now = utc(2025, 1, 10, 8, 0, 40)
    assert first_run(time(8), ZoneInfo("UTC"), now=now) == utc(2025, 1, 10, 8, 0)
    assert first_run(time(7, 59), ZoneInfo("UTC"), now=now) == utc(2025, 1, 11, 7, 59)
