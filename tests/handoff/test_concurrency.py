"""Claim, transfer, reply and close at the same moment: many advisors, many conversations, one truth.

Every request goes through the real console API (aiohttp, sessions, CSRF) and every
citizen through the real widget socket, started together with ``asyncio.gather``. The
answers must be clear (docs/console-api.md: ``409`` with ``already_claimed``,
``at_capacity`` or ``not_yours``, or ``403 forbidden`` once the conversation has moved
to a team the advisor is not in) and the database must tell one story: one holder,
no advisor over capacity, every message stored exactly once with contiguous seqs.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from bot.dialogue.core import token_hash
from bot.storage.store import audit_log, conversations, events, messages, participants
from tests.handoff.conftest import Advisor, Citizen, Service, ask_for_person, teams_config

pytestmark = pytest.mark.usefixtures("engine")

API = "/console/api/conversations"
NAMES = (
    "aino", "eero", "helmi", "ilmari", "kaisa", "lauri", "mikael", "noora",
    "oona", "pekka", "riikka", "sanni", "tuomas", "ulla", "veera", "yrjö",
)  # fmt: skip


@pytest.fixture
def handoff_config(server_config: Config) -> Config:
    """The test teams, with one address allowed a whole office of logins and a room full of widgets."""
    config = teams_config(server_config)
    return replace(
        config,
        console=replace(config.console, login_attempts_per_minute=100),
        widget=replace(config.widget, connections_per_address=100),
    )


# --- helpers ---------------------------------------------------------------------------------------
async def advisors(service: Service, count: int, *, capacity: int = 3, **options: Any) -> list[Advisor]:
    """``count`` advisors of social guidance, logged in with their consoles open."""
    return list(
        await asyncio.gather(
            *(service.advisor(name, capacity=capacity, **options) for name in NAMES[:count]),
        )
    )


async def conversation_of_citizen(engine: AsyncEngine, citizen: Citizen) -> str:
    """The stored conversation behind a widget's token."""
    async with engine.connect() as connection:
        query = select(conversations.c.id).where(conversations.c.token_hash == token_hash(citizen.token))
        return str((await connection.execute(query)).scalar_one())


async def waiting_citizens(service: Service, engine: AsyncEngine, count: int) -> list[tuple[Citizen, str]]:
    """``count`` citizens who asked for a person and wait in the queue, with their conversation ids."""

    async def one() -> tuple[Citizen, str]:
        citizen = await service.citizen()
        turn = await ask_for_person(citizen)
        assert turn[-1]["status"] == "queued", turn
        return citizen, await conversation_of_citizen(engine, citizen)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def row(engine: AsyncEngine, conversation: str) -> Any:
    async with engine.connect() as connection:
        query = select(conversations).where(conversations.c.id == conversation)
        return (await connection.execute(query)).mappings().one()


async def transcript(engine: AsyncEngine, conversation: str) -> list[Any]:
    """The stored messages of a conversation, in seq order."""
    async with engine.connect() as connection:
        query = select(messages).where(messages.c.conversation_id == conversation).order_by(messages.c.seq)
        return list((await connection.execute(query)).mappings())


async def advisor_participants(engine: AsyncEngine, conversation: str) -> list[int]:
    async with engine.connect() as connection:
        query = select(participants.c.advisor_id).where(
            (participants.c.conversation_id == conversation) & (participants.c.role == "advisor")
        )
        return list((await connection.execute(query)).scalars())


async def event_names(engine: AsyncEngine, conversation: str) -> list[str]:
    async with engine.connect() as connection:
        query = select(events.c.name).where(events.c.conversation_id == conversation).order_by(events.c.id)
        return list((await connection.execute(query)).scalars())


async def audited(engine: AsyncEngine, conversation: str, action: str) -> list[int | None]:
    """Who the audit log says did ``action`` to the conversation."""
    async with engine.connect() as connection:
        query = select(audit_log.c.advisor_id).where(
            (audit_log.c.conversation_id == conversation) & (audit_log.c.action == action)
        )
        return list((await connection.execute(query)).scalars())


def assert_contiguous(stored: list[Any], last_seq: int) -> None:
    """Seqs 1, 2, … last_seq, each once: nothing lost, nothing duplicated, nothing out of order."""
    assert [m["seq"] for m in stored] == list(range(1, last_seq + 1))


