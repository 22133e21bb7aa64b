"""More than one process: 1, 2 and 4 bot processes and one worker on PostgreSQL, beside one bot on SQLite.

    python -m benchmarks.scale [--processes 1,2,4] [--questions 120] [--seconds 12] [--json] [--out FILE]

Everything runs on this machine: a throwaway PostgreSQL 15 cluster on loopback (``scripts/pg``), the
local Discord double (``tests/e2e/discord_double.py``) with four servers whose ids put one on each of
four shards ((guild_id >> 22) % shard_count), ``newsdesk bot --shard-ids i --shard-count N`` per
process and one ``newsdesk worker``. The index is the seed plus generated filler articles (as in
``benchmarks.bot_load``), copied into PostgreSQL with ``newsdesk db copy``; each bot process builds its
own snapshot from it.

Per configuration: questions answered per second and the latency from sending an interaction to its
answer (p50/p95), all four servers asking round-robin; the time from a moderator's ``/ingest`` in
process A (the shard of the first server) to the article being answerable there, and to process B
(the last process) serving a snapshot that holds it; peak memory (VmHWM) per process. With PostgreSQL, the
server is then stopped for ``--outage`` seconds while questions keep coming at the steady rate: how many are
answered (from the processes' own snapshots), and how fast; then a second ``/ingest`` once it is back. On a 2-core
machine the double, PostgreSQL, the worker and every bot share the same cores: read the totals as
what they are, and the per-process cost as what a larger host multiplies.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.bot_load import MODEL_CACHE, Load, Sent, report
from tests.e2e._bot_process import (
    FAKE_TOKEN,
    MANAGE_GUILD,
    BotProcess,
    SeededData,
    base_env,
    build_seeded_data,
    followup_text,
    newsdesk_command,
    peak_rss_kib,
)
from tests.e2e._double_permissions import DEFAULT_MEMBER_PERMISSIONS
from tests.e2e.discord_double import DiscordDouble

ROOT = Path(__file__).resolve().parent.parent
SERVERS = 4
SNAPSHOT_LINE = re.compile(r"serving snapshot generation (\d+)")
# Ingested by a moderator during the run: (title, text, the question it answers), before and after the outage.
NEW_ARTICLES = (
    (
        "Harbour authority opens a floating solar farm",
        "The harbour authority of Eastport opened a floating solar farm on Tuesday, the largest of its kind in the "
        "region. The farm's 12,000 panels will power the port's cranes and ferries, the authority said. "
        '"We expect the farm to cover two thirds of the port\'s electricity," harbour master Ilse Brandt said.',
        "What did Ilse Brandt say about the floating solar farm?",
    ),
    (
        "Valley orchards try netting against hail",
        "Apple growers in the Lune valley stretched hail nets over 300 hectares of orchards this spring. "
        '"Last year one storm took half the crop in ten minutes," grower Tomas Reyes said of the nets.',
        "What did Tomas Reyes say about the hail nets?",
    ),
)


class RoundRobinLoad(Load):
    """``bot_load``'s load, asked from each server in turn."""

    def __init__(self, double: DiscordDouble, seeded: SeededData, guilds: Sequence[str]) -> None:
        super().__init__(double, seeded.fillers)
        self.guilds = list(guilds)

    async def send_one(self) -> Sent:
        """Dispatch the next /ask, from a new member of the next server."""
        question, title = self.next_question()
        guild = self.guilds[self.count % len(self.guilds)]
        channel = next(c["id"] for c in self.double.guilds[guild]["channels"])
        user = self.double.make_user(f"scale{self.count}")
        self.double.add_member(guild, user)
        sent_at = time.monotonic()
        iid = await self.double.send_interaction(
            guild_id=guild, channel_id=channel, user=user, command_name="ask", options={"question": question}
        )
        return Sent(iid, title, sent_at)


def _guild_ids() -> list[str]:
    """Snowflakes whose shard is i for i = 0..3 of 4 (and i % 2 of 2, 0 of 1)."""
    return [str((4000 + i) << 22 | 1234) for i in range(SERVERS)]


def _pg(*args: str) -> str:
    return subprocess.run([str(ROOT / "scripts" / "pg"), *args], check=True, capture_output=True, text=True).stdout


def _db_copy(seeded: SeededData, url: str) -> None:
    env = base_env(seeded.data_dir, seeded.cache_dir)
    subprocess.run([*newsdesk_command(), "db", "copy", "--to", url], env=env, check=True, capture_output=True)


