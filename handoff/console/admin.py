"""The console's JSON API for admins (accounts, audit log) and editors (content status)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.keys import CONFIG_KEY
from nlu.content import Problem

from ..accounts import AccountError
from ..canned import validate_canned
from ..keys import ACCOUNTS_KEY, AUDIT_KEY
from .api import _update_account
from .common import ApiError, body, require

routes = web.RouteTableDef()


@routes.get("/api/users")
async def users(request: web.Request) -> web.StreamResponse:
    """Every account, with lock and last login."""
    require(request, "admin")
    people = await request.config_dict[ACCOUNTS_KEY].all()
    return web.json_response({"users": [person.as_dict(for_admin=True) for person in people]})


@routes.post("/api/users")
async def add_user(request: web.Request) -> web.StreamResponse:
    """A new account; the password never appears in a log or the audit."""
    admin = require(request, "admin")
    data = await body(request)
    unknown = sorted(set(data) - {"name", "display_name", "role", "teams", "capacity", "password", "language"})
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}", field=unknown[0])
    try:
        account = await request.config_dict[ACCOUNTS_KEY].create(
            data.get("name"),
            password=data.get("password"),
            role=data.get("role", "advisor"),
            teams=data.get("teams", []),
            display_name=data.get("display_name"),
            capacity=data.get("capacity"),
            language=str(data.get("language", "fi")),
        )
    except AccountError as exc:
        status = 409 if exc.code == "exists" else 400
        raise ApiError(status, exc.code, str(exc), field=exc.field) from None
    await request.config_dict[AUDIT_KEY].record(
        admin.id, "user_created", target=account.id, role=account.role, teams=list(account.teams)
    )
    return web.json_response({"user": account.as_dict(for_admin=True)}, status=201)


@routes.patch(r"/api/users/{user:\d+}")
async def update_user(request: web.Request) -> web.StreamResponse:
    """Role, teams, capacity, display name, active, a new password, or unlock."""
    admin = require(request, "admin")
    data = await body(request)
    target = int(request.match_info["user"])
    if target == admin.id and (data.get("active") is False or data.get("role", "admin") != "admin"):
        raise ApiError(400, "bad_request", "you cannot demote or deactivate yourself", field="role")
    account = await _update_account(request, target, data)
    changed = sorted(key for key in data if key != "password") + (["password"] if "password" in data else [])
    await request.config_dict[AUDIT_KEY].record(admin.id, "user_updated", target=account.id, fields=changed)
    return web.json_response({"user": account.as_dict(for_admin=True)})


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.StreamResponse:
    """The audit log, newest first, filtered by advisor or conversation, paged by id."""
    require(request, "admin")

    def number(name: str, default: int | None) -> int | None:
        raw = request.query.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit():
            raise ApiError(400, "bad_request", f"{name} is a number", field=name)
        return int(raw)

    limit = min(number("limit", 100) or 100, 500)
    conversation = request.query.get("conversation") or None
    rows, more = await request.config_dict[AUDIT_KEY].entries(
        limit=limit, before=number("before", None), advisor_id=number("advisor", None), conversation_id=conversation
    )
    people = {person.id: person for person in await request.config_dict[ACCOUNTS_KEY].all()}
    entries = []
    for row in rows:
        person = people.get(row["advisor_id"]) if row["advisor_id"] is not None else None
        entries.append(
            {
                "id": row["id"],
                "at": row["at"].isoformat(timespec="seconds"),
                "advisor": {"id": person.id, "display_name": person.display_name} if person else None,
                "action": row["action"],
                "conversation": row["conversation_id"],
                "details": row["details"] or {},
            }
        )
    return web.json_response({"entries": entries, "more": more})


@routes.get("/api/content")
async def content(request: web.Request) -> web.StreamResponse:
    """What `neuvo validate` would say, for editors: counts and every problem with file and line."""
    require(request, "editor", "admin")
    config = request.config_dict[CONFIG_KEY]
    report = await asyncio.to_thread(_content_report, config)
    return web.json_response(report)


def _content_report(config: Any) -> dict[str, Any]:
    from handoff.canned import read_canned
    from nlu.validation import validate_content, validate_phrases

    intents_dir = config.nlu.content_dir
    keys = config.placeholder_keys()
    loaded, problems = validate_content(intents_dir, keys)
    problems = [*problems, *validate_phrases(intents_dir.parent / "messages.yml", keys)]
    canned_dir = intents_dir.parent / "canned"
    problems.extend(validate_canned(canned_dir, keys))
    responses, _ = read_canned(canned_dir)
    root = config.base_dir
    return {
        "intents": len(loaded.intents),
        "examples": sum(1 for _ in loaded.examples()),
        "canned": len(responses),
        "problems": [_problem(problem, root) for problem in problems],
    }


def _problem(problem: Problem, root: Any) -> dict[str, Any]:
    path = str(problem.path)
    root_text = str(root)
    if path.startswith(root_text):
        path = path[len(root_text) :].lstrip("/")
    return {
        "path": path,
        "line": problem.line,
        "severity": getattr(problem, "severity", "error"),
        "message": problem.message,
    }
