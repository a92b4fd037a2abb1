"""A citizen in Telegram has the same conversation as in the widget: python-telegram-bot's real Application,
unmodified, against a Bot API server on loopback, in long-polling and in webhook mode."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from telegram import Update

import bot.handlers.telegram as telegram_module
from tests.handoff.conftest import conversation_of

from .bot_api_peer import BotApiPeer
from .conftest import CHAT, SECRET, TelegramService

QUESTION = "Miten haen toimeentulotukea?"


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    """The (label, callback data) pairs of a sent message's inline keyboard."""
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


async def test_start_greets_with_the_privacy_notice_and_a_topic_menu_as_buttons(telegram: TelegramService) -> None:
    await telegram.says("/start")
    menu = await telegram.reply(lambda t: "Valitse aihe" in t)
    assert ("Toimeentulotuki", "/topic:income_support") in keyboard(menu)
    texts = telegram.texts()
    assert texts[0].startswith("Tämä keskustelu on nimetön")  # the privacy notice comes first
    assert len(texts) == 2  # the notice, then the greeting with the menu under it: nothing twice
    assert texts[1].startswith("Hei ja tervetuloa")
    # Telegram's command menu was set in every language.
    commands = [c for c in telegram.peer.calls if c.method == "setMyCommands"]
    assert {c.params.get("language_code") for c in commands} == {"fi", "sv", "en", None}


async def test_a_question_gets_its_answer_and_did_it_help_buttons(telegram: TelegramService) -> None:
    await telegram.says(QUESTION)
    answer = await telegram.reply(lambda t: "Kela" in t)
    assert "toimeentulotu" in answer["text"].lower()
    helped = await telegram.reply(lambda t: t.endswith("Auttoiko tämä vastaus?"))
    assert helped == answer  # one Telegram message: the answer, the question, the buttons under them
    assert [data for _, data in keyboard(helped)] == ["/helpful:yes", "/helpful:no"]
    stored = await telegram.rows("select channel, channel_ref, topic from conversations")
    assert [tuple(row) for row in stored] == [("telegram", str(CHAT), "income_support")]


