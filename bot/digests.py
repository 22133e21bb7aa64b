"""``/digest`` and daily digests in a channel: handlers, rendering and the scheduler's round, without Discord.

A digest is built by ``retrieval.digest.build_digest`` in the desk's read pool (grouping and
summarizing take a while), in the asker's scope: their server's collection plus the global one,
never another server's. A schedule belongs to one server's collection and posts only there.

Each scheduled run covers the 24 hours before it and passes what that schedule posted before
(``DigestStore.posted``), so a story comes back only with new articles; a quiet day posts the
digest's one quiet line. What a run posted and its next run are stored together after posting.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.digesttime import first_run, next_run, parse_clock, parse_timezone
from bot.reads import admit
from bot.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    Reply,
    escape_answer_line,
    escape_markdown,
    fit_line,
    pack,
    source_line,
)
from bot.timing import timed
from index.digeststore import DigestSchedule, DigestStore
from index.models import GLOBAL_COLLECTION
from retrieval.answer import Citation, shorten
from retrieval.digest import Digest, Story, Window, build_digest, make_window
from retrieval.errors import BadQuestionError
from retrieval.intent import Intent, intent
from retrieval.question import validate

if TYPE_CHECKING:
    from app.engine import Engine
    from bot.desk import Asker, Desk
    from bot.responders import Responder

log = logging.getLogger(__name__)

DIGEST_COLOUR = 0x3B6EA5
DAILY = timedelta(hours=24)
MAX_TOPIC_CHARS = 100
MAX_SCHEDULES = 10  # per server: each one is a digest to build every day
_QUOTE_CHARS = {True: 700, False: 450}  # per quote line, embeds / plain text: a story stays one unit


class BuildDigest(Protocol):
    """``build_digest`` with the store and encoder bound (tests pass a fake)."""

    def __call__(
        self,
        window: Window,
        *,
        collections: Sequence[str] | None = ...,
        topic: str | None = ...,
        sources: Sequence[str] | None = ...,
        posted: Mapping[str, Collection[str]] | None = ...,
    ) -> Digest:
        """The digest of ``window``."""
        ...


@dataclass
class Digests:
    """What the digest commands and the scheduler share: the builder, the schedules, and the clock."""

    build: BuildDigest
    schedules: DigestStore
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def make_digests(engine: Engine) -> Digests:
    """Digests over the real engine's store and query encoder (blocking: creates the tables)."""
    build = functools.partial(build_digest, engine.store, engine.query_encoder)
    return Digests(build, DigestStore(engine.store))


# -- rendering ------------------------------------------------------------------------------------
def _numbered(stories: Sequence[Story]) -> list[list[Citation]]:
    """Each story's citations, numbered across the digest (one number per article)."""
    numbers: dict[str, int] = {}
    out = []
    for story in stories:
        out.append([replace(c, n=numbers.setdefault(c.article_id, len(numbers) + 1)) for c in story.citations])
    return out


def _story_unit(rank: int, story: Story, citations: Sequence[Citation], *, embeds: bool) -> str:
    """One story: title, every outlet that ran it, its cited summary sentences, and their source."""
    updated = " · *updated*" if story.updated else ""
    count = len(story.article_ids)
    outlets = escape_markdown(shorten(" · ".join(story.sources) or "unknown source", 300))
    lines = [
        f"**{rank}. {escape_markdown(shorten(story.title, 200))}**{updated}",
        f"{outlets} · {count} article{'s' * (count != 1)}",
    ]
    lines += [
        fit_line(escape_answer_line(f"> {' '.join(c.quote.split())} [{c.n}]"), _QUOTE_CHARS[embeds]) for c in citations
    ]
    seen: set[int] = set()
    for c in citations:
        if c.n not in seen:
            seen.add(c.n)
            lines.append(source_line(c, angle_links=not embeds, limit=400))
    return "\n".join(lines)


def digest_title(digest: Digest) -> str:
    """``Digest since 2025-03-19 12:00 UTC`` and the filters, escaped."""
    on = f" · {digest.topic}" if digest.topic else ""
    by = f" · from {', '.join(digest.sources)}" if digest.sources else ""
    return shorten(escape_markdown(f"Digest since {digest.window.since:%Y-%m-%d %H:%M} UTC{on}{by}"), TITLE_LIMIT)


