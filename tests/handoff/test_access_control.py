"""Who may do what at the advisor console: every refusal, on the real application and both databases.

The contract is docs/console-api.md ("Security model" and "Errors"). Each test checks the
answer (status and error code, and that no data came with it) and that the refusal
changed nothing: the database and the desk look as they did before.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.keys import CONFIG_KEY, ENGINE_KEY
from bot.storage.store import audit_log, conversations, messages, notes
from handoff.accounts import advisors, sessions
from handoff.console import admin
from handoff.keys import ACCOUNTS_KEY
from tests.handoff.conftest import PASSWORD, Advisor, Service, ask_for_person, conversation_of

pytestmark = pytest.mark.usefixtures("engine")

API = "/console/api"
COOKIE = "neuvo_console"
FOREIGN = "https://evil.example"


# --- helpers ---------------------------------------------------------------------------------------
async def raw(
    service: Service,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    data: Any = None,
) -> tuple[int, CIMultiDict[str], str]:
    """One request from a browser with no cookie jar: only the cookie and headers given here are sent."""
    sent = dict(headers or {})
    if cookie is not None:
        sent["Cookie"] = f"{COOKIE}={cookie}"
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.request(method, service.base + path, headers=sent, json=body, data=data) as response,
    ):
        return response.status, CIMultiDict(response.headers), await response.text()


async def send(
    person: Advisor, method: str, path: str, body: Any = None, *, headers: dict[str, str]
) -> tuple[int, Any]:
    """A request with the person's cookie but exactly the given headers (no Origin or CSRF token added)."""
    async with person.http.request(method, person.base + path, json=body, headers=headers) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


def cookie_of(person: Advisor) -> str:
    """The session token in a person's cookie jar."""
    found = [morsel.value for morsel in person.http.cookie_jar if morsel.key == COOKIE]
    assert len(found) == 1, found
    return found[0]


async def close_code(person: Advisor) -> int:
    """Read a console's live frames until the server's close frame; its code (what the browser's onclose sees)."""
    assert person.live is not None
    while True:
        message = await person.live.receive(timeout=10)
        if message.type == aiohttp.WSMsgType.CLOSE:
            return int(message.data)
        assert message.type == aiohttp.WSMsgType.TEXT, message


def engine_of(service: Service) -> AsyncEngine:
    return service.app[ENGINE_KEY]


async def conversation_row(service: Service, conversation_id: str) -> dict[str, Any]:
    async with engine_of(service).connect() as connection:
        row = (
            (await connection.execute(select(conversations).where(conversations.c.id == conversation_id)))
            .mappings()
            .one()
        )
    return dict(row)


async def count(service: Service, table: Any, *conditions: Any) -> int:
    async with engine_of(service).connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table).where(*conditions))).scalar_one())


async def audit_rows(service: Service) -> list[dict[str, Any]]:
    async with engine_of(service).connect() as connection:
        return [dict(row) for row in (await connection.execute(select(audit_log))).mappings()]


async def advisor_row(service: Service, advisor_id: int) -> dict[str, Any]:
    async with engine_of(service).connect() as connection:
        row = (await connection.execute(select(advisors).where(advisors.c.id == advisor_id))).mappings().one()
    return dict(row)


async def waiting_conversation(service: Service) -> str:
    """A citizen asks for a person (someone of social_advice must be online) and waits in the queue."""
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    assert service.desk.queues.get(conversation).status == "queued"
    return conversation


def refusal(data: Any) -> tuple[str, set[str]]:
    """The error code and the keys of a refusal (which must carry no data besides the error)."""
    assert isinstance(data, dict), data
    return data.get("error"), set(data)


