"""The newsdesk application: settings, the ``newsdesk`` CLI and the Discord bot.

Importing this package, ``bot.settings``, ``bot.cli``, ``bot.render``, ``bot.handlers`` or
``bot.ratelimit`` does not import discord; ``bot.client``, ``bot.run`` and ``bot.cogs`` do.
"""
