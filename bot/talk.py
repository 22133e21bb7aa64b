"""Questions as conversations: ``/ask``, mentions, and follow-ups in threads or through an answer's Follow-up form.

Every answer starts or continues a conversation (``app.conversations``), kept in the database
(``Desk.records``), so a restart keeps it. A question asked in a channel starts one, and the
answer continues in a thread named after the question where the bot may create threads; a
mention or a reply to the bot in that thread, or the Follow-up form under any of its answers,
asks a follow-up. A follow-up is read in context ("and why?" becomes "Why did Peskov say
that?", shown in small print) and searched in the previous answer's articles first.

Scope: a conversation's collections are fixed when it starts. A follow-up is asked only when
they are the asker's own (a button or thread of another server is treated as unknown), and the
previous articles are searched within them, so a follow-up never shows another server's articles.

Expiry: ``NEWSDESK_CONVERSATION_MINUTES`` after its last question a conversation ends. A question
that stands alone is then answered as the start of a new one; a follow-up that leans on the old
one ("and why?") gets a notice quoting it back, so nothing typed is lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.conversations import Exchange, advance_with, ask_in_conversation, needs_context, new_conversation
from app.deferred import PendingAnswer
from bot.controls import AnswerControls, context_labels
from bot.reads import admit, answer_status
from bot.render import CONTENT_LIMIT, Reply, escape_markdown, render_answer, render_notice
from bot.streaming import deliver
from bot.timing import timed
from index.convstore import StoredConversation, StoredQuote
from index.errors import StoreUnavailableError
from retrieval.answer import shorten
from retrieval.conversation import Conversation, record_turn
from retrieval.errors import BadQuestionError, RetrievalError
from retrieval.question import validate
from retrieval.timeframe import parse_since

if TYPE_CHECKING:
    from bot.desk import Asker, Desk
    from bot.responders import Responder

__all__ = ["THREAD_HINT", "UNKNOWN_CONVERSATION", "Where", "ask", "expired_message"]

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
THREAD_HINT = "-# Mention me or reply to an answer here to ask a follow-up; I read it with this conversation in mind."
UNKNOWN_CONVERSATION = (
    "I no longer have the conversation this answer belongs to: it is too old, or from somewhere else. "
    "Ask with /ask to start a new one."
)


def expired_message(question: str, minutes: float) -> str:
    """The notice for a follow-up of a conversation that has ended; it quotes the question back."""
    return (
        f"This conversation ended {minutes:g} minutes after its last question, so I can't tell what "
        f"“{escape_markdown(shorten(question, 300))}” refers to. Ask it as a full question (with /ask, or "
        "mention me) to start a new conversation."
    )


@dataclass(frozen=True, slots=True)
class Where:
    """Which conversation a question continues.

    Attributes:
        thread_id: asked in this thread (or direct-message channel): it continues the conversation
            the thread carries, or starts one there.
        answer_id: asked through the Follow-up form of this answer: it continues that answer's conversation.
    """

    thread_id: int | None = None
    answer_id: str | None = None


class _Refused(Exception):
    """A question the conversation cannot take; the message is for the user."""


@dataclass(frozen=True, slots=True)
class _Place:
    """The stored conversation a question continues (None: a new one), and its state."""

    stored: StoredConversation | None
    state: Conversation


async def _place(desk: Desk, asker: Asker, where: Where, question: str, now: datetime) -> _Place:
    """Find the conversation a question continues; refuse an unknown or foreign one, or a follow-up of an ended one."""
    records = desk.records
    fresh = new_conversation(records.conversation_ttl if records else None)
    if records is None:
        return _Place(None, fresh)
    stored: StoredConversation | None = None
    collections = asker.scope.collections or ()
    if where.answer_id is not None:
        answer = await desk.quick(records.conversations.answer, where.answer_id)
        if answer is not None:
            stored = await desk.quick(records.conversations.get, answer.conversation_id)
        if stored is None or stored.collections != collections:
            raise _Refused(UNKNOWN_CONVERSATION)
    elif where.thread_id is not None:
        stored = await desk.quick(records.conversations.by_thread, where.thread_id)
        if stored is not None and stored.collections != collections:
            stored = None  # a thread of another server's conversation is never continued here
    if stored is None:
        return _Place(None, fresh)
    state = Conversation.model_validate_json(stored.state)
    if stored.expired(now) and needs_context(question, state):
        raise _Refused(expired_message(question, records.conversation_ttl.total_seconds() / 60))
    return _Place(stored, state)


async def ask(
    desk: Desk,
    responder: Responder,
    asker: Asker,
    question: str,
    *,
    where: Where | None = None,
    command: str = "ask",
    since: str | None = None,
) -> None:
    """Answer a question in its conversation, with quoted, numbered evidence, its sources and buttons."""
    where = where or Where()
    with desk.answering():
        await _ask(desk, responder, asker, question, where, command, since)


async def _ask(
    desk: Desk, responder: Responder, asker: Asker, question: str, where: Where, command: str, since: str | None
) -> None:
    async with timed(command, asker) as outcome:
        scope = asker.scope
        now = datetime.now(UTC)
        try:
            question = validate(question)
            if since:
                scope = replace(scope, since=parse_since(since, now=now))
        except BadQuestionError as exc:
            outcome.status = "bad-question"
            await responder.notice(str(exc))
            return
        if not await admit(desk, responder, asker, outcome):
            return
        try:
            place = await _place(desk, asker, where, question, now)
        except _Refused as exc:
            outcome.status = "refused"
            await responder.notice(str(exc))
            return
        await responder.defer()
        started = time.perf_counter()
        try:
            exchange = await desk.read(ask_in_conversation, desk.engine.ask, question, place.state, scope, now=now)
        except RetrievalError as exc:
            outcome.status = type(exc).__name__
            await responder.send(render_notice(str(exc)))
            return
        if isinstance(exchange.answer, PendingAnswer):  # a language model answers: stream it (bot/streaming.py)
            answer = await deliver(desk, responder, asker, exchange.answer, title=question)
            exchange = replace(exchange, answer=answer, turn=record_turn(exchange.asked, answer, now=now))
            desk.metrics.record(time.perf_counter() - started, answered=answer.answered)
            outcome.status = answer_status(answer, model=True)
            await _remember(desk, asker, where, place, exchange, question)  # streamed answers carry no buttons
            return
        desk.metrics.record(time.perf_counter() - started, answered=exchange.answer.answered)
        outcome.status = "answered" if exchange.answer.answered else "no-answer"
        if exchange.asked.rewritten:
            outcome.status += f", read as a follow-up ({exchange.asked.rule})"
        stored, answer_id = await _remember(desk, asker, where, place, exchange, question)
        await responder.send(_replies(desk, exchange, question, answer_id))
        if stored is not None and stored.thread_id is None and where.thread_id is None:
            await _continue_in_thread(desk, responder, stored, question)


async def _remember(
    desk: Desk, asker: Asker, where: Where, place: _Place, exchange: Exchange, question: str
) -> tuple[StoredConversation | None, str | None]:
    """Store the answer in its conversation (starting it when new); returns the conversation and the answer id."""
    try:
        return await _record(desk, asker, where, place, exchange, question)
    except StoreUnavailableError as exc:  # the answer is still shown, without buttons, while the database is down
        log.warning("answer not recorded: %s", exc)
        return None, None


async def _record(
    desk: Desk, asker: Asker, where: Where, place: _Place, exchange: Exchange, question: str
) -> tuple[StoredConversation | None, str | None]:
    records = desk.records
    if records is None:
        return None, None
    stored = place.stored
    if stored is None:
        stored = await desk.quick(
            records.conversations.start,
            asker.scope.collections or (),
            state=new_conversation(records.conversation_ttl).model_dump_json(),
            guild_id=asker.guild_id,
            thread_id=where.thread_id,
        )
    answer = exchange.answer
    quotes = [StoredQuote(c.n, c.article_id, c.title, c.quote, c.start, c.end) for c in answer.citations]
    saved = await desk.quick(
        records.conversations.record,
        stored.id,
        advance_with(exchange.turn),
        question=question,
        rewritten=exchange.asked.question,
        answered=answer.answered,
        quotes=quotes,
    )
    return stored, saved.id


def _replies(desk: Desk, exchange: Exchange, question: str, answer_id: str | None) -> list[Reply]:
    """The answer's messages: the question as title, "Read as" in small print, the buttons on the last one."""
    replies = render_answer(exchange.answer, embeds=desk.use_embeds, title=question)
    if exchange.asked.read_as:
        note = shorten(f"-# {escape_markdown(exchange.asked.read_as)}", CONTENT_LIMIT)
        first = replies[0]
        if not first.content:
            replies[0] = replace(first, content=note)
        elif len(note) + 1 + len(first.content) <= CONTENT_LIMIT:
            replies[0] = replace(first, content=f"{note}\n{first.content}")
        else:  # a plain answer that fills its first message: the note goes before it
            replies.insert(0, Reply(content=note))
    if answer_id is not None:
        numbers = [c.n for c in exchange.answer.citations]
        controls = AnswerControls(answer_id, context_labels(numbers))
        replies[-1] = replace(replies[-1], controls=controls)
    return replies


async def _continue_in_thread(desk: Desk, responder: Responder, stored: StoredConversation, question: str) -> None:
    """Open a thread on the answer, named after the question, and bind the conversation to it (when allowed)."""
    records = desk.records
    assert records is not None
    minutes = records.conversation_ttl.total_seconds() / 60
    archive = next((d for d in (60, 1440, 4320) if d >= minutes), 10080)  # Discord's auto-archive choices
    name = shorten(" ".join(question.split()), THREAD_NAME_LIMIT)

    async def bind(thread_id: int) -> None:
        await desk.quick(records.conversations.bind_thread, stored.id, thread_id)

    await responder.open_thread(name, archive_minutes=archive, opened=bind, hint=THREAD_HINT)
