"""The aiohttp application: the database, the NLU, the dialogue core and the channels, wired once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.ext.asyncio import AsyncEngine

import handoff.service as handoff_service
from nlu.content import load_content
from nlu.interpreter import Interpreter
from nlu.loader import open_interpreter

from .config import Config
from .dialogue.core import DialogueCore
from .dialogue.policy import DialoguePolicy
from .handlers.base import Channel
from .handlers.telegram import TelegramChannel
from .handlers.web import WebChannel
from .keys import CHANNELS_KEY, CONFIG_KEY, CORE_KEY, ENGINE_KEY, INTERPRETER_KEY, STORE_KEY
from .messages import Messages
from .retention import purge
from .storage.database import DatabaseError, async_url, create_engine, current_revision, ensure_current, head_revision
from .storage.store import Store

logger = logging.getLogger(__name__)

#: Channels by the name used in configuration; a new channel is one more entry.
CHANNELS: dict[str, type[Channel]] = {"web": WebChannel, "telegram": TelegramChannel}


class AccessLogger(AbstractAccessLogger):
    """One JSON line per request: method, path, status, duration. No address, user agent or query."""

    @property
    def enabled(self) -> bool:
        """Whether lines are written at all (aiohttp then skips :meth:`log`): not below INFO, the default."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write the access line."""
        self.logger.info(
            json.dumps(
                {
                    "event": "request",
                    "method": request.method,
                    "path": request.path,
                    "status": response.status,
                    "ms": round(time * 1000, 1),
                }
            )
        )


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Headers every response carries; pages of our own get a strict content security policy."""
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path in ("/", "/accessibility") or request.path.startswith("/console"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def create_app(
    config: Config,
    *,
    interpreter: Interpreter | None = None,
    engine: AsyncEngine | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> web.Application:
    """Build the application. Tests may hand in an interpreter, an engine and a clock they made."""
    app = web.Application(middlewares=[security_headers], client_max_size=1024**2)
    app[CONFIG_KEY] = config
    channels = [CHANNELS["web"].from_config(config)]
    if config.telegram.enabled:
        channels.append(CHANNELS["telegram"].from_config(config))
    for channel in channels:
        channel.setup(app)
    app[CHANNELS_KEY] = channels
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    handoff_service.install(app)
    app.cleanup_ctx.append(_database(config, engine))
    app.cleanup_ctx.append(_understanding(config, interpreter))
    app.cleanup_ctx.append(_dialogue(config, clock))
    app.cleanup_ctx.append(_nightly_purge(config))
    return app


def _database(config: Config, given: AsyncEngine | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        engine = given or create_engine(async_url(config.database.url, config.base_dir))
        await ensure_current(engine)
        store = Store(engine)
        await store.start()
        app[ENGINE_KEY] = engine
        app[STORE_KEY] = store
        yield
        await store.close()
        if given is None:
            await engine.dispose()

    return context


def _understanding(config: Config, given: Interpreter | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        interpreter: Interpreter = (
            given
            if given is not None
            else await asyncio.to_thread(
                open_interpreter, config.nlu, announce=lambda message: logger.warning("%s", message)
            )
        )
        app[INTERPRETER_KEY] = interpreter
        if given is None:
            content = load_content(config.nlu.content_dir)
            started = time.perf_counter()
            count = await asyncio.to_thread(interpreter.warm_up, (text for text, _ in content.examples()))
            logger.info("nlu warmed up", extra={"texts": count, "seconds": round(time.perf_counter() - started, 1)})
        yield
        if given is None:
            await interpreter.engine.close()

    return context


def _dialogue(
    config: Config, clock: Callable[[], dt.datetime] | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        content = load_content(config.nlu.content_dir)
        messages = Messages.load(config.nlu.content_dir.parent / "messages.yml")
        policy = DialoguePolicy(
            content, messages, config, config.dialogue, retention_days=config.privacy.retention_days
        )
        core = DialogueCore(
            app[STORE_KEY],
            app[INTERPRETER_KEY],
            policy,
            default_language=config.nlu.default_language,
            timezone=config.server.timezone,
        )
        app[CORE_KEY] = core
        if clock is None:
            await handoff_service.start(app, config, core, policy)
        else:
            await handoff_service.start(app, config, core, policy, clock=clock)
        for channel in app[CHANNELS_KEY]:
            await channel.start(core)
        # The model and content are large and live as long as the process: keep them out of the
        # cyclic garbage collector's full passes, which would otherwise stall every turn now and then.
        gc.collect()
        gc.freeze()
        yield
        for channel in app[CHANNELS_KEY]:
            await channel.stop()
        await handoff_service.stop(app)

    return context


def _nightly_purge(config: Config) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_purge_daily(app, config), name="nightly-purge")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _purge_daily(app: web.Application, config: Config) -> None:
    zone = ZoneInfo(config.server.timezone)
    while True:
        now = dt.datetime.now(zone)
        next_run = now.replace(hour=config.privacy.purge_hour, minute=0, second=0, microsecond=0)
        if next_run <= now:
            next_run += dt.timedelta(days=1)
        await asyncio.sleep((next_run - now).total_seconds())
        try:
            result = await purge(app[ENGINE_KEY], config.privacy.retention_days, timezone=config.server.timezone)
            await handoff_service.housekeeping(app, config)
        except DatabaseError:
            logger.exception("nightly purge failed")
            continue
        logger.info("nightly purge", extra={"conversations": result.conversations})


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: the database answers with the schema this code needs, and the NLU is loaded."""
    started = time.perf_counter()
    checks: dict[str, str] = {}
    try:
        revision = await current_revision(request.app[ENGINE_KEY])
        checks["database"] = "ok" if revision == head_revision() else f"schema {revision}, needs {head_revision()}"
    except DatabaseError:
        checks["database"] = "unreachable"
    checks["nlu"] = "ok" if INTERPRETER_KEY in request.app else "loading"
    healthy = all(value == "ok" for value in checks.values())
    return web.json_response(
        {
            "status": "ready" if healthy else "not ready",
            "checks": checks,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
        status=200 if healthy else 503,
    )
