"""The read commands: ``/summary`` and its article autocomplete, and what ``/ask`` shares with them.

Each handler takes the ``Desk``, a ``Responder`` (an interaction, a mention, or a test double)
and an ``Asker``; the cogs adapt Discord objects to these, so the logic is tested without
Discord. Handlers answer what users can act on (a bad question, an empty index, the rate
limit); anything else propagates to the caller's central error handler
(``bot.errors.report_failure``). With ``NEWSDESK_ANSWERER=llm`` the engine's answer to a
question is a ``PendingAnswer``, which ``bot.streaming`` streams into the response.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from app.answerers import fallback_notes
from app.deferred import PendingAnswer
from bot.render import render_answer, render_notice
from bot.streaming import deliver
from bot.timing import Outcome, timed
from retrieval.answer import Answer, shorten
from retrieval.errors import BadQuestionError, RetrievalError
from retrieval.question import validate

if TYPE_CHECKING:
    from bot.desk import Asker, Desk, EngineLike
    from bot.responders import Responder
    from index.models import Article
    from retrieval.scope import Scope

CHOOSE_ONE_SUMMARY = "Pick an article from the list, or give a topic: one of the two."


def rate_limited_message(wait: float, per_minute: int) -> str:
    """The friendly refusal when a user asks too fast."""
    return f"Easy there: you can ask {per_minute} questions a minute. Please try again in {max(1, math.ceil(wait))} s."


async def admit(desk: Desk, responder: Responder, asker: Asker, outcome: Outcome) -> bool:
    """Take a token of the asker's rate limit, or tell them how long to wait (False)."""
    wait = await desk.throttle(asker)
    if wait > 0:
        outcome.status = "rate-limited"
        await responder.notice(rate_limited_message(wait, desk.limiter.per_minute))
        return False
    return True


async def _bad_input(responder: Responder, outcome: Outcome, error: BadQuestionError) -> None:
    outcome.status = "bad-question"
    await responder.notice(str(error))


async def _answer_with(
    desk: Desk, responder: Responder, asker: Asker, outcome: Outcome, work: Callable[[], Awaitable[tuple[Answer, str]]]
) -> None:
    """Rate-limit, defer, run ``work`` (an answer and its title) and send it; user-facing errors become notices."""
    if not await admit(desk, responder, asker, outcome):
        return
    await responder.defer()
    try:
        answer, title = await work()
    except RetrievalError as exc:  # e.g. "No articles are indexed yet; a moderator can add some with /ingest"
        outcome.status = type(exc).__name__
        await responder.send(render_notice(str(exc)))
        return
    if isinstance(answer, PendingAnswer):  # a language model answers: stream it (bot/streaming.py)
        answer = await deliver(desk, responder, asker, answer, title=title)
        outcome.status = answer_status(answer, model=True)
        return
    outcome.status = answer_status(answer)
    await responder.send(render_answer(answer, embeds=desk.use_embeds, title=title))


def answer_status(answer: Answer, *, model: bool = False) -> str:
    """The outcome logged for an answer; a model's answer that fell back says so."""
    status = "answered" if answer.answered else "no-answer"
    return f"{status} (extractive fallback)" if model and fallback_notes(answer) else status


def _summarize_article(engine: EngineLike, ref: str, scope: Scope) -> Answer:
    """By id (what autocomplete sends), else the newest article whose title contains ``ref``."""
    try:
        return engine.summarize_article(ref, scope)
    except RetrievalError:
        matches = engine.find_articles(ref, scope, limit=1)
        if not matches:
            raise RetrievalError(f"No article here matches {ref!r}: pick one from the list as you type.") from None
        return engine.summarize_article(matches[0].id, scope)


async def summary(
    desk: Desk, responder: Responder, asker: Asker, *, article: str | None = None, topic: str | None = None
) -> None:
    """Summarize one article, or what the articles say on a topic; every sentence is cited."""
    async with timed("summary", asker) as outcome:
        article, topic = (article or "").strip(), (topic or "").strip()
        if bool(article) == bool(topic):
            outcome.status = "usage"
            await responder.notice(CHOOSE_ONE_SUMMARY)
            return
        try:
            topic = validate(topic) if topic else ""
        except BadQuestionError as exc:
            await _bad_input(responder, outcome, exc)
            return

        async def work() -> tuple[Answer, str]:
            if topic:
                return await desk.read(desk.engine.summarize_topic, topic, asker.scope), f"Summary: {topic}"
            result = await desk.read(_summarize_article, desk.engine, article, asker.scope)
            return result, "Summary: " + result.question.removeprefix("summary of ")

        await _answer_with(desk, responder, asker, outcome, work)


def _label(article: Article) -> str:
    extra = ", ".join(
        x for x in (article.source, article.published.date().isoformat() if article.published else None) if x
    )
    suffix = f" ({extra})" if extra else ""
    return shorten(article.title or f"(untitled) {article.id}", 100 - len(suffix)) + suffix


async def article_choices(desk: Desk, asker: Asker, current: str) -> list[tuple[str, str]]:
    """Autocomplete: ``(label, article id)`` for up to 25 articles whose title contains ``current``."""
    articles = await desk.read(desk.engine.find_articles, current.strip()[:100], asker.scope, limit=25)
    return [(_label(a), a.id) for a in articles]
