"""The real ``newsdesk bot`` against the Discord double: follow-ups (thread, reply, form), votes, reports,
Show context, /stats, /feedback, stale buttons, and buttons and threads that keep working after a restart.

One bot process on a copy of the seeded index serves the module; the last test restarts it.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ._bot_process import PESKOV, SEED_TITLE, BotProcess, SeededData, assert_clean_log, followup_text, running_bot
from .discord_double import DiscordDouble
from .test_bot_e2e import (
    EPHEMERAL,
    MODERATOR,
    SEED_TEXT,
    _norm,
    assert_cites_verbatim,
    first_followup,
    new_user,
    quotes_of,
    send_ask,
)

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CREATE_MESSAGE = "POST /channels/{cid}/messages"
READ_AS = "-# Read as: What else did Peskov say about the strikes?"
FOLLOW_UP = "What else did he say?"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    double: DiscordDouble, seeded: SeededData, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    root = tmp_path_factory.mktemp("talk-bot")
    async with running_bot(double, seeded.copy_to(root / "data"), seeded.cache_dir, root) as proc:
        yield proc
    assert_clean_log(proc)


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def asked(d: DiscordDouble, question: str = PESKOV) -> tuple[dict[str, Any], str]:
    """Ask with /ask; returns the answer message as stored by the double and its answer id."""
    iid = await send_ask(d, question)
    message = await first_followup(d, iid)
    stored = d.messages[message["id"]]
    match = re.fullmatch(r"nd:vote:([0-9a-f]{12}):up", button_ids(stored)[0])
    assert match, button_ids(stored)
    return stored, match.group(1)


async def channel_reply(d: DiscordDouble, channel_id: str, since: int, timeout: float = 30) -> dict[str, Any]:
    """The next message the bot posts in ``channel_id`` after request ``since``."""
    found = await d.wait_for(
        lambda r: r.route == CREATE_MESSAGE and r.params["cid"] == channel_id and r.status == 200, timeout, since=since
    )
    response: dict[str, Any] = found.response
    return response


async def ephemeral_followup(d: DiscordDouble, iid: str) -> dict[str, Any]:
    message = await first_followup(d, iid)
    assert message["flags"] & EPHEMERAL
    return message


def bound_threads(data_dir: Path) -> set[str]:
    """The threads that carry a conversation, as the bot recorded them."""
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'newsdesk.db'}?mode=ro", uri=True)) as db:
        return {str(row[0]) for row in db.execute("SELECT thread_id FROM conversations WHERE thread_id IS NOT NULL")}


def feedback_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'newsdesk.db'}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT answer_id, user_key, vote, reason, details FROM feedback ORDER BY created_at")
        return rows.fetchall()


async def test_an_answer_continues_in_a_thread_where_follow_ups_are_read_in_context(
    bot: BotProcess, double: DiscordDouble
) -> None:
    """should open a thread named after the question, where a mention or a pinging reply is a follow-up."""
    d = double
    answer, answer_id = await asked(d)
    assert button_ids(answer) == [
        f"nd:vote:{answer_id}:up",
        f"nd:vote:{answer_id}:down",
        f"nd:fu:{answer_id}",
        f"nd:report:{answer_id}",
        *[f"nd:ctx:{answer_id}:{i}" for i in range(len(button_ids(answer)) - 4)],
    ]
    await d.wait_until(lambda: answer["id"] in d.channels, 10)
    thread = d.channels[answer["id"]]
    assert (thread["type"], thread["name"], thread["parent_id"]) == (11, PESKOV, d.channel_id)
    await d.wait_until(lambda: thread["message_count"] >= 1, 10)  # the hint

    # A mention in the thread is a follow-up.
    since = len(d.requests)
    user = new_user(d)
    await d.send_message(thread["id"], author=user, content=f"<@{d.bot_user['id']}> {FOLLOW_UP}")
    reply = await channel_reply(d, thread["id"], since)
    assert reply["content"] == READ_AS
    assert_cites_verbatim(reply, SEED_TITLE, SEED_TEXT, "Peskov")
    assert button_ids(reply)[2].startswith("nd:fu:")

    # A reply to the bot that pings it (Discord's default) is one too; one that does not arrives empty.
    since = len(d.requests)
    await d.send_message(thread["id"], author=user, content="and why?", reply_to=reply)
    why = await channel_reply(d, thread["id"], since)
    assert why["content"].startswith("-# Read as: Why")
    since = len(d.requests)
    await d.send_message(thread["id"], author=user, content="and when?", reply_to=reply, mention_author=False)
    hint = await channel_reply(d, thread["id"], since)
    assert hint["content"].startswith("I can only read replies that mention me")


async def test_a_follow_up_through_the_form(bot: BotProcess, double: DiscordDouble) -> None:
    """should answer the Follow-up button with a form within 3 s, and the form with an answer read in context."""
    d = double
    answer, answer_id = await asked(d)
    user = new_user(d)
    click = await d.click(answer, f"nd:fu:{answer_id}", user)
    await d.wait_until(lambda: d.interactions[click].acked, 10)
    record = d.interactions[click]
    assert record.response_type == 9 and record.modal is not None
    assert record.modal["custom_id"] == f"nd:m:fu:{answer_id}"
    assert record.ack_latency is not None and record.ack_latency < 3
    with pytest.raises(ValueError, match="required"):
        await d.submit_modal(click, {"question": ""})  # Discord's client refuses an empty form
    submitted = await d.submit_modal(click, {"question": FOLLOW_UP})
    message = await first_followup(d, submitted)
    assert d.interactions[submitted].callbacks[0] == {"type": 5}
    assert message["content"] == READ_AS
    assert_cites_verbatim(message, SEED_TITLE, SEED_TEXT, "Peskov")


async def test_a_vote_and_a_changed_vote(bot: BotProcess, double: DiscordDouble) -> None:
    """should record a vote ephemerally and change it on the other button, storing a hashed user."""
    d = double
    answer, answer_id = await asked(d)
    user = new_user(d)
    up = await d.click(answer, f"nd:vote:{answer_id}:up", user)
    assert (await ephemeral_followup(d, up))["content"] == "Thanks! Your \N{THUMBS UP SIGN} is recorded."
    assert d.interactions[up].callbacks[0] == {"type": 5, "data": {"flags": EPHEMERAL}}
    down = await d.click(answer, f"nd:vote:{answer_id}:down", user)
    assert (await ephemeral_followup(d, down))["content"] == "Changed your vote to \N{THUMBS DOWN SIGN}."
    rows = [r for r in feedback_rows(bot.data_dir) if r[0] == answer_id]
    assert [(r[2], r[3]) for r in rows] == [(-1, None)]
    assert user["id"] not in rows[0][1]


async def test_a_report_and_the_moderators_list(bot: BotProcess, double: DiscordDouble) -> None:
    """should take a report through its form and list it to moderators with /feedback."""
    d = double
    answer, answer_id = await asked(d)
    click = await d.click(answer, f"nd:report:{answer_id}", new_user(d))
    await d.wait_until(lambda: d.interactions[click].acked, 10)
    assert d.interactions[click].response_type == 9
    sent = await d.submit_modal(click, {"reason": ["wrong_speaker"], "details": "That was Lavrov."})
    thanks = await ephemeral_followup(d, sent)
    assert thanks["content"] == "Thanks, your report is recorded: moderators see it with /feedback."
    assert [r[3:] for r in feedback_rows(bot.data_dir) if r[0] == answer_id] == [("wrong_speaker", "That was Lavrov.")]

    listed = await d.send_interaction(user=new_user(d), command_name="feedback", permissions=MODERATOR)
    page = await ephemeral_followup(d, listed)
    shown = followup_text(page)
    assert "Wrong speaker" in shown and "That was Lavrov." in shown and PESKOV in shown


async def test_show_context(bot: BotProcess, double: DiscordDouble) -> None:
    """should show the first quote in bold inside the article text around it, to the clicker only."""
    d = double
    answer, answer_id = await asked(d)
    shown = await ephemeral_followup(d, await d.click(answer, f"nd:ctx:{answer_id}:0", new_user(d)))
    [embed] = shown["embeds"]
    [bold] = re.findall(r"\*\*(.+?)\*\*", embed["description"], re.S)
    assert _norm(bold) == _norm(quotes_of(answer)[0])  # the first quote, in bold
    before, after = (_norm(side) for side in embed["description"].split(f"**{bold}**"))
    assert len(before + after) > 40  # the text around the quote, verbatim (cut at "…" where long)
    assert all(part.strip() in _norm(SEED_TEXT) for side in (before, after) for part in side.split("…"))
    assert SEED_TITLE in _norm(embed["fields"][0]["value"])


async def test_stats(bot: BotProcess, double: DiscordDouble) -> None:
    """should count the shared articles and sources, questions since start and the server's feedback."""
    d = double
    iid = await d.send_interaction(user=new_user(d), command_name="stats")
    stats = await ephemeral_followup(d, iid)
    fields = {f["name"]: f["value"] for f in stats["embeds"][0]["fields"]}
    assert fields["This server"] == "No articles yet."
    assert fields["Shared (global)"].startswith("**151** articles from 2 sources: Filler Gazette (150), CNN (1)")
    assert re.match(r"\d+ of \d+ answered with quotes", fields["Questions since the bot started"])
    assert re.search(r"\N{THUMBS DOWN SIGN} [1-9]", fields["Feedback in this server"])


