"""Tests for index.dates: publication timestamps of articles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from index.dates import parse_published


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
