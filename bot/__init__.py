"""The newsdesk application: settings, the ``newsdesk`` CLI and the Discord bot.

- CLI: ``cli`` (commands; exit codes in ``exit_codes``), ``cli_feeds``, ``terminal`` (safe output).
- Bot: ``run`` (start-up), ``client`` (the bot), ``tree`` (its error handler), ``errors`` (what
  users are told), ``looplag``, and ``cogs``, the Discord glue over the handlers in ``reads`` and
  ``writes``. The handlers take no Discord objects (tests drive them with a fake responder); they
  use the ``desk`` (engine, thread pools, rate limiter), ``responders``, ``render`` (messages
  within Discord's limits), ``timing`` and ``progress``.

``bot.settings``, ``bot.cli``, ``bot.desk`` and ``bot.ratelimit`` do not import discord, so the
CLI starts without it; the bot modules do.
"""
