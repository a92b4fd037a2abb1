"""One open console: its WebSocket, the advisor behind it, and an outbox that keeps frames in order.

The desk hears of changes inside a conversation's lock, where it must not wait on a
socket. It puts frames in each connection's outbox instead; a writer task per
connection sends them in order. A slow or stuck console then delays only itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Final

from aiohttp import web

from .accounts import Account

logger = logging.getLogger(__name__)

#: Frames a console may fall behind by before it is disconnected (it reconnects and reloads).
OUTBOX_LIMIT: Final = 5000


class ConsoleConnection:
    """A console WebSocket with its advisor, the conversations it watches and its ordered outbox."""

    def __init__(self, socket: web.WebSocketResponse, account: Account, session_key: str) -> None:
        self.socket = socket
        self.account = account
        self.session_key = session_key
        self.watching: set[str] = set()
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name=f"console-writer-{account.id}")

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame (never waits)."""
        self.send_raw(json.dumps(frame, ensure_ascii=False))

    def send_raw(self, payload: str) -> None:
        """Queue an already serialised frame (one serialisation for many consoles)."""
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            logger.warning("console too slow; disconnecting", extra={"advisor": self.account.id})
            self._outbox.put_nowait(None)
            return
        self._outbox.put_nowait(payload)

    async def _write(self) -> None:
        while True:
            payload = await self._outbox.get()
            if payload is None:
                await self.socket.close(code=1013, message=b"too slow")
                return
            if self.socket.closed:
                return
            try:
                await self.socket.send_str(payload)
            except (ConnectionResetError, RuntimeError):
                return

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        """Close the socket and stop writing."""
        if not self.socket.closed:
            await self.socket.close(code=code, message=message)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
