"""Office hours and leave-a-message, end to end: the widget, the console's inbox and the /answer page.

When nobody can answer now (the team is closed, or the wait would be longer than the
team's maximum) the citizen is told so honestly and offered to leave a message instead
of a queue that will not answer: they get a reference code and the date of the answer.
An advisor of the team answers from the inbox, once; the citizen reads the answer in the
widget (the same conversation, also after a reconnect) or at ``/answer`` with the code.
A crisis is never turned away: the emergency guidance comes at once, at any hour.

``teams_config`` keeps child maintenance (the "Lastenvalvojat" team) always closed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from bot.dialogue.admission import reference_hash
from bot.dialogue.core import token_hash
from bot.dialogue.policy import format_date
from bot.keys import CONFIG_KEY
from bot.storage.store import conversations, messages
from handoff.hours import parse_office_hours
from tests.handoff.conftest import Citizen, Service, ask_for_person, teams_config

pytestmark = pytest.mark.usefixtures("engine")

API = "/console/api"
ZONE = ZoneInfo("Europe/Helsinki")
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
#: A question the bot answers under the child maintenance topic; asking for a person after it routes there.
ABOUT_CHILD_MAINTENANCE = "Lapseni isä ei maksa elatusapua. Miten saan elatustuen?"
LEFT_MESSAGE = "Haluaisin tehdä elatussopimuksen lapsen isän kanssa. Voiko tavata ensi viikolla?"
ANSWER = "Hei! Varaa aika lastenvalvojalle numerosta 09 123 4000, niin teemme sopimuksen yhdessä."
CRISIS = "en jaksa enää elää, haluan kuolla"


def all_teams_closed(config: Config) -> Config:
    """A night: every team, the crisis team too, is closed."""
    closed = parse_office_hours("closed", ZONE)
    handoff = config.handoff
    return replace(config, handoff=replace(handoff, teams=tuple(replace(t, hours=closed) for t in handoff.teams)))


def social_guidance_waits_at_most_five_minutes(config: Config) -> Config:
    """Social guidance accepts an estimated wait of five minutes at most."""
    handoff = config.handoff
    teams = tuple(replace(t, max_wait_minutes=5.0) if t.id == "social_advice" else t for t in handoff.teams)
    return replace(config, handoff=replace(handoff, teams=teams))


@pytest.fixture
def handoff_config(server_config: Config, request: pytest.FixtureRequest) -> Config:
    """The test teams; a test changes them with ``parametrize("handoff_config", [change], indirect=True)``."""
    change: Callable[[Config], Config] = getattr(request, "param", lambda config: config)
    return change(teams_config(server_config))


# --- helpers ---------------------------------------------------------------------------------------
def one(frames: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [f for f in frames if f.get("type") == "message" and f.get("kind") == kind]
    assert len(found) == 1, (kind, frames)
    return found[0]


def buttons(frame: dict[str, Any]) -> list[str]:
    return [button["action"] for button in frame["buttons"]]


def fact(service: Service, key: str) -> str:
    """A county fact (a phone number) as config.yml gives it."""
    return service.app[CONFIG_KEY].fact(key, "fi")


async def ask_a_person_about_child_maintenance(citizen: Citizen) -> list[dict[str, Any]]:
    """The citizen asks about child maintenance, then for a person: the frames of that second turn."""
    answered = await citizen.say(ABOUT_CHILD_MAINTENANCE)
    assert any(f.get("kind") == "answer" for f in answered), answered
    return await ask_for_person(citizen)


async def leave_message(citizen: Citizen, text: str = LEFT_MESSAGE) -> tuple[str, dict[str, Any]]:
    """Press "Leave a message" and write it: the reference code and the confirmation frame."""
    prompt = one(await citizen.press("/leave_message", "Jätä viesti"), "question")
    assert "Kirjoita viestisi" in prompt["text"]
    turn = await citizen.say(text)
    assert one(turn, "left_message")["text"] == text
    received = one(turn, "message_received")
    found = CODE.search(received["text"])
    assert found is not None, received
    return found.group(), received


async def conversation_row(engine: AsyncEngine, citizen: Citizen) -> Any:
    """The stored conversation behind a widget's token."""
    async with engine.connect() as connection:
        query = select(conversations).where(conversations.c.token_hash == token_hash(citizen.token))
        return (await connection.execute(query)).mappings().one()


