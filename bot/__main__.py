"""``python -m bot [-v]``: the same as ``newsdesk [-v] bot`` (settings, logging, exit codes)."""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main([*sys.argv[1:], "bot"]))
