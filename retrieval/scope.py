"""Which articles a request may see: its collections, and optional filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Scope:
    """Which articles a request may see: collections, and optional filters."""

    collections: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    article_ids: tuple[str, ...] | None = None
    exclude_article_ids: tuple[str, ...] | None = None
    avoid_quotes: tuple[tuple[str, int, int], ...] = ()  # (article id, start, end) already shown: quote others
    since: datetime | None = None
    until: datetime | None = None
    undated_only: bool = False  # articles whose publication date is unknown (a date filter's fallback)

    @property
    def has_dates(self) -> bool:
        """Whether the caller set a date range (which then wins over the time words of a question)."""
        return self.since is not None or self.until is not None
