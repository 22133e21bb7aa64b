"""The real ``newsdesk bot`` as a subprocess, pointed at the Discord double (shared by the e2e tests
and ``benchmarks/bot_load.py``).

* ``build_seeded_data(root)`` runs ``newsdesk ingest seeds/ filler.jsonl`` once: the seed article plus
  ``FILLER_ARTICLES`` generated articles (each with one made-up person saying something about one
  made-up project, so every article has its own answerable question, and enough passages that a
  re-index takes a few seconds).  The converted OpenVINO model is cached in ``root/cache``.
* ``BotProcess`` starts ``newsdesk bot`` with ``DISCORD_TOKEN`` (a well-formed fake the double checks),
  ``NEWSDESK_DISCORD_API_BASE`` (the double), ``NEWSDESK_GUILD_IDS`` (the double's guild), logs to a
  file, and waits for the "connected as" line.  ``stop()`` sends SIGTERM and returns the exit code.

Nothing here reaches into the bot: it only sees environment variables, a data directory and the
double's HTTP/websocket endpoints, exactly like production sees Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discord_double import DiscordDouble

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
# Three base64url parts like a real token (user id . timestamp . HMAC); the double accepts only this one.
FAKE_TOKEN = "MTE5ODc2NTQzMjEwOTg3NjU0Mw.GhJkLm.newsdesk-e2e-fake-token-0123456789abcdef"
READY_LINE = "bot.client: connected as"
MANAGE_GUILD = 1 << 5
PESKOV = "What did Peskov say about the strikes?"
#: What the seed quotes Peskov saying (three sentences): an answer to PESKOV quotes at least one of them; which
#: ranks first is the reader's choice and moves with its training and the filler articles around the seed.
PESKOV_QUOTES = (
    "significantly increased",
    "It's quite noteworthy that President Trump",
    "We are very sorry about that and we are very concerned",
)
SEED_TITLE = "Russia-US ties face long haul to recover from 'zero'"
FILLER_ARTICLES = 150


# ---------------------------------------------------------------------------------------------- corpus
@dataclass(frozen=True)
class Filler:
    """One generated article and the question only it answers."""

    title: str
    text: str
    surname: str
    project: str
    town: str
    key_sentence: str

    @property
    def question(self) -> str:
        return f"What did {self.surname} say about the {self.project} in {self.town}?"


_SYL = ["bra", "sto", "kel", "vin", "dor", "mea", "zul", "tra", "quen", "lis", "pov", "ane", "rik", "sol", "gah", "ty"]
_FIRST = ["Ivana", "Tomas", "Greta", "Oskar", "Leona", "Marek", "Helga", "Rafael", "Noor", "Sven", "Ada", "Kofi"]
_ROLE = ["mayor", "transport chief", "council leader", "harbour master", "planning officer", "finance director"]
_PROJECT = [
    "ferry terminal",
    "tram extension",
    "flood barrier",
    "cycle bridge",
    "water plant",
    "library annex",
    "bus depot",
    "solar farm",
    "sea wall",
    "ring road",
]
_OUTCOME = [
    "open {n} months late because of {cause}",
    "cost {m} million more than the {y} estimate",
    "be paid for by a {p} percent levy on {what}",
    "need {n} extra workers before {season}",
    "be finished by {season} if {cause} eased",
]
_CAUSE = ["steel shortages", "a wet winter", "a legal challenge", "union talks", "supplier bankruptcies", "soil tests"]
_WHAT = ["parking permits", "hotel stays", "commercial rents", "port fees", "event tickets"]
_SEASON = ["spring", "midsummer", "the autumn", "next winter", "the new year"]
_FILL = [
    "Residents of {town} packed the {venue} on {day} evening, and {n} of them asked to speak.",
    "{town} has argued about the plan since {y}, when {first} {other} first sketched it.",
    "Opponents handed in {n} signatures on {day}, saying {cause} proved the budget was wrong.",
    "A {venue} vote is due in {season}; {n} members are still undecided, officials said.",
    "Local shops near the {street} worried that {cause} would keep customers away for {n} weeks.",
    "The regional auditor in {other}ville will review the {m} million contract in {season}.",
    "Engineers from {other} and Partners said {n} test holes along the {street} were finished.",
    "On {day} {first} {other}, who runs a {shop} on the {street}, called it overdue.",
]
_VENUE = ["town hall", "community centre", "old cinema", "school gym", "guild hall"]
_DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_STREET = ["quay road", "market street", "north avenue", "canal path", "station square"]
_SHOP = ["bakery", "bike shop", "bookshop", "cafe", "hardware store"]


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        word = "".join(rng.choice(_SYL) for _ in range(rng.choice((3, 4)))).capitalize()
        if word not in used:
            used.add(word)
            return word


def filler_articles(count: int = FILLER_ARTICLES, seed: int = 7) -> list[Filler]:
    """``count`` distinct generated local-news articles (not near-duplicates of each other)."""
    rng = random.Random(seed)
    used: set[str] = set()
    out = []
    for i in range(count):
        surname, town, other = _name(rng, used), _name(rng, used), _name(rng, used)
        project = _PROJECT[i % len(_PROJECT)]
        slots = {
            "n": rng.randint(3, 90),
            "m": rng.randint(2, 400),
            "y": rng.randint(1998, 2016),
            "p": rng.randint(1, 9),
            "cause": rng.choice(_CAUSE),
            "what": rng.choice(_WHAT),
            "season": rng.choice(_SEASON),
            "town": town,
            "other": other,
            "first": rng.choice(_FIRST),
            "venue": rng.choice(_VENUE),
            "day": rng.choice(_DAY),
            "street": rng.choice(_STREET),
            "shop": rng.choice(_SHOP),
        }
        outcome = rng.choice(_OUTCOME).format(**slots)
        role = rng.choice(_ROLE)
        key = f"{rng.choice(_FIRST)} {surname}, the {role} of {town}, said the {project} would {outcome}."
        fill = [s.format(**slots) for s in rng.sample(_FILL, 6)]
        body = [fill[0], key, *fill[1:]]
        title = f"{town} {project}: {surname} warns of {slots['cause']}"
        out.append(Filler(title, " ".join(body), surname, project, town, key))
    return out


# ---------------------------------------------------------------------------------------------- processes
def newsdesk_command() -> list[str]:
    """The installed ``newsdesk`` console script next to this interpreter (else ``python -m bot.cli``)."""
    script = Path(sys.executable).with_name("newsdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def base_env(data_dir: Path, cache_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a newsdesk subprocess: no developer NEWSDESK_* settings, offline model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_") and k != "DISCORD_TOKEN"}
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        NEWSDESK_DATA_DIR=str(data_dir),
        NEWSDESK_CACHE_DIR=str(cache_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class SeededData:
    """A data dir built with ``newsdesk ingest`` (treat as read-only: ``copy_to`` for a private one)."""

    data_dir: Path
    cache_dir: Path
    fillers: list[Filler]

    def copy_to(self, dest: Path) -> Path:
        shutil.copytree(self.data_dir, dest)
        return dest


def build_seeded_data(
    root: Path, *, cache_dir: Path | None = None, fillers: int = FILLER_ARTICLES, timeout: float = 300
) -> SeededData:
    """``newsdesk ingest seeds/ filler.jsonl`` into ``root/data`` (models cached in ``cache_dir``, default
    ``root/cache``)."""
    data_dir, cache_dir = root / "data", cache_dir or root / "cache"
    articles = filler_articles(fillers)
    corpus = root / "filler.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for a in articles:
            fh.write(json.dumps({"title": a.title, "text": a.text, "source": "Filler Gazette"}) + "\n")
    result = subprocess.run(
        [*newsdesk_command(), "ingest", "--strict", str(SEEDS), str(corpus)],
        env=base_env(data_dir, cache_dir),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"newsdesk ingest failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    expected = f"{fillers + len(list(SEEDS.glob('*.txt')))} added"
    if not result.stdout.startswith(expected) or " 0 merged" not in result.stdout:
        raise RuntimeError(f"unexpected ingest result (wanted {expected!r}, none merged): {result.stdout}")
    return SeededData(data_dir, cache_dir, articles)


@dataclass
class BotProcess:
    """``newsdesk bot`` against a double; ``start()`` returns once the bot logged that it is ready."""

    api_base: str
    guild_id: str
    data_dir: Path
    cache_dir: Path
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # after `newsdesk bot`, e.g. ["--shard-ids", "0,1", ...]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    async def start(self, timeout: float = 90) -> BotProcess:
        env = base_env(
            self.data_dir,
            self.cache_dir,
            DISCORD_TOKEN=FAKE_TOKEN,
            NEWSDESK_DISCORD_API_BASE=self.api_base,
            NEWSDESK_GUILD_IDS=self.guild_id,
            **self.extra_env,
        )
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        # cwd: a folder without a .env, so only this environment configures the bot.
        self.proc = subprocess.Popen(
            [*newsdesk_command(), "bot", *self.args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir.parent,
        )
        log.close()
        await self.wait_for_log(READY_LINE, timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_text(self) -> str:
        """What this run of the bot logged so far."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(self._offset)
            return fh.read().decode(errors="replace")

    async def wait_for_log(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """Wait until the log matches ``pattern`` (a regex); fail early if the bot exits."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            match = rx.search(self.log_text())
            if match:
                return match
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {pattern!r} in the bot log within {timeout}s:\n{self.log_text()[-4000:]}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait for the exit code (SIGKILL and raise if it hangs)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise TimeoutError(f"the bot ignored SIGTERM for {timeout}s:\n{self.log_text()[-4000:]}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def peak_rss_kib(self) -> int | None:
        """VmHWM of the running process (Linux), in KiB."""
        return peak_rss_kib(self.pid)


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM of a running process (Linux), in KiB; None when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else None


@contextlib.asynccontextmanager
async def running_bot(
    double: DiscordDouble,
    data_dir: Path,
    cache_dir: Path,
    root: Path,
    extra_env: dict[str, str] | None = None,
    args: list[str] | None = None,
) -> AsyncIterator[BotProcess]:
    """``newsdesk bot [args]`` on ``data_dir`` against ``double``, logging to ``root/bot.log``; SIGTERM must end
    it with 0."""
    proc = BotProcess(
        double.base_url,
        double.guild_id,
        data_dir,
        cache_dir,
        root / "bot.log",
        extra_env=extra_env or {},
        args=args or [],
    )
    await proc.start()
    yield proc
    assert await proc.stop() == 0, proc.log_text()[-4000:]


def assert_clean_log(proc: BotProcess) -> None:
    """Nothing went wrong on the bot's side: no error logged, no traceback."""
    log = proc.log_text()
    assert " ERROR " not in log and "Traceback" not in log, log[-4000:]


def followup_text(message: dict[str, Any]) -> str:
    """Everything a user reads in a message: content, embed titles, descriptions, fields, footers."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(p for p in parts if p)