async def seen_by(citizen: Citizen) -> list[dict[str, Any]]:
    """The message frames the widget received that the test has not looked at yet.

    A ping makes sure they have all arrived: the server delivers an action's messages before
    it answers the advisor's request, and the socket keeps order, so they come before the pong.
    """
    await citizen.socket.send_json({"type": "ping"})
    frames, citizen.pending = citizen.pending, []
    while not any(f.get("type") == "pong" for f in frames):
        frames.extend(await citizen.next())
    return [f for f in frames if f.get("type") == "message"]


def kinds(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("kind") == kind]


# --- one conversation, many claims ---------------------------------------------------------------------
async def test_when_twelve_advisors_claim_the_same_conversation_at_once_exactly_one_gets_it(
    service: Service, engine: AsyncEngine
) -> None:
    office = await advisors(service, 12)
    [(citizen, conversation)] = await waiting_citizens(service, engine, 1)

    answers = await asyncio.gather(*(person.post(f"{API}/{conversation}/claim") for person in office))

    winners = [person for person, (status, _) in zip(office, answers, strict=True) if status == 200]
    assert len(winners) == 1, answers
    winner = winners[0]
    refusals = [(status, body) for status, body in answers if status != 200]
    assert len(refusals) == 11
    for status, body in refusals:
        assert (status, body["error"], body["by"]) == (409, "already_claimed", winner.account.display_name)

    # The stored truth: one holder, one advisor taking part, one audited claim, one "joined" message.
    stored = await row(engine, conversation)
    assert (stored["status"], stored["assigned_to"]) == ("assigned", winner.account.id)
    assert await advisor_participants(engine, conversation) == [winner.account.id]
    assert await audited(engine, conversation, "claim") == [winner.account.id]
    assert (await event_names(engine, conversation)).count("advisor_joined") == 1
    assert len(kinds(await transcript(engine, conversation), "advisor_joined")) == 1
    # The desk agrees, and the citizen was told once, with the winner's name.
    assert [service.desk.queues.holding(p.account.id) for p in office] == [int(p is winner) for p in office]
    assert service.desk.queues.get(conversation).assigned_to == winner.account.id
    joined = kinds(await seen_by(citizen), "advisor_joined")
    assert [f["text"] for f in joined] == [f"{winner.account.display_name} on liittynyt keskusteluun."]


# --- many conversations, many claims ---------------------------------------------------------------------
async def test_many_advisors_claiming_many_conversations_at_once_fill_their_capacity_and_lose_nothing(
    service: Service, engine: AsyncEngine
) -> None:
    capacity = 2
    office = await advisors(service, 8, capacity=capacity)  # 16 places for 20 citizens
    waiting = await waiting_citizens(service, engine, 20)
    ids = [conversation for _, conversation in waiting]

    # Every advisor tries to take every conversation, all at the same moment: 160 claims.
    attempts = [(person, conversation) for person in office for conversation in ids]
    answers = await asyncio.gather(*(person.post(f"{API}/{conversation}/claim") for person, conversation in attempts))

    won: dict[str, list[int]] = {conversation: [] for conversation in ids}
    for (person, conversation), (status, body) in zip(attempts, answers, strict=True):
        if status == 200:
            assert body["entry"]["assigned_to"]["id"] == person.account.id
            won[conversation].append(person.account.id)
        else:
            assert status == 409, body
            assert body["error"] in ("already_claimed", "at_capacity"), body
    # No conversation has two winners; every advisor filled exactly their capacity (there was always work left).
    assert all(len(holders) <= 1 for holders in won.values()), won
    per_advisor = Counter(holder for holders in won.values() for holder in holders)
    assert per_advisor == {person.account.id: capacity for person in office}

    # The database tells the same story, conversation by conversation; the four left over still wait.
    for citizen, conversation in waiting:
        stored = await row(engine, conversation)
        if won[conversation]:
            assert (stored["status"], stored["assigned_to"]) == ("assigned", won[conversation][0])
        else:
            assert (stored["status"], stored["assigned_to"]) == ("queued", None)
        assert await advisor_participants(engine, conversation) == won[conversation]
        assert await audited(engine, conversation, "claim") == won[conversation]
        assert len(kinds(await seen_by(citizen), "advisor_joined")) == len(won[conversation])
    statuses = Counter([(await row(engine, conversation))["status"] for conversation in ids])
    assert statuses == {"assigned": 16, "queued": 4}
    # The console's own view of who holds how much.
    status, listed = await office[0].get("/console/api/advisors")
    assert status == 200
    assert {a["id"]: a["holding"] for a in listed["advisors"]} == {p.account.id: capacity for p in office}
    status, queue = await office[0].get("/console/api/queue")
    assert [e["position"] for e in queue["entries"] if e["status"] == "queued"] == [1, 2, 3, 4]


