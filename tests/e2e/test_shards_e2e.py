"""The real ``newsdesk bot --shard-ids 0,1 --shard-count 2`` (a subprocess) against the Discord double:
both shards identify, the server's events arrive on its own shard ((guild_id >> 22) % 2, the double
routes them as Discord does), and a question asked there is answered end to end."""

from __future__ import annotations

import pytest

from ._bot_process import PESKOV, PESKOV_QUOTES, SeededData, assert_clean_log, followup_text, running_bot
from .discord_double import DiscordDouble

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def test_two_shards_in_one_process_answer_a_question(
    double: DiscordDouble, seeded: SeededData, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """should run both shards and answer /ask on the shard that serves the server."""
    root = tmp_path_factory.mktemp("sharded-bot")
    args = ["--shard-ids", "0,1", "--shard-count", "2"]
    async with running_bot(double, seeded.copy_to(root / "data"), seeded.cache_dir, root, args=args) as proc:
        assert "connected as newsdesk-test" in proc.log_text()
        assert "(shards 0, 1 of 2)" in proc.log_text()
        assert sorted(p["shard"] for p in double.identify_payloads) == [[0, 2], [1, 2]]
        iid = await double.send_interaction(
            user=double.make_user("reader"), command_name="ask", options={"question": PESKOV}
        )
        await double.wait_until(lambda: double.interactions[iid].followups, 60)
        answer = followup_text(double.interactions[iid].followups[0])
        assert any(quote in answer for quote in PESKOV_QUOTES), answer
    home = (int(double.guild_id) >> 22) % 2
    for shard, guilds in ((home, 1), (1 - home, 0)):
        events = double.shard_events(shard)
        assert (events.count("GUILD_CREATE"), events.count("INTERACTION_CREATE")) == (guilds, guilds)
    assert_clean_log(proc)
