"""A conversation goes from the bot to an advisor and back: queue, claim, silence of the bot, reply, close."""

from __future__ import annotations

import asyncio

import pytest

from tests.handoff.conftest import Service, ask_for_person, conversation_of

pytestmark = pytest.mark.usefixtures("engine")


async def test_a_citizen_who_asks_for_a_person_waits_in_the_queue_and_sees_their_place(service: Service) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    frames = await ask_for_person(citizen)
    handoff = next(f for f in frames if f.get("kind") == "handoff")
    assert "sijalla 1" in handoff["text"]
    entry = (await anna.frame(lambda f: f["type"] == "entry"))["entry"]
    assert (entry["status"], entry["team"], entry["crisis"], entry["channel"]) == (
        "queued",
        "social_advice",
        False,
        "web",
    )
    assert "text" not in entry  # the queue shows no message text
    status, queue = await anna.get("/console/api/queue")
    assert status == 200
    assert [e["id"] for e in queue["entries"]] == [entry["id"]]
    assert queue["entries"][0]["position"] == 1


async def test_claim_reply_and_close_reach_the_citizen_and_the_bot_greets_again(service: Service) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)

    status, claimed = await anna.post(f"/console/api/conversations/{conversation}/claim")
    assert status == 200, claimed
    assert claimed["entry"]["assigned_to"]["display_name"] == "Anna"
    joined = await citizen.until(lambda f: f.get("kind") == "advisor_joined")
    assert "Anna" in joined["text"]

    # While Anna holds it, the bot says nothing: the turn is the citizen's own message and the ack.
    turn = await citizen.say("Miten haen toimeentulotukea?")
    assert [f["type"] for f in turn] == ["message", "ack"]
    live = await anna.frame(lambda f: f["type"] == "message" and f["message"]["sender"] == "citizen")
    assert live["message"]["text"] == "Miten haen toimeentulotukea?"
    assert live["message"]["reading"]["topic"] == "income_support"

    status, sent = await anna.post(
        f"/console/api/conversations/{conversation}/reply", {"text": "Hei! Autan mielelläni."}
    )
    assert status == 200, sent
    reply = await citizen.until(lambda f: f.get("sender") == "advisor")
    assert (reply["text"], reply["author"]) == ("Hei! Autan mielelläni.", "Anna")

    status, _ = await anna.post(f"/console/api/conversations/{conversation}/close", {"outcome": "answered"})
    assert status == 200
    left = await citizen.until(lambda f: f.get("kind") == "advisor_left")
    assert "Anna" in left["text"]
    await citizen.until(lambda f: f.get("kind") == "menu")
    removed = await anna.frame(lambda f: f["type"] == "entry_removed")
    assert removed == {"type": "entry_removed", "id": conversation, "why": "closed"}
    # The bot is back: a question gets an answer again.
    turn = await citizen.say("Miten haen toimeentulotukea?")
    assert any(f.get("kind") == "answer" for f in turn)


async def test_a_crisis_jumps_to_the_top_of_the_queue_and_is_marked(service: Service) -> None:
    anna = await service.advisor("anna")
    first, second = await service.citizen(), await service.citizen()
    await ask_for_person(first)
    await ask_for_person(second, "voinko jutella jonkun työntekijän kanssa")
    crisis = await service.citizen()
    frames = await crisis.say("en jaksa enää elää, haluan kuolla")
    assert frames[1]["kind"] == "crisis"  # guidance first, right after the citizen's own words
    status, queue = await anna.get("/console/api/queue")
    assert status == 200
    top = queue["entries"][0]
    assert (top["crisis"], top["priority"], top["reason"], top["position"]) == (True, 1, "crisis", 1)
    assert [e["position"] for e in queue["entries"]] == [1, 2, 3]
    # The two who waited longer are told they moved down.
    moved = await first.until(lambda f: f.get("type") == "queue" and f["position"] == 2)
    assert "2" in moved["text"]


