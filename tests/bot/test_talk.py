"""Questions as conversations (``bot.talk``): threads, follow-ups by thread and by form, scope, expiry, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import talk
from bot.controls import AnswerControls
from bot.desk import Asker, Desk, Records
from bot.ratelimit import RateLimiter
from bot.render import CONTENT_LIMIT
from index.store import Store
from retrieval.conversation import Conversation
from retrieval.scope import Scope

from .conftest import GUILD, OTHER_GUILD, USER, FakeClock, FakeEngine, RecordingResponder, answer_of

QUESTION = "What did Peskov say about the strikes?"
FOLLOW_UP = "What else did he say?"
READ_AS = "What else did Peskov say about the strikes?"
MEMBER = Asker(USER, GUILD)
THREAD = 7001
SCOPE = Scope(collections=(str(GUILD), "global"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "records")
    yield s
    s.close()


@pytest.fixture
def records(store: Store) -> Records:
    return Records.open(store, conversation_ttl=timedelta(minutes=30))


@pytest.fixture
def desk(fake_engine: FakeEngine, clock: FakeClock, records: Records) -> Iterator[Desk]:
    d = Desk(fake_engine, limiter=RateLimiter(6, clock=clock), records=records)
    yield d
    d.close()


def controls_of(responder: RecordingResponder) -> AnswerControls:
    controls = responder.replies[-1].controls
    assert isinstance(controls, AnswerControls)
    return controls


async def first_answer(desk: Desk, *, thread_id: int | None = THREAD) -> tuple[RecordingResponder, str]:
    """Ask QUESTION in a channel where a thread opens; returns the responder and the answer id."""
    responder = RecordingResponder(thread_id=thread_id)
    await talk.ask(desk, responder, MEMBER, QUESTION)
    return responder, controls_of(responder).answer_id


async def test_a_question_starts_a_conversation_that_continues_in_a_thread(desk: Desk, records: Records):
    """should answer with buttons, open a thread named after the question and bind the conversation to it."""
    responder, answer_id = await first_answer(desk)
    assert responder.events[0] == ("defer", False)
    assert ("thread", (QUESTION, 60)) in responder.events
    assert controls_of(responder).contexts == ("Context [1]",)
    conversation = records.conversations.by_thread(THREAD)
    assert conversation is not None and conversation.collections == (str(GUILD), "global")
    stored = records.conversations.answer(answer_id)
    assert stored is not None and (stored.question, stored.rewritten) == (QUESTION, QUESTION)
    assert stored.conversation_id == conversation.id


async def test_without_thread_permission_the_conversation_still_works(desk: Desk, records: Records):
    """should keep the conversation (unbound to a thread) when no thread can be opened, for the form."""
    _, answer_id = await first_answer(desk, thread_id=None)
    assert records.conversations.by_thread(THREAD) is None
    follow = RecordingResponder()
    await talk.ask(desk, follow, MEMBER, FOLLOW_UP, where=talk.Where(answer_id=answer_id))
    assert follow.replies[0].content == f"-# Read as: {READ_AS}"


async def test_a_follow_up_in_the_thread_is_rewritten_and_searches_the_previous_articles_first(
    desk: Desk, fake_engine: FakeEngine
):
    """should show "Read as" in small print and ask within the previous answer's articles first."""
    await first_answer(desk)
    follow = RecordingResponder()
    await talk.ask(desk, follow, MEMBER, FOLLOW_UP, where=talk.Where(thread_id=THREAD), command="mention")
    shown = tuple((c.article_id, c.start, c.end) for c in fake_engine.ask(QUESTION).citations)  # the first answer's
    expected = Scope(collections=SCOPE.collections, article_ids=("a1",), avoid_quotes=shown)  # "else": other quotes
    assert fake_engine.calls[-2] == ("ask", READ_AS, expected)
    first = follow.replies[0]
    assert first.content == f"-# Read as: {READ_AS}"
    assert first.embed is not None and first.embed["title"] == FOLLOW_UP
    assert not [e for e in follow.events if e[0] == "thread"]  # already in one