def render_digest(digest: Digest, *, embeds: bool) -> list[Reply]:
    """The digest as messages within Discord's limits, a story never split; a quiet one as its one line."""
    if digest.quiet:
        return [Reply(content=escape_markdown(digest.quiet_line()))]
    units = [
        _story_unit(i, s, cites, embeds=embeds)
        for i, (s, cites) in enumerate(zip(digest.stories, _numbered(digest.stories), strict=True), 1)
    ]
    stories = len(digest.stories)
    note = f"{stories} stor{'ies' if stories != 1 else 'y'} from {digest.articles} articles · quotes are verbatim"
    if not embeds:
        header = f"**{digest_title(digest)}**"
        return [Reply(content=part) for part in pack([header, *units, f"-# {note}"], CONTENT_LIMIT, sep="\n\n")]
    parts = pack(units, DESCRIPTION_LIMIT, sep="\n\n")
    out: list[dict[str, Any]] = [{"description": part, "color": DIGEST_COLOUR} for part in parts]
    out[0]["title"] = digest_title(digest)
    out[-1]["footer"] = {"text": shorten(note, FOOTER_LIMIT)}
    return [Reply(embed=embed) for embed in out]


# -- /digest --------------------------------------------------------------------------------------
#: The window a request for the news in general covers, by the first time word it holds (else the last day).
_ASKED_WINDOWS = (("yesterday", "yesterday"), ("week", "7 days"), ("weekend", "3 days"), ("month", "30 days"))


def asked_window(question: str) -> str | None:
    """The digest's ``since`` when ``question`` asks for the news in general ("any news?"), else ``None``.

    ``retrieval.intent`` decides; "what happened this week" covers 7 days, "yesterday" yesterday, anything
    else the last 24 hours. A mention or ``/ask`` reading this way is answered with the digest, which is
    what it asks for, rather than with quotes that share a word with it.
    """
    try:
        text = validate(question)
    except BadQuestionError:
        return None
    if intent(text) is not Intent.GENERAL_NEWS:
        return None
    words = set(re.findall(r"[a-z]+", text.casefold()))
    return next((since for word, since in _ASKED_WINDOWS if word in words or f"{word}s" in words), "24h")


def _topic(topic: str | None) -> str | None:
    topic = " ".join((topic or "").split())
    if len(topic) > MAX_TOPIC_CHARS:
        raise BadQuestionError(f"The topic is too long: keep it under {MAX_TOPIC_CHARS} characters.")
    return topic or None


async def digest(
    desk: Desk,
    digests: Digests,
    responder: Responder,
    asker: Asker,
    *,
    since: str,
    topic: str | None = None,
    source: str | None = None,
) -> None:
    """The main stories since ``since`` in the asker's scope; bad input gets an ephemeral notice."""
    async with timed("digest", asker) as outcome:
        try:
            window = make_window(since, now=digests.clock())
            topic = _topic(topic)
        except BadQuestionError as exc:
            outcome.status = "bad-question"
            await responder.notice(str(exc))
            return
        if not await admit(desk, responder, asker, outcome):
            return
        await responder.defer()
        sources = [source.strip()] if source and source.strip() else None
        found = await desk.read(
            digests.build, window, collections=asker.scope.collections, topic=topic, sources=sources
        )
        outcome.status = "quiet" if found.quiet else f"{len(found.stories)} stories"
        await responder.send(render_digest(found, embeds=desk.use_embeds))


# -- schedules ------------------------------------------------------------------------------------
def schedule_line(schedule: DigestSchedule) -> str:
    """One schedule in the list: number, channel, local time and timezone, topic, next run."""
    on = f" · on {escape_markdown(schedule.topic)}" if schedule.topic else ""
    return (
        f"**{schedule.id}** · <#{schedule.channel_id}> · every day at {schedule.at:%H:%M} "
        f"{escape_markdown(schedule.timezone)}{on} · next <t:{int(schedule.next_run.timestamp())}:R>"
    )


