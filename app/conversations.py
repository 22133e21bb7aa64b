"""Questions asked in a conversation: a follow-up is read in context and searched in the previous articles first.

``retrieval.conversation`` rewrites "What else did he say?" into a standalone question; this
module asks it. The previous turn's cited articles are searched first, and the whole scope only
when that answer abstains: a follow-up is usually about the story just quoted (on
``benchmarks/questions/followups.jsonl`` this took the rewritten second turns from 0.243 to 0.297
right). Searching first never widens the scope: the previous articles are searched within it.

The engine itself is untouched: this is a wrapper over ``Engine.ask(question, scope)``, used by the bot,
``newsdesk chat`` and ``newsdesk ask --batch`` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from retrieval.answer import Answer
from retrieval.conversation import Conversation, Rewrite, Turn, record_turn, rewrite
from retrieval.scope import Scope

__all__ = ["Ask", "Exchange", "advance_with", "ask_in_conversation", "needs_context", "new_conversation"]


class Ask(Protocol):
    """What answers a question within a scope (``Engine.ask``); ``abstain=False`` quotes the best evidence anyway."""

    def __call__(self, question: str, scope: Scope, *, abstain: bool = True) -> Answer:
        """Answer ``question`` within ``scope``."""
        ...


"""Answers a question within a scope: ``Engine.ask`` (the CLI binds its retrieval mode)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One question of a conversation, answered.

    Attributes:
        asked: how the question was read (``asked.question`` was searched).
        answer: the answer.
        turn: what this exchange leaves for the next follow-up.
        conversation: the conversation with ``turn`` added.
    """

    asked: Rewrite
    answer: Answer
    turn: Turn
    conversation: Conversation


def new_conversation(ttl: timedelta | None = None) -> Conversation:
    """An empty conversation that expires ``ttl`` after its last turn (default: the module's 30 minutes)."""
    return Conversation() if ttl is None else Conversation(ttl=ttl)


def _fresh(conversation: Conversation, now: datetime) -> Conversation:
    """The conversation, or an empty one with its settings once it has expired (old turns are not revived)."""
    if conversation.turns and conversation.last(now) is None:
        return conversation.model_copy(update={"turns": (), "expires_at": None})
    return conversation


def ask_in_conversation(
    ask: Ask, question: str, conversation: Conversation, scope: Scope | None = None, *, now: datetime | None = None
) -> Exchange:
    """Read ``question`` in its conversation, answer it, and record the turn.

    Args:
        ask: what answers (``Engine.ask``).
        question: the question as typed (validated by the engine).
        conversation: the conversation so far (an expired one counts as none).
        scope: what may be searched; a follow-up searches its previous articles within it first.
        now: the time of the question (default: now), for expiry and the turn's time.

    Raises:
        BadQuestionError, IndexNotReadyError: as ``Engine.ask``.
    """
    now = now or datetime.now(UTC)
    conversation = _fresh(conversation, now)
    asked = rewrite(question, conversation, now=now)
    answer = _ask(ask, asked, scope or Scope())
    turn = record_turn(asked, answer, now=now)
    return Exchange(asked, answer, turn, conversation.add(turn))


def _ask(ask: Ask, asked: Rewrite, scope: Scope) -> Answer:
    """The previous turn's articles first (within ``scope``), then the whole scope when that abstains."""
    scope = replace(scope, avoid_quotes=asked.avoid) if asked.avoid else scope
    first_ids = asked.search_first
    if scope.article_ids is not None:
        first_ids = tuple(a for a in first_ids if a in scope.article_ids)
    if not first_ids:
        return ask(asked.question, scope)
    # The story is the conversation's: whether the index holds it is settled, so the reader quotes its best.
    first = ask(asked.question, replace(scope, article_ids=first_ids), abstain=False)
    if first.answered:
        return first
    answer = ask(asked.question, scope)
    return replace(answer, latency_ms=answer.latency_ms + first.latency_ms)


def needs_context(question: str, conversation: Conversation) -> bool:
    """Whether ``question`` is a follow-up of the conversation's last turn, expired or not.

    After a conversation expired, a question that leans on it ("and why?") cannot be answered
    as meant, while one that stands alone can be answered as a new conversation.
    """
    if not conversation.turns:
        return False
    return rewrite(question, conversation, now=conversation.turns[-1].asked_at).rewritten


def advance_with(turn: Turn) -> Callable[[str], tuple[str, datetime | None]]:
    """How a stored conversation state (JSON) takes ``turn``: the state is re-read, so concurrent turns all land."""

    def advance(state: str) -> tuple[str, datetime | None]:
        current = _fresh(Conversation.model_validate_json(state), turn.asked_at)
        after = current.add(turn)
        return after.model_dump_json(), after.expires_at

    return advance