async def still_waiting(service: Service, conversation: str) -> None:
    """The conversation is untouched: queued in the desk and in the database, no advisor said or noted anything."""
    entry = service.desk.queues.get(conversation)
    assert (entry.status, entry.assigned_to) == ("queued", None)
    row = await conversation_row(service, conversation)
    assert (row["status"], row["assigned_to"]) == ("queued", None)
    assert (
        await count(service, messages, messages.c.conversation_id == conversation, messages.c.sender == "advisor") == 0
    )
    assert await count(service, notes, notes.c.conversation_id == conversation) == 0


def every_endpoint(conversation: str, user: int) -> list[tuple[str, str, Any]]:
    """Every endpoint of docs/console-api.md that needs a session, with a well-formed body."""
    one = f"{API}/conversations/{conversation}"
    return [
        ("POST", f"{API}/logout", None),
        ("GET", f"{API}/me", None),
        ("PATCH", f"{API}/me", {"language": "sv"}),
        ("POST", f"{API}/me/password", {"current": PASSWORD, "new": "an entirely new passphrase"}),
        ("GET", f"{API}/queue", None),
        ("GET", f"{API}/inbox", None),
        ("GET", f"{API}/teams", None),
        ("GET", f"{API}/advisors", None),
        ("GET", one, None),
        ("POST", f"{one}/claim", {}),
        ("POST", f"{one}/reply", {"text": "Hei"}),
        ("POST", f"{one}/note", {"text": "Muistiinpano"}),
        ("POST", f"{one}/transfer", {"team": "health_social_work"}),
        ("POST", f"{one}/release", {}),
        ("POST", f"{one}/close", {"outcome": "answered"}),
        ("POST", f"{one}/answer", {"text": "Vastaus"}),
        ("GET", f"{API}/canned?language=fi&topic=income_support", None),
        ("GET", f"{API}/users", None),
        ("POST", f"{API}/users", {"name": "mallory", "role": "admin", "teams": [], "password": "x" * 16}),
        ("PATCH", f"{API}/users/{user}", {"role": "admin"}),
        ("GET", f"{API}/audit", None),
        ("GET", f"{API}/content", None),
    ]


# --- no session ------------------------------------------------------------------------------------
async def test_without_a_session_every_api_endpoint_answers_401_and_gives_no_data(service: Service) -> None:
    anna = await service.advisor("anna")
    conversation = await waiting_conversation(service)
    forged = "A" * 43  # the shape of a real token, but no session has it
    for cookie in (None, forged):
        for method, path, body in every_endpoint(conversation, anna.account.id):
            status, headers, text = await raw(
                service,
                method,
                path,
                cookie=cookie,
                headers={"Origin": service.base, "X-CSRF-Token": anna.csrf},
                body=body,
            )
            assert status == 401, (method, path, cookie, text)
            assert refusal(json.loads(text)) == ("unauthenticated", {"error", "message"}), (method, path)
            assert conversation not in text
            assert "Set-Cookie" not in headers
    # Nothing happened: no claim, note or message, no new account, the advisor as she was.
    await still_waiting(service, conversation)
    assert await count(service, advisors) == 1
    row = await advisor_row(service, anna.account.id)
    assert (row["role"], row["active"], row["language"]) == ("advisor", True, "fi")
    assert [row["action"] for row in await audit_rows(service)] == ["login"]
    # The page itself and the login are open (the page asks the API who is logged in).
    status, _, text = await raw(service, "GET", "/console/")
    assert status == 200
    assert "<html" in text.lower()


