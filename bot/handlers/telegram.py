"""The Telegram channel: python-telegram-bot's Application on our event loop, by long polling or webhook.

Telegram reaches Neuvo in one of two ways (``telegram.mode``): long polling, where the
Application's own Updater asks the Bot API for news (development: no public address needed),
or a webhook, where Telegram POSTs each update to a route of this aiohttp application, which
checks Telegram's secret header and answers 200 only once the update is handled and stored;
anything else gets an error status, so Telegram delivers it again. Either way every update goes
through :meth:`TelegramChannel.process`, which handles each ``update_id`` once (processed ids are
stored, so neither a webhook retry nor a re-fetch after a restart is handled twice) and turns
it into the one :class:`~bot.dialogue.model.Inbound` model of the dialogue core.

Anonymous by default: the sender's name, username and profile never leave this module; the chat
id is kept as the conversation's ``channel_ref`` (deleted with it), only to deliver replies.
Replies go out through an :class:`~bot.handlers.outbox.Outbox`: in order per chat, retried with
back-off, waiting as long as Telegram asks on HTTP 429; a restart resends what was not confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from aiohttp import web

# python-telegram-bot 22 moves time periods (RetryAfter.retry_after, timeouts) from int seconds to
# timedelta; until then each int read warns. Neuvo takes the timedelta form, the library's future.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from nlu.contract import LANGUAGES

from ..config import Config, TelegramSettings
from ..dialogue.core import CACHE_LIMIT, DialogueCore, UnknownConversation
from ..dialogue.model import Button, Inbound, Outbound
from ..dialogue.state import ConversationState
from ..ratelimit import Buckets
from ..storage.database import DatabaseError
from ..storage.store import Writes
from .base import Channel
from .outbox import Failure, Item, Outbox, Verdict
from .telegram_bot import ReplyBot
from .telegram_http import AiohttpRequest

logger = logging.getLogger(__name__)

#: Connections to the Bot API for replies (Telegram itself allows about 30 messages a second per bot).
REPLY_CONNECTIONS: Final = 100
#: Telegram refuses longer messages; longer texts are sent in parts.
MAX_TEXT: Final = 4096
#: Telegram refuses callback data over 64 bytes.
MAX_CALLBACK_BYTES: Final = 64
#: The commands a citizen can send, in the order Telegram's command menu shows them.
COMMANDS: Final = ("start", "lang", "human", "end", "privacy", "delete")
#: Update kinds asked for: messages and button presses; nothing else is handled.
ALLOWED_UPDATES: Final = ["message", "callback_query"]
#: How many handled update ids are remembered in memory (the database remembers them all).
RECENT_UPDATES: Final = 10_000
#: Tries of the Bot API at start before the channel gives up until the next pause.
START_BACKOFF_SECONDS: Final = (1.0, 2.0, 5.0, 10.0, 30.0)
#: How long a stopping server keeps sending what is queued; the rest is sent after the restart.
SHUTDOWN_SEND_SECONDS: float = 5.0
#: Delivery marks are gathered this long and stored in one write.
CONFIRM_EVERY_SECONDS: Final = 0.25
#: The queue position is shown to a chat at most this often (the newest one; Telegram limits a bot's sends).
QUEUE_NOTE_EVERY_SECONDS: float = 20.0
#: At most one "typing..." to a chat this often (Telegram shows it for about five seconds).
TYPING_EVERY_SECONDS: Final = 4.0
#: How often the per-chat timestamps above are cleared of chats they no longer hold back.
PRUNE_EVERY_SECONDS: Final = 60.0
#: Chats whose conversation id is kept in memory (the dialogue core keeps as many conversations).
CHATS_REMEMBERED: Final = CACHE_LIMIT
_ACTION: Final = re.compile(r"^/[a-z_]+(:[A-Za-z0-9_.-]{1,64})?$")
_NON_TEXT: Final = (
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "sticker",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


@dataclass(slots=True)
class _HeldLock:
    lock: asyncio.Lock
    users: int = 0


class TelegramChannel(Channel):
    """Citizens in Telegram private chats, through python-telegram-bot's Application."""

    name: ClassVar[str] = "telegram"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings: TelegramSettings = config.telegram
        self.application = build_application(self.settings)
        self.core: DialogueCore | None = None
        self.outbox = Outbox(judge_failure, self._confirm_sent)
        #: Set once the Bot API answered and updates flow (tests and readiness wait for it).
        self.ready = asyncio.Event()
        #: Reaching the Bot API at start (done when ready, or given up).
        self.connecting: asyncio.Task[None] | None = None
        #: The conversation of each chat seen lately (at most ``CHATS_REMEMBERED``; the others are looked up).
        self._chats: OrderedDict[str, str] = OrderedDict()
        self._chat_locks: dict[str, _HeldLock] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._in_flight: set[int] = set()
        #: Update ids above this were never handled before unless they are in ``_recent`` (Telegram's ids
        #: only grow): the database is asked only about ids at or below it (handled before a restart,
        #: or forgotten from memory since).
        self._ask_database_up_to = 0
        self._buckets = Buckets(config.widget.messages_per_minute / 60.0, config.widget.burst)
        self._typing_at: dict[str, float] = {}
        #: Per chat, the message showing the queue position (edited in place while nothing else was sent),
        #: the newest position not shown yet, when one was last shown, and the timer that will show it.
        self._queue_note: dict[str, tuple[int, str]] = {}
        self._queue_text: dict[str, str] = {}
        self._queue_shown: dict[str, float] = {}
        self._queue_timer: dict[str, asyncio.TimerHandle] = {}
        self._pruned_at = time.monotonic()
        #: Delivery marks not stored yet, and the task storing them (awaited by whoever needs them stored).
        self._sent_up_to: dict[str, int] = {}
        self.confirming: asyncio.Task[None] | None = None

    @classmethod
    def from_config(cls, config: Config) -> TelegramChannel:
        """The channel with an Application built from ``telegram:`` in the configuration."""
        return cls(config)

    def setup(self, app: web.Application) -> None:
        """In webhook mode, the route Telegram posts to."""
        if self.settings.mode == "webhook":
            app.router.add_post(self.settings.webhook_path, self.webhook)

    # --- life cycle ---------------------------------------------------------------------
    async def start(self, core: DialogueCore) -> None:
        """Register with the core, then reach the Bot API in the background (the web keeps serving meanwhile)."""
        await super().start(core)
        self.core = core
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.connecting = asyncio.create_task(self._connect(), name="telegram-start")

    async def _connect(self) -> None:
        """Initialise the Application (getMe), announce the commands, resend, then poll or set the webhook."""
        for attempt, pause in enumerate((*START_BACKOFF_SECONDS, None), start=1):
            try:
                await self.application.initialize()
                break
            except InvalidToken:
                logger.error("telegram refused the bot token; the channel is off until it is fixed")
                return
            except TelegramError as error:
                if pause is None:
                    logger.error("telegram bot api unreachable; the channel is off", extra={"attempts": attempt})
                    return
                logger.warning(
                    "telegram bot api not reached, retrying: %s", type(error).__name__, extra={"wait_s": pause}
                )
                await asyncio.sleep(pause)
        await self.application.start()
        self._ask_database_up_to = await self.core_or_fail().store.newest_processed_update()
        await self._announce_commands()
        await self._resend_unconfirmed()
        if self.settings.mode == "polling":
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                poll_interval=0.0,
                timeout=dt.timedelta(seconds=self.settings.poll_timeout_seconds),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                error_callback=_polling_error,
            )
        elif self.settings.webhook_url:
            await self.application.bot.set_webhook(
                self.settings.webhook_url,
                secret_token=self.settings.webhook_secret,
                max_connections=self.settings.max_connections,
                allowed_updates=ALLOWED_UPDATES,
            )
        self.ready.set()
        logger.info("telegram channel ready", extra={"mode": self.settings.mode})

    async def stop(self) -> None:
        """Stop fetching, finish what is being handled, send what can be sent, and close the connections."""
        if self.connecting is not None and not self.connecting.done():
            self.connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.connecting
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()  # handles the updates already fetched first
        for timer in self._queue_timer.values():
            timer.cancel()
        self._queue_timer.clear()
        await self.outbox.close(timeout=SHUTDOWN_SEND_SECONDS)
        if self.confirming is not None and not self.confirming.done():
            self.confirming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.confirming
        await self._store_confirmations(delay=0.0)  # what went out before the stop is not sent again
        with contextlib.suppress(TelegramError):
            await application.shutdown()
        self.ready.clear()

    async def _announce_commands(self) -> None:
        """Telegram's command menu, in each language (Finnish also for everyone else)."""
        assert self.core is not None
        policy = self.core.policy
        try:
            for language in LANGUAGES:
                commands = [BotCommand(command, policy.say(f"command.{command}", language)) for command in COMMANDS]
                await self.application.bot.set_my_commands(commands, language_code=language)
            default = [BotCommand(c, policy.say(f"command.{c}", self.core.default_language)) for c in COMMANDS]
            await self.application.bot.set_my_commands(default)
        except TelegramError as error:
            logger.warning("telegram commands not set: %s", type(error).__name__)

    async def _resend_unconfirmed(self) -> None:
        """After a restart: send the stored messages no earlier process confirmed sent."""
        assert self.core is not None
        store = self.core.store
        for conversation_id, chat, delivered in await store.undelivered(self.name):
            history = await store.history(conversation_id, after_seq=delivered)
            if not history:
                continue
            due = [message for message in history if message.sender != "citizen"]
            if due:
                self.outbox.put(chat, self._items(chat, due))
            else:
                await self._confirm_sent(conversation_id, history[-1].seq)

    # --- receiving ------------------------------------------------------------------------
    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST of one update: checked, handled and stored before the 200."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.settings.webhook_secret.encode()):
            raise web.HTTPForbidden(text="wrong or missing secret token")
        if not self.ready.is_set():
            raise web.HTTPServiceUnavailable(text="starting")
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="expected an update as JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise web.HTTPBadRequest(text="expected an update with an update_id")
        number: int = data["update_id"]
        plain = _plain_text(data)
        try:
            if plain is not None:
                # Most updates are a citizen's words: read from the JSON, as python-telegram-bot would.
                chat, text, hint = plain
                await self._once(number, lambda: self._text(number, chat, text, hint))
            else:
                try:
                    update = Update.de_json(data, self.application.bot)
                except (AttributeError, KeyError, TypeError, ValueError):
                    # python-telegram-bot trusts the schema: a field of the wrong type fails in many ways.
                    raise web.HTTPBadRequest(text="not a Telegram update") from None
                await self.process(update)
        except (DatabaseError, UnknownConversation):
            # Not stored: Telegram delivers it again, and the stored update ids keep that to once.
            raise web.HTTPServiceUnavailable(text="try again") from None
        return web.json_response({})

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Long polling: the Application hands each fetched update here."""
        if isinstance(update, Update):
            for pause in (0.5, 2.0, None):
                try:
                    await self.process(update)
                    return
                except (DatabaseError, UnknownConversation):
                    if pause is None:
                        raise
                    await asyncio.sleep(pause)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The Application's errors, logged without the update (it holds the citizen's words)."""
        error = context.error
        logger.error(
            "telegram update failed: %s",
            type(error).__name__,
            extra={"update_id": update.update_id if isinstance(update, Update) else None},
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )

    async def process(self, update: Update) -> None:
        """Handle one update, once: a redelivered or re-fetched update is recognised and skipped.

        Raises:
            DatabaseError: when it could not be stored (then it was not recorded as handled either).

        """
        await self._once(update.update_id, lambda: self._dispatch(update))

    async def _once(self, number: int, dispatch: Callable[[], Awaitable[bool]]) -> None:
        """Run ``dispatch`` unless update ``number`` was handled before (see :meth:`process`)."""
        assert self.core is not None
        if number in self._recent or number in self._in_flight:
            return
        self._in_flight.add(number)
        try:
            if number <= self._ask_database_up_to and await self.core.store.processed_update(number):
                self._remember(number)
                return
            if not await dispatch():
                # Nothing was stored with the update's number (a button with no turn, /delete, a photo):
                # it is recorded on its own.
                await self.core.store.write(Writes(processed_updates=[number]))
            self._remember(number)
        finally:
            self._in_flight.discard(number)

    def _remember(self, number: int) -> None:
        self._recent[number] = None
        while len(self._recent) > RECENT_UPDATES:
            forgotten, _ = self._recent.popitem(last=False)
            self._ask_database_up_to = max(self._ask_database_up_to, forgotten)

    async def _dispatch(self, update: Update) -> bool:
        """Hand the update to the core; True when its number was stored with the turn it caused."""
        query = update.callback_query
        if query is not None:
            return await self._pressed(update.update_id, query)
        message = update.message
        if message is None or message.chat.type != "private":
            return False  # groups and channels are not for citizens' own matters: nothing is read there
        hint = _language_hint(update)
        chat = str(message.chat.id)
        if message.text is None:
            if any(getattr(message, kind, None) for kind in _NON_TEXT):
                await self._tell(chat, "unsupported_content", await self._language(chat, hint))
            return False
        text = message.text
        if text.startswith("/"):
            return await self._command(update.update_id, chat, text, hint)
        return await self._text(update.update_id, chat, text, hint)

    async def _text(self, number: int, chat: str, text: str, hint: str | None) -> bool:
        """A citizen's words in a private chat (not a command): a turn of the conversation."""
        if len(text) > self.config.widget.max_message_chars:
            await self._tell(chat, "error_too_long", await self._language(chat, hint))
            return False
        state = await self._conversation(chat, hint)
        if not self._allowed(state):
            await self._tell(chat, "error_rate_limited", state.language)
            return False
        await self.core_or_fail().receive(Inbound(state.id, text=text, client_id=f"tg{number}", update_id=number))
        return True

    async def _command(self, number: int, chat: str, text: str, hint: str | None) -> bool:
        """``/start``, ``/lang fi|sv|en``, ``/human``, ``/end``, ``/privacy``, ``/delete``; others show the menu."""
        word, _, rest = text.partition(" ")
        command = word[1:].split("@", 1)[0].lower()
        argument = rest.strip().lower()
        if command == "delete":
            await self._erase(chat, hint)
            return False
        if command == "start":
            async with self._chat_lock(chat):
                state = await self._current(chat)
                if state is None or state.status == "closed":
                    await self._open(chat, hint)
                    return False
        state = await self._conversation(chat, hint)
        action = {
            "start": "/start",
            "lang": f"/lang:{argument}" if argument in LANGUAGES else "/lang",
            "human": "/human",
            "end": "/end",
            "privacy": "/privacy",
        }.get(command, "/menu")
        if not self._allowed(state):
            await self._tell(chat, "error_rate_limited", state.language)
            return False
        label = word.split("@", 1)[0] + (f" {argument}" if command == "lang" and argument else "")
        inbound = Inbound(state.id, action=action, label=label, client_id=f"tg{number}", update_id=number)
        await self.core_or_fail().receive(inbound)
        return True

    async def _pressed(self, number: int, query: CallbackQuery) -> bool:
        """A button: answered at once (Telegram's spinner stops), then handled like a pressed widget button."""
        with contextlib.suppress(TelegramError):
            await query.answer()
        message = query.message
        if not isinstance(message, Message) or message.chat.type != "private":
            return False
        chat = str(message.chat.id)
        action = query.data or ""
        if not _ACTION.match(action):
            return False
        label = _button_label(message, action)
        with contextlib.suppress(TelegramError):
            await message.edit_reply_markup(reply_markup=None)  # one press per question, as in the widget
        if action == "/new":
            async with self._chat_lock(chat):
                await self._open(chat, _language_hint_of(query.from_user.language_code))
            return False
        state = await self._conversation(chat, None)
        if not self._allowed(state):
            await self._tell(chat, "error_rate_limited", state.language)
            return False
        inbound = Inbound(state.id, action=action, label=label, client_id=f"tg{number}", update_id=number)
        await self.core_or_fail().receive(inbound)
        return True

    async def _erase(self, chat: str, hint: str | None) -> None:
        """``/delete``: every conversation of this chat, with its messages, is deleted now."""
        core = self.core_or_fail()
        async with self._chat_lock(chat):
            language = await self._language(chat, hint)
            for conversation_id in await core.store.conversation_ids(self.name, chat):
                await core.erase(conversation_id)
            self._chats.pop(chat, None)
            self._queue_note.pop(chat, None)
            self._queue_text.pop(chat, None)
            timer = self._queue_timer.pop(chat, None)
            if timer is not None:
                timer.cancel()
            self.outbox.drop(chat)
        await self._tell(chat, "conversation_erased", language)

    # --- conversations of chats ------------------------------------------------------------
    def core_or_fail(self) -> DialogueCore:
        """The dialogue core (the channel handles nothing before it started)."""
        if self.core is None:
            raise RuntimeError("the Telegram channel has not started")
        return self.core

    @contextlib.asynccontextmanager
    async def _chat_lock(self, chat: str) -> AsyncIterator[None]:
        """One chat's conversation is looked up, opened or erased by one update at a time.

        A chat's lock is kept only while an update holds or awaits it, so the locks do not
        pile up with every chat the bot has ever seen.
        """
        held = self._chat_locks.get(chat)
        if held is None:
            held = self._chat_locks[chat] = _HeldLock(asyncio.Lock())
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            held.users -= 1
            if not held.users:
                del self._chat_locks[chat]

    def _remember_chat(self, chat: str, conversation_id: str) -> None:
        self._chats[chat] = conversation_id
        self._chats.move_to_end(chat)
        while len(self._chats) > CHATS_REMEMBERED:
            self._chats.popitem(last=False)

    async def _current(self, chat: str) -> ConversationState | None:
        """The chat's newest conversation, if it has one that still exists."""
        core = self.core_or_fail()
        known = self._chats.get(chat)
        if known is not None:
            self._chats.move_to_end(chat)
            try:
                return await core.conversation(known)
            except UnknownConversation:
                self._chats.pop(chat, None)  # purged
        found = await core.store.find_by_channel_ref(self.name, chat)
        if found is None:
            return None
        self._remember_chat(chat, found.id)
        return await core.conversation(found.id)

    async def _conversation(self, chat: str, hint: str | None) -> ConversationState:
        """The chat's conversation, opened (with the privacy notice and the menu) if it has none."""
        async with self._chat_lock(chat):
            state = await self._current(chat)
            if state is None:
                state = await self._open(chat, hint)
            return state

    async def _open(self, chat: str, hint: str | None) -> ConversationState:
        core = self.core_or_fail()
        state, _token, opening = await core.open(self.name, hint, channel_ref=chat)
        self._remember_chat(chat, state.id)
        await core.deliver(state, opening)
        return state

    async def _language(self, chat: str, hint: str | None) -> str:
        """The language to tell this chat something in: its conversation's, else the app's, else the default."""
        state = await self._current(chat)
        if state is not None:
            return state.language
        return hint or self.core_or_fail().default_language

    def _allowed(self, state: ConversationState) -> bool:
        """A flood from one chat is slowed down as in the widget (the limits of ``widget:``)."""
        return self._buckets.take(state.id)

    # --- sending ----------------------------------------------------------------------------
    async def deliver(
        self, conversation: ConversationState, messages: Sequence[Outbound], origin: object | None = None
    ) -> None:
        """Queue what the bot, an advisor or the system said for the conversation's chat."""
        chat = conversation.channel_ref
        if not chat:
            return
        due = [message for message in messages if message.sender != "citizen"]
        if due:
            self.outbox.put(chat, self._items(chat, due))

    async def signal(self, conversation: ConversationState, payload: dict[str, Any]) -> None:
        """An advisor typing shows as "typing..."; the queue position is one message, edited as it changes."""
        chat = conversation.channel_ref
        if not chat:
            return
        now = time.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._forget_old_signals(now)
        if payload.get("type") == "typing":
            if now - self._typing_at.get(chat, 0.0) >= TYPING_EVERY_SECONDS:
                self._typing_at[chat] = now
                with contextlib.suppress(TelegramError):
                    await self.application.bot.send_chat_action(int(chat), ChatAction.TYPING)
        elif payload.get("type") == "queue" and isinstance(payload.get("text"), str) and payload["text"]:
            self._queue_text[chat] = str(payload["text"])
            if chat not in self._queue_timer:
                wait = max(0.0, self._queue_shown.get(chat, -QUEUE_NOTE_EVERY_SECONDS) + QUEUE_NOTE_EVERY_SECONDS)
                wait -= time.monotonic()
                loop = asyncio.get_running_loop()
                self._queue_timer[chat] = loop.call_later(max(wait, 0.0), self._queue_due, chat)

    def _forget_old_signals(self, now: float) -> None:
        """Forget when chats were last shown "typing" or a queue position, once that no longer holds anything back."""
        self._pruned_at = now
        self._typing_at = {chat: at for chat, at in self._typing_at.items() if now - at < TYPING_EVERY_SECONDS}
        self._queue_shown = {
            chat: at
            for chat, at in self._queue_shown.items()
            if now - at < QUEUE_NOTE_EVERY_SECONDS or chat in self._queue_timer
        }

    def _queue_due(self, chat: str) -> None:
        """Show the newest queue position (each position change would be an API call for every waiting chat)."""
        self._queue_timer.pop(chat, None)
        text = self._queue_text.pop(chat, None)
        if text is not None:
            self._queue_shown[chat] = time.monotonic()
            self.outbox.put(chat, [Item(lambda: self._show_queue(chat, text), kind="queue")])

    def _items(self, chat: str, messages: Sequence[Outbound]) -> list[Item]:
        items: list[Item] = []
        for group in _bubbles(messages):
            last_message = group[-1]
            parts = _split("\n\n".join(_text_of(message) for message in group))
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                markup = _keyboard(last_message.buttons) if last else None
                items.append(
                    Item(
                        self._sender(chat, part, markup),
                        conversation_id=last_message.conversation_id,
                        seq=last_message.seq if last else None,
                        kind=last_message.kind,
                    )
                )
        return items

    def _sender(self, chat: str, text: str, markup: InlineKeyboardMarkup | None) -> Any:
        async def send() -> None:
            await self.application.bot.send_text(int(chat), text, markup)
            self._queue_note.pop(chat, None)  # the next queue position goes below this message

        return send

    async def _show_queue(self, chat: str, text: str) -> None:
        note = self._queue_note.get(chat)
        if note is not None and note[1] == text:
            return
        bot = self.application.bot
        if note is not None:
            try:
                await bot.edit_message_text(text, chat_id=int(chat), message_id=note[0])
                self._queue_note[chat] = (note[0], text)
                return
            except BadRequest:
                pass  # too old to edit, or deleted by the citizen: a new one below
        self._queue_note[chat] = (await bot.send_text(int(chat), text), text)

    async def _tell(self, chat: str, key: str, language: str) -> None:
        """Something that is about the channel, not the conversation (not stored): sent in order all the same."""
        text = self.core_or_fail().policy.say(key, language).replace("{max}", str(self.config.widget.max_message_chars))
        self.outbox.put(chat, [Item(self._sender(chat, text, None), kind=key)])

    async def _confirm_sent(self, conversation_id: str, seq: int) -> None:
        """Note what went out; the notes are stored together a moment later (one write, not one per reply)."""
        self._sent_up_to[conversation_id] = max(seq, self._sent_up_to.get(conversation_id, 0))
        if self.confirming is None or self.confirming.done():
            self.confirming = asyncio.create_task(self._store_confirmations(), name="telegram-confirm")

    async def _store_confirmations(self, delay: float = CONFIRM_EVERY_SECONDS) -> None:
        """Store the delivery marks gathered meanwhile. A crash in between resends at most those replies."""
        await asyncio.sleep(delay)
        marks, self._sent_up_to = self._sent_up_to, {}
        if not marks:
            return
        try:
            await self.core_or_fail().store.write(Writes(delivered=marks))
        except DatabaseError:
            logger.warning("delivery marks not stored; a restart may send those replies again")