def _create_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def _ingest_to_answerable(
    double: DiscordDouble, bots: list[BotProcess], guild: str, timeout: float, article: tuple[str, str, str]
) -> dict[str, float | None]:
    """Seconds from a moderator's /ingest (server on process A) to answerable there and to B's new snapshot."""
    d = double
    title, text, question = article
    channel = next(c["id"] for c in d.guilds[guild]["channels"])
    moderator = d.make_user("scale-moderator")
    d.add_member(guild, moderator)
    b = bots[-1]
    b_mark = len(b.log_text())
    t0 = time.monotonic()
    await d.send_interaction(
        guild_id=guild,
        channel_id=channel,
        user=moderator,
        command_name="ingest",
        options={"title": title, "text": text, "source": "Scale Gazette"},
        permissions=DEFAULT_MEMBER_PERMISSIONS | MANAGE_GUILD,
    )
    to_a = to_b = None
    deadline = t0 + timeout
    while time.monotonic() < deadline and (to_a is None or to_b is None):
        if to_b is None and len(bots) > 1 and SNAPSHOT_LINE.search(b.log_text()[b_mark:]):
            to_b = time.monotonic() - t0
        if to_a is None:
            user = d.make_user(f"scale-asker{time.monotonic_ns()}")
            d.add_member(guild, user)
            iid = await d.send_interaction(
                guild_id=guild, channel_id=channel, user=user, command_name="ask", options={"question": question}
            )
            try:
                await d.wait_until(lambda iid=iid: d.interactions[iid].followups, 30)
            except TimeoutError:
                continue
            if title in followup_text(d.interactions[iid].followups[0]):
                to_a = time.monotonic() - t0
                continue
        await asyncio.sleep(0.1)
    if len(bots) == 1:
        to_b = to_a
    return {
        "to_answerable_in_a_s": round(to_a, 2) if to_a is not None else None,
        "to_snapshot_in_b_s": round(to_b, 2) if to_b is not None else None,
    }


async def _outage(load: RoundRobinLoad, args: argparse.Namespace, pg: tuple[Path, int]) -> dict[str, Any]:
    """Stop PostgreSQL for ``--outage`` seconds while questions keep coming; the answers to them."""
    count = round(args.questions * args.outage / args.seconds)  # the steady phase's rate
    await asyncio.to_thread(_pg, "stop", str(pg[0]))
    try:
        sent = await load.spread(count, args.outage)
    finally:
        await asyncio.to_thread(_pg, "start", str(pg[0]), str(pg[1]))
    await load.wait_all(sent, args.timeout)
    return {**load.outcome(sent), "server_down_s": args.outage}


