"""The real ``newsdesk bot`` (a subprocess) against the local Discord double: login, sync, answers,
moderation, faults and crash safety.

One bot process, on an index built from ``seeds/`` (plus generated filler articles so a re-index
takes a while), serves every test up to the fault tests; the crash test runs its own bot, data
copy and double, because it kills the process.  The bot is configured only through its
environment (``NEWSDESK_DISCORD_API_BASE`` = the double), like in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from ._bot_process import (
    FAKE_TOKEN,
    MANAGE_GUILD,
    PESKOV,
    PESKOV_QUOTES,
    SEED_TITLE,
    SEEDS,
    BotProcess,
    Filler,
    SeededData,
    followup_text,
    running_bot,
)
from .discord_double import DEFAULT_MEMBER_PERMISSIONS, INTENT_MESSAGE_CONTENT, DiscordDouble, RecordedRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

FOLLOWUP = "POST /webhooks/{app}/{token}"
CALLBACK = "POST /interactions/{iid}/{token}/callback"
EDIT = "PATCH /webhooks/{app}/{token}/messages/{mid}"
MODERATOR = DEFAULT_MEMBER_PERMISSIONS | MANAGE_GUILD
EPHEMERAL = 1 << 6
SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
_users = itertools.count(1)


# ---------------------------------------------------------------------------------------------- fixtures
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    double: DiscordDouble, seeded: SeededData, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    """The shared bot, on its own copy of the seeded data (``/ingest`` and ``/reindex`` change it)."""
    root = tmp_path_factory.mktemp("shared-bot")
    async with running_bot(double, seeded.copy_to(root / "data"), seeded.cache_dir, root) as proc:
        yield proc
    assert "bot.run: bot closed" in proc.log_text()


# ---------------------------------------------------------------------------------------------- helpers
def new_user(d: DiscordDouble) -> dict[str, Any]:
    """A fresh member, so that the per-user rate limit (6 questions a minute) never interferes."""
    return d.make_user(f"reader{next(_users)}")


async def send_ask(d: DiscordDouble, question: str, **kwargs: Any) -> str:
    return await d.send_interaction(
        user=kwargs.pop("user", None) or new_user(d), command_name="ask", options={"question": question}, **kwargs
    )


async def first_followup(d: DiscordDouble, iid: str, timeout: float = 30) -> dict[str, Any]:
    """The first message a user sees after the "thinking…" (it replaces it)."""
    await d.wait_until(lambda: d.interactions[iid].followups, timeout)
    return d.interactions[iid].followups[0]


def requests_for(d: DiscordDouble, iid: str, route: str) -> list[RecordedRequest]:
    token = d.interactions[iid].token
    return [r for r in d.requests if r.route == route and r.params.get("token") == token]


async def wait_edit(d: DiscordDouble, iid: str, pattern: str, timeout: float = 60) -> RecordedRequest:
    """The PATCH of the interaction's original (progress) message whose content matches ``pattern``."""
    token = d.interactions[iid].token
    return await d.wait_for(
        lambda r: (
            r.route == EDIT
            and r.params.get("token") == token
            and r.status == 200
            and re.search(pattern, (r.json or {}).get("content") or "") is not None
        ),
        timeout,
    )


def _norm(text: str) -> str:
    return " ".join(re.sub(r"\\([\\`*_~|>#-])", r"\1", text).split())


def quotes_of(message: dict[str, Any]) -> list[str]:
    """The quoted evidence lines (``> "…" [1]``) of an answer, without the citation markers."""
    lines = "\n".join(e.get("description", "") for e in message.get("embeds") or []).splitlines()
    return [re.sub(r"\s*(\[\d+\])+\s*$", "", line[2:]) for line in lines if line.startswith("> ")]


