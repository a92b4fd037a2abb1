"""The real application with the Telegram channel on, talking HTTP to a Bot API peer on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Config, TelegramSettings
from bot.handlers.telegram import TelegramChannel
from bot.keys import CHANNELS_KEY
from nlu.interpreter import Interpreter
from tests.handoff.conftest import FakeClock, Service, teams_config

from .bot_api_peer import TOKEN, BotApiPeer

SECRET = "webhook-secret_0123456789"
CHAT = 424242


class TelegramService(Service):
    """The running application, its Telegram channel and the Bot API peer it talks to."""

    def __init__(self, service: Service, peer: BotApiPeer) -> None:
        super().__init__(service.client, service.clock)
        self.peer = peer
        self.engine: AsyncEngine | None = None

    @property
    def channel(self) -> TelegramChannel:
        return next(c for c in self.app[CHANNELS_KEY] if isinstance(c, TelegramChannel))

    @property
    def webhook(self) -> str:
        return f"{self.base}/telegram/webhook"

    async def send(self, update: dict[str, Any]) -> None:
        """Deliver an update the way the configured mode does: posted to the webhook, or left for getUpdates."""
        if self.channel.settings.mode == "webhook":
            status = await self.peer.post_webhook(update, secret=SECRET, url=self.webhook)
            assert status == 200, status
        # polling: the update is pending at the peer, and the Updater fetches it

    async def says(self, text: str, chat: int = CHAT, **user: Any) -> dict[str, Any]:
        update = self.peer.user_sends(chat, text, **user)
        await self.send(update)
        return update

    async def presses(self, callback_data: str, chat: int = CHAT) -> dict[str, Any]:
        update = self.peer.user_presses(chat, callback_data)
        await self.send(update)
        return update

    async def reply(
        self, predicate: Callable[[str], bool], chat: int = CHAT, *, count: int = 1, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The ``count``-th message sent to the chat whose text matches (already sent, or within ``timeout``)."""
        calls = await self.peer.wait_for(
            "sendMessage",
            lambda c: int(c.params["chat_id"]) == chat and predicate(str(c.params["text"])),
            timeout=timeout,
            count=count,
        )
        return calls[count - 1].params

    def texts(self, chat: int = CHAT) -> list[str]:
        return [str(m["text"]) for m in self.peer.sent_messages(chat)]

    async def settled(self) -> None:
        """Everything handled so far has been sent (the outbox is empty) and marked as sent."""
        assert await self.channel.outbox.drain(10.0)
        if self.channel.confirming is not None:
            await self.channel.confirming

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        assert self.engine is not None
        async with self.engine.connect() as connection:
            return list(await connection.execute(text(sql), params))


def telegram_config(config: Config, peer: BotApiPeer, mode: str, **changes: Any) -> Config:
    settings = TelegramSettings(
        token=TOKEN,
        api_url=peer.url,
        mode=mode,
        poll_timeout_seconds=1.0,
        webhook_secret=SECRET,
        **changes,
    )
    return replace(teams_config(config), telegram=settings)


@pytest.fixture
async def peer() -> AsyncIterator[BotApiPeer]:
    async with BotApiPeer() as peer:
        yield peer


@pytest.fixture(params=["polling", "webhook"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def start_service(
    aiohttp_client: Any,
    config: Config,
    engine: AsyncEngine,
    interpreter: Interpreter,
    peer: BotApiPeer,
) -> TelegramService:
    app = create_app(config, interpreter=interpreter, engine=engine, clock=FakeClock())
    client = await aiohttp_client(app)
    service = TelegramService(Service(client, FakeClock()), peer)
    service.engine = engine
    await asyncio.wait_for(service.channel.ready.wait(), timeout=10)
    return service


@pytest.fixture
async def telegram(
    aiohttp_client: Any,
    server_config: Config,
    engine: AsyncEngine,
    interpreter: Interpreter,
    peer: BotApiPeer,
    mode: str,
) -> AsyncIterator[TelegramService]:
    """The application in polling or webhook mode (each test that takes it runs in both)."""
    service = await start_service(aiohttp_client, telegram_config(server_config, peer, mode), engine, interpreter, peer)
    yield service
    await service.close()
    await service.client.close()  # the application stops while its Bot API peer still answers
