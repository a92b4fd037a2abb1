"""Typed keys for the handoff parts the aiohttp application shares."""

from __future__ import annotations

from aiohttp import web

from .accounts import AccountStore
from .audit import AuditLog
from .canned import CannedResponses
from .console.auth import Sessions
from .desk import HandoffDesk

DESK_KEY: web.AppKey[HandoffDesk] = web.AppKey("handoff_desk", HandoffDesk)
ACCOUNTS_KEY: web.AppKey[AccountStore] = web.AppKey("accounts", AccountStore)
SESSIONS_KEY: web.AppKey[Sessions] = web.AppKey("console_sessions", Sessions)
AUDIT_KEY: web.AppKey[AuditLog] = web.AppKey("audit_log", AuditLog)
CANNED_KEY: web.AppKey[CannedResponses] = web.AppKey("canned_responses", CannedResponses)
