"""What every console handler shares: JSON errors, reading bodies, the current session, role checks."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..accounts import Account
from .auth import SESSION_KEY, Session


def error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """A refusal as docs/console-api.md defines it."""
    return web.json_response({"error": code, "message": message, **extra}, status=status)


class ApiError(Exception):
    """Raised by handlers; the console middleware turns it into the JSON refusal."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        """The JSON refusal."""
        return error(self.status, self.code, self.message, **self.extra)


async def body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400."""
    if request.content_type != "application/json":
        raise ApiError(400, "bad_request", "send JSON (Content-Type: application/json)")
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return data


def session_of(request: web.Request) -> Session:
    """The session the middleware found (handlers behind it always have one)."""
    session = request.get(SESSION_KEY)
    if not isinstance(session, Session):
        raise ApiError(401, "unauthenticated", "log in first")
    return session


def require(request: web.Request, *roles: str) -> Account:
    """The current account, if its role is one of ``roles``."""
    account = session_of(request).account
    if account.role not in roles:
        raise ApiError(403, "forbidden", "your role does not allow this")
    return account


def optional_text(data: dict[str, Any], field: str, limit: int) -> str | None:
    """An optional text field: None when absent or blank, a 400 when not text or too long."""
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"{field} must be text", field=field)
    if len(value) > limit:
        raise ApiError(400, "too_long", f"{field} is longer than {limit} characters", field=field)
    return value.strip()
