"""Questions asked in a conversation: the rewrite, the previous articles searched first, expiry."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from app.conversations import advance_with, ask_in_conversation, needs_context, new_conversation
from index.models import RawArticle
from retrieval.answer import Answer, Citation
from retrieval.conversation import Conversation
from retrieval.scope import Scope
from tests.conftest import PESKOV, SEEDS, MakeEngine

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
QUOTE = '"Everything turned out to be exactly opposite," Peskov added.'


@dataclass
class ScriptedEngine:
    """Answers from a script keyed by whether the question was narrowed to article ids."""

    narrowed_answers: bool = True
    calls: list[tuple[str, Scope | None]] = field(default_factory=list)
    abstains: list[bool] = field(default_factory=list)

    def ask(self, question: str, scope: Scope | None = None, *, abstain: bool = True) -> Answer:
        self.calls.append((question, scope))
        self.abstains.append(abstain)
        if scope is not None and scope.article_ids is not None and not self.narrowed_answers:
            return Answer(question, False, "not found", latency_ms=5.0)
        citation = Citation(1, "a1", "Russia-US ties", None, None, None, QUOTE, 0, len(QUOTE))
        return Answer(question, True, f"> {QUOTE} [1]", (citation,), latency_ms=7.0)


SCOPE = Scope(collections=("111", "global"))
SHOWN = (("a1", 0, len(QUOTE)),)  # the first answer's quote: "what else" must not show it again


def after_peskov(engine: ScriptedEngine) -> Conversation:
    return ask_in_conversation(engine.ask, PESKOV, new_conversation(), SCOPE, now=NOW).conversation


def test_first_question_is_asked_as_typed_in_the_whole_scope():
    """should ask a conversation's first question unchanged, once, within the given scope."""
    engine = ScriptedEngine()
    exchange = ask_in_conversation(engine.ask, PESKOV, new_conversation(), SCOPE, now=NOW)
    assert engine.calls == [(PESKOV, SCOPE)]
    assert (exchange.asked.rewritten, exchange.turn.article_ids) == (False, ("a1",))
    assert exchange.conversation.turns == (exchange.turn,)


def test_follow_up_searches_the_previous_articles_first():
    """should rewrite the follow-up and search the previous answer's articles within the scope, without abstaining."""
    engine = ScriptedEngine()
    conversation = after_peskov(engine)
    exchange = ask_in_conversation(engine.ask, "What else did he say?", conversation, SCOPE, now=NOW)
    asked = "What else did Peskov say about the strikes?"
    assert exchange.asked.question == asked
    assert engine.calls[1:] == [(asked, Scope(collections=("111", "global"), article_ids=("a1",), avoid_quotes=SHOWN))]
    assert engine.abstains == [True, False]  # the story is the conversation's: quote its best evidence
    assert exchange.answer.answered


def test_follow_up_falls_back_to_the_whole_scope_when_the_previous_articles_abstain():
    """should ask again in the whole scope when the previous articles do not answer, adding up the latency."""
    engine = ScriptedEngine()
    conversation = after_peskov(engine)
    engine.narrowed_answers = False
    exchange = ask_in_conversation(engine.ask, "What else did he say?", conversation, SCOPE, now=NOW)
    assert [scope for _q, scope in engine.calls[1:]] == [
        Scope(collections=("111", "global"), article_ids=("a1",), avoid_quotes=SHOWN),
        replace(SCOPE, avoid_quotes=SHOWN),
    ]
    assert exchange.answer.latency_ms == 12.0


def test_search_first_stays_within_an_article_filter():
    """should search only previous articles that the scope allows, and skip the first pass when none is."""
    engine = ScriptedEngine()
    conversation = after_peskov(engine)
    narrowed = Scope(collections=("global",), article_ids=("b2",))
    ask_in_conversation(engine.ask, "What else did he say?", conversation, narrowed, now=NOW)
    assert engine.calls[1:] == [("What else did Peskov say about the strikes?", replace(narrowed, avoid_quotes=SHOWN))]


def test_an_expired_conversation_is_not_revived():
    """should read a question after expiry on its own and start the turns afresh."""
    engine = ScriptedEngine()
    conversation = after_peskov(engine)
    late = NOW + conversation.ttl + timedelta(minutes=1)
    exchange = ask_in_conversation(engine.ask, "What else did he say?", conversation, SCOPE, now=late)
    assert exchange.asked.rewritten is False
    assert len(exchange.conversation.turns) == 1
    assert needs_context("What else did he say?", conversation) is True
    assert needs_context("What did Obama say about Iran?", conversation) is False
    assert needs_context("What else did he say?", new_conversation()) is False


def test_advance_with_applies_a_turn_to_the_stored_state():
    """should add the turn to the state as stored and give the new expiry, resetting an expired state."""
    engine = ScriptedEngine()
    conversation = after_peskov(engine)
    turn = ask_in_conversation(engine.ask, "and why?", conversation, SCOPE, now=NOW).turn
    state, expires = advance_with(turn)(conversation.model_dump_json())
    assert len(Conversation.model_validate_json(state).turns) == 2
    assert expires == NOW + conversation.ttl
    later = turn.model_copy(update={"asked_at": NOW + timedelta(days=1)})
    state, _ = advance_with(later)(conversation.model_dump_json())
    assert Conversation.model_validate_json(state).turns == (later,)


def test_a_follow_up_never_reaches_another_collection(make_engine: MakeEngine):
    """should answer a follow-up only from the conversation's collections, even when another has the words."""
    engine = make_engine()
    engine.ingest_paths([SEEDS], collection="111")
    engine.ingest(
        [RawArticle(title="Peskov elsewhere", text="Peskov said the strikes elsewhere were a secret of server two.")],
        collection="222",
    )
    scope = Scope(collections=("111", "global"))
    first = ask_in_conversation(engine.ask, PESKOV, new_conversation(), scope)
    follow = ask_in_conversation(engine.ask, "and what about the secret?", first.conversation, scope)
    cited = {c.article_id for c in (*first.answer.citations, *follow.answer.citations)}
    assert cited
    assert all(engine.store.article(a).collection == "111" for a in cited)