def assert_cites_verbatim(message: dict[str, Any], title: str, text: str, must_quote: str | tuple[str, ...]) -> None:
    """The answer lists ``title`` as a source, quotes ``must_quote`` (or one of them), every quote in ``text``."""
    shown = followup_text(message)
    assert title in _norm(shown), shown
    quotes = quotes_of(message)
    assert quotes, shown
    wanted = (must_quote,) if isinstance(must_quote, str) else must_quote
    assert any(_norm(w) in _norm(q) for w in wanted for q in quotes), shown
    for quote in quotes:
        for piece in _norm(quote).split("…"):
            assert piece.strip() in _norm(text), f"not verbatim: {piece!r}"


# ---------------------------------------------------------------------------------------------- 1. start-up
# name -> (default_member_permissions, [(option, type, required)]); "32" = Manage Server.
EXPECTED_COMMANDS: dict[str, tuple[str | None, list[tuple[str, int, bool]]]] = {
    "ask": (None, [("question", 3, True), ("since", 3, False)]),
    "summary": (None, [("article", 3, False), ("topic", 3, False)]),
    "ingest": (
        "32",
        [("url", 3, False), ("file", 11, False), ("title", 3, False), ("text", 3, False), ("source", 3, False)],
    ),
    "reindex": ("32", []),
    "feed": ("32", [("add", 1, False), ("list", 1, False), ("remove", 1, False)]),
    "digest": (None, [("since", 3, True), ("topic", 3, False), ("source", 3, False)]),
    "digest-schedule": ("32", [("add", 1, False), ("list", 1, False), ("remove", 1, False)]),
    "stats": (None, []),
    "feedback": ("32", []),
}


