"""The real ``newsdesk bot`` against the Discord double: ``/digest`` answers with cited stories, and a
daily digest fires in its channel, then does not repeat what it posted (a quiet line instead).

One bot process on a copy of the seeded index plus three articles published two hours ago (two
outlets on one event, one other story), checking for due digests every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from ._bot_process import (
    BotProcess,
    SeededData,
    assert_clean_log,
    base_env,
    followup_text,
    newsdesk_command,
    running_bot,
)
from .discord_double import DiscordDouble
from .test_bot_e2e import MODERATOR, _norm, first_followup, new_user
from .test_conversations_e2e import channel_reply

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

DAM = "Harbour dam in Velmora fails after storm"
DAM_TEXT = (
    "The harbour dam in Velmora failed on Tuesday night after a storm, flooding the old town. "
    "Engineers said the Velmora dam had been due for repairs since the spring. "
    "About 300 residents of Velmora spent the night in the sports hall."
)
DAM_TEXT_2 = (
    "Flood water poured into the old town of Velmora when the harbour dam failed after Tuesday's storm. "
    "The mayor of Velmora said 300 residents were sheltering in the sports hall. "
    "Engineers had warned that the Velmora dam needed repairs."
)
FERRY_TEXT = (
    "A new ferry linking Ostrava Bay and Kelso Island made its first crossing on Wednesday. "
    "The Kelso ferry will run four times a day from next month, the operator said."
)


def _ingest_recent(data_dir: Path, cache_dir: Path) -> None:
    published = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    rows = [
        {"title": DAM, "text": DAM_TEXT, "source": "Velmora Post", "published": published},
        {
            "title": "Velmora floods as dam gives way",
            "text": DAM_TEXT_2,
            "source": "Coast Herald",
            "published": published,
        },
        {
            "title": "Kelso ferry makes first crossing",
            "text": FERRY_TEXT,
            "source": "Island News",
            "published": published,
        },
    ]
    corpus = data_dir.parent / "recent.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    subprocess.run(
        [*newsdesk_command(), "ingest", "--strict", str(corpus)],
        env=base_env(data_dir, cache_dir),
        cwd=data_dir.parent,
        capture_output=True,
        timeout=300,
        check=True,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    double: DiscordDouble, seeded: SeededData, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    root = tmp_path_factory.mktemp("digest-bot")
    data = seeded.copy_to(root / "data")
    await asyncio.to_thread(_ingest_recent, data, seeded.cache_dir)
    extra = {"NEWSDESK_DIGEST_CHECK_SECONDS": "1"}
    async with running_bot(double, data, seeded.cache_dir, root, extra) as proc:
        yield proc
    assert_clean_log(proc)


async def test_digest_answers_with_the_days_stories_cited(bot: BotProcess, double: DiscordDouble) -> None:
    """should list the dam story with both outlets and verbatim quotes, and the ferry story."""
    iid = await double.send_interaction(user=new_user(double), command_name="digest", options={"since": "24h"})
    message = await first_followup(double, iid, timeout=60)
    shown = _norm(followup_text(message))
    assert f"**1. {DAM}** Velmora Post · Coast Herald · 2 articles > " in shown, shown
    assert "**2. Kelso ferry makes first crossing** Island News · 1 article > " in shown, shown
    quotes = [line[2:] for e in message["embeds"] for line in e["description"].splitlines() if line.startswith("> ")]
    texts = _norm(" ".join([DAM_TEXT, DAM_TEXT_2, FERRY_TEXT]))
    assert quotes
    for quote in quotes:
        assert _norm(quote.rsplit(" [", 1)[0]) in texts


async def test_a_mention_asking_for_the_news_gets_the_digest(bot: BotProcess, double: DiscordDouble) -> None:
    """should answer "@newsdesk any news today?" with the day's stories, not with quotes sharing the word "news"."""
    d = double
    since = len(d.requests)
    await d.send_message(author=new_user(d), content=f"<@{d.bot_user['id']}> any news today?")
    shown = _norm(json.dumps(await channel_reply(d, d.channel_id, since, timeout=60)))
    assert DAM in shown and "Kelso ferry makes first crossing" in shown, shown


def _next_run(db: Path) -> datetime:
    """The schedule's next run as the bot last saved it."""
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        (value,) = conn.execute("SELECT next_run FROM digest_schedules").fetchone()
    return datetime.fromisoformat(value)


async def _due_minute() -> str:
    """The current UTC minute as HH:MM, not in its last seconds (the bot must see the same minute)."""
    now = datetime.now(UTC)
    if now.second >= 50:
        await asyncio.sleep(61 - now.second)
        now = datetime.now(UTC)
    return f"{now:%H:%M}"


async def test_a_scheduled_digest_fires_then_does_not_repeat_its_stories(
    bot: BotProcess, double: DiscordDouble
) -> None:
    """should post the digest in the channel at once (time = now), and a quiet line when it fires again."""
    d = double
    since = len(d.requests)
    iid = await d.send_interaction(
        user=new_user(d),
        command_name="digest-schedule add",
        options={"channel": d.channel_id, "time": await _due_minute()},
        permissions=MODERATOR,
    )
    await d.wait_until(lambda: d.interactions[iid].callbacks, 10)
    (callback,) = d.interactions[iid].callbacks
    assert callback["data"]["content"].startswith("Scheduled digest **1** ·"), callback
    posted = await channel_reply(d, d.channel_id, since, timeout=60)
    shown = _norm(followup_text(posted))
    assert f"**1. {DAM}** Velmora Post · Coast Herald · 2 articles" in shown, shown
    db = bot.data_dir / "newsdesk.db"
    # The bot saves what it posted and its next run after posting: wait for that, or this edit would be overwritten.
    await d.wait_until(lambda: _next_run(db) > datetime.now(UTC), 30)
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn, conn:  # the next day arrives early
        conn.execute("UPDATE digest_schedules SET next_run = '2000-01-01T00:00:00+00:00'")
    since = len(d.requests)
    again = await channel_reply(d, d.channel_id, since, timeout=60)
    assert again["content"].startswith("No new stories since "), again
    assert not again.get("embeds")
