"""A restart loses no message and handles no update twice; the webhook is registered with its secret;
whatever is posted to the webhook gets a clear status, never a crash."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.handlers.telegram as telegram_module
from bot.app import create_app
from bot.config import Config
from bot.handlers.telegram import TelegramChannel
from bot.keys import CHANNELS_KEY
from nlu.interpreter import Interpreter

from .bot_api_peer import BotApiPeer
from .conftest import CHAT, SECRET, TelegramService, start_service, telegram_config

QUESTION = "Miten haen toimeentulotukea?"


@pytest.fixture
def shutdown_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopping server tries to send what is queued for this long (5 s in production)."""
    monkeypatch.setattr(telegram_module, "SHUTDOWN_SEND_SECONDS", 0.5)


@pytest.mark.usefixtures("shutdown_quickly")
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_replies_telegram_did_not_take_are_sent_after_a_restart_and_only_once(
    aiohttp_client: Any,
    server_config: Config,
    engine: AsyncEngine,
    interpreter: Interpreter,
    peer: BotApiPeer,
    mode: str,
) -> None:
    config = telegram_config(server_config, peer, mode)
    first = await start_service(aiohttp_client, config, engine, interpreter, peer)
    peer.fail_next("sendMessage", error_code=502, times=10_000)  # Telegram is down for sending
    await first.says(QUESTION)
    stored = await first.rows("select text from messages where sender = 'bot'")
    while not stored:
        await peer.wait_for("sendMessage", count=1)
        stored = await first.rows("select text from messages where sender = 'bot'")
    await first.client.close()  # the server stops; what it could not send stays unconfirmed
    assert peer.sent_messages(CHAT) == []
    peer.clear_failures()

    second = await start_service(aiohttp_client, config, engine, interpreter, peer)
    answer = await second.reply(lambda t: "Kela" in t)
    await second.settled()
    texts = second.texts()
    assert texts[0].startswith("Tämä keskustelu on nimetön")  # in the order they were said
    assert texts.count(answer["text"]) == 1
    [(delivered, last)] = await second.rows("select delivered_seq, last_seq from conversations")
    assert delivered == last
    await second.client.close()


async def test_an_update_handled_before_a_restart_is_not_handled_after_it(
    aiohttp_client: Any, server_config: Config, engine: AsyncEngine, interpreter: Interpreter, peer: BotApiPeer
) -> None:
    config = telegram_config(server_config, peer, "webhook")
    first = await start_service(aiohttp_client, config, engine, interpreter, peer)
    update = await first.says("/end")  # a command: no client id of a stored message to recognise it by
    await first.reply(lambda t: "Oliko" in t)  # the feedback question
    await first.settled()
    await first.client.close()
    before = len(peer.sent_messages(CHAT))

    second = await start_service(aiohttp_client, config, engine, interpreter, peer)
    assert await peer.post_webhook(update, secret=SECRET, url=second.webhook) == 200  # Telegram's retry
    await second.settled()
    assert len(peer.sent_messages(CHAT)) == before
    assert len(await second.rows("select id from messages where sender = 'citizen'")) == 1
    await second.client.close()


async def test_updates_sent_while_the_server_was_down_are_fetched_when_it_is_back(
    aiohttp_client: Any, server_config: Config, engine: AsyncEngine, interpreter: Interpreter, peer: BotApiPeer
) -> None:
    config = telegram_config(server_config, peer, "polling")
    first = await start_service(aiohttp_client, config, engine, interpreter, peer)
    await first.client.close()
    peer.user_sends(CHAT, QUESTION)  # nobody is polling
    second = await start_service(aiohttp_client, config, engine, interpreter, peer)
    await second.reply(lambda t: "Kela" in t)
    assert peer.pending_updates() == [] or all(u["update_id"] > 0 for u in peer.pending_updates())
    await second.client.close()


async def test_webhook_mode_registers_the_public_url_with_the_secret_at_start(
    aiohttp_client: Any, server_config: Config, engine: AsyncEngine, interpreter: Interpreter, peer: BotApiPeer
) -> None:
    public = "https://neuvo.county.example/telegram/webhook"
    config = telegram_config(server_config, peer, "webhook", webhook_url=public, max_connections=12)
    service = await start_service(aiohttp_client, config, engine, interpreter, peer)
    [call] = await peer.wait_for("setWebhook")
    assert call.params["url"] == public
    assert call.params["secret_token"] == SECRET
    assert int(call.params["max_connections"]) == 12
    allowed = call.params["allowed_updates"]
    assert sorted(json.loads(allowed) if isinstance(allowed, str) else allowed) == ["callback_query", "message"]
    assert not [c for c in peer.calls if c.method == "getUpdates"]  # a webhook server never polls
    await service.client.close()


async def test_a_refused_token_turns_the_channel_off_and_the_rest_keeps_serving(
    aiohttp_client: Any, server_config: Config, engine: AsyncEngine, interpreter: Interpreter, peer: BotApiPeer
) -> None:
    config = telegram_config(server_config, peer, "polling")
    config = replace(config, telegram=replace(config.telegram, token="999:not-the-peers-token"))
    client = await aiohttp_client(create_app(config, interpreter=interpreter, engine=engine))
    channel = next(c for c in client.server.app[CHANNELS_KEY] if isinstance(c, TelegramChannel))
    assert channel.connecting is not None
    await asyncio.wait_for(channel.connecting, timeout=10)  # gave up at once: no retrying a wrong token
    assert not channel.ready.is_set()
    assert (await client.get("/ready")).status == 200  # the widget and the console serve on
    await client.close()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
UPDATE_LIKE = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=1, max_value=2**40)},
    optional={
        "message": st.fixed_dictionaries(
            {
                "message_id": st.integers(min_value=1, max_value=10**6),
                "date": st.integers(min_value=0, max_value=2**31),
                "chat": st.fixed_dictionaries(
                    {"id": st.integers(min_value=1, max_value=10**9), "type": st.sampled_from(["private", "group"])}
                ),
            },
            optional={"text": st.text(max_size=300), "sticker": JSON, "from": JSON},
        ),
        "callback_query": JSON,
        "edited_message": JSON,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300), st.one_of(JSON, UPDATE_LIKE).map(lambda v: json.dumps(v).encode())))
async def test_whatever_is_posted_to_the_webhook_gets_a_clear_status_and_the_server_goes_on(
    webhook_service: TelegramService, body: bytes
) -> None:
    response = await webhook_service.client.post(
        "/telegram/webhook", data=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status in (200, 400), await response.text()
    assert (await webhook_service.client.get("/health")).status == 200


@pytest.fixture
async def webhook_service(
    aiohttp_client: Any, server_config: Config, engine: AsyncEngine, interpreter: Interpreter, peer: BotApiPeer
) -> Any:
    service = await start_service(
        aiohttp_client, telegram_config(server_config, peer, "webhook"), engine, interpreter, peer
    )
    yield service
    await service.client.close()
