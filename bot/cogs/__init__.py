"""The bot's cogs.

- ``ask``: ``/ask``, ``/summary`` (with article autocomplete) and answers to mentions.
- ``admin``: ``/ingest`` and ``/reindex``, for moderators.
- ``feeds``: ``/feed add|list|remove`` and the background polling task, for moderators.
- ``talk``: ``/stats``, ``/feedback`` (moderators), and the buttons and forms under answers.

``ask``, ``admin`` and ``talk`` need only the bot and are loaded as extensions in ``NewsdeskBot.setup_hook``.
``feeds`` needs the feed poller, so ``bot/run.py`` builds it and adds the cog with it, explicitly.
"""

from __future__ import annotations

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.admin", "bot.cogs.talk")
