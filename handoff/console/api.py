"""The console's JSON API for advisors: login, queue, inbox, transcripts and actions (docs/console-api.md)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.keys import CONFIG_KEY, CORE_KEY, STORE_KEY
from nlu.contract import LANGUAGES, SERVICE_TOPICS

from ..accounts import AccountError, LoginRefused
from ..actions import OUTCOMES, Refused, may_view
from ..desk import console_message
from ..keys import ACCOUNTS_KEY, AUDIT_KEY, CANNED_KEY, DESK_KEY, SESSIONS_KEY
from ..queues import Entry
from .auth import clear_cookie, same_origin, set_cookie
from .common import ApiError, body, optional_text, require, session_of

routes = web.RouteTableDef()


def _address(request: web.Request) -> str:
    config = request.config_dict[CONFIG_KEY]
    if config.server.trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote or "unknown"


# --- sessions ------------------------------------------------------------------------------------
@routes.post("/api/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Name and password in, session cookie and CSRF token out."""
    if not same_origin(request):
        raise ApiError(403, "csrf", "log in from the console's own page")
    sessions = request.config_dict[SESSIONS_KEY]
    if not sessions.login_allowed(_address(request)):
        raise ApiError(429, "rate_limited", "too many login attempts; wait a minute", retry_after=60)
    data = await body(request)
    audit = request.config_dict[AUDIT_KEY]
    try:
        account = await request.config_dict[ACCOUNTS_KEY].authenticate(data.get("name"), data.get("password"))
    except LoginRefused as refused:
        known = await request.config_dict[ACCOUNTS_KEY].by_name(str(data.get("name") or ""))
        await audit.record(known.id if known else None, "login_failed", why=refused.code)
        if refused.code == "locked":
            raise ApiError(
                423,
                "locked",
                "too many failed logins; the account is locked for a while",
                retry_after=refused.retry_after,
            ) from None
        raise ApiError(401, "invalid_credentials", "wrong name or password") from None
    token, session = await sessions.open(account)
    await audit.record(account.id, "login")
    response = web.json_response({"advisor": account.as_dict(), "csrf_token": session.record.csrf_token})
    set_cookie(response, request, token, int(sessions.lifetime.total_seconds()))
    return response


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session on the server, close its consoles and drop the cookie."""
    session = session_of(request)
    await request.config_dict[SESSIONS_KEY].end(session.key)
    await request.config_dict[DESK_KEY].session_ended(session.key)
    await request.config_dict[AUDIT_KEY].record(session.account.id, "logout")
    response = web.Response(status=204)
    clear_cookie(response)
    return response


@routes.get("/api/me")
async def me(request: web.Request) -> web.StreamResponse:
    """Who is logged in, their teams, topic names and the CSRF token."""
    session = session_of(request)
    desk = request.config_dict[DESK_KEY]
    policy = desk.actions.policy
    topics = {topic: {lang: policy.say(f"topic.{topic}", lang) for lang in LANGUAGES} for topic in SERVICE_TOPICS}
    return web.json_response(
        {
            "advisor": session.account.as_dict(for_admin=session.account.role == "admin"),
            "csrf_token": session.record.csrf_token,
            "teams": desk.teams_dict(session.account),
            "topics": topics,
            "outcomes": list(OUTCOMES),
        }
    )


@routes.patch("/api/me")
async def update_me(request: web.Request) -> web.StreamResponse:
    """An advisor's own settings: the console language."""
    session = session_of(request)
    data = await body(request)
    if set(data) - {"language"}:
        raise ApiError(400, "bad_request", "only language can be changed here", field="language")
    account = await _update_account(request, session.account.id, data)
    return web.json_response({"advisor": account.as_dict()})


@routes.post("/api/me/password")
async def change_password(request: web.Request) -> web.StreamResponse:
    """A new password for oneself; the other sessions of the account end."""
    session = session_of(request)
    data = await body(request)
    try:
        await request.config_dict[ACCOUNTS_KEY].change_password(
            session.account.id, data.get("current"), data.get("new")
        )
    except AccountError as exc:
        status = 401 if exc.code == "invalid_credentials" else 400
        raise ApiError(status, exc.code, str(exc), field=exc.field) from None
    await request.config_dict[SESSIONS_KEY].end_all_of(session.account.id, keep=session.key)
    await request.config_dict[AUDIT_KEY].record(session.account.id, "password_changed")
    return web.Response(status=204)


