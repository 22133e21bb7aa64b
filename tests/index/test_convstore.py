"""Conversations and answers in the article database: round trips, threads, concurrency-safe turns, bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.convstore import ConversationStore, StoredQuote
from index.store import Store

pytestmark = pytest.mark.both_engines

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
QUOTE = StoredQuote(1, "a1", "Russia-US ties", '"We are very concerned," Peskov added.', 10, 48)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path)
    yield s
    s.close()


def counter(state: str) -> tuple[str, datetime | None]:
    """A toy state: the number of turns, expiring an hour after now."""
    return json.dumps(json.loads(state) + 1), NOW + timedelta(hours=1)


def test_conversation_and_answer_round_trip_across_a_reopen(store: Store, tmp_path: Path):
    """should keep a conversation, its thread and its answers when the database is opened again."""
    convs = ConversationStore(store)
    started = convs.start(("111", "global"), state="0", guild_id=111, thread_id=None, now=NOW)
    convs.bind_thread(started.id, 555)
    answer = convs.record(
        started.id,
        counter,
        question="and why?",
        rewritten="Why did Peskov say that?",
        answered=True,
        quotes=[QUOTE],
        now=NOW,
    )
    store.close()
    again = ConversationStore(Store(tmp_path))
    conversation = again.by_thread(555)
    assert conversation is not None
    assert (conversation.id, conversation.collections, conversation.guild_id, conversation.state) == (
        started.id,
        ("111", "global"),
        111,
        "1",
    )
    assert conversation.expires_at == NOW + timedelta(hours=1)
    assert again.answer(answer.id) == answer
    assert answer.quotes == (QUOTE,)
    assert (answer.question, answer.rewritten, answer.collections) == (
        "and why?",
        "Why did Peskov say that?",
        ("111", "global"),
    )
    again.store.close()


def test_expiry_is_read_from_the_stored_time(store: Store):
    """should count a conversation as expired from its expires_at on, and never before its first turn."""
    convs = ConversationStore(store)
    fresh = convs.start(("global",), state="0", now=NOW)
    assert fresh.expired(NOW + timedelta(days=365)) is False
    convs.record(fresh.id, counter, question="q", rewritten="q", answered=False, quotes=[], now=NOW)
    stored = convs.get(fresh.id)
    assert stored is not None
    assert stored.expired(NOW + timedelta(minutes=59)) is False
    assert stored.expired(NOW + timedelta(hours=1)) is True


def test_turns_apply_to_the_stored_state(store: Store):
    """should advance the state as stored, so two turns recorded from one read both count."""
    convs = ConversationStore(store)
    conv = convs.start(("global",), state="0", now=NOW)
    for _ in range(2):  # both callers read state "0" before either wrote
        convs.record(conv.id, counter, question="q", rewritten="q", answered=False, quotes=[], now=NOW)
    stored = convs.get(conv.id)
    assert stored is not None and stored.state == "2"


def test_a_thread_carries_one_conversation(store: Store):
    """should move a thread to the conversation started in it last."""
    convs = ConversationStore(store)
    old = convs.start(("global",), state="0", thread_id=9, now=NOW)
    new = convs.start(("global",), state="0", thread_id=9, now=NOW)
    found = convs.by_thread(9)
    assert found is not None and found.id == new.id
    old_now = convs.get(old.id)
    assert old_now is not None and old_now.thread_id is None


def test_recording_into_a_missing_conversation_raises(store: Store):
    """should raise KeyError for an unknown conversation and store no answer."""
    convs = ConversationStore(store)
    with pytest.raises(KeyError):
        convs.record("nope", counter, question="q", rewritten="q", answered=False, quotes=[], now=NOW)
    assert store.db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0


def test_prune_keeps_the_newest_rows(store: Store):
    """should drop the least recently used conversations and the oldest answers beyond the limits."""
    convs = ConversationStore(store, max_conversations=2, max_answers=3)
    ids = []
    for i in range(4):
        conv = convs.start(("global",), state="0", now=NOW + timedelta(minutes=i))
        answer = convs.record(
            conv.id,
            counter,
            question=f"q{i}",
            rewritten=f"q{i}",
            answered=False,
            quotes=[],
            now=NOW + timedelta(minutes=i),
        )
        ids.append((conv.id, answer.id))
    convs.prune()
    assert [convs.get(c) is not None for c, _ in ids] == [False, False, True, True]
    assert [convs.answer(a) is not None for _, a in ids] == [False, True, True, True]


def test_unknown_answer_is_none(store: Store):
    """should return None for an answer id it never stored."""
    assert ConversationStore(store).answer("0123456789ab") is None
