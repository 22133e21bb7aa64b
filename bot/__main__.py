"""``python -m bot [-v] [--shard-ids IDS] [--shard-count N]``: the same as ``newsdesk bot`` with those options.

Same settings, logging and exit codes; the options go after ``bot`` so the bot's own flags are accepted.
"""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["bot", *sys.argv[1:]]))