# --- one conversation, several actions ------------------------------------------------------------------
async def test_transfer_close_reply_and_the_citizen_racing_on_one_conversation_leave_one_consistent_story(
    service: Service, engine: AsyncEngine
) -> None:
    # Six conversations, each held by its own advisor, each raced at once: several orders get played.
    office = await advisors(service, 6)
    waiting = await waiting_citizens(service, engine, 6)
    for person, (_, conversation) in zip(office, waiting, strict=True):
        assert (await person.post(f"{API}/{conversation}/claim"))[0] == 200

    async def race(person: Advisor, citizen: Citizen, conversation: str, order: tuple[str, ...]) -> dict[str, Any]:
        """The three actions sent at once, in the given order, while the citizen writes."""
        bodies = {
            "transfer": {"team": "health_social_work"},
            "close": {"outcome": "answered"},
            "reply": {"text": f"Vastaus keskusteluun {conversation}"},
        }
        answers = await asyncio.gather(
            citizen.say("Kiitos, odotan vastausta."),
            *(person.post(f"{API}/{conversation}/{action}", bodies[action]) for action in order),
        )
        return {"turn": answers[0], **dict(zip(order, answers[1:], strict=True))}

    # Each conversation gets the actions in another of the six orders, so different winners get played.
    orders = list(itertools.permutations(("transfer", "close", "reply")))
    results = await asyncio.gather(
        *(
            race(person, citizen, conversation, order)
            for person, (citizen, conversation), order in zip(office, waiting, orders, strict=True)
        )
    )

    for person, (citizen, conversation), result in zip(office, waiting, results, strict=True):
        transfer, close, reply, turn = result["transfer"], result["close"], result["reply"], result["turn"]
        # Exactly one of transfer and close wins. Whatever comes after it is refused clearly: "not yours"
        # when the conversation went back to the bot, "forbidden" when it moved to a team the advisor is not in.
        assert sorted([transfer[0] == 200, close[0] == 200]) == [False, True], (transfer, close)
        transferred = transfer[0] == 200
        refusal = (403, "forbidden") if transferred else (409, "not_yours")
        loser = close if transferred else transfer
        assert (loser[0], loser[1]["error"]) == refusal
        assert reply[0] == 200 or (reply[0], reply[1]["error"]) == refusal, reply
        assert turn[-1]["type"] == "ack"

        stored = await row(engine, conversation)
        names = await event_names(engine, conversation)
        if transferred:
            assert (stored["status"], stored["assigned_to"], stored["team"]) == ("queued", None, "health_social_work")
            assert service.desk.queues.get(conversation).team == "health_social_work"
            assert (names.count("handoff_transferred"), names.count("handoff_closed")) == (1, 0)
        else:
            assert (stored["status"], stored["assigned_to"], stored["outcome"]) == ("bot", None, "answered")
            assert service.desk.queues.get(conversation) is None
            assert (names.count("handoff_transferred"), names.count("handoff_closed")) == (0, 1)

        stored_messages = await transcript(engine, conversation)
        assert_contiguous(stored_messages, stored["last_seq"])
        left = kinds(stored_messages, "advisor_left")
        assert len(left) == 1
        replies = [m for m in stored_messages if m["sender"] == "advisor"]
        if reply[0] == 200:
            # The holder's reply is stored once, and only while they still held the conversation.
            sent = reply[1]["message"]
            assert [(m["seq"], m["text"]) for m in replies] == [(sent["seq"], sent["text"])]
            assert replies[0]["seq"] < left[0]["seq"]
        else:
            assert replies == []
        citizen_says = [m for m in stored_messages if m["client_id"] == turn[-1]["id"]]
        assert [(m["seq"], m["text"]) for m in citizen_says] == [(turn[-1]["seq"], "Kiitos, odotan vastausta.")]
        # The widget heard the advisor leave exactly once.
        assert len(kinds(await seen_by(citizen), "advisor_left")) == 1
        assert service.desk.queues.holding(person.account.id) == 0
    # Both endings were played (a check on the race itself: the orders above make each action win somewhere).
    assert {result["transfer"][0] for result in results} == {200, 409}


