"""Start the bot: ``newsdesk bot`` and ``python -m bot`` both end in ``run_bot``.

Start-up order: check the token (exit 4 with a readable line when it is missing or
malformed), point discord.py at another API when ``discord_api_base`` is set, open the
engine once in a worker thread (loading the model and the index), build what the cogs share
(one HTTP client, the ``Desk`` with its records of conversations and feedback, the feed
poller, the digests), add the feeds and digest cogs, log in, load the other cogs (which register the answers'
persistent buttons) and sync the commands (``NewsdeskBot.setup_hook``), then connect. SIGTERM and SIGINT
close the bot cleanly; the engine's thread pools are shut down on the way out.

One write path: every write to the index (``/ingest``, ``/reindex``, feed polls) runs in the
desk's single write thread while holding ``Desk.write_lock`` (``desk_writer`` for feeds), so a
feed poll waits for a re-index to finish and a moderator sees "waiting" while a poll ingests.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import INTERNAL_API_VERSION, Route

from bot.cli_feeds import make_poller
from bot.client import NewsdeskBot, ShardedNewsdeskBot
from bot.cogs.digest import DigestCog
from bot.cogs.feeds import FeedsCog
from bot.desk import Desk, Records
from bot.digests import make_digests
from bot.exit_codes import EXIT_BOT
from bot.ratelimit import RateLimiter
from index.errors import UnusableIndexError
from index.fetch import make_client
from index.jobs import JobStore
from index.shards import ShardClaim, ShardConflictError, claim_shards
from index.web import read_url_async

if TYPE_CHECKING:
    from app.engine import Engine
    from bot.settings import Settings
    from bot.shards import ShardPlan
    from index.feedpoller import Writer

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


OpenEngine = Callable[["Settings"], "Engine"]
"""Opens the engine (model and index) from the settings; run in a worker thread at start-up."""


def point_at_api(base: str) -> None:
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


def desk_writer(desk: Desk) -> Writer:
    """The desk's write path for feed polls: ``Desk.write_lock``, then the desk's single write thread.

    ``bot.writes.ingest`` and ``reindex`` write the same way, so no two writes ever overlap.
    """

    async def write(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        async with desk.write_lock:
            return await desk.write(fn, *args, **kwargs)

    return write


def load_engine(settings: Settings) -> Engine:
    """The real engine: loads the configured model and opens the index.

    With a language model configured, its answers are deferred to the event loop, which streams
    them into Discord (``app.deferred``, ``bot.streaming``).
    """
    from app.deferred import deferred
    from app.engine import Engine

    engine = Engine(settings.engine_config())
    engine.answerer = deferred(engine.answerer)
    if llm := settings.llm_config():
        log.info("answering with the language model %s at %s (extractive fallback)", llm.model, llm.base_url)
    return engine


def _make_bot(bot_cls: type[NewsdeskBot], shards: ShardPlan | None, desk: Desk, settings: Settings) -> NewsdeskBot:
    """The bot: one unsharded session, or (``bot_cls`` an ``AutoShardedBot`` then) the planned shards."""
    if shards is None:
        return bot_cls(desk=desk, settings=settings)
    log.info("running %s", shards.describe())
    return bot_cls(desk=desk, settings=settings, shard_ids=list(shards.ids), shard_count=shards.count)


async def _keep_claim(bot: NewsdeskBot, claim: ShardClaim) -> None:
    """Renew the shard claim while the bot runs; close the bot if another process took the shards over."""
    while True:
        await asyncio.sleep(claim.heartbeat_every)
        try:
            await asyncio.to_thread(claim.heartbeat)
        except ShardConflictError as exc:
            log.error("stopping: %s", exc)
            await bot.close()
            return
        except UnusableIndexError as exc:  # the store is down: the claim holds for its lease, try again
            log.warning("could not renew the shard claim: %s", exc)


def _release(claim: ShardClaim) -> None:
    try:
        claim.release()
    except UnusableIndexError as exc:
        log.warning("could not release the shard claim (it lapses by itself): %s", exc)


async def _serve(
    settings: Settings, token: str, open_engine: OpenEngine, bot_cls: type[NewsdeskBot], shards: ShardPlan | None
) -> int:
    try:
        engine = await asyncio.to_thread(open_engine, settings)
    except Exception as exc:
        log.error(
            "cannot start the bot: the index in %s cannot be opened: %s",
            settings.data_dir.resolve(),
            exc,
            exc_info=not isinstance(exc, OSError | ValueError),
        )
        return EXIT_BOT
    claim: ShardClaim | None = None
    if shards is not None:  # each shard is run by one process: refuse to start on shards another one holds
        try:
            claim = await asyncio.to_thread(claim_shards, engine.store, shards.ids, shards.count)
        except (ShardConflictError, UnusableIndexError) as exc:
            log.error("cannot start the bot: %s", exc)
            engine.close()
            return EXIT_BOT
    # One HTTP client for /ingest url: and the feeds, guarded against private addresses unless allowed.
    http_client = make_client(allow_private=settings.allow_private_urls)
    fetch = functools.partial(read_url_async, client=http_client, allow_private=settings.allow_private_urls)
    ttl = timedelta(minutes=settings.conversation_minutes)
    records = await asyncio.to_thread(Records.open, engine.store, conversation_ttl=ttl)
    desk = Desk(
        engine,
        limiter=RateLimiter(settings.asks_per_minute),
        use_embeds=settings.use_embeds,
        fetch=fetch,
        moderator_role=settings.moderator_role,
        records=records,
        jobs=JobStore(engine.store) if settings.database_url else None,  # shared store: `newsdesk worker` writes
    )
    poller = make_poller(engine, settings, http_client, write=desk_writer(desk))
    digests = await asyncio.to_thread(make_digests, engine)
    bot = _make_bot(bot_cls, shards, desk, settings)
    try:
        async with bot:
            await bot.add_cog(FeedsCog(bot, poller))  # before login: setup_hook syncs its commands with the rest
            await bot.add_cog(DigestCog(bot, digests))
            _install_signal_handlers(bot)
            if claim is not None:
                heartbeats = asyncio.create_task(_keep_claim(bot, claim), name="shard-claim")
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
        if claim is not None:
            heartbeats.cancel()
            await asyncio.to_thread(_release, claim)
        desk.close()
        engine.close()
        await http_client.aclose()
    log.info("bot closed")
    return 0


def run_bot(
    settings: Settings,
    *,
    shards: ShardPlan | None = None,
    open_engine: OpenEngine = load_engine,
    bot_cls: type[NewsdeskBot] = NewsdeskBot,
    sharded_cls: type[NewsdeskBot] = ShardedNewsdeskBot,
) -> int:
    """Run the bot until it is closed (SIGTERM, SIGINT).

    Args:
        settings: the settings (token, API base, index, limits).
        shards: the Discord shards to run (``bot.shards.plan_shards``); None for one unsharded session.
        open_engine: opens the engine (tests open one on a fake encoder).
        bot_cls: the bot class (tests pass one whose login and connect stay offline).
        sharded_cls: the bot class when ``shards`` is given (an ``AutoShardedBot``).

    Returns:
        The exit code: 0 after a clean shutdown, 4 when the bot cannot start.
    """
    try:
        token = settings.require_token()
        if settings.discord_api_base:
            point_at_api(settings.discord_api_base)
    except ValueError as exc:
        log.error("cannot start the bot: %s", exc)
        return EXIT_BOT
    try:
        cls = bot_cls if shards is None else sharded_cls
        return asyncio.run(_serve(settings, token, open_engine, cls, shards))
    except KeyboardInterrupt:  # a second Ctrl-C while closing
        return 0