def build_application(settings: TelegramSettings) -> Application[ReplyBot, Any, Any, Any, Any, Any]:
    """python-telegram-bot's Application for the configured Bot API server and mode."""
    api = settings.api_url.rstrip("/")
    bot = ReplyBot(
        settings.token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=AiohttpRequest(connections=REPLY_CONNECTIONS),
        get_updates_request=AiohttpRequest(connections=1, read_timeout=settings.poll_timeout_seconds + 10.0),
    )
    # polling: one chat's updates in the order Telegram sent them
    builder = ApplicationBuilder().bot(bot).concurrent_updates(False)
    if settings.mode != "polling":
        builder = builder.updater(None)
    return builder.build()


def judge_failure(error: BaseException) -> Failure:
    """What a failed Bot API call means for the message (see :class:`~bot.handlers.outbox.Verdict`)."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        return Failure(Verdict.RETRY, seconds)
    if isinstance(error, Forbidden):
        return Failure(Verdict.ABANDON)  # blocked by the person, or the chat is gone
    if isinstance(error, InvalidToken | BadRequest):
        return Failure(Verdict.DROP)
    if isinstance(error, NetworkError | TelegramError | OSError):
        return Failure(Verdict.RETRY)
    return Failure(Verdict.DROP)


def _polling_error(error: TelegramError) -> None:
    """The Updater retries by itself; say so once per failure, without its message."""
    logger.warning("telegram polling failed, retrying: %s", type(error).__name__)


def _plain_text(data: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(chat, text, language hint) of an update that is only a text message in a private chat, else None.

    Building python-telegram-bot's ``Update`` (a hundred attributes of a ``Message``, its chat
    and sender) was a tenth of the webhook's CPU time per message; these four fields are all a
    citizen's words need. Everything else (commands, buttons, photos, groups, edits) and
    anything unexpected goes through ``Update.de_json`` as before.
    """
    message = data.get("message")
    if len(data) != 2 or not isinstance(message, dict):
        return None
    chat, text, sender = message.get("chat"), message.get("text"), message.get("from")
    if not isinstance(chat, dict) or chat.get("type") != "private" or type(chat.get("id")) is not int:
        return None
    if not isinstance(text, str) or text.startswith("/"):
        return None
    code = sender.get("language_code") if isinstance(sender, dict) else None
    return str(chat["id"]), text, _language_hint_of(code if isinstance(code, str) else None)


