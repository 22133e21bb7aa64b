"""The bot's cogs.

- ``ask``: ``/ask``, ``/summary`` (with article autocomplete) and answers to mentions.
- ``admin``: ``/ingest`` and ``/reindex``, for moderators.
- ``feeds``: ``/feed add|list|remove`` and the background polling task, for moderators.
- ``digest``: ``/digest`` for everyone, ``/digest-schedule add|list|remove`` (moderators) and the daily posting task.
- ``talk``: ``/stats``, ``/feedback`` (moderators), and the buttons and forms under answers.

``ask``, ``admin`` and ``talk`` need only the bot and are loaded as extensions in ``NewsdeskBot.setup_hook``.
``feeds`` needs the feed poller and ``digest`` the digest builder and schedules, so ``bot/run.py`` builds
them and adds those cogs with them, explicitly.
"""

from __future__ import annotations

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.admin", "bot.cogs.talk")
