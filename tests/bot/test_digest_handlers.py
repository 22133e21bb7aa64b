"""``/digest`` and daily digests, without Discord: scope, citations, limits, bad input, and the scheduler's round."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot import digests as handlers
from bot.desk import Asker, Desk
from bot.digests import Digests, render_digest
from bot.ratelimit import RateLimiter
from bot.render import CONTENT_LIMIT, DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT, TITLE_LIMIT, Reply
from index.digeststore import DigestSchedule, DigestStore
from retrieval.digest import build_digest
from tests.digest_news import ITEMS, NOW, OTHER_SERVER, SERVER, Item, make_desk
from tests.digest_news import Desk as NewsDay

from .conftest import RecordingResponder

ASKER = Asker(user_id=5, guild_id=int(SERVER), is_moderator=True)
PAM_QUOTE_START = "Cyclone Pam"


@pytest.fixture
def news(tmp_path: Path) -> NewsDay:
    return make_desk(tmp_path)


@pytest.fixture
def desk(news: NewsDay) -> Iterator[Desk]:
    desk = Desk(news.engine, limiter=RateLimiter(600))
    yield desk
    desk.close()


@pytest.fixture
def digests(news: NewsDay) -> Digests:
    build = functools.partial(build_digest, news.engine.store, news.engine.encoder)
    return Digests(build, DigestStore(news.engine.store), clock=lambda: NOW)


def _unescape(text: str) -> str:
    return " ".join(re.sub(r"\\(.)", r"\1", text).split())


def _quotes(replies: Sequence[Reply]) -> list[str]:
    text = "\n".join((r.embed or {}).get("description", "") or r.content or "" for r in replies)
    return [_unescape(re.sub(r"\s*\[\d+\]$", "", line[2:])) for line in text.splitlines() if line.startswith("> ")]


async def test_digest_shows_cited_stories_of_the_servers_scope_only(
    news: NewsDay, desk: Desk, digests: Digests, responder: RecordingResponder
) -> None:
    """should defer, then list the stories with every outlet and verbatim quotes, never another server's."""
    news.add("secret", ITEMS["museum"], collection=OTHER_SERVER, source="SecretWire")
    await handlers.digest(desk, digests, responder, ASKER, since="24h")
    assert responder.events[0] == ("defer", False)
    shown = _unescape(responder.text)
    assert "SecretWire" not in shown
    assert re.search(r"\*\*1\. .*Cyclone Pam.*\*\*", responder.text)
    assert "**1. Cyclone Pam batters Vanuatu**\nReuters · AP · BBC · 3 articles\n> " in responder.text
    texts = [a.text for a in news.engine.store.articles(news.ids.values()).values()]
    quotes = _quotes(responder.replies)
    assert quotes
    assert all(any(q in " ".join(t.split()) for t in texts) for q in quotes)


async def test_digest_answers_a_quiet_window_in_one_line(
    desk: Desk, digests: Digests, responder: RecordingResponder
) -> None:
    await handlers.digest(desk, digests, responder, ASKER, since="24h", topic="volcano eruption in Iceland")
    assert [r.content for r in responder.replies] == [
        "No new stories on 'volcano eruption in Iceland' since 2025-03-19 12:00 UTC."
    ]


@pytest.mark.parametrize(
    ("since", "message"),
    [("next tuesday maybe", "can't read"), ("2025-04-01", "future"), ("2023-01-01", "longer than a year")],
)
async def test_bad_windows_get_an_ephemeral_notice_and_no_deferral(
    desk: Desk, digests: Digests, responder: RecordingResponder, since: str, message: str
) -> None:
    await handlers.digest(desk, digests, responder, ASKER, since=since)
    assert [kind for kind, _ in responder.events] == ["notice"]
    assert message in responder.of("notice")[0]