async def stored_kinds(engine: AsyncEngine, conversation: str) -> list[str]:
    async with engine.connect() as connection:
        query = select(messages.c.kind).where(messages.c.conversation_id == conversation).order_by(messages.c.seq)
        return list((await connection.execute(query)).scalars())


async def answer_page(service: Service, code: str) -> tuple[int, str]:
    """The /answer form, posted with a code, as a browser would."""
    async with service.client.post("/answer?lang=fi", data={"code": code}) as response:
        return response.status, await response.text()


async def reconnect(service: Service, citizen: Citizen) -> dict[str, Any]:
    """The same browser comes back later: a new widget socket says hello with the stored token."""
    socket = await service.client.ws_connect("/ws", headers={"Origin": service.base})
    await socket.send_json({"type": "hello", "lang": "fi", "token": citizen.token})
    welcome = await socket.receive_json(timeout=10)
    await socket.close()
    return welcome


# --- outside office hours ----------------------------------------------------------------------------------
async def test_outside_office_hours_the_citizen_is_told_honestly_and_offered_a_message_not_a_queue(
    service: Service, engine: AsyncEngine
) -> None:
    helena = await service.advisor("helena", teams=("child_maintenance",))  # online, but the team is closed
    citizen = await service.citizen()

    turn = await ask_a_person_about_child_maintenance(citizen)

    offer = one(turn, "offer_message")
    assert offer["sender"] == "system"
    # Who is away, their hours, when a message would be answered, and where to call if it is urgent. (A team
    # that never opens has no working days to count: the promise is five calendar days.)
    promised = format_date(dt.datetime.now(ZONE).date() + dt.timedelta(days=5), "fi")
    urgent = [fact(service, "phone.social_emergency"), fact(service, "phone.emergency")]
    for told in ("Neuvojat (Lastenvalvojat) eivät päivystä chatissa.", promised, *urgent):
        assert told in offer["text"], told
    # The team never opens (hours: closed): no opening hours to tell, so no "Chat on avoinna suljettu".
    assert "avoinna" not in offer["text"], offer["text"]
    assert "suljettu" not in offer["text"], offer["text"]
    assert buttons(offer) == ["/leave_message", "/menu"]
    assert not [f for f in turn if f.get("kind") == "handoff"]  # no promise of a queue
    assert turn[-1]["status"] == "bot"
    # Nothing waits for an advisor: not in the desk, not in the console's queue, not in the database.
    stored = await conversation_row(engine, citizen)
    assert (stored["status"], stored["queued_at"], stored["message_at"]) == ("bot", None, None)
    assert service.desk.queues.get(stored["id"]) is None
    assert (await helena.get(f"{API}/queue"))[1]["entries"] == []
    assert (await helena.get(f"{API}/inbox"))[1]["entries"] == []


async def test_a_left_message_gets_a_reference_code_and_a_date_and_waits_in_the_teams_inbox(
    service: Service, engine: AsyncEngine
) -> None:
    helena = await service.advisor("helena", teams=("child_maintenance",))
    citizen = await service.citizen()
    await ask_a_person_about_child_maintenance(citizen)

    code, received = await leave_message(citizen)

    stored = await conversation_row(engine, citizen)
    reply_by = stored["reply_by"]
    assert reply_by >= dt.datetime.now(ZONE).date() + dt.timedelta(days=5)  # five working days at the least
    assert f"Viitekoodisi on {code}. Neuvoja vastaa viimeistään {format_date(reply_by, 'fi')}." in received["text"]
    # The conversation is found by the code's hash; it stays with the bot, in the team's inbox, not its queue.
    assert stored["reference_hash"] == reference_hash(code)
    assert (stored["status"], stored["team"], stored["answered_at"]) == ("bot", "child_maintenance", None)
    # The team's advisor sees it in the inbox and live, without its text, with the promised date.
    live = await helena.frame(lambda f: f["type"] == "entry" and f["entry"]["status"] == "message")
    status, inbox = await helena.get(f"{API}/inbox")
    assert status == 200
    [entry] = inbox["entries"]
    assert entry == live["entry"]
    assert (entry["id"], entry["team"], entry["reply_by"], entry["topic"]) == (
        stored["id"],
        "child_maintenance",
        reply_by.isoformat(),
        "child_maintenance",
    )
    assert LEFT_MESSAGE not in str(entry)
    # Asking for a person again does not leave a second message: the citizen is reminded of the first.
    again = await ask_for_person(citizen)
    reminder = one(again, "notice")
    assert format_date(reply_by, "fi") in reminder["text"]
    assert "Olet jo jättänyt viestin" in reminder["text"]
    assert len((await helena.get(f"{API}/inbox"))[1]["entries"]) == 1