# --- many closes while citizens write ----------------------------------------------------------------------
async def test_closing_many_conversations_while_their_citizens_keep_writing_stores_every_message_once(
    service: Service, engine: AsyncEngine
) -> None:
    office = await advisors(service, 5, capacity=2)
    waiting = await waiting_citizens(service, engine, 10)
    holders = {}
    for index, (_, conversation) in enumerate(waiting):
        person = office[index // 2]
        assert (await person.post(f"{API}/{conversation}/claim"))[0] == 200
        holders[conversation] = person

    async def write(citizen: Citizen, halfway: asyncio.Event) -> list[tuple[str, str, int]]:
        """Six messages one after another (client id, text, acknowledged seq); after the second, the advisor closes."""
        sent = []
        for number in range(1, 7):
            text = f"Viesti numero {number}: miten haen toimeentulotukea?"
            ack = (await citizen.say(text))[-1]
            assert ack["type"] == "ack", ack
            sent.append((ack["id"], text, ack["seq"]))
            if number == 2:
                halfway.set()
        return sent

    async def close(conversation: str, halfway: asyncio.Event) -> tuple[int, Any]:
        await halfway.wait()  # the citizen is in the middle of writing
        return await holders[conversation].post(f"{API}/{conversation}/close", {"outcome": "answered"})

    halfways = {conversation: asyncio.Event() for _, conversation in waiting}
    writers = [write(citizen, halfways[conversation]) for citizen, conversation in waiting]
    closers = [close(conversation, halfways[conversation]) for _, conversation in waiting]
    results = await asyncio.gather(*writers, *closers)
    sent_by, closes = results[: len(waiting)], results[len(waiting) :]

    assert [status for status, _ in closes] == [200] * len(waiting), closes
    for (_, conversation), sent in zip(waiting, sent_by, strict=True):
        stored = await row(engine, conversation)
        assert (stored["status"], stored["assigned_to"], stored["outcome"]) == ("bot", None, "answered")
        stored_messages = await transcript(engine, conversation)
        assert_contiguous(stored_messages, stored["last_seq"])
        # Every message the citizen was acknowledged for is stored exactly once, at the acknowledged seq.
        typed = [(m["client_id"], m["text"], m["seq"]) for m in stored_messages if m["sender"] == "citizen"]
        assert [entry for entry in typed if entry[0] in {client_id for client_id, _, _ in sent}] == sent
        assert set(Counter(m["client_id"] for m in stored_messages if m["client_id"]).values()) == {1}
        # The bot kept silent while the advisor held the conversation, and spoke again after.
        joined = kinds(stored_messages, "advisor_joined")[0]["seq"]
        left = kinds(stored_messages, "advisor_left")[0]["seq"]
        assert [m for m in stored_messages if joined < m["seq"] < left and m["sender"] == "bot"] == []
        assert any(m["sender"] == "bot" for m in stored_messages if m["seq"] > left)
        assert (await event_names(engine, conversation)).count("handoff_closed") == 1
    assert all(service.desk.queues.holding(person.account.id) == 0 for person in office)
    assert len(service.desk.queues) == 0


# --- logins while citizens chat -----------------------------------------------------------------------------
async def test_advisors_logging_in_all_at_once_while_citizens_chat_lose_no_turn(
    service: Service, engine: AsyncEngine
) -> None:
    """Shift start: the console's writes (accounts, sessions) must not stall or fail the citizens' turns."""
    citizens = [await service.citizen() for _ in range(6)]

    async def chat(citizen: Citizen) -> list[dict[str, Any]]:
        """Four questions, each answered by an ack, or by an error frame if the turn could not be stored."""
        answers = []
        for number in range(1, 5):
            citizen.counter += 1
            client_id = f"m{citizen.counter}"
            await citizen.socket.send_json(
                {"type": "message", "id": client_id, "text": f"Kysymys {number}: miten haen toimeentulotukea?"}
            )
            answers.append(
                await citizen.until(lambda f, i=client_id: f.get("id") == i and f["type"] in ("ack", "error"))
            )
        return answers

    office, *chats = await asyncio.gather(advisors(service, 10), *(chat(citizen) for citizen in citizens))

    assert len(office) == 10  # every login answered 200 (Service.advisor checks it)
    assert [[answer["type"] for answer in answers] for answers in chats] == [["ack"] * 4] * 6
    for citizen, answers in zip(citizens, chats, strict=True):
        stored = await transcript(engine, await conversation_of_citizen(engine, citizen))
        assert [m["seq"] for m in stored if m["client_id"]] == [answer["seq"] for answer in answers]