async def add_schedule(
    desk: Desk,
    digests: Digests,
    responder: Responder,
    asker: Asker,
    *,
    channel_id: int,
    at: str,
    timezone: str | None = None,
    topic: str | None = None,
) -> DigestSchedule | None:
    """Post a digest of the last 24 hours in ``channel_id`` every day at ``at`` local time (moderators)."""
    try:
        clock, zone, topic = parse_clock(at), parse_timezone(timezone), _topic(topic)
    except BadQuestionError as exc:
        await responder.notice(str(exc))
        return None
    collection = asker.collection
    existing = await desk.quick(digests.schedules.of, [collection])
    if len(existing) >= MAX_SCHEDULES:
        await responder.notice(f"This server has {MAX_SCHEDULES} digest schedules already; remove one first.")
        return None
    now = digests.clock()
    schedule = await desk.quick(
        digests.schedules.add,
        collection=collection,
        channel_id=channel_id,
        at=clock,
        timezone=zone.key,
        topic=topic,
        added_by=asker.user_id,
        next_run=first_run(clock, zone, now=now),
        now=now,
    )
    await responder.notice(f"Scheduled digest {schedule_line(schedule)}.")
    return schedule


async def list_schedules(desk: Desk, digests: Digests, responder: Responder, asker: Asker) -> None:
    """This server's digest schedules (ephemeral)."""
    found = await desk.quick(digests.schedules.of, [asker.collection])
    if not found:
        await responder.notice("This server has no digest schedules; add one with `/digest-schedule add`.")
        return
    await responder.send([Reply(content=p) for p in pack(map(schedule_line, found), CONTENT_LIMIT)], ephemeral=True)


async def remove_schedule(desk: Desk, digests: Digests, responder: Responder, asker: Asker, schedule_id: int) -> None:
    """Stop one of this server's digest schedules."""
    removed = await desk.quick(digests.schedules.remove, schedule_id, [asker.collection])
    if removed is None:
        await responder.notice(f"This server has no digest schedule {schedule_id}; see `/digest-schedule list`.")
        return
    await responder.notice(
        f"Removed the daily digest in <#{removed.channel_id}> ({removed.at:%H:%M} {removed.timezone})."
    )


# -- the scheduler's round ------------------------------------------------------------------------
Post = Callable[[DigestSchedule, Sequence[Reply]], Awaitable[bool]]
"""Posts a digest in a schedule's channel; False when it could not (no channel, no permission)."""


async def run_schedule(desk: Desk, digests: Digests, schedule: DigestSchedule, post: Post) -> Digest:
    """Build, post and record one due schedule's digest; its next run is set even if posting failed."""
    now = digests.clock()
    posted = await desk.quick(digests.schedules.posted, schedule.id)
    found = await desk.read(
        digests.build,
        make_window(now - DAILY, now=now),
        collections=(schedule.collection, GLOBAL_COLLECTION),  # schedules are made in servers only
        topic=schedule.topic,
        posted=posted,
    )
    sent = await post(schedule, render_digest(found, embeds=desk.use_embeds))
    shown = {s.key: s.article_ids for s in found.stories} if sent else {}
    upcoming = following_run(schedule, now)
    await desk.quick(digests.schedules.record_run, schedule.id, shown, next_run=upcoming, now=now)
    log.info(
        "digest schedule %s: %s in channel %s; next run %s",
        schedule.id,
        "quiet" if found.quiet else f"{len(found.stories)} stories",
        schedule.channel_id,
        upcoming.isoformat(),
    )
    return found


def following_run(schedule: DigestSchedule, now: datetime) -> datetime:
    """The run after this one; a bot that was down catches up once, not once per missed day."""
    return next_run(schedule.at, parse_timezone(schedule.timezone), after=max(now, schedule.next_run))


async def run_due(desk: Desk, digests: Digests, post: Post) -> int:
    """Run every due schedule (one failing does not stop the others); returns how many ran."""
    due = await desk.quick(digests.schedules.due, digests.clock())
    ran = 0
    for schedule in due:
        try:
            await run_schedule(desk, digests, schedule, post)
            ran += 1
        except Exception:  # skip to the next day rather than fail (and log) every round
            log.exception("digest schedule %s failed; it runs again at its next time", schedule.id)
            now = digests.clock()
            await desk.quick(
                digests.schedules.record_run, schedule.id, {}, next_run=following_run(schedule, now), now=now
            )
    return ran