async def _update_account(request: web.Request, advisor_id: int, changes: dict[str, Any]) -> Any:
    try:
        account = await request.config_dict[ACCOUNTS_KEY].update(advisor_id, changes)
    except AccountError as exc:
        status = 404 if exc.code == "not_found" else 400
        raise ApiError(status, exc.code, str(exc), field=exc.field) from None
    request.config_dict[SESSIONS_KEY].account_changed(account)
    if "password" in changes or changes.get("active") is False:
        await request.config_dict[SESSIONS_KEY].end_all_of(account.id)
    await request.config_dict[DESK_KEY].account_changed(account)
    return account


# --- queues ----------------------------------------------------------------------------------------
@routes.get("/api/queue")
async def queue(request: web.Request) -> web.StreamResponse:
    """Queued and held conversations of one's teams (all for an admin), crisis first."""
    account = require(request, "advisor", "admin")
    desk = request.config_dict[DESK_KEY]
    entries = sorted(
        (
            e
            for e in desk.queues
            if e.status in ("queued", "assigned") and (account.sees_team(e.team) or e.assigned_to == account.id)
        ),
        key=Entry.order,
    )
    return web.json_response({"entries": [desk.entry_dict(e) for e in entries]})


@routes.get("/api/inbox")
async def inbox(request: web.Request) -> web.StreamResponse:
    """Left messages of one's teams still to answer, crisis first, then oldest first."""
    account = require(request, "advisor", "admin")
    desk = request.config_dict[DESK_KEY]
    teams = None if account.role == "admin" else account.teams
    return web.json_response({"entries": [desk.entry_dict(e) for e in desk.queues.inbox(teams)]})


@routes.get("/api/teams")
async def teams(request: web.Request) -> web.StreamResponse:
    """Every team, with who is online and how long the wait is."""
    require(request, "advisor", "admin")
    return web.json_response({"teams": request.config_dict[DESK_KEY].teams_dict()})


@routes.get("/api/advisors")
async def advisors(request: web.Request) -> web.StreamResponse:
    """Active advisors (transfer targets): online or not, how many they hold, their capacity."""
    require(request, "advisor", "admin")
    desk = request.config_dict[DESK_KEY]
    people = await request.config_dict[ACCOUNTS_KEY].all()
    return web.json_response(
        {
            "advisors": [
                {
                    "id": person.id,
                    "display_name": person.display_name,
                    "teams": list(person.teams),
                    "online": desk.online(person.id),
                    "holding": desk.queues.holding(person.id),
                    "capacity": person.capacity,
                }
                for person in people
                if person.active and person.handles_conversations
            ]
        }
    )


@routes.get("/api/canned")
async def canned(request: web.Request) -> web.StreamResponse:
    """Canned responses in a language, the conversation's topic first, with the county's facts filled in."""
    require(request, "advisor", "admin")
    language = request.query.get("language", "fi")
    if language not in LANGUAGES:
        raise ApiError(400, "bad_request", "language is fi, sv or en", field="language")
    topic = request.query.get("topic") or None
    responses = request.config_dict[CANNED_KEY].for_language(language, request.config_dict[CONFIG_KEY], topic)
    return web.json_response({"responses": responses})


# --- one conversation -------------------------------------------------------------------------------
async def _visible_state(request: web.Request) -> Any:
    account = require(request, "advisor", "admin")
    conversation_id = request.match_info["conversation"]
    try:
        state = await request.config_dict[CORE_KEY].conversation(conversation_id)
    except LookupError:
        raise ApiError(404, "not_found", "no such conversation (it may have been purged)") from None
    if not may_view(account, state):
        raise ApiError(403, "forbidden", "this conversation belongs to another team")
    return account, state


@routes.get(r"/api/conversations/{conversation:[0-9a-f]{32}}")
async def transcript(request: web.Request) -> web.StreamResponse:
    """The whole transcript with the bot's readings and the internal notes; the read is audited."""
    account, state = await _visible_state(request)
    store = request.config_dict[STORE_KEY]
    desk = request.config_dict[DESK_KEY]
    messages = await store.history(state.id, limit=2000)
    notes = await store.notes(state.id)
    await request.config_dict[AUDIT_KEY].record(account.id, "transcript_read", state.id)
    entry = desk.queues.get(state.id)
    return web.json_response(
        {
            "entry": desk.entry_dict(entry) if entry else None,
            "conversation": {
                "id": state.id,
                "status": state.status,
                "team": state.team,
                "topic": state.topic,
                "language": state.language,
                "channel": state.channel,
                "created_at": state.created_at.isoformat(timespec="seconds"),
                "outcome": state.outcome,
                "crisis": state.priority > 0 or state.handoff_reason == "crisis",
                "reply_by": state.reply_by.isoformat() if state.reply_by else None,
                "message_waiting": state.message_waiting,
            },
            "messages": [console_message(m) for m in messages],
            "notes": notes,
        }
    )