def _language_hint(update: Update) -> str | None:
    user = update.effective_user
    return _language_hint_of(user.language_code if user is not None else None)


def _language_hint_of(code: str | None) -> str | None:
    """The Telegram app's language, if Neuvo speaks it: used once, to open the conversation; never stored."""
    if not code:
        return None
    language = code.split("-", 1)[0].lower()
    return language if language in LANGUAGES else None


def _button_label(message: Message, action: str) -> str | None:
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == action:
                return button.text
    return None


def _keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Quick replies as an inline keyboard, one button a row (labels are long on a phone)."""
    rows = [
        [InlineKeyboardButton(button.label, callback_data=button.action)]
        for button in buttons
        if len(button.action.encode()) <= MAX_CALLBACK_BYTES
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _bubbles(messages: Sequence[Outbound]) -> list[list[Outbound]]:
    """Messages that go out as one Telegram message: the bot's consecutive words, buttons only on the last.

    An answer and its "Did this help?" are one message with the buttons under it, as people expect of
    a Telegram bot (one notification, not two), and one Bot API call instead of two. The system's
    notices (privacy, redaction) and advisors' messages stay on their own.
    """
    groups: list[list[Outbound]] = []
    for message in messages:
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and previous.sender == message.sender == "bot"
            and not previous.buttons
            and sum(len(m.text) + 2 for m in groups[-1]) + len(message.text) <= MAX_TEXT
        ):
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def _text_of(message: Outbound) -> str:
    """An advisor's message is signed with their display name (the bot's and the system's are not)."""
    if message.sender == "advisor" and message.author and message.kind != "message_answer":
        return f"{message.author}: {message.text}"
    return message.text or "…"


def _split(text: str) -> list[str]:
    """Parts Telegram accepts, split at a line or word break where one is near."""
    parts: list[str] = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind("\n", 0, MAX_TEXT), text.rfind(" ", 0, MAX_TEXT))
        if cut < MAX_TEXT // 2:
            cut = MAX_TEXT
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return parts
