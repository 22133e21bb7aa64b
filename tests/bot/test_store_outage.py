"""The bot while the shared database is unreachable: questions are still answered, writes say so plainly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import talk, writes
from bot.desk import Asker, Desk, Records
from bot.errors import DATABASE_UNREACHABLE, user_message
from bot.ratelimit import RateLimiter
from index.errors import StoreUnavailableError
from index.store import Store

from .conftest import GUILD, USER, FakeEngine, RecordingResponder

DOWN = StoreUnavailableError(
    "cannot reach the database at postgresql://newsdesk@db.internal:5432/newsdesk (connection refused); "
    "check NEWSDESK_DATABASE_URL and that PostgreSQL is running"
)
MODERATOR = Asker(USER, GUILD, is_moderator=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "records")
    yield s
    s.close()


def test_the_user_is_told_the_database_is_unreachable_without_its_address() -> None:
    """should show a plain "try again shortly", never the server's address, for an unreachable store."""
    assert user_message(DOWN) == DATABASE_UNREACHABLE
    assert "db.internal" not in DATABASE_UNREACHABLE


async def test_an_ingest_while_the_database_is_down_says_so(fake_engine: FakeEngine) -> None:
    """should end the moderator's ephemeral ingest message with the unreachable-database notice."""
    fake_engine.error = DOWN
    responder = RecordingResponder()
    desk = Desk(fake_engine, limiter=RateLimiter(6))
    try:
        await writes.ingest(desk, responder, MODERATOR, title="Storm", text="A storm hit the coast on Monday.")
    finally:
        desk.close()
    assert responder.events[0] == ("defer", True)
    assert responder.events[-1] == ("update", f"Could not index “Storm”: {DATABASE_UNREACHABLE}")


async def test_a_question_is_answered_when_its_conversation_cannot_be_stored(
    fake_engine: FakeEngine, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should send the answer (without buttons) when recording it fails because the database is down."""
    records = Records.open(store, conversation_ttl=timedelta(minutes=30))

    def down(*args: object, **kwargs: object) -> None:
        raise DOWN

    monkeypatch.setattr(records.conversations, "start", down)
    desk = Desk(fake_engine, limiter=RateLimiter(6), records=records)
    responder = RecordingResponder()
    try:
        await talk.ask(desk, responder, Asker(USER, GUILD), "What did Peskov say about the strikes?")
    finally:
        desk.close()
    [reply] = responder.replies
    assert reply.embed is not None and reply.embed["title"] == "What did Peskov say about the strikes?"
    assert reply.controls is None
