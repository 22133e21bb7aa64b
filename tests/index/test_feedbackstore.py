"""Votes and reports in the article database: one vote per user, hashed users, reports per collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.convstore import StoredAnswer, StoredQuote
from index.feedbackstore import MAX_DETAILS_CHARS, FeedbackCounts, FeedbackStore
from index.store import Store

pytestmark = pytest.mark.both_engines

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
QUOTE = StoredQuote(1, "a1", "Russia-US ties", '"We are very concerned," Peskov added.', 10, 48)


def answer(answer_id: str = "aaaaaaaaaaaa", collections: tuple[str, ...] = ("111", "global")) -> StoredAnswer:
    return StoredAnswer(answer_id, "c1", collections, "and?", "What did Peskov say?", True, (QUOTE,), NOW)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path)
    yield s
    s.close()


def test_one_vote_per_user_and_a_second_click_changes_it(store: Store):
    """should record a vote, keep a repeated one, and change it to the other direction."""
    fb = FeedbackStore(store)
    a = answer()
    assert fb.vote(a, 42, True, now=NOW) == "new"
    assert fb.vote(a, 42, True, now=NOW) == "same"
    assert fb.vote(a, 42, False, now=NOW) == "changed"
    assert fb.vote(a, 43, False, now=NOW) == "new"
    assert fb.counts(["111"]) == FeedbackCounts(up=0, down=2, reports=0)


def test_user_ids_are_hashed_with_a_salt_kept_per_install(store: Store, tmp_path: Path):
    """should store no user id, the same key after a reopen, and another key in another install."""
    fb = FeedbackStore(store)
    fb.vote(answer(), 424242, True, now=NOW)
    key = fb.user_key(424242)
    assert "424242" not in key
    [row] = store.db.execute("SELECT user_key FROM feedback").fetchall()
    assert row[0] == key
    assert FeedbackStore(Store(tmp_path)).user_key(424242) == key
    other = Store(tmp_path / "other")
    try:
        assert FeedbackStore(other).user_key(424242) != key
    finally:
        other.close()


def test_report_keeps_the_question_and_quotes_and_pages_by_collection(store: Store):
    """should list a server's reports newest first with what was judged, and not another server's."""
    fb = FeedbackStore(store)
    for i in range(3):
        fb.report(answer(f"{i:012d}"), 42, "wrong_speaker", f"note {i}", now=NOW + timedelta(minutes=i))
    fb.report(answer("elsewhere000", ("222", "global")), 42, "outdated", None, now=NOW)
    page, total = fb.reports(["111", "global"], offset=1, limit=1)
    assert total == 3
    [one] = page
    assert (one.answer_id, one.reason, one.details, one.question, one.quotes) == (
        "000000000001",
        "wrong_speaker",
        "note 1",
        "What did Peskov say?",
        (QUOTE,),
    )
    assert fb.reports(["222"], limit=10)[1] == 1
    assert fb.counts(["111"]).reports == 3


def test_a_second_report_replaces_the_first(store: Store):
    """should keep one report per user and answer, the latest reason and details."""
    fb = FeedbackStore(store)
    assert fb.report(answer(), 42, "wrong_quote", None, now=NOW) is False
    assert fb.report(answer(), 42, "other", "the quote is cut", now=NOW) is True
    [only], total = fb.reports(["111"])
    assert (total, only.reason, only.details) == (1, "other", "the quote is cut")


@pytest.mark.parametrize(
    ("reason", "details", "message"),
    [
        pytest.param("rude", None, "unknown report reason", id="reason"),
        pytest.param("other", "x" * (MAX_DETAILS_CHARS + 1), "over 1000 characters", id="too-long"),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_stored(store: Store, reason: str, details: str | None, message: str):
    """should raise ValueError for an unknown reason or oversized details, storing nothing."""
    fb = FeedbackStore(store)
    with pytest.raises(ValueError, match=message):
        fb.report(answer(), 42, reason, details, now=NOW)
    assert fb.all() == []
