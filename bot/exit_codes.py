"""The exit codes of ``newsdesk`` and ``python -m bot`` (README, "Exit codes"), in one place."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PARTIAL = 1  # some inputs were skipped (ingest --strict), or nothing could be ingested
EXIT_USAGE = 2  # bad usage, an unreadable --batch file, or a bad question
EXIT_INDEX = 3  # no index, or one that cannot be used (not a folder, corrupt, another model)
EXIT_BOT = 4  # the bot cannot start (token, index, Discord unreachable)
EXIT_INTERRUPTED = 130  # Ctrl-C: what was committed so far is kept
