"""The ``/console`` sub-application: the page, its static files, the API and the WebSocket, behind one guard."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from bot.keys import CONFIG_KEY

from ..keys import SESSIONS_KEY
from . import admin, api
from .auth import COOKIE, SESSION_KEY, Handler, csrf_ok
from .common import ApiError, error
from .socket import console_socket

STATIC: Final = Path(__file__).resolve().parent / "static"
#: Paths anyone may reach besides the page itself: its files and the login.
_OPEN: Final = ("/console/static/", "/console/api/login")
_UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API call and the WebSocket need a live session; every state change the CSRF token too."""
    config = request.config_dict[CONFIG_KEY]
    if config.server.trust_proxy and request.headers.get("X-Forwarded-Proto") == "https":
        request = request.clone(scheme="https")
    if request.path == "/console":
        raise web.HTTPFound("/console/")
    try:
        if request.path != "/console/" and not request.path.startswith(_OPEN):
            session = await request.config_dict[SESSIONS_KEY].find(request.cookies.get(COOKIE))
            if session is None:
                raise ApiError(401, "unauthenticated", "log in first")
            if request.method in _UNSAFE and not csrf_ok(request, session):
                raise ApiError(403, "csrf", "missing or wrong CSRF token, or a foreign origin")
            request[SESSION_KEY] = session
        response = await handler(request)
    except ApiError as refusal:
        return refusal.response()
    if request.path.startswith("/console/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


async def page(request: web.Request) -> web.StreamResponse:
    """The console's single page (it asks the API whether someone is logged in)."""
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def not_found(request: web.Request) -> web.StreamResponse:
    """Unknown API paths answer in the API's own error format."""
    return error(404, "not_found", "no such endpoint")


def console_app() -> web.Application:
    """The sub-application mounted at ``/console``."""
    app = web.Application(middlewares=[guard])
    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_routes(api.routes)
    app.router.add_routes(admin.routes)
    app.router.add_get("/ws", console_socket)
    app.router.add_route("*", "/api/{tail:.*}", not_found)
    return app
