"""The console's live WebSocket: queue changes, new messages and typing, as they happen."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Final

from aiohttp import WSMsgType, web

from bot.keys import CORE_KEY

from ..actions import may_view
from ..keys import DESK_KEY
from ..live import ConsoleConnection
from ..queues import Entry
from .auth import same_origin
from .common import session_of

logger = logging.getLogger(__name__)

_CONVERSATION: Final = re.compile(r"^[0-9a-f]{32}$")
#: An advisor's typing reaches the citizen at most this often.
TYPING_EVERY: Final = 1.5


async def console_socket(request: web.Request) -> web.StreamResponse:
    """One console: hello with the current queue, then live frames until it closes."""
    session = session_of(request)
    if not same_origin(request) or request.headers.get("Origin") is None:
        raise web.HTTPForbidden(text="origin not allowed")
    account = session.account
    desk = request.config_dict[DESK_KEY]
    socket = web.WebSocketResponse(heartbeat=30.0, max_msg_size=64 * 1024)
    await socket.prepare(request)
    connection = ConsoleConnection(socket, account, session.key)
    desk.connect(connection)
    visible = [
        e
        for e in sorted(desk.queues, key=Entry.order)
        if account.handles_conversations and (account.sees_team(e.team) or e.assigned_to == account.id)
    ]
    connection.send(
        {
            "type": "hello",
            "advisor": account.as_dict(),
            "entries": [desk.entry_dict(e) for e in visible],
            "teams": desk.teams_dict(account),
        }
    )
    last_typing = 0.0
    try:
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            frame = _frame(message.data) or {}
            kind = frame.get("type")
            if kind == "ping":
                connection.send({"type": "pong"})
            elif kind in ("watch", "unwatch", "typing") and _CONVERSATION.match(str(frame.get("conversation", ""))):
                conversation_id = str(frame["conversation"])
                if kind == "unwatch":
                    desk.unwatch(connection, conversation_id)
                elif kind == "watch":
                    if await _may_read(request, connection, conversation_id):
                        desk.watch(connection, conversation_id)
                    else:
                        connection.send({"type": "error", "error": "forbidden", "conversation": conversation_id})
                elif time.monotonic() - last_typing >= TYPING_EVERY:
                    last_typing = time.monotonic()
                    await _advisor_typing(request, connection, conversation_id)
            else:
                connection.send({"type": "error", "error": "bad_frame"})
    finally:
        desk.disconnect(connection)
        await connection.close()
    return socket


def _frame(data: str) -> dict[str, Any] | None:
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


async def _may_read(request: web.Request, connection: ConsoleConnection, conversation_id: str) -> bool:
    try:
        state = await request.config_dict[CORE_KEY].conversation(conversation_id)
    except LookupError:
        return False
    return may_view(connection.account, state)


async def _advisor_typing(request: web.Request, connection: ConsoleConnection, conversation_id: str) -> None:
    """Only the holder's typing reaches the citizen."""
    entry = request.config_dict[DESK_KEY].queues.get(conversation_id)
    if entry is None or entry.status != "assigned" or entry.assigned_to != connection.account.id:
        return
    core = request.config_dict[CORE_KEY]
    state = core.cached(conversation_id)
    if state is not None:
        await core.signal(state, {"type": "typing", "sender": "advisor"})
