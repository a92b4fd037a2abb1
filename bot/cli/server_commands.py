"""Commands that touch the database or run the server: serve, db, purge. All take the same --db."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
from typing import Any

from aiohttp import web

from ..app import AccessLogger, create_app
from ..config import Config, load_config, with_overrides
from ..retention import purge
from ..storage.database import async_url, create_engine, current_revision, ensure_current, head_revision, upgrade

logger = logging.getLogger(__name__)


def add_db_flag(parser: argparse.ArgumentParser) -> None:
    """The one --db flag every database command shares (else database.url, or NEUVO_DATABASE__URL)."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: database.url in the config or $NEUVO_DATABASE__URL)",
    )


def register(commands: Any) -> None:
    """Add the server and database commands to the CLI."""
    serve = commands.add_parser("serve", help="run the chat server (widget, health, and later the console)")
    serve.add_argument("--host", default=None, help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default: server.port)")
    add_db_flag(serve)
    serve.add_argument(
        "--telegram-token",
        default=None,
        help="bot token from @BotFather (default: telegram.token; prefer the TELEGRAM_TOKEN environment variable, "
        "which other users of this machine cannot read in the process list)",
    )
    serve.add_argument(
        "--telegram-api-url", default=None, help="Bot API server (default: telegram.api_url, https://api.telegram.org)"
    )
    serve.add_argument(
        "--telegram-mode", choices=("polling", "webhook", "off"), default=None, help="default: telegram.mode"
    )
    serve.set_defaults(handler=run_serve)

    db = commands.add_parser("db", help="database schema: upgrade or show the current revision")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_upgrade = db_commands.add_parser("upgrade", help="apply all migrations")
    add_db_flag(db_upgrade)
    db_upgrade.set_defaults(handler=run_db_upgrade)
    db_current = db_commands.add_parser("current", help="show the schema revision and whether it is current")
    add_db_flag(db_current)
    db_current.set_defaults(handler=run_db_current)

    purge_command = commands.add_parser("purge", help="delete conversations older than privacy.retention_days")
    add_db_flag(purge_command)
    purge_command.add_argument("--days", type=int, default=None, help="override privacy.retention_days")
    purge_command.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    purge_command.set_defaults(handler=run_purge)


def _config(args: argparse.Namespace) -> Config:
    return with_overrides(
        load_config(args.config),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        database_url=getattr(args, "db", None),
        telegram_token=getattr(args, "telegram_token", None),
        telegram_api_url=getattr(args, "telegram_api_url", None),
        telegram_mode=getattr(args, "telegram_mode", None),
    )


def run_serve(args: argparse.Namespace) -> int:
    """``neuvo serve``."""
    config = _config(args)

    async def check() -> None:
        engine = create_engine(async_url(config.database.url, config.base_dir))
        try:
            await ensure_current(engine)
        finally:
            await engine.dispose()

    asyncio.run(check())  # a clear message now, rather than a failed start later
    app = create_app(config)
    app.on_startup.append(_freeze_startup_heap)  # after every startup context (aiohttp runs those first)
    print(f"Neuvo is serving on http://{config.server.host}:{config.server.port}/ (Ctrl-C stops)", flush=True)
    web.run_app(
        app,
        host=config.server.host,
        port=config.server.port,
        access_log_class=AccessLogger,
        access_log=logging.getLogger("bot.access"),
        print=None,
        handle_signals=True,
    )
    return 0


async def _freeze_startup_heap(app: web.Application) -> None:
    """Exempt what startup built (the model's tables, libraries, caches warmed) from garbage collection.

    Measured with the Telegram webhook benchmark: without this, each full collection walked the
    quarter of a million objects the server starts with and stopped the event loop for 50-140 ms,
    a few times a minute under load; the replies queued behind it made most of the slowest
    percent. Those objects live as long as the process, so nothing is lost by leaving them out.
    """
    gc.collect()
    gc.freeze()


def run_db_upgrade(args: argparse.Namespace) -> int:
    """``neuvo db upgrade``."""
    config = _config(args)

    async def go() -> tuple[str | None, str | None]:
        engine = create_engine(async_url(config.database.url, config.base_dir))
        try:
            return await upgrade(engine)
        finally:
            await engine.dispose()

    before, after = asyncio.run(go())
    if before == after:
        print(f"database schema is current ({after})")
    else:
        print(f"database schema upgraded from {before or 'empty'} to {after}")
    return 0


def run_db_current(args: argparse.Namespace) -> int:
    """``neuvo db current``: exit 1 when the schema is behind."""
    config = _config(args)

    async def go() -> str | None:
        engine = create_engine(async_url(config.database.url, config.base_dir))
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(go())
    head = head_revision()
    print(f"schema revision: {current or 'none'} (this code needs {head})")
    return 0 if current == head else 1


def run_purge(args: argparse.Namespace) -> int:
    """``neuvo purge``."""
    config = _config(args)
    days = args.days if args.days is not None else config.privacy.retention_days
    if days < 1:
        print("neuvo purge: --days must be at least 1")
        return 2

    async def go() -> Any:
        engine = create_engine(async_url(config.database.url, config.base_dir))
        try:
            await ensure_current(engine)
            return await purge(engine, days, dry_run=args.dry_run, timezone=config.server.timezone)
        finally:
            await engine.dispose()

    result = asyncio.run(go())
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {result.conversations} conversation(s) last active before {result.cutoff:%Y-%m-%d %H:%M} UTC; "
        f"statistics kept for {result.statistics_written} more"
    )
    return 0