async def test_a_pressed_button_is_answered_acted_on_and_its_keyboard_removed(telegram: TelegramService) -> None:
    await telegram.says("/start")
    menu = await telegram.reply(lambda t: "Valitse aihe" in t)
    update = await telegram.presses("/topic:income_support")
    subjects = await telegram.reply(lambda t: t.startswith("Mistä aiheesta haluat tietää?"))
    assert all(data.startswith(("/intent:", "/human")) for _, data in keyboard(subjects))
    assert keyboard(menu)  # the menu had buttons when it was sent...
    query_id = update["callback_query"]["id"]
    await telegram.peer.wait_for("answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id)
    edit = await telegram.peer.wait_for("editMessageReplyMarkup")
    assert int(edit[0].params["message_id"]) == menu_id(telegram, menu)  # ...and has none now: one press a question
    # The press is in the transcript as the label the citizen saw.
    said = await telegram.rows("select text from messages where sender = 'citizen'")
    assert [row[0] for row in said] == ["Toimeentulotuki"]


def menu_id(telegram: TelegramService, menu: dict[str, Any]) -> int:
    return next(m["message_id"] for m in telegram.peer.sent_messages(CHAT) if m["text"] == menu["text"])


async def test_lang_switches_the_language_and_without_a_code_offers_the_choices(telegram: TelegramService) -> None:
    await telegram.says("/lang")
    choose = await telegram.reply(lambda t: t == "Valitse kieli.")
    assert keyboard(choose) == [("Suomi", "/lang:fi"), ("Svenska", "/lang:sv"), ("English", "/lang:en")]
    await telegram.says("/lang sv")
    await telegram.reply(lambda t: t == "Vi fortsätter på svenska.")
    await telegram.says("Hur ansöker jag om utkomststöd?")
    await telegram.reply(lambda t: "FPA" in t)


async def test_privacy_says_what_is_stored_and_no_name_or_username_is_ever_stored(telegram: TelegramService) -> None:
    await telegram.says("/privacy", first_name="Pertti", username="pertti_p")
    await telegram.reply(lambda t: t.startswith("Telegramissa tallennan vain"))
    await telegram.says(QUESTION, first_name="Pertti", username="pertti_p")
    await telegram.reply(lambda t: "Kela" in t)
    for table in ("conversations", "messages", "events", "participants", "conversation_stats"):
        dump = " ".join(str(row) for row in await telegram.rows(f"select * from {table}"))
        assert "Pertti" not in dump, table
        assert "pertti_p" not in dump, table


async def test_personal_data_is_redacted_before_it_is_stored_and_the_citizen_is_told(
    telegram: TelegramService,
) -> None:
    await telegram.says("Hetuni on 131052-308T, miten haen toimeentulotukea?")
    await telegram.reply(lambda t: t.startswith("Poistin viestistäsi henkilötunnuksen"))
    said = await telegram.rows("select text from messages where sender = 'citizen'")
    assert "131052-308T" not in said[0][0]


async def test_a_crisis_gets_emergency_guidance_at_once(telegram: TelegramService) -> None:
    await telegram.says("en jaksa enää, haluan tappaa itseni")
    # The privacy notice names 112 too; the guidance is the message after it.
    guidance = await telegram.reply(lambda t: "112" in t and not t.startswith("Tämä keskustelu on nimetön"))
    assert "Kriisipuhelime" in guidance["text"]  # the national crisis line, with its number
    queued = await telegram.rows("select status, priority from conversations")
    assert queued[0][0] == "queued"
    assert queued[0][1] > 0  # priority


async def test_photos_voice_stickers_files_and_locations_get_a_polite_answer(telegram: TelegramService) -> None:
    for kind in ("photo", "voice", "sticker", "document", "location"):
        await telegram.send(telegram.peer.user_sends_other(CHAT, kind))
    await telegram.peer.wait_for(
        "sendMessage", lambda c: str(c.params["text"]).startswith("Osaan lukea vain tekstiä"), count=5
    )
    assert await telegram.rows("select id from messages") == []  # nothing of them is stored
    await telegram.says(QUESTION)  # and the chat goes on
    await telegram.reply(lambda t: "Kela" in t)


async def test_a_person_is_asked_for_the_advisor_answers_and_the_bot_stays_silent_meanwhile(
    telegram: TelegramService,
) -> None:
    anna = await telegram.advisor("anna")
    await telegram.says("/human")
    await telegram.reply(lambda t: t.startswith("Välitän keskustelun neuvojalle"))
    conversation = conversation_of(telegram)
    status, claimed = await anna.post(f"/console/api/conversations/{conversation}/claim")
    assert status == 200, claimed
    await telegram.reply(lambda t: t == "Anna on liittynyt keskusteluun.")

    await telegram.settled()
    before = len(telegram.peer.sent_messages(CHAT))
    await telegram.says(QUESTION)
    live = await anna.frame(lambda f: f["type"] == "message" and f["message"]["sender"] == "citizen")
    assert live["message"]["text"] == QUESTION
    assert "Maija" not in json.dumps(live)  # no Telegram profile reaches the advisor
    assert "maija_v" not in json.dumps(live)
    await telegram.settled()
    assert len(telegram.peer.sent_messages(CHAT)) == before  # the bot said nothing

    status, _ = await anna.post(f"/console/api/conversations/{conversation}/reply", {"text": "Hei! Autan."})
    assert status == 200
    await telegram.reply(lambda t: t == "Anna: Hei! Autan.")
    status, _ = await anna.post(f"/console/api/conversations/{conversation}/close", {"outcome": "answered"})
    assert status == 200
    await telegram.reply(lambda t: t == "Anna on poistunut keskustelusta.")


async def test_a_left_message_is_answered_into_the_chat(telegram: TelegramService) -> None:
    lisa = await telegram.advisor("lisa", teams=("child_maintenance",))
    await telegram.says("haluan puhua lastenvalvojan kanssa elatusavusta")
    offer = await telegram.reply(lambda t: "jättää viestin" in t)
    assert ("Jätä viesti", "/leave_message") in keyboard(offer)
    await telegram.presses("/leave_message")
    await telegram.reply(lambda t: t.startswith("Kirjoita viestisi"))
    await telegram.says("Miten elatusapu lasketaan, kun lapsi asuu vuorotellen kummallakin?")
    received = await telegram.reply(lambda t: "Viitekoodisi on" in t)
    assert "tähän keskusteluun" in received["text"]

    status, inbox = await lisa.get("/console/api/inbox")
    assert status == 200, inbox
    [entry] = inbox["entries"]
    assert entry["channel"] == "telegram"
    conversation = entry["id"]
    status, answered = await lisa.post(
        f"/console/api/conversations/{conversation}/answer", {"text": "Elatusapu lasketaan lapsen tarpeista."}
    )
    assert status == 200, answered
    await telegram.reply(lambda t: t == "Elatusapu lasketaan lapsen tarpeista.")


async def test_delete_erases_the_chats_conversation_now_and_keeps_only_statistics(telegram: TelegramService) -> None:
    await telegram.says(QUESTION)
    await telegram.reply(lambda t: "Kela" in t)
    await telegram.says("/delete")
    await telegram.reply(lambda t: t.startswith("Tämän keskustelun tiedot on poistettu"))
    assert await telegram.rows("select id from conversations") == []
    assert await telegram.rows("select id from messages") == []
    assert len(await telegram.rows("select conversation_id from conversation_stats")) == 1
    await telegram.says("/start")  # a new start is a new, anonymous conversation
    await telegram.reply(lambda t: t.startswith("Tämä keskustelu on nimetön"), count=2)
    assert len(await telegram.rows("select id from conversations")) == 1


async def test_flood_control_is_waited_out_and_nothing_is_lost_or_sent_twice(telegram: TelegramService) -> None:
    telegram.peer.fail_next("sendMessage", error_code=429, retry_after=1)
    telegram.peer.fail_next("sendMessage", error_code=502)
    await telegram.says(QUESTION)
    answer = await telegram.reply(lambda t: "Kela" in t)
    attempts = [c for c in telegram.peer.calls if c.method == "sendMessage"]
    assert attempts[-1].at - attempts[0].at >= 1.0  # Telegram's retry_after was respected
    await telegram.settled()
    texts = telegram.texts()
    assert texts.count(answer["text"]) == 1
    assert texts == sorted(texts, key=texts.index)  # in the order the bot said them
    delivered = await telegram.rows("select delivered_seq, last_seq from conversations")
    assert delivered[0][0] == delivered[0][1]


async def test_a_redelivered_update_is_handled_once(telegram: TelegramService) -> None:
    update = await telegram.says(QUESTION)
    await telegram.reply(lambda t: "Kela" in t)
    await telegram.settled()
    if telegram.channel.settings.mode == "webhook":
        assert await telegram.peer.post_webhook(update, secret=SECRET, url=telegram.webhook) == 200  # a retry
    else:
        await telegram.channel.process(_as_update(telegram, update))  # fetched again
    await telegram.settled()
    assert len(await telegram.rows("select id from messages where sender = 'citizen'")) == 1
    # The update's number was stored with the turn it caused, in one transaction.
    assert [row[0] for row in await telegram.rows("select update_id from telegram_updates")] == [update["update_id"]]
    assert [t for t in telegram.texts() if "Kela" in t] == [next(t for t in telegram.texts() if "Kela" in t)]


def _as_update(telegram: TelegramService, data: dict[str, Any]) -> Update:
    return Update.de_json(data, telegram.channel.application.bot)


async def test_the_webhook_refuses_a_missing_or_wrong_secret_and_handles_nothing(
    telegram: TelegramService, peer: BotApiPeer
) -> None:
    if telegram.channel.settings.mode != "webhook":
        assert (await telegram.client.post("/telegram/webhook", json={"update_id": 1})).status == 404
        return
    update = peer.user_sends(CHAT, QUESTION)
    assert await peer.post_webhook(update, secret=None, url=telegram.webhook) == 403
    assert await peer.post_webhook(update, secret=SECRET + "x", url=telegram.webhook) == 403
    assert await peer.post_webhook(update, secret="", url=telegram.webhook) == 403
    for body in (b"not json", b"[]", b'{"no": "update_id"}'):
        response = await telegram.client.post(
            "/telegram/webhook", data=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status == 400
    await asyncio.sleep(0.2)
    assert await telegram.rows("select id from conversations") == []
    assert not [c for c in peer.calls if c.method == "sendMessage"]


async def test_what_is_kept_per_chat_stays_bounded_and_a_forgotten_chat_goes_on_where_it_was(
    telegram: TelegramService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_module, "CHATS_REMEMBERED", 3)
    chats = [CHAT + number for number in range(1, 7)]
    for chat in chats:
        telegram.peer.add_chat(chat)
        await telegram.says(QUESTION, chat=chat)
        await telegram.reply(lambda t: "Kela" in t, chat=chat)
    await telegram.settled()
    channel = telegram.channel
    assert len(channel._chats) == 3  # the conversations of the latest chats; the others are looked up
    assert channel._chat_locks == {}  # a chat's lock lives only while an update holds or awaits it
    first = chats[0]
    await telegram.says("Kiitos!", chat=first)  # forgotten from memory: found again in the database
    await telegram.reply(lambda t: t != "" and "Kela" not in t, chat=first)
    await telegram.settled()
    rows = await telegram.rows("select channel_ref, count(*) from conversations group by channel_ref")
    assert sorted((int(ref), count) for ref, count in rows) == [(chat, 1) for chat in chats]