async def run_config(
    label: str,
    processes: int,
    seeded: SeededData,
    root: Path,
    args: argparse.Namespace,
    url: str | None,
    pg: tuple[Path, int] | None = None,
) -> dict[str, Any]:
    """One configuration: start the double, the worker (PostgreSQL) and the bots; load; ingest; stop."""
    guilds = _guild_ids()
    env = {"NEWSDESK_DATABASE_URL": url} if url else {}
    worker: subprocess.Popen[bytes] | None = None
    async with DiscordDouble(token=FAKE_TOKEN) as double:
        for i, gid in enumerate(guilds):
            double.add_guild(f"server{i}", guild_id=gid)
        if url:
            log = (root / f"{label}-worker.log").open("wb")
            worker_dir = root / f"{label}-worker"
            worker_dir.mkdir()
            worker = subprocess.Popen(
                [*newsdesk_command(), "worker"],
                env=base_env(worker_dir, seeded.cache_dir, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=root,
            )
        bots = []
        try:
            for i in range(processes):
                data_dir = root / f"{label}-bot{i}"
                if url is None:
                    seeded.copy_to(data_dir)
                else:
                    data_dir.mkdir()
                shard_args = ["--shard-ids", str(i), "--shard-count", str(processes)] if url else []
                bot = BotProcess(
                    double.base_url,
                    ",".join(guilds),
                    data_dir,
                    seeded.cache_dir,
                    root / f"{label}-bot{i}.log",
                    extra_env=env,
                    args=shard_args,
                )
                started = time.perf_counter()
                await bot.start(timeout=180)
                bots.append((bot, time.perf_counter() - started))
            procs = [b for b, _ in bots]
            load = RoundRobinLoad(double, seeded, guilds)
            warm = [await load.send_one() for _ in range(2 * SERVERS)]
            await load.wait_all(warm, 120)
            sent = await load.spread(args.questions, args.seconds)
            await load.wait_all(sent, args.timeout)
            outcome = load.outcome(sent)
            burst = list(await asyncio.gather(*(load.send_one() for _ in range(args.burst))))
            await load.wait_all(burst, args.timeout)
            burst_outcome = load.outcome(burst)
            ingest = await _ingest_to_answerable(double, procs, guilds[0], args.timeout, NEW_ARTICLES[0])
            outage = None
            if pg is not None and args.outage > 0:
                outage = await _outage(load, args, pg)
                outage["ingest_after"] = await _ingest_to_answerable(
                    double, procs, guilds[0], args.timeout, NEW_ARTICLES[1]
                )
            memory = {f"bot{i}": round((peak_rss_kib(b.pid) or 0) / 1024, 1) for i, b in enumerate(procs)}
            if worker is not None:
                memory["worker"] = round((peak_rss_kib(worker.pid) or 0) / 1024, 1)
        finally:
            exits = []
            for bot, _ in bots:
                exits.append(await bot.stop())
            if worker is not None:
                worker.terminate()
                exits.append(worker.wait(30))
    return {
        "label": label,
        "store": "postgresql" if url else "sqlite",
        "bot_processes": processes,
        "bot_startup_s": [round(s, 1) for _, s in bots],
        "steady": {**outcome, "spread_over_s": args.seconds},
        "burst": burst_outcome,
        "postgresql_stopped": outage,
        "ingest": ingest,
        "peak_memory_mib": memory,
        "exit_codes": exits,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the index once, then run every configuration on it."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-scale-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        (root / "seeded").mkdir()
        seeded = build_seeded_data(root / "seeded", cache_dir=MODEL_CACHE)
        results = [await run_config("sqlite", 1, seeded, root, args, None)]
        pg_dir = root / "pg"
        server = _pg("start", str(pg_dir), str(args.pg_port)).strip()
        try:
            for n in args.processes:
                url = _create_database(server, f"scale{n}")
                _db_copy(seeded, url)
                results.append(await run_config(f"pg{n}", n, seeded, root, args, url, (pg_dir, args.pg_port)))
        finally:
            _pg("stop", str(pg_dir))
            if args.logs:
                args.logs.mkdir(parents=True, exist_ok=True)
                for log in root.glob("*.log"):
                    shutil.copy(log, args.logs / log.name)
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "index": {"articles": len(seeded.fillers) + 1},
        "questions": args.questions,
        "burst": args.burst,
        "configs": results,
    }


def _summary(result: dict[str, Any]) -> str:
    lines = [
        "store       procs  answered/s  p50 ms  p95 ms  burst p95 ms  ingest->A s  ingest->B s  memory MiB per process"
    ]
    for c in result["configs"]:
        s, b, i = c["steady"], c["burst"], c["ingest"]
        mem = ", ".join(f"{k} {v}" for k, v in c["peak_memory_mib"].items())
        lines.append(
            f"{c['store']:<11} {c['bot_processes']:>5}  {s['answers_per_s']!s:>10}  {s['answer_ms']['p50']!s:>6}  "
            f"{s['answer_ms']['p95']!s:>6}  {b['answer_ms']['p95']!s:>12}  {i['to_answerable_in_a_s']!s:>11}  "
            f"{i['to_snapshot_in_b_s']!s:>11}  {mem}"
        )
        if s["dropped"] or b["dropped"]:
            lines.append(f"  dropped: steady {s['dropped']}, burst {b['dropped']}")
        if (o := c["postgresql_stopped"]) is not None:
            lines.append(
                f"  PostgreSQL stopped {o['server_down_s']} s under load: {o['answered']}/{o['sent']} answered "
                f"({o['cited_the_right_article']} cited the right article), p50 {o['answer_ms']['p50']} ms, "
                f"p95 {o['answer_ms']['p95']} ms; an /ingest after it answerable in "
                f"{o['ingest_after']['to_answerable_in_a_s']} s / {o['ingest_after']['to_snapshot_in_b_s']} s"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every configuration and print the table (exit 1 when an answer was dropped or a process failed)."""
    parser = argparse.ArgumentParser(description="several bot processes and a worker on PostgreSQL vs one on SQLite")
    parser.add_argument("--processes", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 4])
    parser.add_argument("--questions", type=int, default=120, help="questions in the steady phase")
    parser.add_argument("--seconds", type=float, default=12.0, help="spread the steady phase over this long")
    parser.add_argument("--burst", type=int, default=40, help="questions sent at once after the steady phase")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--outage", type=float, default=10.0, help="stop PostgreSQL this long under load (0: never)")
    parser.add_argument("--pg-port", type=int, default=55499)
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this folder")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = asyncio.run(run(args))
    report(result, args, _summary)
    bad = any(c["steady"]["dropped"] or c["burst"]["dropped"] or any(c["exit_codes"]) for c in result["configs"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