async def test_logs_in_syncs_the_commands_and_is_ready(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    assert d.requests[0].route == "GET /users/@me"
    assert d.requests[0].headers["Authorization"] == f"Bot {FAKE_TOKEN}"
    puts = [r for r in d.requests if r.method == "PUT" and "/commands" in r.path]
    assert [r.route for r in puts] == ["PUT /applications/{app}/guilds/{guild}/commands"]  # guild only, never both
    assert puts[0].params["guild"] == d.guild_id
    assert d.commands == []
    synced = {
        c["name"]: (
            None if c["default_member_permissions"] is None else str(c["default_member_permissions"]),
            [(o["name"], o["type"], o.get("required", False)) for o in c.get("options", [])],
        )
        for c in d.guild_commands[d.guild_id]
    }
    assert synced == EXPECTED_COMMANDS
    assert all(c["description"] for c in d.guild_commands[d.guild_id])
    moderated = {c["name"] for c in d.guild_commands[d.guild_id] if c["default_member_permissions"] is not None}
    assert all(c["dm_permission"] is False for c in d.guild_commands[d.guild_id] if c["name"] in moderated)
    # Default intents, without the privileged message-content intent.
    assert d.identify_payloads[0]["intents"] & INTENT_MESSAGE_CONTENT == 0
    log = bot.log_text()
    assert f"synced {len(EXPECTED_COMMANDS)} commands to guild {d.guild_id}" in log
    assert re.search(r"bot\.client: connected as newsdesk-test in 1 servers", log)
    assert " ERROR " not in log


# ---------------------------------------------------------------------------------------------- 2. answers
async def test_ask_is_deferred_fast_and_cites_the_seed_verbatim(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    sent = time.monotonic()
    iid = await send_ask(d, PESKOV)
    message = await first_followup(d, iid)
    (callback,) = requests_for(d, iid, CALLBACK)
    assert callback.time - sent < 3.0
    assert d.interactions[iid].callbacks == [{"type": 5}]  # public "thinking…"
    assert_cites_verbatim(message, SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)
    assert message["id"] == d.interactions[iid].original["id"]  # the answer replaced the "thinking…"


async def test_a_mention_gets_a_reply(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    since = len(d.requests)
    asked = await d.send_message(author=new_user(d), content=f"<@{d.bot_user['id']}> {PESKOV}")
    reply = await d.wait_for(
        lambda r: r.route == "POST /channels/{cid}/messages" and r.params["cid"] == d.channel_id, 30, since=since
    )  # not the thread hint of an earlier answer
    assert reply.status == 200
    assert str(reply.json["message_reference"]["message_id"]) == asked["id"]
    assert reply.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert_cites_verbatim(reply.response, SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)


# ---------------------------------------------------------------------------------------------- 3. moderation
async def test_ingest_is_refused_to_a_member_without_permission(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    iid = await d.send_interaction(
        user=new_user(d), command_name="ingest", options={"title": "Nope", "text": "Not allowed."}
    )
    await d.wait_until(lambda: d.interactions[iid].callbacks, 10)
    (callback,) = d.interactions[iid].callbacks
    assert callback["type"] == 4
    assert callback["data"]["flags"] & EPHEMERAL
    assert "Only moderators" in callback["data"]["content"]
    assert not requests_for(d, iid, EDIT)


LIGHTHOUSE = (
    "Lighthouse museum to reopen after storm repairs\n\n"
    "The Varnholm lighthouse museum will reopen on the first of May after a winter of storm repairs. "
    "Harbour commissioner Yolanda Przybylek said the museum would reopen with a new lantern room "
    "and free entry for schools. The repairs cost 4.2 million euros, most of it from a coastal fund.\n"
)


async def test_moderator_ingests_an_attached_file_and_it_is_answerable(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    moderator = new_user(d)
    att = d.add_attachment("lighthouse.txt", LIGHTHOUSE.encode(), "text/plain")
    iid = await d.send_interaction(user=moderator, command_name="ingest", options={"file": att}, permissions=MODERATOR)
    done = await wait_edit(d, iid, r"^Indexed lighthouse\.txt: 1 added")
    assert d.interactions[iid].callbacks[0] == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert "Questions in this server can use it now" in done.json["content"]

    iid = await send_ask(d, "What did Przybylek say about the museum?")
    message = await first_followup(d, iid)
    assert_cites_verbatim(
        message, "Lighthouse museum to reopen after storm repairs", LIGHTHOUSE, "free entry for schools"
    )


async def test_reindex_while_ten_asks_run(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    iid = await d.send_interaction(user=new_user(d), command_name="reindex", permissions=MODERATOR)
    await wait_edit(d, iid, r"^Re-indexing every stored article")
    asks = [await send_ask(d, PESKOV) for _ in range(10)]
    all_sent = time.monotonic()
    messages = await asyncio.gather(*(first_followup(d, a, 60) for a in asks))
    finished = await wait_edit(d, iid, r"^Re-indexed every article into [\d,]+ passages", 60)
    assert finished.time > all_sent, "the re-index ended before the questions were asked"
    for message in messages:
        assert_cites_verbatim(message, SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)
    # One consistent index: the same question got the very same evidence, during and after the swap.
    assert len({json.dumps(m["embeds"][0]["description"]) for m in messages}) == 1
    assert len({json.dumps(m["embeds"][0]["fields"]) for m in messages}) == 1
    assert " ERROR " not in bot.log_text()


# ---------------------------------------------------------------------------------------------- 4. faults
FOLLOWUP_PATH = r"^/webhooks/\d+/[^/]+$"


async def test_a_429_on_the_followup_is_retried_after_retry_after(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    d.fail_next("POST", FOLLOWUP_PATH, status=429, retry_after=0.8)
    iid = await send_ask(d, PESKOV)
    message = await first_followup(d, iid)
    tries = requests_for(d, iid, FOLLOWUP)
    assert [(r.status, r.injected) for r in tries] == [(429, True), (200, False)]
    assert tries[1].time - tries[0].time >= 0.8
    assert_cites_verbatim(message, SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)


async def test_dropped_socket_and_op7_resume_and_answer(bot: BotProcess, double: DiscordDouble) -> None:
    d = double
    identifies, resumes = d.identify_count, d.resume_count
    await d.drop_socket()  # TCP reset, no close frame
    iid = await send_ask(d, PESKOV)  # sent while the bot is disconnected: replayed on RESUME
    assert_cites_verbatim(await first_followup(d, iid), SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)
    assert d.resume_count == resumes + 1

    await d.send_reconnect()  # op 7
    await d.wait_until(lambda: d.resume_count == resumes + 2, 15)
    iid = await send_ask(d, PESKOV)
    assert_cites_verbatim(await first_followup(d, iid), SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)
    assert d.identify_count == identifies  # resumed both times, never a new session
    assert [c.path for c in d.connections[-2:]] == ["/resume", "/resume"]


async def test_a_500_is_retried_and_a_rejected_answer_gets_an_apology_with_an_id(
    bot: BotProcess, double: DiscordDouble
) -> None:
    d = double
    d.fail_next("POST", FOLLOWUP_PATH, status=500)  # discord.py retries 500s after 1 s
    iid = await send_ask(d, PESKOV)
    assert_cites_verbatim(await first_followup(d, iid), SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)
    assert [r.status for r in requests_for(d, iid, FOLLOWUP)] == [500, 200]

    # A rejection discord.py does not retry (it retries every 5xx): the answer is lost, the user is told why not.
    d.fail_next("POST", FOLLOWUP_PATH, status=400, code=50035, message="Invalid Form Body")
    iid = await send_ask(d, PESKOV)
    apology = followup_text(await first_followup(d, iid))
    match = re.search(r"Sorry, something went wrong on my side \(error id `([0-9a-f]{8})`\)", apology)
    assert match, apology
    await bot.wait_for_log(rf"ERROR bot\.errors: /ask failed, error id {match.group(1)}", 10)
    assert [r.status for r in requests_for(d, iid, FOLLOWUP)] == [400, 200]


# ---------------------------------------------------------------------------------------------- 5. crash safety
def _indexed_state(data_dir: Path) -> dict[str, Any]:
    """What a restarted bot loaded, read from disk: the snapshot named in CURRENT vs the database."""
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'newsdesk.db'}?mode=ro", uri=True)) as db:
        generation = int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        articles = {row[0] for row in db.execute("SELECT id FROM articles")}
        with_passages = {row[0] for row in db.execute("SELECT DISTINCT article_id FROM passages")}
    name = (data_dir / "CURRENT").read_text().strip()
    folder = data_dir / "snapshots" / name
    manifest = json.loads((folder / "manifest.json").read_text())
    rows = np.load(folder / "rows.npz")
    in_snapshot = {str(a) for a in rows["article_ids"][np.unique(rows["row_article"])]}
    return {
        "current": name,
        "snapshot_generation": manifest["generation"],
        "db_generation": generation,
        "articles": articles,
        "with_passages": with_passages,
        "in_snapshot": in_snapshot,
        "leftovers": sorted(p.name for p in (data_dir / "snapshots").iterdir() if p.name.startswith(".tmp-")),
    }


class _KillWhenWriting:
    """SIGKILLs the bot the moment a snapshot folder starts being written (polled every millisecond)."""

    def __init__(self, proc: BotProcess, snapshots: Path) -> None:
        self.proc, self.snapshots = proc, snapshots
        self.killed_while: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                names = [p.name for p in self.snapshots.iterdir()]
            except OSError:
                names = []
            if any(n.startswith(".tmp-") for n in names):
                self.proc.kill()
                self.killed_while = "writing the snapshot"
                return
            time.sleep(0.001)

    def __enter__(self) -> _KillWhenWriting:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _assert_answerable(d: DiscordDouble, fillers: list[Filler], extra_title: str) -> None:
    """The seed, the ingested article and each of ``fillers`` answer their own question, quoting verbatim."""
    iid = await send_ask(d, PESKOV)
    assert_cites_verbatim(await first_followup(d, iid), SEED_TITLE, SEED_TEXT, PESKOV_QUOTES)
    iid = await send_ask(d, "What did Przybylek say about the museum?")
    assert extra_title in followup_text(await first_followup(d, iid))
    for start in range(0, len(fillers), 25):
        asks = [(f, await send_ask(d, f.question)) for f in fillers[start : start + 25]]
        for filler, iid in asks:
            message = await first_followup(d, iid, 60)
            assert_cites_verbatim(message, filler.title, filler.text, filler.key_sentence)


async def test_sigkill_during_reindex_loses_nothing_and_sigterm_is_clean(seeded: SeededData, tmp_path: Path) -> None:
    async with DiscordDouble(token=FAKE_TOKEN) as d:
        data_dir = seeded.copy_to(tmp_path / "data")
        proc = BotProcess(d.base_url, d.guild_id, data_dir, seeded.cache_dir, tmp_path / "bot.log")
        try:
            await proc.start()
            # One more article, added through Discord, so the index has two collections.
            att = d.add_attachment("lighthouse.txt", LIGHTHOUSE.encode(), "text/plain")
            iid = await d.send_interaction(
                user=new_user(d), command_name="ingest", options={"file": att}, permissions=MODERATOR
            )
            await wait_edit(d, iid, r"^Indexed lighthouse\.txt: 1 added")
            before = _indexed_state(data_dir)
            assert before["articles"] == before["with_passages"] == before["in_snapshot"]
            assert len(before["articles"]) == len(seeded.fillers) + 2

            # Crash 1: in the middle of re-embedding (nothing written yet).
            iid = await d.send_interaction(user=new_user(d), command_name="reindex", permissions=MODERATOR)
            await wait_edit(d, iid, r"^Re-indexing every stored article")
            await asyncio.sleep(0.3)
            assert proc.proc is not None and proc.proc.poll() is None
            proc.kill()
            assert not requests_for(d, iid, EDIT)[-1].json["content"].startswith("Re-indexed"), "too late to crash"

            await proc.start()
            state = _indexed_state(data_dir)
            assert state["articles"] == state["in_snapshot"] == before["articles"]
            assert state["snapshot_generation"] == state["db_generation"]
            await _assert_answerable(d, seeded.fillers[::15], "Lighthouse museum to reopen")  # all: after crash 2

            # Crash 2: while the new snapshot is being written (after the database commit). The window is
            # short, so a re-index that finishes before the poller sees it is simply run again.
            for _attempt in range(3):
                iid = await d.send_interaction(user=new_user(d), command_name="reindex", permissions=MODERATOR)
                with _KillWhenWriting(proc, data_dir / "snapshots") as killer:
                    deadline = time.monotonic() + 120
                    while killer.killed_while is None and proc.proc.poll() is None and time.monotonic() < deadline:
                        if any(r.json["content"].startswith("Re-indexed") for r in requests_for(d, iid, EDIT)):
                            break
                        await asyncio.sleep(0.05)
                if killer.killed_while is not None:
                    break
            assert killer.killed_while == "writing the snapshot"
            half = _indexed_state(data_dir)
            assert half["leftovers"], "a half-written snapshot folder should be left behind"
            assert not half["current"].startswith(".tmp-")  # CURRENT still names the previous, complete snapshot
            assert half["db_generation"] == half["snapshot_generation"] + 1  # committed, not yet published

            await proc.start()
            restarted = proc.log_text()
            after = _indexed_state(data_dir)
            # The complete snapshot named in CURRENT was loaded (or rebuilt from the database), never the .tmp one.
            assert not after["current"].startswith(".tmp-")
            assert after["snapshot_generation"] == after["db_generation"]
            assert after["articles"] == after["with_passages"] == after["in_snapshot"] == before["articles"]
            assert "cannot be loaded" not in restarted
            assert re.search(r"snapshot is at generation \d+, database at \d+: rebuilding", restarted)
            await _assert_answerable(d, seeded.fillers, "Lighthouse museum to reopen")  # every article

            assert await proc.stop() == 0
            log = proc.log_text()
            assert "SIGTERM received: closing the bot" in log
            assert "bot.run: bot closed" in log
            assert " ERROR " not in log and "Traceback" not in log
        finally:
            if proc.proc is not None and proc.proc.poll() is None:
                proc.kill()
