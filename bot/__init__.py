"""The newsdesk application: settings, the ``newsdesk`` CLI and the Discord bot.

Importing this package does not import discord; only ``bot.discord_*`` modules and
``bot.cogs`` do.
"""