async def test_a_follow_up_through_the_form_continues_the_answers_conversation(desk: Desk, records: Records):
    """should continue the conversation of the answer whose Follow-up button was used, and store the turn."""
    _, answer_id = await first_answer(desk)
    follow = RecordingResponder()
    await talk.ask(desk, follow, MEMBER, FOLLOW_UP, where=talk.Where(answer_id=answer_id), command="follow-up")
    new_id = controls_of(follow).answer_id
    stored = records.conversations.answer(new_id)
    assert stored is not None and (stored.question, stored.rewritten) == (FOLLOW_UP, READ_AS)
    conversation = records.conversations.by_thread(THREAD)
    assert conversation is not None
    assert [t.question for t in Conversation.model_validate_json(conversation.state).turns] == [QUESTION, FOLLOW_UP]


async def test_conversations_survive_a_restart(desk: Desk, store: Store, fake_engine: FakeEngine, clock: FakeClock):
    """should read a follow-up in context with records opened afresh on the same database."""
    _, answer_id = await first_answer(desk)
    again = Desk(
        fake_engine,
        limiter=RateLimiter(6, clock=clock),
        records=Records.open(store, conversation_ttl=timedelta(minutes=30)),
    )
    try:
        follow = RecordingResponder()
        await talk.ask(again, follow, MEMBER, FOLLOW_UP, where=talk.Where(answer_id=answer_id))
    finally:
        again.close()
    assert follow.replies[0].content == f"-# Read as: {READ_AS}"


async def test_another_servers_answer_or_thread_is_never_continued(
    desk: Desk, fake_engine: FakeEngine, records: Records
):
    """should refuse another server's answer as unknown, and start afresh in another server's thread."""
    _, answer_id = await first_answer(desk)
    elsewhere = Asker(USER, OTHER_GUILD)
    refused = RecordingResponder()
    await talk.ask(desk, refused, elsewhere, FOLLOW_UP, where=talk.Where(answer_id=answer_id))
    assert refused.events == [("notice", talk.UNKNOWN_CONVERSATION)]
    calls = len(fake_engine.calls)
    fresh = RecordingResponder()
    await talk.ask(desk, fresh, elsewhere, FOLLOW_UP, where=talk.Where(thread_id=THREAD))
    assert fake_engine.calls[calls:] == [("ask", FOLLOW_UP, Scope(collections=(str(OTHER_GUILD), "global")))]
    moved = records.conversations.by_thread(THREAD)
    assert moved is not None and moved.collections == (str(OTHER_GUILD), "global")


async def test_unknown_answer_id_gets_a_notice(desk: Desk, fake_engine: FakeEngine):
    """should say the conversation is gone, without deferring or asking the engine."""
    responder = RecordingResponder()
    await talk.ask(desk, responder, MEMBER, FOLLOW_UP, where=talk.Where(answer_id="0123456789ab"))
    assert responder.events == [("notice", talk.UNKNOWN_CONVERSATION)]
    assert fake_engine.calls == []


def expire(records: Records, thread_id: int = THREAD) -> None:
    """Move the thread's conversation past its end: its last turn an hour ago, its end a minute ago."""
    stored = records.conversations.by_thread(thread_id)
    assert stored is not None
    past = datetime.now(UTC) - timedelta(minutes=1)
    state = Conversation.model_validate_json(stored.state)
    turns = tuple(t.model_copy(update={"asked_at": past - state.ttl}) for t in state.turns)
    state = state.model_copy(update={"turns": turns, "expires_at": past})
    records.store.db.execute(
        "UPDATE conversations SET state = ?, expires_at = ? WHERE id = ?",
        (state.model_dump_json(), past.isoformat(timespec="microseconds"), stored.id),
    )


async def test_a_follow_up_of_an_ended_conversation_gets_its_question_back(
    desk: Desk, records: Records, fake_engine: FakeEngine
):
    """should refuse a follow-up that leans on an ended conversation, quoting it, and keep the conversation."""
    await first_answer(desk)
    expire(records)
    calls = len(fake_engine.calls)
    responder = RecordingResponder()
    await talk.ask(desk, responder, MEMBER, "and why?", where=talk.Where(thread_id=THREAD))
    assert responder.events == [("notice", talk.expired_message("and why?", 30))]
    assert "“and why?”" in responder.events[0][1]
    assert fake_engine.calls[calls:] == []
    kept = records.conversations.by_thread(THREAD)
    assert kept is not None and len(Conversation.model_validate_json(kept.state).turns) == 1


