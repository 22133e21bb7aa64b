"""Buttons and forms through discord.py's own dispatch: dynamic items, forms, stale ids, limits, failures.

Component and form interactions enter through ``parse_interaction_create`` like gateway events,
with Discord's HTTP edge replaced as in ``test_commands`` (whose fake and payload builders this
module reuses).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.client import NewsdeskBot
from bot.cogs.talk import STALE_CONTROL, STALE_FORM
from bot.desk import Desk, Records
from bot.errors import not_moderator_message
from bot.feedback import REPORTED, UNKNOWN_ANSWER
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from index.store import Store

from .conftest import FakeClock, FakeEngine
from .test_commands import (
    CHANNEL,
    EPHEMERAL,
    MANAGE_GUILD,
    QUESTION,
    FakeDiscord,
    _make_bot,
    discord_api,
    interaction,
    option,
)

__all__ = ["discord_api"]  # the fixture of test_commands


@pytest.fixture
def records(tmp_path: Path) -> Iterator[Records]:
    store = Store(tmp_path / "records")
    yield Records.open(store, conversation_ttl=timedelta(minutes=30))
    store.close()


@pytest.fixture
async def bot(
    fake_engine: FakeEngine, clock: FakeClock, records: Records, tmp_path: Path, discord_api: FakeDiscord, monkeypatch
) -> AsyncIterator[NewsdeskBot]:
    desk = Desk(fake_engine, limiter=RateLimiter(3, clock=clock), records=records)
    settings = Settings(_env_file=None, data_dir=tmp_path, sync_commands=False)
    bot = await _make_bot(desk, settings, discord_api, monkeypatch)
    yield bot
    await bot.close()
    desk.close()


async def settle(bot: NewsdeskBot, payload: dict[str, Any]) -> None:
    """Feed an interaction to discord.py and wait for every task it starts, and those they start."""
    before = asyncio.all_tasks()
    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    def working(task: asyncio.Task[Any]) -> bool:  # an open form's timeout waits for minutes: not work
        name = getattr(task.get_coro(), "__qualname__", "")
        return not task.done() and task is not asyncio.current_task() and not name.endswith("__timeout_task_impl")

    while pending := [t for t in asyncio.all_tasks() - before if working(t)]:
        await asyncio.wait(pending)


def component(custom_id: str, on_message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A MESSAGE_COMPONENT payload: a click on ``custom_id`` of ``on_message``."""
    payload = interaction("", **kwargs)
    payload.update(type=3, data={"custom_id": custom_id, "component_type": 2}, message=on_message)
    return payload


def form(custom_id: str, values: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A MODAL_SUBMIT payload with text inputs (str) and selects (list), each in a label."""
    components = [
        {"type": 18, "id": i, "component": {"type": 3 if isinstance(v, list) else 4, "custom_id": k}}
        for i, (k, v) in enumerate(values.items(), start=1)
    ]
    for c, v in zip(components, values.values(), strict=True):
        c["component"]["values" if isinstance(v, list) else "value"] = v
    payload = interaction("", **kwargs)
    payload.update(type=5, data={"custom_id": custom_id, "components": components})
    return payload


def answer_message(discord_api: FakeDiscord) -> dict[str, Any]:
    """The last answer follow-up as Discord would store it (with id, author and its components)."""
    sent = discord_api.followups[-1]
    message = discord_api._message(sent)
    message["components"] = sent["components"]
    return message


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def asked(bot: NewsdeskBot, discord_api: FakeDiscord) -> tuple[dict[str, Any], str]:
    await settle(bot, interaction("ask", [option("question", QUESTION)]))
    message = answer_message(discord_api)
    return message, button_ids(message)[0].split(":")[2]


async def test_an_answer_carries_persistent_buttons(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should put vote, follow-up, report and context buttons under the answer, ids under 100 characters."""
    message, aid = await asked(bot, discord_api)
    assert button_ids(message) == [
        f"nd:vote:{aid}:up",
        f"nd:vote:{aid}:down",
        f"nd:fu:{aid}",
        f"nd:report:{aid}",
        f"nd:ctx:{aid}:0",
    ]
    assert all(len(i) < 100 for i in button_ids(message))


async def test_vote_button_defers_ephemerally_and_records(bot: NewsdeskBot, discord_api: FakeDiscord, records: Records):
    """should acknowledge a vote with an ephemeral deferral and thank the user in a follow-up."""
    message, aid = await asked(bot, discord_api)
    await settle(bot, component(f"nd:vote:{aid}:up", message))
    assert discord_api.callbacks[-1] == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert discord_api.followups[-1]["content"] == "Thanks! Your \N{THUMBS UP SIGN} is recorded."
    assert records.feedback.counts(["111"]).up == 1


async def test_follow_up_button_opens_a_form_and_the_form_asks(
    bot: NewsdeskBot, discord_api: FakeDiscord, fake_engine: FakeEngine
):
    """should answer the button with a form, and the submitted form with a follow-up read in context."""
    message, aid = await asked(bot, discord_api)
    await settle(bot, component(f"nd:fu:{aid}", message))
    modal = discord_api.callbacks[-1]
    assert modal["type"] == 9 and modal["data"]["custom_id"] == f"nd:m:fu:{aid}"
    await settle(bot, form(f"nd:m:fu:{aid}", {"question": "What else did he say?"}))
    assert discord_api.callbacks[-1] == {"type": 5}
    assert discord_api.followups[-1]["content"] == "-# Read as: What else did Peskov say about the strikes?"
    assert fake_engine.calls[-1][1] == "What else did Peskov say about the strikes?"


async def test_report_form_is_read_from_its_label_components(
    bot: NewsdeskBot, discord_api: FakeDiscord, records: Records
):
    """should take the reason from the select and the details from the text input of a submitted report."""
    message, aid = await asked(bot, discord_api)
    await settle(bot, component(f"nd:report:{aid}", message))
    assert discord_api.callbacks[-1]["data"]["custom_id"] == f"nd:m:report:{aid}"
    await settle(bot, form(f"nd:m:report:{aid}", {"reason": ["outdated"], "details": "Old news."}))
    assert discord_api.followups[-1]["content"] == REPORTED
    [judgement] = records.feedback.all()
    assert (judgement.reason, judgement.details) == ("outdated", "Old news.")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(lambda m: component("nd:poll:42", m), STALE_CONTROL, id="stale-button"),
        pytest.param(lambda m: form("nd:m:survey:1", {"x": "y"}), STALE_FORM, id="stale-form"),
        pytest.param(lambda m: component("nd:vote:0123456789ab:up", m), UNKNOWN_ANSWER, id="unknown-answer"),
    ],
)
async def test_unknown_ids_get_an_ephemeral_message(bot: NewsdeskBot, discord_api: FakeDiscord, payload, message):
    """should answer an id from an older version, or of an answer it no longer has, with an ephemeral message."""
    shown, _aid = await asked(bot, discord_api)
    shown["components"][0]["components"][0]["custom_id"] = "nd:poll:42"  # what an older version sent
    shown["components"][0]["components"][1]["custom_id"] = "nd:vote:0123456789ab:up"
    await settle(bot, payload(shown))
    said = discord_api.followups[-1] if discord_api.callbacks[-1]["type"] == 5 else discord_api.callbacks[-1]["data"]
    assert said["content"] == message
    assert said["flags"] == EPHEMERAL


