"""Start the bot: ``newsdesk bot`` and ``python -m bot`` both end in ``run_bot``.

Start-up order: check the token (exit 4 with a readable line when it is missing or
malformed), point discord.py at another API when ``discord_api_base`` is set, open the
engine once in a worker thread (loading the model and the index), log in, load the cogs and
sync the commands (``NewsdeskBot.setup_hook``), then connect. SIGTERM and SIGINT close the
bot cleanly; the engine's thread pools are shut down on the way out.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import signal
from typing import TYPE_CHECKING

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import INTERNAL_API_VERSION, Route

from bot.client import NewsdeskBot
from bot.handlers import Desk
from bot.ratelimit import RateLimiter
from index.fetch import make_client
from index.web import read_url_async

if TYPE_CHECKING:
    from app.engine import Engine
    from bot.settings import Settings

log = logging.getLogger(__name__)

EXIT_BOT = 4


def _point_at_api(base: str) -> None:
    """Send discord.py's REST calls and gateway connections to ``base`` instead of discord.com.

    ``base`` is the root of a Discord-compatible server (``http://127.0.0.1:8080``, with or
    without ``/api/v10``): REST goes to ``{base}/api/v10``, and the gateway defaults to the same
    host over ``ws``/``wss`` until ``_use_advertised_gateway`` asks the server where it is.
    """
    root = re.sub(r"/api(/v\d+)?$", "", base.strip().rstrip("/"))
    url = yarl.URL(root)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"NEWSDESK_DISCORD_API_BASE must be an http(s) URL, not {base!r}")
    Route.BASE = f"{root}/api/v{INTERNAL_API_VERSION}"
    DiscordWebSocket.DEFAULT_GATEWAY = url.with_scheme("wss" if url.scheme == "https" else "ws").with_path("/")
    log.warning("using the Discord API at %s instead of discord.com", Route.BASE)


async def _use_advertised_gateway(bot: discord.Client) -> None:
    """Connect to the gateway the API advertises (``GET /gateway/bot``), as Discord's own clients do."""
    try:
        _shards, url, _limits = await bot.http.get_bot_gateway()
    except discord.GatewayNotFound:
        log.warning("the API does not say where its gateway is; trying %s", DiscordWebSocket.DEFAULT_GATEWAY)
        return
    gateway = yarl.URL(url)
    DiscordWebSocket.DEFAULT_GATEWAY = gateway if gateway.path else gateway.with_path("/")


def _install_signal_handlers(bot: NewsdeskBot) -> None:
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def stop(name: str) -> None:
        log.info("%s received: closing the bot", name)
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop, sig.name)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            log.debug("cannot handle %s here", sig.name)


def _open_engine(settings: Settings) -> Engine:
    from app.engine import Engine

    return Engine(settings.engine_config())


async def _serve(settings: Settings, token: str) -> int:
    try:
        engine = await asyncio.to_thread(_open_engine, settings)
    except Exception as exc:
        log.error(
            "cannot start the bot: the index in %s cannot be opened: %s",
            settings.data_dir.resolve(),
            exc,
            exc_info=not isinstance(exc, OSError | ValueError),
        )
        return EXIT_BOT
    # One HTTP client for /ingest url:, guarded against private addresses unless the operator allows them.
    http_client = make_client(allow_private=settings.allow_private_urls)
    fetch = functools.partial(read_url_async, client=http_client, allow_private=settings.allow_private_urls)
    desk = Desk(engine, limiter=RateLimiter(settings.asks_per_minute), use_embeds=settings.use_embeds, fetch=fetch)
    bot = NewsdeskBot(desk=desk, settings=settings)
    try:
        async with bot:
            _install_signal_handlers(bot)
            await bot.login(token)
            if settings.discord_api_base:
                await _use_advertised_gateway(bot)
            await bot.connect()
    except discord.LoginFailure:
        log.error(
            "cannot start the bot: Discord refused the token; reset it in the Developer Portal (Bot tab) "
            "and update DISCORD_TOKEN"
        )
        return EXIT_BOT
    except (discord.HTTPException, discord.GatewayNotFound, aiohttp.ClientError, OSError) as exc:
        log.error("cannot start the bot: Discord cannot be reached or refused us: %s", exc)
        return EXIT_BOT
    finally:
        desk.close()
        engine.close()
        await http_client.aclose()
    log.info("bot closed")
    return 0


def run_bot(settings: Settings) -> int:
    """Run the bot until it is closed (SIGTERM, SIGINT).

    Returns:
        The exit code: 0 after a clean shutdown, 4 when the bot cannot start.
    """
    try:
        token = settings.require_token()
        if settings.discord_api_base:
            _point_at_api(settings.discord_api_base)
    except ValueError as exc:
        log.error("cannot start the bot: %s", exc)
        return EXIT_BOT
    try:
        return asyncio.run(_serve(settings, token))
    except KeyboardInterrupt:  # a second Ctrl-C while closing
        return 0