async def test_a_standalone_question_restarts_an_ended_conversation(desk: Desk, records: Records):
    """should answer a full question in an ended conversation's thread as the first turn of a new one."""
    await first_answer(desk)
    expire(records)
    responder = RecordingResponder()
    await talk.ask(desk, responder, MEMBER, "What did Obama say about Iran?", where=talk.Where(thread_id=THREAD))
    assert responder.replies[0].content is None  # no "Read as"
    conversation = records.conversations.by_thread(THREAD)
    assert conversation is not None
    turns = Conversation.model_validate_json(conversation.state).turns
    assert [t.question for t in turns] == ["What did Obama say about Iran?"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("   ", "Please ask a question: the text is empty.", id="empty"),
        pytest.param("x" * 5000, "That question is 5,000 characters long; please keep it under 1,000.", id="5000"),
    ],
)
async def test_bad_follow_up_text_gets_a_notice_and_changes_nothing(
    desk: Desk, records: Records, fake_engine: FakeEngine, text: str, message: str
):
    """should refuse an empty or oversized follow-up before deferring, storing nothing."""
    _, answer_id = await first_answer(desk)
    calls = len(fake_engine.calls)
    responder = RecordingResponder()
    await talk.ask(desk, responder, MEMBER, text, where=talk.Where(answer_id=answer_id))
    assert responder.events == [("notice", message)]
    assert fake_engine.calls[calls:] == []
    assert records.store.db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 1


async def test_two_follow_ups_at_once_both_become_turns(desk: Desk, records: Records):
    """should keep both turns of two follow-ups answered concurrently in one thread."""
    await first_answer(desk)
    where = talk.Where(thread_id=THREAD)
    moderator = Asker(USER, GUILD, is_moderator=True)
    await asyncio.gather(
        *(talk.ask(desk, RecordingResponder(), moderator, q, where=where) for q in ("and why?", "and when?"))
    )
    conversation = records.conversations.by_thread(THREAD)
    assert conversation is not None
    assert len(Conversation.model_validate_json(conversation.state).turns) == 3


async def test_without_records_answers_stand_alone(fake_engine: FakeEngine, responder: RecordingResponder):
    """should answer without buttons or threads when the desk keeps no records."""
    desk = Desk(fake_engine, limiter=RateLimiter(6))
    try:
        await talk.ask(desk, responder, MEMBER, QUESTION)
    finally:
        desk.close()
    assert [r.controls for r in responder.replies] == [None]
    assert not [e for e in responder.events if e[0] == "thread"]


async def test_read_as_fits_a_plain_answer_that_fills_its_message(fake_engine: FakeEngine, records: Records):
    """should put "Read as" before a plain-text answer whose first message is full, every message within 2,000."""
    desk = Desk(fake_engine, limiter=RateLimiter(60), records=records, use_embeds=False)
    try:
        _, answer_id = await first_answer(desk)
        fake_engine.answer = answer_of(READ_AS, ["Peskov said " + "very concerned " * 120], url="https://example.com")
        follow = RecordingResponder()
        await talk.ask(desk, follow, MEMBER, FOLLOW_UP, where=talk.Where(answer_id=answer_id))
    finally:
        desk.close()
    first, *rest = follow.replies
    assert first.content == f"-# Read as: {READ_AS}"
    assert rest and all(r.content is not None and len(r.content) <= CONTENT_LIMIT for r in rest)


async def test_a_shutdown_lets_an_answer_in_progress_open_its_thread(desk: Desk):
    """should make drain wait for a question still opening its thread after the answer was sent."""
    opening = asyncio.Event()
    release = asyncio.Event()

    class SlowThreads(RecordingResponder):
        async def open_thread(self, name: str, **kwargs: object) -> int | None:
            opening.set()
            await release.wait()
            return await super().open_thread(name, **kwargs)  # type: ignore[arg-type]

    responder = SlowThreads(thread_id=THREAD)
    asking = asyncio.create_task(talk.ask(desk, responder, MEMBER, QUESTION))
    await asyncio.wait_for(opening.wait(), 5)
    draining = asyncio.create_task(desk.drain(5))
    await asyncio.sleep(0.05)
    assert not draining.done()
    release.set()
    await asyncio.wait_for(draining, 5)
    assert asking.done() and asking.exception() is None
    assert ("thread", (QUESTION, 60)) in responder.events
