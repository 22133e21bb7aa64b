"""Timestamps of the queue tables (jobs, announcements): UTC text whose order is time order on both engines."""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(value: datetime) -> str:
    """UTC, one fixed width (microseconds, ``Z``), so that comparing the text in SQL compares the times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(value: str | None) -> datetime | None:
    """The time a ``stamp`` wrote (None stays None)."""
    return datetime.fromisoformat(value) if value else None
