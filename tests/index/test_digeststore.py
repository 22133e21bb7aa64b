"""The digest schedule store: schedules of one server only, what was posted, due runs, and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from index.digeststore import POSTED_KEPT, DigestStore
from index.store import Store

pytestmark = pytest.mark.both_engines

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def _add(schedules: DigestStore, collection: str = "111", *, next_run: datetime = NOW) -> int:
    made = schedules.add(
        collection=collection,
        channel_id=700,
        at=time(8, 30),
        timezone="Europe/Paris",
        topic=None,
        added_by=5,
        next_run=next_run,
        now=NOW,
    )
    return made.id


def test_schedules_survive_a_reopen_and_stay_in_their_server(tmp_path: Path) -> None:
    """should keep schedules across a restart, list and remove them only in their own collection."""
    schedules = DigestStore(Store(tmp_path))
    first, other = _add(schedules), _add(schedules, "222")
    reopened = DigestStore(Store(tmp_path))
    listed = reopened.of(["111"])
    assert [(s.id, s.channel_id, s.at, s.timezone, s.next_run) for s in listed] == [
        (first, 700, time(8, 30), "Europe/Paris", NOW)
    ]
    assert reopened.remove(other, ["111"]) is None  # another server's schedule
    assert [s.id for s in reopened.of(["222"])] == [other]
    assert reopened.remove(other, ["222"]) is not None
    assert reopened.of(["222"]) == []


def test_due_and_record_run_move_the_schedule_on_and_merge_what_was_posted(tmp_path: Path) -> None:
    """should list due schedules, remember posted stories (merging new ids) and set the next run."""
    schedules = DigestStore(Store(tmp_path))
    sid = _add(schedules)
    later = _add(schedules, next_run=NOW + timedelta(hours=1))
    assert [s.id for s in schedules.due(NOW)] == [sid]
    schedules.record_run(sid, {"a1": ["a1", "a2"]}, next_run=NOW + timedelta(days=1), now=NOW)
    schedules.record_run(sid, {"a1": ["a3"], "b1": ["b1"]}, next_run=NOW + timedelta(days=2), now=NOW)
    assert schedules.posted(sid) == {"a1": ["a1", "a2", "a3"], "b1": ["b1"]}
    assert schedules.due(NOW + timedelta(hours=1)) == [schedules.get(later)]
    assert schedules.get(sid).next_run == NOW + timedelta(days=2)  # type: ignore[union-attr]
    assert schedules.get(sid).last_run == NOW  # type: ignore[union-attr]


def test_old_posted_stories_are_forgotten_and_removal_clears_them(tmp_path: Path) -> None:
    """should drop stories posted over POSTED_KEPT ago, and a removed schedule's posted stories."""
    schedules = DigestStore(Store(tmp_path))
    sid = _add(schedules)
    schedules.record_run(sid, {"old": ["old"]}, next_run=NOW, now=NOW - POSTED_KEPT - timedelta(hours=1))
    schedules.record_run(sid, {"new": ["new"]}, next_run=NOW, now=NOW)
    assert schedules.posted(sid) == {"new": ["new"]}
    schedules.remove(sid, ["111"])
    schedules.record_run(sid, {"late": ["late"]}, next_run=NOW, now=NOW)  # removed meanwhile: stays removed
    assert (schedules.get(sid), schedules.posted(sid)) == (None, {})
