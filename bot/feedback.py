"""Feedback on answers: 👍 / 👎, reports with a reason, and ``/feedback`` for moderators.

Discord-free handlers like ``bot.reads``: each takes the desk, a responder and the asker.
Votes and reports are stored per answer with what was judged (``index.feedbackstore``), one per
user and answer; a second click changes the vote. Buttons of an answer the bot no longer has
(or of another server) get a notice, never an error.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bot.controls import PageControls
from bot.errors import not_moderator_message
from bot.render import FIELD_VALUE_LIMIT, TITLE_LIMIT, Reply, escape_markdown
from bot.timing import timed
from index.feedbackstore import MAX_DETAILS_CHARS, REASONS
from retrieval.answer import shorten

if TYPE_CHECKING:
    from bot.desk import Asker, Desk
    from bot.responders import Responder
    from index.convstore import StoredAnswer
    from index.feedbackstore import Judgement

__all__ = ["PAGE_SIZE", "UNKNOWN_ANSWER", "feedback_list", "find_answer", "render_reports", "report", "vote"]

PAGE_SIZE = 5
UNKNOWN_ANSWER = (
    "I no longer have that answer (it is too old, or from somewhere else), so there is nothing to do with it. "
    "Ask again with /ask."
)
NO_RECORDS = "This bot keeps no feedback."
_VOTED = {
    ("new", True): "Thanks! Your \N{THUMBS UP SIGN} is recorded.",
    ("new", False): "Thanks: your \N{THUMBS DOWN SIGN} is recorded. If you can say what is wrong, use Report.",
    ("changed", True): "Changed your vote to \N{THUMBS UP SIGN}.",
    ("changed", False): "Changed your vote to \N{THUMBS DOWN SIGN}.",
    ("same", True): "You already gave this answer a \N{THUMBS UP SIGN}.",
    ("same", False): "You already gave this answer a \N{THUMBS DOWN SIGN}.",
}
REPORTED = "Thanks, your report is recorded: moderators see it with /feedback."


async def find_answer(desk: Desk, asker: Asker, answer_id: str) -> StoredAnswer | None:
    """The stored answer a button is about, if it was given where the asker is (else None: no leak)."""
    if desk.records is None:
        return None
    answer = await desk.quick(desk.records.conversations.answer, answer_id)
    if answer is None or answer.collections != (asker.scope.collections or ()):
        return None
    return answer


async def vote(desk: Desk, responder: Responder, asker: Asker, answer_id: str, up: bool) -> None:
    """Record a 👍 or 👎 on an answer (one per user; the other button changes it)."""
    async with timed("vote", asker) as outcome:
        await responder.defer(ephemeral=True)
        answer = await find_answer(desk, asker, answer_id)
        if answer is None or desk.records is None:
            outcome.status = "unknown answer"
            await responder.notice(UNKNOWN_ANSWER)
            return
        change = await desk.quick(desk.records.feedback.vote, answer, asker.user_id, up)
        outcome.status = f"{change} {'up' if up else 'down'}"
        await responder.notice(_VOTED[change, up])


def report_problem(reason: str, details: str) -> str | None:
    """Why a submitted report cannot be taken, or None."""
    if reason not in REASONS:
        return "Pick what is wrong from the list."
    if len(details) > MAX_DETAILS_CHARS:
        return (
            f"The details are {len(details):,} characters; the limit is {MAX_DETAILS_CHARS:,}. "
            "Please shorten them and report again."
        )
    if reason == "other" and not details:
        return "Say what is wrong under Details when you choose Other."
    return None


async def report(desk: Desk, responder: Responder, asker: Asker, answer_id: str, reason: str, details: str) -> None:
    """Record a report on an answer: a reason from ``REASONS`` and free text (needed for Other)."""
    async with timed("report", asker) as outcome:
        details = details.strip()
        problem = report_problem(reason, details)
        if problem is not None:
            outcome.status = "refused"
            await responder.notice(problem)
            return
        await responder.defer(ephemeral=True)
        answer = await find_answer(desk, asker, answer_id)
        if answer is None or desk.records is None:
            outcome.status = "unknown answer"
            await responder.notice(UNKNOWN_ANSWER)
            return
        await desk.quick(desk.records.feedback.report, answer, asker.user_id, reason, details or None)
        outcome.status = f"reported {reason}"
        await responder.notice(REPORTED)


def _report_field(judgement: Judgement) -> dict[str, object]:
    when = f"<t:{int(judgement.reported_at.timestamp())}:R>" if judgement.reported_at else ""
    lines = [f"**Q:** {escape_markdown(shorten(judgement.question, 200))}"]
    lines += [f"> {escape_markdown(shorten(q.quote, 200))} [{q.n}]" for q in judgement.quotes[:2]]
    if judgement.details:
        lines.append(f"**Details:** {escape_markdown(shorten(judgement.details, 300))}")
    return {
        "name": shorten(f"{REASONS.get(judgement.reason or '', judgement.reason)} · answer {judgement.answer_id}", 256),
        "value": shorten(f"{when}\n" + "\n".join(lines) if when else "\n".join(lines), FIELD_VALUE_LIMIT),
        "inline": False,
    }


def render_reports(judgements: list[Judgement], page: int, total: int) -> Reply:
    """One page of reports, newest first, with previous / next buttons."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if not judgements:
        return Reply(content="No reports in this server yet.")
    embed = {
        "title": shorten(f"Reports on answers in this server ({total})", TITLE_LIMIT),
        "fields": [_report_field(j) for j in judgements],
        "footer": {"text": f"Page {page + 1} of {pages} · newest first · `newsdesk feedback export` saves them"},
    }
    return Reply(embed=embed, controls=PageControls(page, pages))


async def feedback_list(desk: Desk, responder: Responder, asker: Asker, page: int, *, edit: bool = False) -> None:
    """A page of this server's reports, for moderators; ``edit`` replaces the page a button was on."""
    async with timed("feedback", asker) as outcome:
        if not asker.is_moderator:
            outcome.status = "refused"
            await responder.notice(not_moderator_message(desk.moderator_role))
            return
        if desk.records is None:
            outcome.status = "no records"
            await responder.notice(NO_RECORDS)
            return
        if not edit:
            await responder.defer(ephemeral=True)
        reports = desk.records.feedback.reports
        judgements, total = await desk.quick(reports, [asker.collection], offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        if total and not judgements:  # reports were removed meanwhile: show the last page there is
            page = max(0, math.ceil(total / PAGE_SIZE) - 1)
            judgements, total = await desk.quick(reports, [asker.collection], offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        outcome.status = f"page {page + 1}, {total} reports"
        reply = render_reports(judgements, page, total)
        if edit:
            await responder.show(reply)
        else:
            await responder.send([reply], ephemeral=True)