async def test_the_advisor_answers_once_and_the_citizen_reads_it_in_the_widget_and_with_the_code(
    service: Service, engine: AsyncEngine
) -> None:
    helena = await service.advisor("helena", teams=("child_maintenance",))
    citizen = await service.citizen()
    await ask_a_person_about_child_maintenance(citizen)
    code, _ = await leave_message(citizen)
    conversation = (await conversation_row(engine, citizen))["id"]

    # Before the answer the page shows the message and the promised date.
    status, page = await answer_page(service, code)
    assert status == 200
    assert LEFT_MESSAGE in page
    assert "Viestiisi ei ole vielä vastattu" in page

    status, transcript = await helena.get(f"{API}/conversations/{conversation}")
    assert status == 200
    assert [m["text"] for m in transcript["messages"] if m["kind"] == "left_message"] == [LEFT_MESSAGE]
    status, sent = await helena.post(f"{API}/conversations/{conversation}/answer", {"text": ANSWER})
    assert status == 200, sent
    assert (sent["message"]["kind"], sent["message"]["author"]) == ("message_answer", "Helena")

    # The open widget shows it at once, and the message leaves the inbox.
    shown = await citizen.until(lambda f: f.get("kind") == "message_answer")
    assert (shown["text"], shown["sender"], shown["author"]) == (ANSWER, "advisor", "Helena")
    removed = await helena.frame(lambda f: f["type"] == "entry_removed")
    assert removed == {"type": "entry_removed", "id": conversation, "why": "answered"}
    assert (await helena.get(f"{API}/inbox"))[1]["entries"] == []
    # The same browser, coming back later, finds the message and the answer in its conversation.
    welcome = await reconnect(service, citizen)
    assert welcome["resumed"] is True
    history = {f["kind"]: f["text"] for f in welcome["history"]}
    assert (history["left_message"], history["message_answer"]) == (LEFT_MESSAGE, ANSWER)
    # Another device: the code, as typed (lower case, no dashes), opens the message and its answer.
    status, page = await answer_page(service, code.replace("-", "").lower())
    assert status == 200
    assert LEFT_MESSAGE in page
    assert ANSWER in page
    assert "ei ole vielä vastattu" not in page

    # A second answer is refused, and nothing more is stored.
    status, refused = await helena.post(f"{API}/conversations/{conversation}/answer", {"text": "Vielä yksi vastaus"})
    assert (status, refused["error"]) == (409, "wrong_state")
    assert (await stored_kinds(engine, conversation)).count("message_answer") == 1


async def test_a_wrong_reference_code_reveals_nothing(service: Service) -> None:
    await service.advisor("helena", teams=("child_maintenance",))
    citizen = await service.citizen()
    await ask_a_person_about_child_maintenance(citizen)
    code, _ = await leave_message(citizen)
    wrong = ("0" if code[0] != "0" else "1") + code[1:]

    pages = [await answer_page(service, guess) for guess in (wrong, code[:-1], "not a code", "")]

    # A near miss looks exactly like nonsense: no text, no date, not even a hint that the code was close.
    assert pages == [pages[-1]] * 4
    status, page = pages[0]
    assert status == 404
    assert "Viitekoodilla ei löytynyt viestiä" in page
    assert LEFT_MESSAGE not in page
    assert "vastaa viimeistään" not in page


async def test_an_advisor_of_another_team_can_neither_see_nor_answer_the_message(
    service: Service, engine: AsyncEngine
) -> None:
    helena = await service.advisor("helena", teams=("child_maintenance",))
    anna = await service.advisor("anna", teams=("social_advice",))
    citizen = await service.citizen()
    await ask_a_person_about_child_maintenance(citizen)
    await leave_message(citizen)
    conversation = (await conversation_row(engine, citizen))["id"]

    assert (await anna.get(f"{API}/inbox")) == (200, {"entries": []})
    status, refused = await anna.get(f"{API}/conversations/{conversation}")
    assert (status, refused["error"]) == (403, "forbidden")
    assert LEFT_MESSAGE not in str(refused)
    status, refused = await anna.post(f"{API}/conversations/{conversation}/answer", {"text": ANSWER})
    assert (status, refused["error"]) == (403, "forbidden")
    # Nothing reached the citizen or the database; the message still waits for its own team.
    assert "message_answer" not in await stored_kinds(engine, conversation)
    assert (await conversation_row(engine, citizen))["answered_at"] is None
    assert [e["id"] for e in (await helena.get(f"{API}/inbox"))[1]["entries"]] == [conversation]