async def test_buttons_share_the_rate_limit_of_questions(bot: NewsdeskBot, discord_api: FakeDiscord, records: Records):
    """should refuse a vote once the user spent the minute's allowance, ephemerally, before deferring."""
    message, aid = await asked(bot, discord_api)  # 1 of 3
    await settle(bot, component(f"nd:ctx:{aid}:0", message))  # 2 of 3
    await settle(bot, component(f"nd:vote:{aid}:up", message))  # 3 of 3
    await settle(bot, component(f"nd:vote:{aid}:down", message))
    refusal = discord_api.callbacks[-1]
    assert refusal["type"] == 4 and refusal["data"]["flags"] == EPHEMERAL
    assert refusal["data"]["content"].startswith("Easy there: that is more than 3 requests a minute.")
    assert records.feedback.counts(["111"]).down == 0


async def test_a_failing_button_apologises_with_an_error_id(
    bot: NewsdeskBot, discord_api: FakeDiscord, records: Records, caplog
):
    """should answer a button whose handler fails like a failed command: an apology with a logged error id."""
    message, aid = await asked(bot, discord_api)
    records.store.db.execute("DROP TABLE feedback")
    await settle(bot, component(f"nd:vote:{aid}:up", message))
    apology = discord_api.followups[-1]["content"]
    assert apology.startswith("Sorry, something went wrong on my side (error id `")
    assert "/vote failed, error id" in caplog.text


async def test_a_follow_up_form_is_answered_where_it_was_opened(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should answer a follow-up sent through the form in the channel of the answer it came from."""
    _, aid = await asked(bot, discord_api)
    await settle(bot, form(f"nd:m:fu:{aid}", {"question": "and why?"}))
    assert discord_api.followups[-1]["content"].startswith("-# Read as: Why")
    assert int(discord_api._message(discord_api.followups[-1])["channel_id"]) == CHANNEL


async def test_page_buttons_edit_the_list_in_place(bot: NewsdeskBot, discord_api: FakeDiscord):
    """should turn a /feedback page by editing its message after a deferred update, for moderators only."""
    for user in (501, 502):
        _, aid = await asked(bot, discord_api)
        await settle(bot, form(f"nd:m:report:{aid}", {"reason": ["outdated"], "details": ""}, user_id=user))
    listing = discord_api._message({"content": "page"})
    listing["components"] = [
        {"type": 1, "components": [{"type": 2, "style": 2, "label": "Next", "custom_id": "nd:fb:1"}]}
    ]
    await settle(bot, component("nd:fb:1", listing, permissions=MANAGE_GUILD))
    assert discord_api.callbacks[-1] == {"type": 6}
    [edit] = discord_api.edits
    assert edit["embeds"][0]["title"] == "Reports on answers in this server (2)"
    await settle(bot, component("nd:fb:1", listing, user_id=503))  # a member: Manage Server missing
    refusal = discord_api.followups[-1]
    assert (refusal["content"], refusal["flags"]) == (not_moderator_message(None), EPHEMERAL)
    assert len(discord_api.edits) == 1