async def test_the_console_websocket_needs_a_session_and_the_consoles_own_origin(service: Service) -> None:
    anna = await service.advisor("anna", connect=False)
    for headers in ({"Origin": service.base}, {"Origin": service.base, "Cookie": f"{COOKIE}={'A' * 43}"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await service.client.ws_connect("/console/ws", headers=headers)
        assert refused.value.status == 401
    # A live session does not help a page of another origin, nor a client that sends no Origin.
    for headers in ({"Origin": FOREIGN}, {}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anna.http.ws_connect(anna.base + "/console/ws", headers=headers)
        assert refused.value.status == 403
    assert not service.desk.online(anna.account.id)
    hello = await anna.connect()
    assert hello["advisor"]["id"] == anna.account.id
    assert service.desk.online(anna.account.id)


# --- teams -----------------------------------------------------------------------------------------
async def test_an_advisor_sees_nothing_of_another_teams_queue(service: Service) -> None:
    anna = await service.advisor("anna")  # social_advice: the team the citizens reach
    helmi = await service.advisor("helmi", teams=("health_social_work",))
    first = await waiting_conversation(service)
    second = await waiting_conversation(service)

    status, queue = await helmi.get(f"{API}/queue")
    assert status == 200
    assert queue == {"entries": []}
    status, me = await helmi.get(f"{API}/me")
    assert [team["id"] for team in me["teams"]] == ["health_social_work"]
    # Anna's queue has both, so the two are really there.
    assert {e["id"] for e in (await anna.get(f"{API}/queue"))[1]["entries"]} == {first, second}

    # Her live console was never told of them, and watching one is refused.
    assert helmi.live is not None
    await helmi.live.send_json({"type": "watch", "conversation": first})
    error = await helmi.frame(lambda f: f["type"] == "error")
    assert error["error"] == "forbidden"
    await helmi.live.send_json({"type": "ping"})
    await helmi.frame(lambda f: f["type"] == "pong")
    assert first not in json.dumps(helmi.received)
    assert second not in json.dumps(helmi.received)
    # A reconnecting console's hello carries no entries of another team either.
    other = await service.person(helmi.account)
    assert (await other.login())[0] == 200
    hello = await other.connect()
    assert hello["entries"] == []


async def test_another_teams_conversation_cannot_be_read_or_touched_but_an_admin_can(service: Service) -> None:
    anna = await service.advisor("anna")
    helmi = await service.advisor("helmi", teams=("health_social_work",))
    paula = await service.advisor("paula", role="admin", teams=())
    conversation = await waiting_conversation(service)
    one = f"{API}/conversations/{conversation}"

    attempts: list[tuple[str, Any]] = [
        ("claim", {}),
        ("reply", {"text": "Hei, täällä Helmi"}),
        ("note", {"text": "Helmin muistiinpano"}),
        ("transfer", {"team": "health_social_work"}),
        ("transfer", {"advisor": helmi.account.id}),
        ("release", {}),
        ("close", {"outcome": "answered"}),
        ("answer", {"text": "Vastaus"}),
    ]
    status, data = await helmi.get(one)
    assert (status, refusal(data)) == (403, ("forbidden", {"error", "message"}))
    for action, body in attempts:
        status, data = await helmi.post(f"{one}/{action}", body)
        assert (status, refusal(data)) == (403, ("forbidden", {"error", "message"})), action
    await still_waiting(service, conversation)
    assert [row["action"] for row in await audit_rows(service) if row["advisor_id"] == helmi.account.id] == ["login"]
    # Also while Anna holds it: still forbidden, and Anna keeps it.
    assert (await anna.post(f"{one}/claim"))[0] == 200
    for action, body in attempts:
        status, data = await helmi.post(f"{one}/{action}", body)
        assert (status, data["error"]) == (403, "forbidden"), action
    assert service.desk.queues.get(conversation).assigned_to == anna.account.id
    # An unknown conversation is 404 for everyone.
    status, data = await helmi.get(f"{API}/conversations/{'0' * 32}")
    assert (status, data["error"]) == (404, "not_found")

    # The admin may do all of it: read, note, take over, reply, transfer, close.
    status, transcript = await paula.get(one)
    assert status == 200
    assert transcript["entry"]["assigned_to"]["id"] == anna.account.id
    assert (await paula.post(f"{one}/note", {"text": "Adminin muistiinpano"}))[0] == 200
    status, moved = await paula.post(f"{one}/transfer", {"advisor": paula.account.id})
    assert status == 200, moved
    assert moved["entry"]["assigned_to"]["id"] == paula.account.id
    assert (await paula.post(f"{one}/reply", {"text": "Hei, täällä Paula"}))[0] == 200
    status, moved = await paula.post(f"{one}/transfer", {"team": "health_social_work"})
    assert (status, moved["entry"]["team"], moved["entry"]["status"]) == (200, "health_social_work", "queued")
    # Now it is Helmi's team's, and no longer Anna's.
    assert (await helmi.get(one))[0] == 200
    assert (await anna.get(one))[0] == 403
    assert (await anna.post(f"{one}/claim"))[0] == 403
    assert (await paula.post(f"{one}/close", {"outcome": "no_reply"}))[0] == 200
    row = await conversation_row(service, conversation)
    assert (row["status"], row["assigned_to"], row["outcome"]) == ("bot", None, "no_reply")


# --- roles -----------------------------------------------------------------------------------------
async def test_advisors_cannot_use_the_admin_endpoints(service: Service) -> None:
    anna = await service.advisor("anna")
    bea = await service.advisor("bea")
    refused = [
        ("GET", f"{API}/users", None),
        ("POST", f"{API}/users", {"name": "mallory", "role": "admin", "teams": [], "password": "x" * 16}),
        ("PATCH", f"{API}/users/{anna.account.id}", {"role": "admin"}),
        ("PATCH", f"{API}/users/{bea.account.id}", {"active": False}),
        ("PATCH", f"{API}/users/{bea.account.id}", {"password": "a new password for bea"}),
        ("GET", f"{API}/audit", None),
        ("GET", f"{API}/audit?advisor={bea.account.id}", None),
    ]
    for method, path, body in refused:
        status, data = await anna.call(method, path, body)
        assert (status, refusal(data)) == (403, ("forbidden", {"error", "message"})), (method, path)
    assert await count(service, advisors) == 2
    assert (await advisor_row(service, anna.account.id))["role"] == "advisor"
    assert (await advisor_row(service, bea.account.id))["active"] is True
    assert (await bea.get(f"{API}/me"))[0] == 200  # Bea's session survived
    # Changing one's own role through PATCH /me is not possible either.
    status, data = await anna.call("PATCH", f"{API}/me", {"role": "admin"})
    assert (status, data["error"]) == (400, "bad_request")
    assert (await advisor_row(service, anna.account.id))["role"] == "advisor"


async def test_an_editor_sees_only_the_content_status_and_cannot_take_conversations(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.advisor("anna")
    eemil = await service.advisor("eemil", role="editor", teams=(), connect=False)
    conversation = await waiting_conversation(service)
    one = f"{API}/conversations/{conversation}"
    for method, path, body in [
        ("GET", f"{API}/queue", None),
        ("GET", f"{API}/inbox", None),
        ("GET", f"{API}/teams", None),
        ("GET", f"{API}/advisors", None),
        ("GET", f"{API}/canned?language=fi", None),
        ("GET", one, None),
        ("POST", f"{one}/claim", {}),
        ("POST", f"{one}/note", {"text": "Toimittajan muistiinpano"}),
        ("POST", f"{one}/transfer", {"team": "health_social_work"}),
        ("POST", f"{one}/close", {"outcome": "answered"}),
        ("GET", f"{API}/users", None),
        ("PATCH", f"{API}/users/{eemil.account.id}", {"role": "admin"}),
        ("GET", f"{API}/audit", None),
    ]:
        status, data = await eemil.call(method, path, body)
        assert (status, refusal(data)) == (403, ("forbidden", {"error", "message"})), (method, path)
    await still_waiting(service, conversation)
    assert (await advisor_row(service, eemil.account.id))["role"] == "editor"
    # The content status is theirs (the report itself, slow to build, is stood in for here).
    monkeypatch.setattr(
        admin, "_content_report", lambda config: {"intents": 1, "examples": 2, "canned": 3, "problems": []}
    )
    status, report = await eemil.get(f"{API}/content")
    assert (status, report["intents"]) == (200, 1)
    # The editor's live console shows no conversations.
    hello = await eemil.connect()
    assert hello["entries"] == []


# --- CSRF ------------------------------------------------------------------------------------------
async def test_state_changes_need_the_sessions_csrf_token_and_the_consoles_origin(service: Service) -> None:
    anna = await service.advisor("anna")
    bea = await service.advisor("bea")
    conversation = await waiting_conversation(service)
    claim = f"{API}/conversations/{conversation}/claim"
    forged: list[dict[str, str]] = [
        {"Origin": anna.base},  # no token
        {"Origin": anna.base, "X-CSRF-Token": ""},
        {"Origin": anna.base, "X-CSRF-Token": "not-the-token"},
        {"Origin": anna.base, "X-CSRF-Token": bea.csrf},  # another session's token
        {"Origin": anna.base, "X-CSRF-Token": anna.csrf.upper()},
        {"Origin": FOREIGN, "X-CSRF-Token": anna.csrf},  # the right token from another site
        {"Origin": "null", "X-CSRF-Token": anna.csrf},
        {"Origin": anna.base.replace("127.0.0.1", "localhost"), "X-CSRF-Token": anna.csrf},
        {"Origin": f"{anna.base}.evil.example", "X-CSRF-Token": anna.csrf},
    ]
    for headers in forged:
        for method, path, body in [
            ("POST", claim, {}),
            ("PATCH", f"{API}/me", {"language": "sv"}),
            ("POST", f"{API}/me/password", {"current": PASSWORD, "new": "an entirely new passphrase"}),
            ("POST", f"{API}/logout", None),
        ]:
            status, data = await send(anna, method, path, body, headers=headers)
            assert (status, refusal(data)) == (403, ("csrf", {"error", "message"})), (method, path, headers)
    # Nothing changed: the conversation waits, the language and password are as they were, the session lives.
    await still_waiting(service, conversation)
    assert (await advisor_row(service, anna.account.id))["language"] == "fi"
    assert (await anna.get(f"{API}/me"))[0] == 200
    assert not [row for row in await audit_rows(service) if row["action"] in ("claim", "logout", "password_changed")]
    # Reading needs no token; with the token (and no Origin, as some clients send) the same claim succeeds.
    assert (await send(anna, "GET", f"{API}/me", headers={}))[0] == 200
    status, claimed = await send(anna, "POST", claim, {}, headers={"X-CSRF-Token": anna.csrf})
    assert status == 200, claimed
    assert (await conversation_row(service, conversation))["assigned_to"] == anna.account.id


async def test_login_needs_the_consoles_origin_and_a_json_body(service: Service) -> None:
    anna = await service.account("anna")
    credentials = {"name": anna.name, "password": PASSWORD}
    status, headers, text = await raw(service, "POST", f"{API}/login", headers={"Origin": FOREIGN}, body=credentials)
    assert (status, refusal(json.loads(text))) == (403, ("csrf", {"error", "message"}))
    assert "Set-Cookie" not in headers
    # A cross-site form post is not JSON: refused before the password is even looked at.
    status, headers, text = await raw(
        service, "POST", f"{API}/login", headers={"Origin": service.base}, data=credentials
    )
    assert (status, json.loads(text)["error"]) == (400, "bad_request")
    assert "Set-Cookie" not in headers
    assert await count(service, sessions) == 0
    status, headers, _ = await raw(service, "POST", f"{API}/login", headers={"Origin": service.base}, body=credentials)
    assert status == 200
    assert await count(service, sessions) == 1


# --- sessions ----------------------------------------------------------------------------------------
async def test_after_logout_the_old_cookie_is_refused_everywhere(service: Service) -> None:
    anna = await service.advisor("anna")
    conversation = await waiting_conversation(service)
    token = cookie_of(anna)
    csrf = anna.csrf
    status, _, _ = await raw(service, "GET", f"{API}/me", cookie=token)
    assert status == 200  # the token alone is the session

    status, data = await anna.post(f"{API}/logout", None)
    assert (status, data) == (204, None)
    # The open console is closed by the server.
    assert await close_code(anna) == 4001
    assert not service.desk.online(anna.account.id)
    # The server forgot the session: the replayed cookie (and token) open nothing.
    assert await count(service, sessions) == 0
    headers = {"Origin": service.base, "X-CSRF-Token": csrf}
    for method, path, body in [
        ("GET", f"{API}/me", None),
        ("GET", f"{API}/queue", None),
        ("GET", f"{API}/conversations/{conversation}", None),
        ("POST", f"{API}/conversations/{conversation}/claim", {}),
        ("POST", f"{API}/logout", None),
    ]:
        status, _, text = await raw(service, method, path, cookie=token, headers=headers, body=body)
        assert (status, json.loads(text)["error"]) == (401, "unauthenticated"), (method, path)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await service.client.ws_connect("/console/ws", headers={"Origin": service.base, "Cookie": f"{COOKIE}={token}"})
    assert refused.value.status == 401
    await still_waiting(service, conversation)
    assert [row["action"] for row in await audit_rows(service)] == ["login", "logout"]


async def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(service: Service) -> None:
    settings = service.app[CONFIG_KEY].console
    assert settings.lockout_after + 4 <= settings.login_attempts_per_minute  # the rate limit stays out of the way
    anna = await service.person(await service.account("anna"))
    answers: list[str] = []

    status, unknown = await anna.call(
        "POST", f"{API}/login", {"name": "nobody", "password": "wrong password 0"}, csrf=False
    )
    assert (status, unknown["error"]) == (401, "invalid_credentials")
    for attempt in range(1, settings.lockout_after):
        status, data = await anna.login(f"wrong password {attempt}")
        answers.append(json.dumps(data))
        # A wrong password gets the very same answer as an unknown name.
        assert (status, data) == (401, unknown), attempt
        assert (await advisor_row(service, anna.account.id))["locked_until"] is None
    status, data = await anna.login(f"wrong password {settings.lockout_after}")
    assert (status, data["error"]) == (423, "locked")
    assert 0 < data["retry_after"] <= settings.lockout_minutes * 60 + 1
    assert (await advisor_row(service, anna.account.id))["locked_until"] is not None

    # While locked, the right password opens nothing.
    status, data = await anna.login()
    answers.append(json.dumps(data))
    assert (status, data["error"]) == (423, "locked")
    assert 0 < data["retry_after"] <= settings.lockout_minutes * 60 + 1
    assert cookie_count(anna) == 0
    assert await count(service, sessions) == 0
    assert anna.csrf == ""

    # An admin unlocks the account; then the right password works again.
    paula = await service.advisor("paula", role="admin", teams=(), connect=False)
    status, user = await paula.call("PATCH", f"{API}/users/{anna.account.id}", {"unlock": True})
    assert (status, user["user"]["locked_until"]) == (200, None)
    assert (await anna.login())[0] == 200
    failed = [row for row in await audit_rows(service) if row["action"] == "login_failed"]
    assert [row["details"]["why"] for row in failed] == ["invalid_credentials"] * settings.lockout_after + [
        "locked",
        "locked",
    ]
    everything = json.dumps([*answers, *(str(row) for row in await audit_rows(service))])
    assert "wrong password" not in everything
    assert PASSWORD not in everything


def cookie_count(person: Advisor) -> int:
    return sum(1 for morsel in person.http.cookie_jar if morsel.key == COOKIE)


async def test_too_many_login_attempts_from_one_address_answer_429(service: Service) -> None:
    per_minute = service.app[CONFIG_KEY].console.login_attempts_per_minute
    anna = await service.person(await service.account("anna"))
    for attempt in range(per_minute):
        status, data = await anna.call(
            "POST", f"{API}/login", {"name": f"nobody{attempt}", "password": "wrong password"}, csrf=False
        )
        assert (status, data["error"]) == (401, "invalid_credentials"), attempt
    status, data = await anna.login()  # the right password of a real account
    assert (status, data["error"]) == (429, "rate_limited")
    assert data["retry_after"] > 0
    assert cookie_count(anna) == 0
    # A made-up X-Forwarded-For does not give a fresh allowance (no proxy is trusted here).
    status, headers, text = await raw(
        service,
        "POST",
        f"{API}/login",
        headers={"Origin": service.base, "X-Forwarded-For": "198.51.100.7"},
        body={"name": "anna", "password": PASSWORD},
    )
    assert (status, json.loads(text)["error"]) == (429, "rate_limited")
    assert "Set-Cookie" not in headers
    assert await count(service, sessions) == 0
    # The limit is on attempts, not on the account: nothing was counted against Anna's password.
    assert (await advisor_row(service, anna.account.id))["failed_logins"] == 0


async def test_deactivating_an_account_ends_its_sessions_and_consoles_at_once(service: Service) -> None:
    paula = await service.advisor("paula", role="admin", teams=(), connect=False)
    anna = await service.advisor("anna")
    await service.advisor("bea")  # keeps the team online
    conversation = await waiting_conversation(service)
    token = cookie_of(anna)

    status, user = await paula.call("PATCH", f"{API}/users/{anna.account.id}", {"active": False})
    assert (status, user["user"]["active"]) == (200, False)
    assert await close_code(anna) == 4001
    for method, path, body in [
        ("GET", f"{API}/me", None),
        ("GET", f"{API}/queue", None),
        ("POST", f"{API}/conversations/{conversation}/claim", {}),
    ]:
        status, data = await anna.call(method, path, body)
        assert (status, data["error"]) == (401, "unauthenticated"), (method, path)
    status, _, _ = await raw(service, "GET", f"{API}/me", cookie=token)
    assert status == 401
    assert await count(service, sessions, sessions.c.advisor_id == anna.account.id) == 0
    # She cannot log in again, with the same answer as a wrong password, and is no transfer target.
    status, data = await anna.login()
    assert (status, data["error"]) == (401, "invalid_credentials")
    advisors_listed = (await paula.get(f"{API}/advisors"))[1]["advisors"]
    assert anna.account.id not in [person["id"] for person in advisors_listed]
    await still_waiting(service, conversation)


async def test_the_session_cookie_is_httponly_strict_and_only_for_the_console(service: Service) -> None:
    config = service.app[CONFIG_KEY]
    await service.account("anna")
    # An X-Forwarded-Proto header is not believed without a trusted proxy: the request came over http.
    for headers in ({"Origin": service.base}, {"Origin": service.base, "X-Forwarded-Proto": "https"}):
        status, response_headers, text = await raw(
            service, "POST", f"{API}/login", headers=headers, body={"name": "anna", "password": PASSWORD}
        )
        assert status == 200
        cookies = response_headers.getall("Set-Cookie")
        assert len(cookies) == 1
        name_value, *attributes = [part.strip() for part in cookies[0].split(";")]
        name, token = name_value.split("=", 1)
        assert name == COOKIE
        assert len(token) >= 40
        flags = {attribute.split("=", 1)[0].lower(): attribute for attribute in attributes}
        assert "httponly" in flags
        assert flags["samesite"] == "SameSite=Strict"
        assert flags["path"] == "Path=/console"
        assert "secure" not in flags
        assert "domain" not in flags
        assert flags["max-age"] == f"Max-Age={config.console.session_hours * 3600}"
        # The token is not in the answer, and the server keeps only its SHA-256.
        assert token not in text
        assert PASSWORD not in text
        async with engine_of(service).connect() as connection:
            stored = [dict(row) for row in (await connection.execute(select(sessions))).mappings()]
        assert hashlib.sha256(token.encode()).hexdigest() in [row["id"] for row in stored]
        assert token not in str(stored)
    # Logout tells the browser to forget it, on the same path; another session's CSRF token cannot end it.
    status, _, text = await raw(
        service, "POST", f"{API}/login", headers={"Origin": service.base}, body={"name": "anna", "password": PASSWORD}
    )
    other_csrf = json.loads(text)["csrf_token"]
    status, headers, _ = await raw(
        service, "POST", f"{API}/logout", cookie=token, headers={"Origin": service.base, "X-CSRF-Token": other_csrf}
    )
    assert status == 403
    assert "Set-Cookie" not in headers
    own_csrf = next(row for row in stored if row["id"] == hashlib.sha256(token.encode()).hexdigest())["csrf_token"]
    status, headers, _ = await raw(
        service, "POST", f"{API}/logout", cookie=token, headers={"Origin": service.base, "X-CSRF-Token": own_csrf}
    )
    assert status == 204
    cleared = headers["Set-Cookie"]
    assert cleared.split(";")[0] in (f'{COOKIE}=""', f"{COOKIE}=")
    assert "Path=/console" in cleared
    assert "Max-Age=0" in cleared


async def test_passwords_never_appear_in_answers_or_the_audit_log(service: Service) -> None:
    paula = await service.advisor("paula", role="admin", teams=(), connect=False)
    secrets = {
        "created": "first password of carl",
        "reset": "second password of carl",
        "own": "third password of carl",
        "wrong": "not carls password at all",
    }
    answers: list[Any] = []
    status, created = await paula.post(
        f"{API}/users",
        {
            "name": "carl",
            "display_name": "Carl",
            "role": "advisor",
            "teams": ["social_advice"],
            "capacity": 2,
            "password": secrets["created"],
        },
    )
    assert status == 201
    answers.append(created)
    carl_id = created["user"]["id"]
    status, data = await paula.call("PATCH", f"{API}/users/{carl_id}", {"password": secrets["reset"]})
    assert status == 200
    answers.append(data)
    account = await service.app[ACCOUNTS_KEY].get(carl_id)
    assert account is not None
    carl = await service.person(account)
    for password in (secrets["created"], secrets["wrong"]):
        status, data = await carl.login(password)
        assert status == 401
        answers.append(data)
    status, data = await carl.login(secrets["reset"])
    assert status == 200
    answers.append(data)
    status, data = await carl.post(f"{API}/me/password", {"current": secrets["wrong"], "new": secrets["own"]})
    assert (status, data["error"]) == (401, "invalid_credentials")
    answers.append(data)
    status, data = await carl.post(f"{API}/me/password", {"current": secrets["reset"], "new": "short"})
    assert (status, data["error"]) == (400, "bad_password")
    answers.append(data)
    assert (await carl.post(f"{API}/me/password", {"current": secrets["reset"], "new": secrets["own"]}))[0] == 204
    for path in (f"{API}/me", f"{API}/users", f"{API}/audit?limit=500", f"{API}/audit?advisor={carl_id}"):
        status, data = await paula.get(path)
        assert status == 200
        answers.append(data)
    status, data = await carl.get(f"{API}/me")
    answers.append(data)

    seen = json.dumps(answers)
    stored = json.dumps([str(row) for row in await audit_rows(service)])
    for secret in (*secrets.values(), PASSWORD):
        assert secret not in seen, secret
        assert secret not in stored, secret
    assert "password_hash" not in seen
    actions = [row["action"] for row in await audit_rows(service)]
    for action in ("user_created", "user_updated", "login_failed", "password_changed"):
        assert action in actions
    # The hash is argon2id, never the password itself.
    row = await advisor_row(service, carl_id)
    assert row["password_hash"].startswith("$argon2id$")