async def test_the_bot_stays_silent_while_an_advisor_holds_the_chat_but_crisis_guidance_still_comes(
    service: Service,
) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    assert (await anna.post(f"/console/api/conversations/{conversation}/claim"))[0] == 200
    for text in ("kiitos", "miten haen toimeentulotukea", "hei", "lopeta"):
        turn = await citizen.say(text)
        assert [f["type"] for f in turn] == ["message", "ack"], text
        assert turn[-1]["status"] == "assigned"
    turn = await citizen.say("mies uhkaa tappaa minut, olen hengenvaarassa")
    kinds = [f.get("kind") for f in turn if f["type"] == "message"]
    assert kinds[:2] == ["text", "crisis"]
    entry = (await anna.get("/console/api/queue"))[1]["entries"][0]
    assert (entry["status"], entry["crisis"]) == ("assigned", True)


async def test_transfer_to_another_team_keeps_the_place_and_tells_everyone(service: Service) -> None:
    anna = await service.advisor("anna")
    helmi = await service.advisor("helmi", teams=("health_social_work",))
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    queued_at = service.desk.queues.get(conversation).queued_at
    status, moved = await anna.post(
        f"/console/api/conversations/{conversation}/transfer",
        {"team": "health_social_work", "note": "Sairaalasta kotiutuminen, kuuluu terveyssosiaalityölle."},
    )
    assert status == 200, moved
    assert (moved["entry"]["team"], moved["entry"]["status"], moved["entry"]["reason"]) == (
        "health_social_work",
        "queued",
        "transferred",
    )
    assert service.desk.queues.get(conversation).queued_at == queued_at
    await citizen.until(lambda f: f.get("kind") == "advisor_left")
    told = await citizen.until(lambda f: f.get("kind") == "notice" and "Terveyssosiaalityö" in f.get("text", ""))
    assert told["sender"] == "system"
    seen = await helmi.frame(lambda f: f["type"] == "entry" and f["entry"]["id"] == conversation)
    assert seen["entry"]["team"] == "health_social_work"
    gone = await anna.frame(lambda f: f["type"] == "entry_removed" and f["id"] == conversation)
    assert gone["why"] == "transferred"
    # Helmi reads the transcript and the transfer note; Anna no longer may.
    status, transcript = await helmi.get(f"/console/api/conversations/{conversation}")
    assert status == 200
    assert transcript["notes"][-1]["kind"] == "transfer"
    assert "terveyssosiaalityölle" in transcript["notes"][-1]["text"]
    assert (await anna.get(f"/console/api/conversations/{conversation}"))[0] == 403


async def test_transfer_to_a_named_advisor_hands_it_over_at_once(service: Service) -> None:
    anna = await service.advisor("anna")
    bea = await service.advisor("bea")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    status, moved = await anna.post(f"/console/api/conversations/{conversation}/transfer", {"advisor": bea.account.id})
    assert status == 200, moved
    assert moved["entry"]["assigned_to"]["id"] == bea.account.id
    notice = await bea.frame(lambda f: f["type"] == "notice")
    assert notice == {"type": "notice", "code": "transferred_to_you", "conversation": conversation}
    await citizen.until(lambda f: f.get("kind") == "advisor_left" and "Anna" in f["text"])
    joined = await citizen.until(lambda f: f.get("kind") == "advisor_joined")
    assert "Bea" in joined["text"]
    # Only the holder replies.
    assert (await anna.post(f"/console/api/conversations/{conversation}/reply", {"text": "hei"}))[1]["error"] == (
        "not_yours"
    )
    assert (await bea.post(f"/console/api/conversations/{conversation}/reply", {"text": "hei"}))[0] == 200