def test_render_stays_within_discords_limits_and_never_splits_a_story(news: NewsDay) -> None:
    """should pack many long stories into embeds (or messages) within every limit, a story whole in one."""
    for i in range(12):
        words = " ".join(f"w{i}x{j}" for j in range(150))
        text = f"Council{i} approved the plan{i} {words}. Mayor{i} said plan{i} {words} would start soon."
        news.add(f"long{i}", Item(f"Story {i} " + "x" * 300, text, f"Outlet{i}", 1))
    digest = news.digest(limit=None)
    assert len(digest.stories) > 5
    embeds = render_digest(digest, embeds=True)
    assert len(embeds) > 1
    for reply in embeds:
        embed = reply.embed or {}
        size = len(embed.get("title", "")) + len(embed["description"]) + len(embed.get("footer", {}).get("text", ""))
        assert len(embed["description"]) <= DESCRIPTION_LIMIT and size <= EMBED_TOTAL_LIMIT
        assert len(embed.get("title", "")) <= TITLE_LIMIT
    heads = [n for r in embeds for n in re.findall(r"^\*\*(\d+)\. ", (r.embed or {})["description"], re.M)]
    assert heads == [str(i) for i in range(1, len(digest.stories) + 1)]
    plain = render_digest(digest, embeds=False)
    assert all(r.content is not None and len(r.content) <= CONTENT_LIMIT for r in plain)


async def test_schedule_refuses_bad_time_and_timezone(
    desk: Desk, digests: Digests, responder: RecordingResponder
) -> None:
    assert await handlers.add_schedule(desk, digests, responder, ASKER, channel_id=7, at="8am") is None
    assert (
        await handlers.add_schedule(desk, digests, responder, ASKER, channel_id=7, at="08:00", timezone="Mars/Base")
        is None
    )
    assert [kind for kind, _ in responder.events] == ["notice", "notice"]
    assert "HH:MM" in responder.of("notice")[0] and "Mars/Base" in responder.of("notice")[1]
    assert digests.schedules.of([SERVER]) == []


async def test_a_schedule_posts_then_repeats_a_story_only_with_news(
    news: NewsDay, desk: Desk, digests: Digests, responder: RecordingResponder
) -> None:
    """should post the day's stories when due, a quiet line next time, and a story again once it has news."""
    # 12:00 UTC is 13:00 in Paris: the schedule is due at once.
    made = await handlers.add_schedule(
        desk, digests, responder, ASKER, channel_id=7, at="13:00", timezone="Europe/Paris"
    )
    assert made is not None and made.next_run == NOW
    posts: list[tuple[int, list[Reply]]] = []

    async def post(schedule: DigestSchedule, replies: Sequence[Reply]) -> bool:
        posts.append((schedule.channel_id, list(replies)))
        return True

    assert await handlers.run_due(desk, digests, post) == 1
    assert await handlers.run_due(desk, digests, post) == 0  # next run is tomorrow
    first = digests.schedules.get(made.id)
    assert first is not None and first.next_run == NOW + timedelta(days=1)
    assert posts[0][0] == 7
    assert len(re.findall(r"^\*\*\d+\. ", (posts[0][1][0].embed or {})["description"], re.M)) == 5
    await handlers.run_schedule(desk, digests, first, post)
    assert [r.content for r in posts[1][1]] == ["No new stories since 2025-03-19 12:00 UTC."]
    text = "Vanuatu began to rebuild on Monday after Cyclone Pam flattened homes across Port Vila."
    news.add("pam_guardian", Item("Vanuatu begins to rebuild after Cyclone Pam", text, "Guardian", 0.5))
    again = await handlers.run_schedule(desk, digests, first, post)
    assert len(again.stories) == 1 and again.stories[0].updated
    assert "updated" in (posts[2][1][0].embed or {})["description"]


@pytest.mark.parametrize(
    ("question", "since"),
    [
        ("any news?", "24h"),
        ("<@123456789012345678> whats the latest news lol", "24h"),
        ("what happened this week", "7 days"),
        ("any news from yesterday", "yesterday"),
        ("give me the headlines of the month", "30 days"),
        ("What did Peskov say about the strikes?", None),
        ("any news on ukraine?", None),
        ("", None),
    ],
)
def test_a_request_for_the_news_in_general_names_its_digest_window(question: str, since: str | None):
    """should give the digest's window for "any news?"-style messages, and None for questions and bad input."""
    assert handlers.asked_window(question) == since
