"""Console sessions (cookie + server-side record), CSRF protection and login rate limits.

The cookie holds a random token; the database holds its SHA-256, so neither a leaked
table nor a log line can be replayed. Sessions are cached in memory (this is a
single-process service) and checked against the database when first seen; logout,
a password change or deactivation removes them from both.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from bot.config import ConsoleSettings
from bot.ratelimit import TokenBucket

from ..accounts import Account, AccountStore, SessionRecord, session_key

COOKIE: Final = "neuvo_console"
CSRF_HEADER: Final = "X-CSRF-Token"
#: A session's last use is written at most this often (the idle timeout is in minutes).
TOUCH_EVERY: Final = dt.timedelta(seconds=60)
_UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Session:
    """A live session: its record and the account behind it."""

    record: SessionRecord
    account: Account
    last_seen_at: dt.datetime

    @property
    def key(self) -> str:
        """The stored key (SHA-256 of the cookie's token)."""
        return self.record.id


class Sessions:
    """Opens, finds and ends console sessions; limits login attempts per address (in memory)."""

    def __init__(self, accounts: AccountStore, settings: ConsoleSettings) -> None:
        self.accounts = accounts
        self.settings = settings
        self.idle = dt.timedelta(minutes=settings.session_idle_minutes)
        self.lifetime = dt.timedelta(hours=settings.session_hours)
        self._cache: dict[str, Session] = {}
        self._attempts: dict[str, TokenBucket] = {}

    def login_allowed(self, address: str) -> bool:
        """Whether another login attempt from this address is allowed now."""
        if len(self._attempts) > 10_000:
            self._attempts.clear()  # a flood of addresses must not grow memory without bound
        bucket = self._attempts.get(address)
        if bucket is None:
            per_minute = self.settings.login_attempts_per_minute
            bucket = self._attempts[address] = TokenBucket(per_minute / 60.0, per_minute)
        return bucket.take()

    async def open(self, account: Account) -> tuple[str, Session]:
        """A new session for an account that just logged in; returns the cookie's token."""
        token, record = await self.accounts.open_session(account.id, self.lifetime)
        session = Session(record, account, record.last_seen_at)
        self._cache[record.id] = session
        return token, session

    async def find(self, token: str | None, now: dt.datetime | None = None) -> Session | None:
        """The live session of a cookie's token, or None (unknown, expired, idle, or account inactive)."""
        if not token or len(token) > 200:
            return None
        now = now or dt.datetime.now(dt.UTC)
        key = session_key(token)
        session = self._cache.get(key)
        if session is None:
            record = await self.accounts.find_session(key)
            if record is None:
                return None
            account = await self.accounts.get(record.advisor_id)
            if account is None:
                return None
            session = Session(record, account, record.last_seen_at)
            self._cache[key] = session
        if now >= session.record.expires_at or now - session.last_seen_at >= self.idle or not session.account.active:
            await self.end(key)
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            session.last_seen_at = now
            await self.accounts.touch_session(key, now)
        return session

    async def end(self, key: str) -> None:
        """Log out: the session is gone from memory and the database."""
        self._cache.pop(key, None)
        await self.accounts.close_session(key)

    async def end_all_of(self, advisor_id: int, *, keep: str | None = None) -> None:
        """End an account's sessions (after a password change or deactivation)."""
        for key, session in list(self._cache.items()):
            if session.account.id == advisor_id and key != keep:
                del self._cache[key]
        await self.accounts.close_sessions_of(advisor_id, keep=keep)

    def account_changed(self, account: Account) -> None:
        """Cached sessions see an account's new role, teams or capacity at once."""
        for session in self._cache.values():
            if session.account.id == account.id:
                session.account = account


def same_origin(request: web.Request) -> bool:
    """Whether the request's Origin (when the browser sent one) is the console's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.rstrip("/") == f"{request.scheme}://{request.host}"


def csrf_ok(request: web.Request, session: Session) -> bool:
    """The double check on every state-changing request: our own origin, and the session's CSRF token."""
    if not same_origin(request):
        return False
    given = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(given.encode(), session.record.csrf_token.encode())


def set_cookie(response: web.StreamResponse, request: web.Request, token: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, only under /console, Secure over HTTPS."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_cookie(response: web.StreamResponse) -> None:
    """Tell the browser to forget the session cookie."""
    response.del_cookie(COOKIE, path="/console")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Where the guard leaves the request's session for the handlers.
SESSION_KEY: web.RequestKey[Session] = web.RequestKey("console_session", Session)
