"""Answering within a time frame: date scopes, the undated fallback, and "the latest news".

A question's time expression (read once, by ``retrieval/question.py``) restricts the search
to articles published in that range. Articles whose date is unknown are never silently
treated as in range: when no dated article matches, the answer comes from undated articles
and says so. Recency words ("latest", "most recent") re-rank the hits towards newer
articles instead of filtering.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from retrieval.errors import BadQuestionError
from retrieval.hybrid import Hit
from retrieval.scope import Scope
from retrieval.timeexpr import TimeFilter, parse_time_filter

RECENT_WINDOW_DAYS = 7.0


def parse_since(text: str, *, now: datetime) -> datetime:
    """A start date from ``YYYY-MM-DD`` or an expression such as "yesterday", "last week", "7 days".

    Raises:
        BadQuestionError: when the text is not a date the user can fix by retyping.
    """
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        pass
    phrase = f"last {text}" if re.fullmatch(r"\d+\s+(?:days?|weeks?|months?)", text, re.IGNORECASE) else text
    tf = parse_time_filter(phrase, now=now)
    if tf is None or tf.start is None:
        raise BadQuestionError(f"I can't read {text!r} as a date: use YYYY-MM-DD, or e.g. 'yesterday', '7 days'.")
    return tf.start


def dated_scopes(scope: Scope, tf: TimeFilter) -> tuple[Scope, Scope]:
    """The strict scope (dated articles in range) and the fallback (undated articles only)."""
    strict = replace(scope, since=tf.start, until=tf.end)
    return strict, replace(strict, undated_only=True)


def undated_note(tf: TimeFilter) -> str:
    """What the answer says when it had to use articles of unknown date."""
    return f"No indexed article is dated {tf.matched!r}; these quotes come from articles whose date is unknown."


def prefer_recent(hits: Sequence[Hit], *, k: int, window_days: float = RECENT_WINDOW_DAYS) -> list[Hit]:
    """Keep the relevant hits from the newest articles, so "the latest" is answered from the latest news.

    Relevant means a fused score of at least half the best; among those, only hits published
    within ``window_days`` of the newest one are kept (articles of unknown date only when no
    relevant article has a date).
    """
    if not hits:
        return []
    best = max(h.score for h in hits)
    relevant = [h for h in hits if h.score >= 0.5 * best]
    dated = [h for h in relevant if h.article.published is not None]
    if dated:
        newest = max(h.article.published for h in dated if h.article.published is not None)
        cutoff = newest - timedelta(days=window_days)
        relevant = [h for h in dated if h.article.published is not None and h.article.published >= cutoff]
    return [replace(h, rank=i) for i, h in enumerate(relevant[:k])]
