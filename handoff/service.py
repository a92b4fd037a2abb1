"""Wiring the handoff into the application: the console routes, the desk, accounts, audit and canned responses."""

from __future__ import annotations

import datetime as dt
import logging

from aiohttp import web

from bot.config import Config
from bot.dialogue.core import DialogueCore
from bot.dialogue.policy import DialoguePolicy
from bot.keys import ENGINE_KEY, STORE_KEY

from .accounts import AccountStore
from .actions import Actions
from .audit import AuditLog
from .canned import load_canned
from .console.auth import Sessions
from .console.routes import console_app
from .desk import Clock, HandoffDesk, _utcnow
from .keys import ACCOUNTS_KEY, AUDIT_KEY, CANNED_KEY, DESK_KEY, SESSIONS_KEY
from .message_page import MessagePage

logger = logging.getLogger(__name__)


def install(app: web.Application) -> None:
    """Register the console and the citizen's answer page (before the application starts)."""
    app.add_subapp("/console/", console_app())
    MessagePage().setup(app)


async def start(
    app: web.Application, config: Config, core: DialogueCore, policy: DialoguePolicy, *, clock: Clock = _utcnow
) -> HandoffDesk:
    """Build the desk and its helpers once the database and the dialogue core exist, and start it."""
    engine = app[ENGINE_KEY]
    accounts = AccountStore(
        engine,
        [team.id for team in config.handoff.teams],
        default_capacity=config.handoff.default_capacity,
        lockout_after=config.console.lockout_after,
        lockout_minutes=config.console.lockout_minutes,
    )
    audit = AuditLog(app[STORE_KEY], engine)
    actions = Actions(policy, config.handoff, config.widget.max_message_chars)
    desk = HandoffDesk(core, accounts, audit, config.handoff, actions, timezone=config.server.timezone, clock=clock)
    policy.admissions = desk
    app[ACCOUNTS_KEY] = accounts
    app[AUDIT_KEY] = audit
    app[SESSIONS_KEY] = Sessions(accounts, config.console)
    app[CANNED_KEY] = load_canned(config.nlu.content_dir.parent / "canned")
    app[DESK_KEY] = desk
    await desk.start()
    return desk


async def stop(app: web.Application) -> None:
    """Close the consoles and stop the desk's timers."""
    if DESK_KEY in app:
        await app[DESK_KEY].stop()


async def housekeeping(app: web.Application, config: Config) -> None:
    """The nightly part of the handoff: expired sessions and audit entries past their retention."""
    now = dt.datetime.now(dt.UTC)
    sessions = await app[ACCOUNTS_KEY].purge_sessions(now, dt.timedelta(minutes=config.console.session_idle_minutes))
    audits = await app[AUDIT_KEY].purge(config.privacy.audit_retention_days, now)
    logger.info("handoff housekeeping", extra={"sessions": sessions, "audit_entries": audits})
