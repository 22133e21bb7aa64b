"""``newsdesk bot`` without Discord, in a process of its own, for the SIGTERM test.

Its login loads the cogs as a real login does and prints the commands as JSON, then SIGTERM
arrives 0.2 s later; the process exits with ``run_bot``'s code. A signal sent to the pytest
process itself would reach every thread that earlier tests left behind, so it runs apart:

    python -m tests.bot._offline_bot DATA_DIR TOKEN
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from pathlib import Path

from app.config import EngineConfig
from app.engine import Engine
from bot import run
from bot.client import NewsdeskBot
from bot.settings import Settings
from tests.fakes import FakeEncoder


class OfflineBot(NewsdeskBot):
    """Logs in without Discord (loading the cogs as login does), stays connected until closed."""

    async def login(self, token: str) -> None:
        await self.setup_hook()
        print(json.dumps(sorted(c.name for c in self.tree.get_commands())), flush=True)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

    async def connect(self, *, reconnect: bool = True) -> None:
        while not self.is_closed():
            await asyncio.sleep(0.01)


def main(data_dir: str, token: str) -> int:
    """Run the offline bot on a fake-encoder engine until SIGTERM closes it."""
    settings = Settings(_env_file=None, discord_token=token, sync_commands=False)

    def open_engine(_settings: Settings) -> Engine:
        return Engine(EngineConfig(data_dir=Path(data_dir)), encoder=FakeEncoder())

    return run.run_bot(settings, open_engine=open_engine, bot_cls=OfflineBot)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
