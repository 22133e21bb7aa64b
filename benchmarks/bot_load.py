"""Load on the real bot through the local Discord double: a steady stream of /ask, then a burst.

    python -m benchmarks.bot_load [--json] [--steady 200] [--seconds 10] [--burst 50] [--out FILE]

The double (``tests/e2e/discord_double.py``) runs in this process; ``newsdesk bot`` runs as a
subprocess on an index built from ``seeds/`` plus generated filler articles (see
``tests/e2e/_bot_process.py``), configured only through its environment. Each interaction comes
from its own user, so the per-user rate limit never refuses one; half ask about Peskov (the seed
article), half ask a filler article's own question.

Reported per phase: how many interactions were acknowledged and answered (and whether each
answer cites the right article), latency from sending the interaction to the defer callback and
to the answer (p50/p95/p99/max), and the bot's event-loop lag over the phase, read from the
bot's own ``event loop lag`` log line (``SIGUSR1`` ends a measuring window; see
``bot/looplag.py``). Peak memory is the bot process's VmHWM. This is not a timed test: the numbers
depend on the machine, and the double shares the CPU with the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e._bot_process import (
    FAKE_TOKEN,
    PESKOV,
    SEED_TITLE,
    BotProcess,
    Filler,
    build_seeded_data,
    followup_text,
)
from tests.e2e.discord_double import DiscordDouble

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = ROOT / "benchmarks" / "results" / "models"
LAG_LINE = re.compile(
    r"event loop lag over the last (?P<window>[\d.]+) s: p50 (?P<p50>[\d.]+) ms, p95 (?P<p95>[\d.]+) ms, "
    r"p99 (?P<p99>[\d.]+) ms, max (?P<max>[\d.]+) ms \((?P<samples>\d+) samples\)"
)


@dataclass
class Sent:
    """One interaction of the load: what was asked, which article should answer it, when it was sent."""

    iid: str
    expect_title: str
    sent_at: float


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """Nearest-rank p50/p95/p99 and max, in ms (values in seconds)."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None, "max": None}

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000, 1)

    return {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": round(ordered[-1] * 1000, 1)}


class Load:
    """Sends /ask interactions through the double and collects their outcomes."""

    def __init__(self, double: DiscordDouble, fillers: list[Filler]) -> None:
        self.double = double
        self.fillers = fillers
        self.count = 0

    def next_question(self) -> tuple[str, str]:
        """The next question and the title of the article that answers it: Peskov, then a filler, in turn."""
        self.count += 1
        if self.count % 2:
            return PESKOV, SEED_TITLE
        filler = self.fillers[(self.count // 2) % len(self.fillers)]
        return filler.question, filler.title

    async def send_one(self) -> Sent:
        """Dispatch the next /ask, from a new user."""
        question, title = self.next_question()
        user = self.double.make_user(f"load{self.count}")
        sent_at = time.monotonic()
        iid = await self.double.send_interaction(user=user, command_name="ask", options={"question": question})
        return Sent(iid, title, sent_at)

    async def spread(self, count: int, seconds: float) -> list[Sent]:
        """Send ``count`` questions evenly spaced over ``seconds``."""
        t0 = time.monotonic()
        sent: list[Sent] = []
        for i in range(count):
            delay = t0 + i * seconds / count - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(await self.send_one())
        return sent

    async def wait_all(self, sent: list[Sent], timeout: float) -> None:
        """Wait until each interaction got its answer, or ``timeout`` passed (the rest count as dropped)."""
        d = self.double
        with contextlib.suppress(TimeoutError):
            await d.wait_until(lambda: all(d.interactions[s.iid].followups for s in sent), timeout)

    def outcome(self, sent: list[Sent]) -> dict[str, Any]:
        """Counts and latencies of ``sent``, from the requests the double recorded."""
        d = self.double
        by_token = {d.interactions[s.iid].token: s for s in sent}
        defer: dict[str, float] = {}
        answer: dict[str, float] = {}
        for r in d.requests:
            s = by_token.get(r.params.get("token", ""))
            if s is None or r.status != 200:
                continue
            if r.route == "POST /interactions/{iid}/{token}/callback":
                defer.setdefault(s.iid, r.time - s.sent_at)
            elif r.route == "POST /webhooks/{app}/{token}":
                answer.setdefault(s.iid, r.time - s.sent_at)
        by_iid = {s.iid: s for s in sent}
        first = min((s.sent_at for s in sent), default=0.0)
        last = max((by_iid[iid].sent_at + t for iid, t in answer.items()), default=first)
        cited = 0
        for s in sent:
            followups = d.interactions[s.iid].followups
            if followups and s.expect_title in followup_text(followups[0]):
                cited += 1
        return {
            "sent": len(sent),
            "acknowledged": len(defer),
            "answered": len(answer),
            "dropped": len(sent) - len(answer),
            "cited_the_right_article": cited,
            "first_sent_to_last_answer_s": round(last - first, 2),
            "answers_per_s": round(len(answer) / (last - first), 1) if last > first else None,
            "defer_ms": percentiles(list(defer.values())),
            "answer_ms": percentiles(list(answer.values())),
        }


async def _lag_window(bot: BotProcess, since: int) -> dict[str, float]:
    """End the bot's lag window (SIGUSR1) and read the line it logs."""
    os.kill(bot.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        matches = list(LAG_LINE.finditer(bot.log_text()[since:]))
        if matches:
            return {k: float(v) for k, v in matches[-1].groupdict().items()}
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot logged no event-loop lag line after SIGUSR1")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the index, start the double and the bot, run both phases, stop the bot."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-bot-load-") as tmp:
        root = Path(tmp)
        (root / "seeded").mkdir()
        built = time.perf_counter()
        seeded = build_seeded_data(root / "seeded", cache_dir=MODEL_CACHE)  # the converted model is kept
        build_s = time.perf_counter() - built
        async with DiscordDouble(token=FAKE_TOKEN) as double:
            bot = BotProcess(double.base_url, double.guild_id, seeded.data_dir, seeded.cache_dir, root / "bot.log")
            started = time.perf_counter()
            await bot.start()
            startup_s = time.perf_counter() - started
            try:
                load = Load(double, seeded.fillers)
                warm = [await load.send_one() for _ in range(4)]
                await load.wait_all(warm, 60)
                rss_idle = bot.peak_rss_kib()
                await _lag_window(bot, 0)  # starts a fresh window for the steady phase

                # Phase 1: a steady stream, evenly spaced.
                mark = len(bot.log_text())
                t0 = time.monotonic()
                steady = await load.spread(args.steady, args.seconds)
                send_s = time.monotonic() - t0
                await load.wait_all(steady, args.timeout)
                steady_lag = await _lag_window(bot, mark)

                # Phase 2: a burst, all at once.
                mark = len(bot.log_text())
                burst = list(await asyncio.gather(*(load.send_one() for _ in range(args.burst))))
                await load.wait_all(burst, args.timeout)
                burst_lag = await _lag_window(bot, mark)
                rss_peak = bot.peak_rss_kib()
            finally:
                exit_code = await bot.stop()
            log = bot.log_text()
        return {
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_1m_at_end": round(os.getloadavg()[0], 2),
                "python": platform.python_version(),
            },
            "index": {"articles": len(seeded.fillers) + 1, "build_s": round(build_s, 1)},
            "bot_startup_s": round(startup_s, 1),
            "steady": {
                **load.outcome(steady),
                "spread_over_s": round(send_s, 2),
                "event_loop_lag_ms": steady_lag,
            },
            "burst": {**load.outcome(burst), "event_loop_lag_ms": burst_lag},
            "memory_mib": {
                "after_warm_up": round((rss_idle or 0) / 1024, 1),
                "peak": round((rss_peak or 0) / 1024, 1),
            },
            "bot_exit_code": exit_code,
            "bot_errors_logged": log.count(" ERROR "),
            "loop_blocked_warnings": log.count("the event loop was blocked"),
        }


def _summary(result: dict[str, Any]) -> str:
    lines = [f"bot started in {result['bot_startup_s']} s; peak memory {result['memory_mib']['peak']} MiB"]
    for phase in ("steady", "burst"):
        r = result[phase]
        a, lag = r["answer_ms"], r["event_loop_lag_ms"]
        lines.append(
            f"{phase}: {r['answered']}/{r['sent']} answered ({r['dropped']} dropped, "
            f"{r['cited_the_right_article']} cited the right article, {r['answers_per_s']}/s); "
            f"answer p50 {a['p50']} ms, "
            f"p95 {a['p95']} ms, p99 {a['p99']} ms; defer p95 {r['defer_ms']['p95']} ms; "
            f"loop lag p95 {lag['p95']} ms, max {lag['max']} ms"
        )
    return "\n".join(lines)


def report(result: dict[str, Any], args: argparse.Namespace, summary: Callable[[dict[str, Any]], str]) -> None:
    """Write the JSON to ``--out`` if given, and print it (``--json``) or the summary."""
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text if args.json else summary(result))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load and print the results (exit 1 when an interaction was dropped or the bot failed)."""
    parser = argparse.ArgumentParser(description="load on the real bot through the local Discord double")
    parser.add_argument("--steady", type=int, default=200, help="interactions in the steady phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="spread the steady phase over this long")
    parser.add_argument("--burst", type=int, default=50, help="interactions sent at once")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each phase's answers")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = asyncio.run(run(args))
    report(result, args, _summary)
    failed = result["steady"]["dropped"] or result["burst"]["dropped"] or result["bot_exit_code"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
