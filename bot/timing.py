"""One log line per command: its latency, outcome, user and server, whatever happens."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.desk import Asker

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a command ended with, for the latency log line."""

    status: str = "ok"


@asynccontextmanager
async def timed(command: str, asker: Asker) -> AsyncIterator[Outcome]:
    """Log the command's latency and outcome when it ends, whatever happens."""
    outcome, started = Outcome(), time.perf_counter()
    try:
        yield outcome
    except BaseException:
        outcome.status = "error"
        raise
    finally:
        where = f"guild {asker.guild_id}" if asker.guild_id else "DM"
        log.info(
            "/%s %s in %.0f ms (user %s, %s)",
            command,
            outcome.status,
            (time.perf_counter() - started) * 1000,
            asker.user_id,
            where,
        )