async def test_return_to_the_bot_and_internal_notes_the_citizen_never_sees(service: Service) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    status, noted = await anna.post(
        f"/console/api/conversations/{conversation}/note", {"text": "Sisäinen: <b>huom</b>"}
    )
    assert status == 200
    assert (noted["note"]["text"], noted["note"]["author"], noted["note"]["kind"]) == (
        "Sisäinen: <b>huom</b>",
        "Anna",
        "note",
    )
    status, _ = await anna.post(f"/console/api/conversations/{conversation}/release")
    assert status == 200
    await citizen.until(lambda f: f.get("kind") == "menu")
    status, transcript = await anna.get(f"/console/api/conversations/{conversation}")
    assert all("Sisäinen" not in m["text"] for m in transcript["messages"])
    assert transcript["conversation"]["status"] == "bot"


async def test_a_silent_advisor_loses_the_chat_back_to_the_queue_with_a_note(service: Service) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    await anna.post(f"/console/api/conversations/{conversation}/reply", {"text": "Hei, miten voin auttaa?"})
    await citizen.say("Tarvitsen apua vuokran kanssa")
    service.clock.advance(minutes=4)
    assert await service.desk.return_overdue() == 0
    service.clock.advance(minutes=2)
    assert await service.desk.return_overdue() == 1
    notice = await anna.frame(lambda f: f["type"] == "notice")
    assert notice["code"] == "returned_no_reply"
    await citizen.until(lambda f: f.get("kind") == "advisor_left")
    entry = service.desk.queues.get(conversation)
    assert (entry.status, entry.assigned_to, entry.reason) == ("queued", None, "returned")
    transcript = (await anna.get(f"/console/api/conversations/{conversation}"))[1]
    assert transcript["notes"][-1]["text"] == "returned_no_reply"


async def test_an_advisor_who_goes_offline_loses_their_chats_after_the_grace_period(service: Service) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    await anna.post(f"/console/api/conversations/{conversation}/reply", {"text": "Hei!"})
    assert anna.live is not None
    await anna.live.close()
    for _ in range(50):  # the server notices the closed socket
        if not service.desk.online(anna.account.id):
            break
        await asyncio.sleep(0.02)
    service.clock.advance(seconds=30)
    assert await service.desk.return_overdue() == 0  # a reload or short break keeps the chat
    service.clock.advance(seconds=31)
    assert await service.desk.return_overdue() == 1
    assert service.desk.queues.get(conversation).status == "queued"


async def test_typing_reaches_the_other_side(service: Service) -> None:
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    await citizen.socket.send_json({"type": "typing"})
    assert await anna.frame(lambda f: f["type"] == "typing") == {"type": "typing", "conversation": conversation}
    assert anna.live is not None
    await anna.live.send_json({"type": "typing", "conversation": conversation})
    assert await citizen.until(lambda f: f.get("type") == "typing") == {"type": "typing", "sender": "advisor"}


async def test_every_transcript_read_and_action_is_audited_without_text(service: Service) -> None:
    admin = await service.advisor("paula", role="admin", teams=())
    anna = await service.advisor("anna")
    citizen = await service.citizen()
    await ask_for_person(citizen)
    conversation = conversation_of(service)
    await anna.get(f"/console/api/conversations/{conversation}")
    await anna.post(f"/console/api/conversations/{conversation}/claim")
    await anna.post(f"/console/api/conversations/{conversation}/reply", {"text": "Salainen sisältö 123"})
    await anna.post(f"/console/api/conversations/{conversation}/note", {"text": "Toinen salaisuus"})
    await anna.post(f"/console/api/conversations/{conversation}/close", {"outcome": "referred", "service": "Kela"})
    status, audit = await admin.get(f"/console/api/audit?conversation={conversation}")
    assert status == 200
    actions = [entry["action"] for entry in reversed(audit["entries"])]
    assert actions == ["transcript_read", "claim", "reply", "note", "close"]
    assert all(entry["advisor"]["display_name"] == "Anna" for entry in audit["entries"])
    assert "Salainen" not in str(audit)
    assert "salaisuus" not in str(audit)
    logins = (await admin.get(f"/console/api/audit?advisor={anna.account.id}"))[1]["entries"]
    assert "login" in [entry["action"] for entry in logins]
