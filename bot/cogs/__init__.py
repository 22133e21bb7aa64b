"""The bot's cogs, loaded as extensions in ``NewsdeskBot.setup_hook``.

- ``ask``: ``/ask``, ``/summary`` (with article autocomplete) and answers to mentions.
- ``admin``: ``/ingest`` and ``/reindex``, for moderators.
- ``feeds``: ``/feed add|list|remove`` and the background polling task, for moderators.
"""

from __future__ import annotations

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.admin", "bot.cogs.feeds")
