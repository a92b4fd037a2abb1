"""The web chat widget channel: one WebSocket per open widget, the protocol of docs/widget-protocol.md."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

from aiohttp import WSMsgType, web

from nlu.contract import LANGUAGES
from nlu.errors import NeuvoError

from ..config import Config
from ..dialogue.core import DialogueCore, UnknownConversation
from ..dialogue.model import Inbound, Outbound
from ..dialogue.state import ConversationState
from ..keys import CORE_KEY
from ..messages import Messages
from ..ratelimit import Buckets, ConnectionCounter
from .base import Channel

logger = logging.getLogger(__name__)

STATIC: Final = Path(__file__).resolve().parent.parent / "static"
#: Frames larger than this close the connection (aiohttp); the text limit below is the polite one.
MAX_FRAME_BYTES: Final = 256 * 1024
HELLO_TIMEOUT: Final = 15.0
_CLIENT_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ACTION: Final = re.compile(r"^/[a-z_]+(:[A-Za-z0-9_.-]{1,64})?$")
_FACT: Final = re.compile(r"\{([a-z_.]+)@(fi|sv|en)\}")


class FrameError(NeuvoError, ValueError):
    """A frame the protocol does not allow; answered with an error frame, the connection stays."""

    def __init__(self, code: str, client_id: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.client_id = client_id


class WebChannel(Channel):
    """Serves the widget, its demo page, the accessibility statement and the WebSocket."""

    name: ClassVar[str] = "web"

    def __init__(self, config: Config, messages: Messages) -> None:
        self.config = config
        self.messages = messages
        self.allowed_origins = frozenset(config.server.allowed_origins)
        self.sockets: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.connections = ConnectionCounter(config.widget.connections_per_address)
        self.buckets = Buckets(config.widget.messages_per_minute / 60.0, config.widget.burst)
        self._statement: str | None = None

    @classmethod
    def from_config(cls, config: Config) -> WebChannel:
        """The web channel needs the widget limits, origins and the bot's phrases for error frames."""
        return cls(config, Messages.load(config.nlu.content_dir.parent / "messages.yml"))

    def setup(self, app: web.Application) -> None:
        """Register the widget's routes."""
        app.router.add_get("/", self.demo_page)
        app.router.add_get("/widget.js", self.widget_script)
        app.router.add_get("/accessibility", self.accessibility_page)
        app.router.add_get("/ws", self.websocket)
        app.on_shutdown.append(self._close_all)

    async def _close_all(self, app: web.Application | None = None) -> None:
        """Close every open widget connection (the widget reconnects to the restarted server)."""
        for sockets in list(self.sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server shutting down")

    async def stop(self) -> None:
        """Close every open widget connection."""
        await self._close_all()

    # --- pages ------------------------------------------------------------------------------
    async def demo_page(self, request: web.Request) -> web.StreamResponse:
        """A county-like page that embeds the widget with one tag, as a county site would."""
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def widget_script(self, request: web.Request) -> web.StreamResponse:
        """The widget: one file, no build step, safe to embed on any allowed site."""
        return web.FileResponse(
            STATIC / "widget.js",
            headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
        )

    async def accessibility_page(self, request: web.Request) -> web.StreamResponse:
        """The accessibility statement required by Act 306/2019, with the county's feedback route."""
        if self._statement is None:
            template = (STATIC / "accessibility.html").read_text(encoding="utf-8")
            date = dt.datetime.fromtimestamp((STATIC / "accessibility.html").stat().st_mtime, dt.UTC).date()

            def fill(match: re.Match[str]) -> str:
                try:
                    return html.escape(self.config.fact(match.group(1), match.group(2)))
                except KeyError:
                    return ""

            self._statement = _FACT.sub(fill, template).replace("{statement_date}", date.isoformat())
        return web.Response(text=self._statement, content_type="text/html", headers={"Cache-Control": "no-cache"})

    # --- the WebSocket ------------------------------------------------------------------------
    def origin_allowed(self, request: web.Request) -> bool:
        """Only pages of configured origins (and the server's own pages) may open the widget."""
        origin = request.headers.get("Origin")
        if origin is None:
            return False
        own = f"{request.scheme}://{request.host}"
        return origin.rstrip("/") in self.allowed_origins or origin.rstrip("/") == own

    def client_address(self, request: web.Request) -> str:
        """The address used for connection limits, in memory only."""
        if self.config.server.trust_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            if forwarded:
                return forwarded.split(",")[0].strip()
        return request.remote or "unknown"

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """One widget: hello, then messages, actions and pings until it goes away."""
        if not self.origin_allowed(request):
            raise web.HTTPForbidden(text="origin not allowed")
        address = self.client_address(request)
        if not self.connections.acquire(address):
            raise web.HTTPTooManyRequests(text="too many connections")
        socket = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES)
        conversation: ConversationState | None = None
        try:
            await socket.prepare(request)
            conversation = await self._hello(request.app[CORE_KEY], socket)
            if conversation is not None:
                await self._serve(request.app[CORE_KEY], socket, conversation)
        finally:
            self.connections.release(address)
            if conversation is not None:
                self.sockets[conversation.id].discard(socket)
                if not self.sockets[conversation.id]:
                    del self.sockets[conversation.id]
        return socket

    async def _hello(self, core: DialogueCore, socket: web.WebSocketResponse) -> ConversationState | None:
        try:
            message = await socket.receive(timeout=HELLO_TIMEOUT)
        except TimeoutError:
            await socket.close(code=4000, message=b"hello expected")
            return None
        if message.type != WSMsgType.TEXT:
            await socket.close(code=4000, message=b"hello expected")
            return None
        try:
            frame = json.loads(message.data)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or frame.get("type") != "hello":
            await self._error(socket, "hello_expected", None, "fi")
            await socket.close(code=4000, message=b"hello expected")
            return None
        language = frame.get("lang") if frame.get("lang") in LANGUAGES else None
        token = frame.get("token")
        requested = frame.get("after")
        after = requested if isinstance(requested, int) and requested >= 0 else 0
        state = await core.resume_web(token) if isinstance(token, str) and 20 <= len(token) <= 100 else None
        if state is not None:
            history = await core.store.history(state.id, after_seq=after)
            welcome: dict[str, Any] = {"type": "welcome", "resumed": True}
        else:
            state, token, opening = await core.open(self.name, language)
            history = list(opening)
            welcome = {"type": "welcome", "resumed": False, "token": token}
        self.sockets[state.id].add(socket)
        welcome.update(
            lang=state.language,
            status=state.status,
            last_seq=state.last_seq,
            history=[item.frame() for item in history],
        )
        await socket.send_json(welcome)
        return state

    async def _serve(self, core: DialogueCore, socket: web.WebSocketResponse, state: ConversationState) -> None:
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await self._frame(core, socket, state, message.data)
            elif message.type == WSMsgType.BINARY:
                await self._error(socket, "bad_frame", None, state.language)
            elif message.type == WSMsgType.ERROR:
                return

    async def _frame(
        self, core: DialogueCore, socket: web.WebSocketResponse, state: ConversationState, data: str
    ) -> None:
        client_id: str | None = None
        try:
            frame = _parse_frame(data)
            kind = frame["type"]
            if kind == "ping":
                await socket.send_json({"type": "pong"})
                return
            if kind == "typing":
                await core.citizen_typing(state.id)  # shown in the console when a person has the chat
                return
            client_id = _client_id(frame)
            inbound = self._inbound(state, frame, client_id, socket)
            if client_id not in state.client_ids and not self.buckets.take(state.id):
                raise FrameError("rate_limited", client_id)
            receipt = await core.receive(inbound)
            ack = {
                "type": "ack",
                "id": client_id,
                "seq": receipt.seq,
                "duplicate": receipt.duplicate,
                "status": state.status,
            }
            # This widget gets its turn in one WebSocket message: the stored messages, then the ack.
            await socket.send_str(json.dumps([*(m.frame() for m in receipt.messages), ack], ensure_ascii=False))
        except FrameError as error:
            await self._error(socket, error.code, error.client_id or client_id, state.language)
        except UnknownConversation:
            await self._error(socket, "expired", client_id, state.language)
            await socket.close(code=4001, message=b"conversation expired")
        except NeuvoError:
            logger.exception("turn failed", extra={"conversation": state.id})
            await self._error(socket, "unavailable", client_id, state.language)

    def _inbound(self, state: ConversationState, frame: dict[str, Any], client_id: str, origin: object) -> Inbound:
        if frame["type"] == "message":
            text = frame.get("text")
            if not isinstance(text, str) or not text.strip():
                raise FrameError("bad_frame", client_id)
            if len(text) > self.config.widget.max_message_chars:
                raise FrameError("too_long", client_id)
            return Inbound(state.id, text=text, client_id=client_id, origin=origin)
        if frame["type"] in ("action", "end"):
            action = "/end" if frame["type"] == "end" else frame.get("action")
            label = frame.get("label")
            if not isinstance(action, str) or not _ACTION.match(action):
                raise FrameError("bad_frame", client_id)
            if label is not None and (not isinstance(label, str) or len(label) > 200):
                raise FrameError("bad_frame", client_id)
            return Inbound(state.id, action=action, label=label, client_id=client_id, origin=origin)
        raise FrameError("bad_frame", client_id)

    async def _error(self, socket: web.WebSocketResponse, code: str, client_id: str | None, language: str) -> None:
        key = {
            "too_long": "error_too_long",
            "rate_limited": "error_rate_limited",
            "unavailable": "error_unavailable",
        }.get(code, "error_bad_frame")
        text = self.messages.get(key, language).replace("{max}", str(self.config.widget.max_message_chars))
        frame: dict[str, Any] = {"type": "error", "code": code, "message": text}
        if client_id:
            frame["id"] = client_id
        if not socket.closed:
            await socket.send_json(frame)

    async def deliver(
        self, conversation: ConversationState, messages: Sequence[Outbound], origin: object | None = None
    ) -> None:
        """Send messages to every open widget of the conversation (a citizen may have two tabs).

        The widget the messages answer (``origin``) gets them with its ack instead, in one message.
        """
        sockets = [socket for socket in self.sockets.get(conversation.id, ()) if socket is not origin]
        if not sockets:
            return
        frames = [message.frame() for message in messages]
        frames.append({"type": "status", "status": conversation.status})
        payload = json.dumps(frames, ensure_ascii=False)
        for socket in sockets:
            try:
                await socket.send_str(payload)
            except (ConnectionResetError, RuntimeError):
                self.sockets[conversation.id].discard(socket)

    async def signal(self, conversation: ConversationState, payload: dict[str, Any]) -> None:
        """Queue position and "advisor typing" go to every open widget of the conversation as they are."""
        sockets = list(self.sockets.get(conversation.id, ()))
        if not sockets:
            return
        data = json.dumps(payload, ensure_ascii=False)
        for socket in sockets:
            try:
                await socket.send_str(data)
            except (ConnectionResetError, RuntimeError):
                self.sockets[conversation.id].discard(socket)


def _parse_frame(data: str) -> dict[str, Any]:
    try:
        frame = json.loads(data)
    except ValueError:
        raise FrameError("bad_frame") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("bad_frame")
    return frame


def _client_id(frame: dict[str, Any]) -> str:
    client_id = frame.get("id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise FrameError("bad_frame")
    return client_id