# --- a crisis is never turned away ------------------------------------------------------------------------
@pytest.mark.parametrize("handoff_config", [all_teams_closed], indirect=True, ids=["night"])
async def test_a_crisis_outside_office_hours_gets_the_emergency_guidance_at_once(
    service: Service, engine: AsyncEngine
) -> None:
    citizen = await service.citizen()

    turn = await citizen.say(CRISIS)

    # In the same turn: the citizen's words, the guidance with the emergency numbers, and the honest notice.
    assert [f.get("kind") for f in turn if f["type"] == "message"] == ["text", "crisis", "notice"]
    guidance, notice = one(turn, "crisis"), one(turn, "notice")
    emergency = fact(service, "phone.emergency")
    assert emergency in guidance["text"]
    assert "Neuvojat eivät ole juuri nyt chatissa" in notice["text"]
    assert emergency in notice["text"]
    # It waits at the top of the crisis team's queue for the first advisor on duty, not in an inbox.
    stored = await conversation_row(engine, citizen)
    assert (stored["status"], stored["priority"], stored["handoff_reason"], stored["message_at"]) == (
        "queued",
        1,
        "crisis",
        None,
    )


@pytest.mark.parametrize("handoff_config", [all_teams_closed], indirect=True, ids=["night"])
async def test_a_crisis_written_as_the_left_message_is_not_filed_away_in_the_inbox(
    service: Service, engine: AsyncEngine
) -> None:
    citizen = await service.citizen()
    await ask_a_person_about_child_maintenance(citizen)
    await citizen.press("/leave_message", "Jätä viesti")

    turn = await citizen.say(CRISIS)

    assert not [f for f in turn if f.get("kind") in ("left_message", "message_received")]
    assert fact(service, "phone.emergency") in one(turn, "crisis")["text"]
    stored = await conversation_row(engine, citizen)
    assert (stored["status"], stored["priority"], stored["message_at"]) == ("queued", 1, None)


# --- the queue-full guard -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "handoff_config", [social_guidance_waits_at_most_five_minutes], indirect=True, ids=["max_wait_5_min"]
)
async def test_when_the_wait_would_be_too_long_the_citizen_is_offered_a_message_instead_of_the_queue(
    service: Service, engine: AsyncEngine
) -> None:
    # One advisor with room for one: the first citizen is served at once, the next would wait 8.5 minutes
    # (the configured average handling time of 8 minutes, plus half a minute to notice).
    anna = await service.advisor("anna", capacity=1)
    first = await service.citizen()
    assert (await ask_for_person(first))[-1]["status"] == "queued"

    second = await service.citizen()
    turn = await ask_for_person(second)

    offer = one(turn, "offer_message")
    assert "Kaikki neuvojat ovat nyt varattuina, ja odotus venyisi yli 5 minuutin." in offer["text"]
    assert buttons(offer) == ["/leave_message", "/menu"]
    assert turn[-1]["status"] == "bot"
    assert [e["status"] for e in (await anna.get(f"{API}/queue"))[1]["entries"]] == ["queued"]
    # The message goes to the team's inbox instead.
    code, _ = await leave_message(second, "Tarvitsen apua toimeentulotukihakemuksen kanssa.")
    [entry] = (await anna.get(f"{API}/inbox"))[1]["entries"]
    assert (entry["team"], entry["status"]) == ("social_advice", "message")
    assert (await conversation_row(engine, second))["reference_hash"] == reference_hash(code)
    # A crisis is queued all the same, first.
    third = await service.citizen()
    crisis = await third.say(CRISIS)
    assert crisis[-1]["status"] == "queued"
    queue = (await anna.get(f"{API}/queue"))[1]["entries"]
    assert [(e["crisis"], e["position"]) for e in queue] == [(True, 1), (False, 2)]
