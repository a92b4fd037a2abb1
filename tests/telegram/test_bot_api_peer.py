"""The Bot API peer, driven by the real python-telegram-bot: the channel's tests are only as good as this fake.

Each test talks to the peer through the library's own Bot or Application over HTTP, so what is checked is
what the channel will meet: how the library reads the answers, maps the errors and runs its polling loop.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from tests.telegram.bot_api_peer import OTHER_KINDS, SECRET_HEADER, TOKEN, BotApiPeer

CHAT = 42


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot 22 warns whenever it hands out an int time period (RetryAfter.retry_after...).

    With ``filterwarnings = error`` that PTBDeprecationWarning would be raised instead of RetryAfter, so
    the tests opt in to timedelta periods, the library's announced future.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    async with BotApiPeer() as peer:
        yield peer


@pytest.fixture
async def bot(peer: BotApiPeer) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{peer.url}/bot") as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(item.title(), callback_data=item) for item in data]])


async def test_get_me_answers_the_bot_user(peer: BotApiPeer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (123456, True, "Neuvo", "neuvo_test_bot")
    assert me.can_join_groups is True
    assert [call.method for call in peer.calls] == ["getMe", "getMe"]  # the first one is Bot.initialize's


async def test_send_message_with_a_keyboard_is_recorded_and_answered_as_a_message(peer: BotApiPeer, bot: Bot) -> None:
    peer.user_sends(CHAT, "Hei")
    markup = keyboard("yes", "no")
    message = await bot.send_message(CHAT, "Haluatko jatkaa?", reply_markup=markup)

    assert isinstance(message, Message)
    assert message.message_id == 2  # the citizen's message was 1: ids are per chat, shared by both sides
    assert message.chat.id == CHAT
    assert message.chat.type == "private"
    assert message.from_user is not None
    assert message.from_user.id == 123456
    assert message.text == "Haluatko jatkaa?"
    assert message.reply_markup == markup
    assert abs(message.date.timestamp() - time.time()) < 5

    (call,) = await peer.wait_for("sendMessage")
    assert call.params["chat_id"] == CHAT  # decoded from the form's JSON, an int as in the schema
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]]
    }
    (sent,) = peer.sent_messages(CHAT)
    assert sent["reply_markup"] == call.params["reply_markup"]
    assert peer.sent_messages(CHAT + 1) == []


async def test_a_pressed_button_carries_the_bots_message_and_its_query_is_answered_once(
    peer: BotApiPeer, bot: Bot
) -> None:
    peer.user_sends(CHAT, "Hei")
    await bot.send_message(CHAT, "Vanha", reply_markup=keyboard("yes"))
    newest = await bot.send_message(CHAT, "Uusi", reply_markup=keyboard("yes", "no"))

    update = Update.de_json(peer.user_presses(CHAT, "yes"), bot)
    assert update.callback_query is not None
    assert update.callback_query.data == "yes"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == newest.message_id
    assert update.callback_query.from_user.first_name == "Maija"

    assert await bot.answer_callback_query(update.callback_query.id) is True
    with pytest.raises(BadRequest, match="query id is invalid"):
        await bot.answer_callback_query(update.callback_query.id)
    with pytest.raises(AssertionError, match="no button"):
        peer.user_presses(CHAT, "maybe")

    edited = await bot.edit_message_reply_markup(CHAT, newest.message_id, reply_markup=None)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(CHAT, newest.message_id, reply_markup=None)
    assert "reply_markup" not in peer.sent_messages(CHAT)[-1]


async def test_edit_message_text_replaces_the_text_and_drops_a_keyboard_not_given_again(
    peer: BotApiPeer, bot: Bot
) -> None:
    peer.user_sends(CHAT, "Hei")
    note = await bot.send_message(CHAT, "Olet jonossa 3.", reply_markup=keyboard("cancel"))
    edited = await bot.edit_message_text("Olet jonossa 2.", chat_id=CHAT, message_id=note.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "Olet jonossa 2."
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Olet jonossa 2.", chat_id=CHAT, message_id=note.message_id)
    with pytest.raises(BadRequest, match="to edit not found"):
        await bot.edit_message_text("Olet jonossa 1.", chat_id=CHAT, message_id=999)
    with pytest.raises(BadRequest, match="can't be edited"):
        await bot.edit_message_text("Olet jonossa 1.", chat_id=CHAT, message_id=1)  # the citizen's message
    (sent,) = peer.sent_messages(CHAT)
    assert sent["text"] == "Olet jonossa 2."
    assert "reply_markup" not in sent


async def test_get_updates_follows_offsets_and_long_polls(peer: BotApiPeer, bot: Bot) -> None:
    first = peer.user_sends(CHAT, "/start")
    second = peer.user_sends(CHAT, "Hei")

    updates = await bot.get_updates(timeout=0)
    assert [update.update_id for update in updates] == [first["update_id"], second["update_id"]]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    assert updates[0].message.entities[0].type == "bot_command"
    assert len(await bot.get_updates(timeout=0)) == 2  # nothing is confirmed without an offset

    assert await bot.get_updates(offset=second["update_id"], timeout=0) == (updates[1],)
    assert [update["update_id"] for update in peer.pending_updates()] == [second["update_id"]]

    waiting = asyncio.create_task(bot.get_updates(offset=second["update_id"] + 1, timeout=5))
    await peer.wait_for("getUpdates", count=4)
    await asyncio.sleep(0.05)
    assert not waiting.done()  # long polling: the call waits for the next update...
    started = time.monotonic()
    third = peer.user_sends(CHAT, "Oletko siellä?")
    (update,) = await waiting
    assert update.update_id == third["update_id"]
    assert time.monotonic() - started < 1  # ...and answers as soon as it comes
    assert [pending["update_id"] for pending in peer.pending_updates()] == [third["update_id"]]

    started = time.monotonic()
    assert await bot.get_updates(offset=third["update_id"] + 1, timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3
    assert peer.pending_updates() == []


async def test_only_the_allowed_update_kinds_are_delivered(peer: BotApiPeer, bot: Bot) -> None:
    message = peer.user_sends(CHAT, "Hei")
    peer.push({"edited_message": message["message"]})
    sent = message["message"]
    reaction = {
        "chat": sent["chat"],
        "message_id": sent["message_id"],
        "user": sent["from"],
        "date": sent["date"],
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "👍"}],
    }
    peer.push({"message_reaction": reaction})  # not delivered unless asked for, as on Telegram
    assert [update.edited_message is not None for update in await bot.get_updates()] == [False, True]
    await bot.get_updates(allowed_updates=["message"])
    assert [update.update_id for update in await bot.get_updates()] == [message["update_id"]]  # it persists


async def test_closing_the_peer_ends_a_waiting_long_poll_at_once() -> None:
    peer = BotApiPeer()
    await peer.start()
    async with Bot(TOKEN, base_url=f"{peer.url}/bot") as bot:
        waiting = asyncio.create_task(bot.get_updates(timeout=30))
        await peer.wait_for("getUpdates")
        started = time.monotonic()
        await peer.close()
        assert await waiting == ()
        assert time.monotonic() - started < 1


async def test_a_second_bot_instance_polling_ends_the_first_with_a_conflict(peer: BotApiPeer, bot: Bot) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await peer.wait_for("getUpdates")
    await asyncio.sleep(0.05)
    async with Bot(TOKEN, base_url=f"{peer.url}/bot") as rival:  # one Bot polls on a single connection
        assert await rival.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await waiting


async def test_fail_next_surfaces_as_the_librarys_errors(peer: BotApiPeer, bot: Bot) -> None:
    peer.user_sends(CHAT, "Hei")
    peer.fail_next("sendMessage")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(CHAT, "Vastaus")
    assert flood.value.retry_after == dtm.timedelta(seconds=1)

    peer.fail_next("sendMessage", error_code=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "Vastaus")

    peer.fail_next("sendMessage", error_code=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(CHAT, "Vastaus")

    peer.fail_next("sendMessage", error_code=500, times=100)
    peer.clear_failures()  # Telegram is back
    await bot.send_message(CHAT, "Vastaus")
    assert [call.method for call in peer.calls].count("sendMessage") == 5
    assert len(peer.sent_messages(CHAT)) == 1
    with pytest.raises(ValueError, match="does not implement"):
        peer.fail_next("sendPigeon")


async def test_send_message_is_validated_as_telegram_validates_it(peer: BotApiPeer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(CHAT, "Kukaan ei ole kirjoittanut tänne")
    peer.user_sends(CHAT, "Hei")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CHAT, " \n")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "Valitse", reply_markup=keyboard("ä" * 33))  # 66 bytes in UTF-8
    assert (await bot.send_message(CHAT, "a" * 4096)).text == "a" * 4096
    assert (await bot.send_message(CHAT, "42")).text == "42"  # a String parameter stays a string


async def test_parse_modes_become_entities_and_bad_markup_is_refused(peer: BotApiPeer, bot: Bot) -> None:
    peer.user_sends(CHAT, "Hei")
    message = await bot.send_message(CHAT, "<b>Hei</b> &amp; <a href='https://suomi.fi'>tervetuloa</a>", "HTML")
    assert message.text == "Hei & tervetuloa"
    assert [(entity.type, entity.offset, entity.length) for entity in message.entities] == [
        ("bold", 0, 3),
        ("text_link", 6, 10),
    ]
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
        await bot.send_message(CHAT, "rivi<br>rivi", "HTML")

    message = await bot.send_message(CHAT, "*Hei* Maija\\. [Lue](https://suomi.fi/a_b)", "MarkdownV2")
    assert message.text == "Hei Maija. Lue"
    assert [(entity.type, entity.offset, entity.length) for entity in message.entities] == [
        ("bold", 0, 3),
        ("text_link", 11, 3),
    ]
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(CHAT, "Kiitos.", "MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)can't find end of the entity"):
        await bot.send_message(CHAT, "*Hei", "MarkdownV2")


async def test_get_updates_while_a_webhook_is_set_is_a_conflict(peer: BotApiPeer, bot: Bot) -> None:
    assert await bot.set_webhook("https://neuvo.example/telegram", secret_token="s3cret_Token-1") is True
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == "https://neuvo.example/telegram"
    assert peer.webhook_secret == "s3cret_Token-1"
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("https://neuvo.example/telegram", secret_token="not:allowed")

    assert await bot.delete_webhook() is True
    assert peer.webhook_url is None
    assert await bot.get_updates() == ()


async def test_post_webhook_delivers_with_the_registered_secret(peer: BotApiPeer, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def webhook(request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_HEADER)
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret" else 403)

    app = web.Application()
    app.router.add_post("/telegram", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        await bot.set_webhook(f"http://{host}:{port}/telegram", secret_token="s3cret")
        update = peer.user_sends(CHAT, "Hei")
        assert await peer.post_webhook(update, secret="forged") == 403
        assert await peer.post_webhook(update, secret=None) == 403
        assert len(peer.pending_updates()) == 1  # refused deliveries stay pending, as on Telegram
        assert await peer.post_webhook(update) == 200
        assert peer.pending_updates() == []
    finally:
        await runner.cleanup()
    assert [secret for secret, _ in received] == ["forged", None, "s3cret"]
    assert received[-1][1] == update
    with pytest.raises(AssertionError, match="loopback"):
        await peer.post_webhook(update, url="https://neuvo.example/telegram")


async def test_commands_are_kept_per_scope_and_language(bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Aloita alusta"), ("help", "Ohje")]) is True
    assert await bot.set_my_commands([("start", "Börja om")], language_code="sv") is True
    assert [command.command for command in await bot.get_my_commands()] == ["start", "help"]
    assert [command.description for command in await bot.get_my_commands(language_code="sv")] == ["Börja om"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Start", "Isolla")])
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()


async def test_updates_from_the_citizen_parse_as_the_library_expects(peer: BotApiPeer, bot: Bot) -> None:
    command = Update.de_json(peer.user_sends(CHAT, "/start@neuvo_test_bot moi", language_code=None), bot)
    assert command.message is not None
    assert command.message.entities[0].length == len("/start@neuvo_test_bot")
    assert command.message.from_user is not None
    assert command.message.from_user.language_code is None
    for kind in OTHER_KINDS:
        update = Update.de_json(peer.user_sends_other(CHAT, kind), bot)
        assert update.message is not None
        assert update.message.text is None
        assert getattr(update.message, kind), kind
        assert update.message.effective_attachment is not None, kind


async def test_the_server_answers_bad_requests_in_the_schema(peer: BotApiPeer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{peer.url}/bot123456:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with session.post(f"{peer.url}/bot{TOKEN}/sendPigeon") as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with session.post(
            f"{peer.url}/bot{TOKEN}/sendMessage", data=b"{not json", headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400
            assert (await response.json())["ok"] is False
        async with session.post(f"{peer.url}/bot{TOKEN}/sendMessage", json={"chat_id": {"x": 1}}) as response:
            assert response.status == 400
        async with session.get(f"{peer.url}/bot{TOKEN}/getmyCOMMANDS?language_code=fi") as response:
            assert await response.json() == {"ok": True, "result": []}
        async with session.post(
            f"{peer.url}/bot{TOKEN}/setMyCommands",
            data={"commands": json.dumps([{"command": "start", "description": "Aloita"}])},
        ) as response:
            assert await response.json() == {"ok": True, "result": True}
    assert [call.method for call in peer.calls] == ["sendPigeon", "sendMessage", "getMyCommands", "setMyCommands"]


async def test_start_on_listens_on_the_port_given() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    peer = BotApiPeer()
    await peer.start_on(port)
    try:
        assert peer.url == f"http://127.0.0.1:{port}"
        with pytest.raises(RuntimeError, match="already started"):
            await peer.start()
        async with Bot(TOKEN, base_url=f"{peer.url}/bot") as bot:
            assert (await bot.get_me()).username == "neuvo_test_bot"
    finally:
        await peer.close()


async def test_wait_for_times_out_with_the_call_log(peer: BotApiPeer, bot: Bot) -> None:
    with pytest.raises(AssertionError, match=r"(?s)sendMessage.*1\. \+\d+\.\d+s getMe"):
        await peer.wait_for("sendMessage", timeout=0.1)


async def test_an_application_polls_and_replies_through_the_peer(peer: BotApiPeer) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"Kuulit: {update.effective_message.text}", reply_markup=keyboard("yes", "no")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)

    application = ApplicationBuilder().token(TOKEN).base_url(f"{peer.url}/bot").build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        peer.user_sends(CHAT, "Hei")
        (reply,) = await peer.wait_for("sendMessage", timeout=5)
        assert reply.params["text"] == "Kuulit: Hei"
        peer.user_presses(CHAT, "no")
        await peer.wait_for("editMessageReplyMarkup", timeout=5)
        await peer.wait_for("answerCallbackQuery", timeout=5)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    assert [call.method for call in peer.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
    assert peer.pending_updates() == []  # the updater's last getUpdates confirmed what it had fetched
    assert "reply_markup" not in peer.sent_messages(CHAT)[0]