async def test_a_stale_button_gets_an_ephemeral_message(bot: BotProcess, double: DiscordDouble) -> None:
    """should answer a button id of an older version with an ephemeral message."""
    d = double
    answer, _ = await asked(d)
    iid = await d.send_component(answer, "nd:poll:7", new_user(d))
    await d.wait_until(lambda: d.interactions[iid].acked, 10)
    [callback] = d.interactions[iid].callbacks
    assert callback["type"] == 4 and callback["data"]["flags"] & EPHEMERAL
    assert "no longer works" in callback["data"]["content"]


async def test_buttons_and_threads_of_old_answers_work_after_a_restart(bot: BotProcess, double: DiscordDouble) -> None:
    """should handle an old answer's buttons and its thread's conversation after a restart."""
    d = double
    answer, answer_id = await asked(d)
    await d.wait_until(lambda: answer["id"] in bound_threads(bot.data_dir), 10)  # the thread is the conversation's
    thread = d.channels[answer["id"]]
    assert await bot.stop() == 0
    await bot.start()

    user = new_user(d)
    up = await d.click(answer, f"nd:vote:{answer_id}:up", user)
    assert (await ephemeral_followup(d, up))["content"] == "Thanks! Your \N{THUMBS UP SIGN} is recorded."
    click = await d.click(answer, f"nd:fu:{answer_id}", user)
    await d.wait_until(lambda: d.interactions[click].acked, 10)
    assert d.interactions[click].response_type == 9
    since = len(d.requests)
    await d.send_message(thread["id"], author=user, content=f"<@{d.bot_user['id']}> {FOLLOW_UP}")
    reply = await channel_reply(d, thread["id"], since)
    assert reply["content"] == READ_AS  # the conversation was kept across the restart