def _refused(refused: Refused) -> ApiError:
    return ApiError(refused.status, refused.code, str(refused), **refused.extra)


async def _act(request: web.Request, action: Any) -> Any:
    try:
        return await action
    except Refused as refused:
        raise _refused(refused) from None
    except LookupError:
        raise ApiError(404, "not_found", "no such conversation (it may have been purged)") from None


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/claim")
async def claim(request: web.Request) -> web.StreamResponse:
    """Take a waiting conversation; exactly one of several simultaneous claims wins."""
    account, state = await _visible_state(request)
    desk = request.config_dict[DESK_KEY]
    entry = await _act(request, desk.claim(account, state.id))
    return web.json_response({"entry": desk.entry_dict(entry)})


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/reply")
async def reply(request: web.Request) -> web.StreamResponse:
    """The holder's message to the citizen."""
    return await _send(request, "reply")


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/answer")
async def answer(request: web.Request) -> web.StreamResponse:
    """The answer to a left message (once)."""
    return await _send(request, "answer")


async def _send(request: web.Request, kind: str) -> web.StreamResponse:
    """A message from an advisor to the citizen: a live reply, or the answer to a left message."""
    account, state = await _visible_state(request)
    data = await body(request)
    desk = request.config_dict[DESK_KEY]
    text = _text(desk, data.get("text"))
    build = desk.actions.reply if kind == "reply" else desk.actions.answer
    _, _, outbound = await _act(request, request.config_dict[CORE_KEY].act(state.id, build(account, text)))
    return web.json_response({"message": console_message(outbound[0])})


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/note")
async def note(request: web.Request) -> web.StreamResponse:
    """An internal note."""
    account, state = await _visible_state(request)
    data = await body(request)
    desk = request.config_dict[DESK_KEY]
    text = _text(desk, data.get("text"))
    await _act(request, request.config_dict[CORE_KEY].act(state.id, desk.actions.note(account, text)))
    stored = (await request.config_dict[STORE_KEY].notes(state.id))[-1]
    desk.announce_note(state.id, stored)
    return web.json_response({"note": stored})


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/transfer")
async def transfer(request: web.Request) -> web.StreamResponse:
    """To another team's queue, or to a named advisor."""
    account, state = await _visible_state(request)
    data = await body(request)
    desk = request.config_dict[DESK_KEY]
    limit = request.config_dict[CONFIG_KEY].widget.max_message_chars
    team, advisor = data.get("team"), data.get("advisor")
    if team is not None and not isinstance(team, str):
        raise ApiError(400, "bad_request", "team is a team id", field="team")
    if advisor is not None and (isinstance(advisor, bool) or not isinstance(advisor, int)):
        raise ApiError(400, "bad_request", "advisor is an advisor id", field="advisor")
    if (team is None) == (advisor is None):
        raise ApiError(400, "bad_request", "give either a team or an advisor", field="team")
    entry = await _act(
        request,
        desk.transfer(account, state.id, team=team, advisor=advisor, note=optional_text(data, "note", limit)),
    )
    return web.json_response({"entry": desk.entry_dict(entry) if entry else None})


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/release")
async def release(request: web.Request) -> web.StreamResponse:
    """Back to the bot, which greets the citizen again."""
    account, state = await _visible_state(request)
    data = await body(request) if request.can_read_body else {}
    desk = request.config_dict[DESK_KEY]
    limit = request.config_dict[CONFIG_KEY].widget.max_message_chars
    change = desk.actions.release(account, desk.holder_name(state.assigned_to), note=optional_text(data, "note", limit))
    await _act(request, request.config_dict[CORE_KEY].act(state.id, change))
    return web.json_response({"entry": None})


@routes.post(r"/api/conversations/{conversation:[0-9a-f]{32}}/close")
async def close(request: web.Request) -> web.StreamResponse:
    """Close the advisor's part with an outcome; the bot greets the citizen again."""
    account, state = await _visible_state(request)
    data = await body(request)
    desk = request.config_dict[DESK_KEY]
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise ApiError(400, "bad_request", f"outcome is one of {', '.join(OUTCOMES)}", field="outcome")
    service = optional_text(data, "service", 200)
    try:
        change = desk.actions.release(account, desk.holder_name(state.assigned_to), outcome=outcome, service=service)
    except Refused as refused:
        raise _refused(refused) from None
    await _act(request, request.config_dict[CORE_KEY].act(state.id, change))
    return web.json_response({"entry": None})


def _text(desk: Any, value: Any) -> str:
    try:
        return str(desk.actions.text(value))
    except Refused as refused:
        raise _refused(refused) from None
