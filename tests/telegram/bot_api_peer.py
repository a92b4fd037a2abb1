"""A fake Telegram Bot API server on loopback, for testing the Telegram channel end to end.

Why a server and not mocks: the channel runs on python-telegram-bot, and what breaks in production is
mostly the part a mock skips — how the library encodes parameters, how it maps error answers to
exceptions (429 to ``RetryAfter``, 403 to ``Forbidden``, 409 to ``Conflict``), its polling loop with its
offsets and its clean shutdown. So this peer speaks real HTTP on 127.0.0.1 and answers as the Bot API
(https://core.telegram.org/bots/api) does, and the real, unmodified ``telegram.ext.Application`` is
pointed at it with ``base_url=f"{peer.url}/bot"``.

A test plays both other parties:

* the citizen, through ``user_sends``, ``user_presses`` and ``user_sends_other``, which build updates
  exactly as Telegram would (a private chat, a ``bot_command`` entity, a callback query that carries the
  bot's own message) and queue them for ``getUpdates``, or deliver them with ``post_webhook``;
* Telegram's failures, through ``fail_next`` (flood control, a blocked bot, a 5xx).

It then reads what the bot did from ``calls``, ``sent_messages`` and ``wait_for``. The peer validates
what Telegram validates for the methods it knows (empty or too long text, callback data over 64 bytes,
entity markup, stale callback query ids, editing a message to the same content), so a channel that passes
here is not merely talking to something that says yes to everything.

Methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, sendChatAction, setMyCommands, getMyCommands,
deleteMyCommands, close and logOut; any other answers 404, so a call the channel should not make shows.
Only private chats exist here: that is the channel Neuvo serves. Updates are kept until confirmed by
a later ``getUpdates`` offset, as on Telegram; they are never pushed to a webhook by themselves, so a
webhook test decides when and with which secret a delivery happens.
"""

from __future__ import annotations

import asyncio
import copy
import enum
import html.parser
import ipaddress
import itertools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

__all__ = ["OTHER_KINDS", "REGISTERED_SECRET", "SECRET_HEADER", "TOKEN", "BotApiPeer", "Call"]

logger = logging.getLogger(__name__)

#: A token that looks like a real one (``<bot id>:<secret>``); the bot id part is the bot's user id.
TOKEN: Final = "123456:TEST-token_for-the-peer"

#: What ``user_sends_other`` can send: the non-text messages a citizen is most likely to try.
OTHER_KINDS: Final = ("photo", "voice", "sticker", "document", "location", "video", "contact")

#: Telegram's limits, as documented for the methods the peer implements.
MAX_TEXT_LENGTH: Final = 4096
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_UPDATES_PER_CALL: Final = 100
MAX_COMMANDS: Final = 100

_UNAUTHORIZED: Final = "Unauthorized"
_NOT_FOUND: Final = "Not Found"
_WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
_OTHER_POLL: Final = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_POLL_VS_SET_WEBHOOK: Final = "Conflict: terminated by setWebhook request"
_QUERY_INVALID: Final = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_BAD_MARKUP: Final = "Bad Request: can't parse reply keyboard markup JSON object"

#: The header Telegram puts the ``setWebhook`` secret in, on every delivery.
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"

#: Parameters whose schema type is String: a form value like ``"42"`` or ``"true"`` stays text for these.
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "url",
        "secret_token",
        "callback_query_id",
        "parse_mode",
        "action",
        "language_code",
        "ip_address",
        "caption",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
    }
)

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

#: The fields that give an inline keyboard button its action; a button needs exactly one of them.
_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

#: The update kinds Telegram leaves out unless allowed_updates names them.
_NOT_BY_DEFAULT: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_SCOPE_TYPES: Final = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_LEADING_COMMAND_RE: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_PATH_RE: Final = re.compile(r"/bot([^/]*)/([^/]*)")

_DEFAULT_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Bad Request",
    401: _UNAUTHORIZED,
    403: "Forbidden: bot was blocked by the user",
    404: _NOT_FOUND,
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class _Registered(enum.Enum):
    """Marker for "the secret registered with setWebhook" (None already means "send no secret")."""

    SECRET = "registered"


#: ``post_webhook``'s default: deliver with the secret the bot registered.
REGISTERED_SECRET: Final = _Registered.SECRET


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request the peer received, with its parameters decoded as Telegram would read them."""

    method: str
    params: dict[str, Any]
    #: ``time.monotonic()`` when it arrived, to assert on pacing (e.g. a retry waited ``retry_after``).
    at: float


@dataclass(frozen=True, slots=True)
class _Failure:
    """An error answer queued by ``fail_next``."""

    error_code: int
    description: str
    parameters: dict[str, Any] | None


class _ApiError(Exception):
    """An error answer in the Bot API's schema; raised anywhere while handling a request."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True, slots=True)
class _Described:
    """A successful result that Telegram answers with a ``description`` too (setWebhook, deleteWebhook)."""

    result: Any
    description: str


@dataclass(slots=True)
class _Poll:
    """A getUpdates call that is waiting (long polling); woken by a new update, a rival or the peer closing."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set when the poll must end with 409 Conflict instead of a result.
    conflict: str | None = None


def _every_call(_call: Call) -> bool:
    """``wait_for``'s default predicate: any call of the method counts."""
    return True


def _utf16_length(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    """Bot API dates are Unix time in whole seconds."""
    return int(time.time())


def _error_body(error: _ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return body


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


# --- reading parameters ------------------------------------------------------------------------------


def _decode_form_value(name: str, value: str) -> Any:
    """python-telegram-bot sends strings as they are and everything else JSON-encoded; decode the latter.

    The schema says which is which, so a String parameter is never decoded: ``text="42"`` stays text.
    """
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _object_param(params: Mapping[str, Any], name: str) -> Any:
    """An Object or Array parameter: already decoded from a form, or sent as a JSON string inside a JSON body."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            raise _bad_request(f"can't parse {name} JSON object") from error
    return value


def _int_param(params: Mapping[str, Any], name: str, *, default: int | None = None) -> int | None:
    """An Integer parameter; Telegram also accepts it as a string of digits."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _bad_request(f"invalid {name} specified")


def _bool_param(params: Mapping[str, Any], name: str) -> bool:
    """A Boolean parameter; absent means False, as in the schema."""
    value = params.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", ""):
        return value.lower() in ("true", "1")
    raise _bad_request(f"invalid {name} specified")


def _str_param(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _bad_request(f"invalid {name} specified")


# --- entity markup (parse_mode) --------------------------------------------------------------------


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports markup errors at a UTF-8 byte offset of the source text."""
    return len(text[:index].encode("utf-8"))


class _HtmlEntities(html.parser.HTMLParser):
    """Turns ``parse_mode=HTML`` text into plain text and entities, refusing the tags Telegram refuses.

    Why: a tag Telegram does not support (``<br>``, ``<p>``) makes sendMessage fail in production, so it
    must fail here too; and the Message Telegram returns has the markup stripped.
    """

    _SIMPLE: Final[Mapping[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "code": "code",
        "pre": "pre",
    }

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [match.end() for match in re.finditer("\n", source)]
        self._parts: list[str] = []
        self._length = 0
        self._open: list[tuple[str, dict[str, Any] | None, int]] = []
        self.entities: list[dict[str, Any]] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _here(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self._source, self._line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: dict[str, Any] | None
        if tag in self._SIMPLE:
            entity = {"type": self._SIMPLE[tag]}
            if tag == "code" and self._open and self._open[-1][0] == "pre":
                # <pre><code class="language-x"> is one pre entity with a language, not two entities.
                language = (attributes.get("class") or "").removeprefix("language-")
                pre = self._open[-1][1]
                if pre is not None and language:
                    pre["language"] = language
                entity = None
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag == "a" and attributes.get("href"):
            entity = {"type": "text_link", "url": attributes["href"]}
        elif tag == "blockquote":
            entity = {"type": "expandable_blockquote" if "expandable" in attributes else "blockquote"}
        elif tag == "tg-emoji" and attributes.get("emoji-id"):
            entity = {"type": "custom_emoji", "custom_emoji_id": attributes["emoji-id"]}
        else:
            raise _bad_request(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {self._here()}')
        self._open.append((tag, entity, self._length))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _bad_request(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {self._here()}')

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            expected = f'"</{self._open[-1][0]}>"' if self._open else "no end tag"
            raise _bad_request(
                f"can't parse entities: Unmatched end tag at byte offset {self._here()}, expected {expected}, "
                f'found "</{tag}>"'
            )
        _, entity, start = self._open.pop()
        if entity is not None and self._length > start:
            self.entities.append({**entity, "offset": start, "length": self._length - start})

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += _utf16_length(data)

    def finish(self) -> None:
        self.close()
        if self._open:
            raise _bad_request(
                f"can't parse entities: Can't find end tag corresponding to start tag \"{self._open[-1][0]}\""
            )


def _parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HtmlEntities(source)
    parser.feed(source)
    parser.finish()
    return parser.text, parser.entities


_MARKDOWN_V2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")


class _MarkdownParser:
    """Turns ``parse_mode=MarkdownV2`` (or legacy ``Markdown``) text into plain text and entities.

    Why: an unescaped ``.`` or ``-`` in MarkdownV2 is the most common way a Telegram bot's replies fail
    in production ("Character '.' is reserved and must be escaped"), so the peer refuses it as Telegram does.
    This follows the documented grammar; block quotes are recognised line by line (not the expandable
    ``**>`` form).
    """

    def __init__(self, source: str, *, v2: bool) -> None:
        self._source = source
        self._v2 = v2
        self._out: list[str] = []
        self._length = 0
        self._open: list[tuple[str, str, int, int]] = []  # marker, entity type, utf-16 start, source index
        self.entities: list[dict[str, Any]] = []

    @property
    def text(self) -> str:
        return "".join(self._out)

    def _emit(self, text: str) -> None:
        self._out.append(text)
        self._length += _utf16_length(text)

    def _add(self, entity_type: str, start: int, **extra: Any) -> None:
        if self._length > start:
            self.entities.append({"type": entity_type, "offset": start, "length": self._length - start, **extra})

    def _unclosed(self, index: int) -> _ApiError:
        offset = _byte_offset(self._source, index)
        return _bad_request(f"can't parse entities: Can't find end of the entity starting at byte offset {offset}")

    def _reserved(self, char: str) -> _ApiError:
        return _bad_request(
            f"can't parse entities: Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def _until(self, index: int, closing: str) -> tuple[str, int]:
        """The text up to an unescaped ``closing`` (code, pre, link URL: only ` and \\ are escaped there)."""
        source = self._source
        chars: list[str] = []
        cursor = index
        while cursor < len(source):
            if self._v2 and source[cursor] == "\\" and cursor + 1 < len(source):
                chars.append(source[cursor + 1])
                cursor += 2
                continue
            if source.startswith(closing, cursor):
                return "".join(chars), cursor + len(closing)
            chars.append(source[cursor])
            cursor += 1
        raise self._unclosed(index)

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        source = self._source
        index = 0
        quote_start: int | None = None
        while index < len(source):
            char = source[index]
            at_line_start = index == 0 or source[index - 1] == "\n"
            if self._v2 and char == "\r":
                index += 1  # the documented way to separate "_" from "__": a carriage return, ignored
                continue
            if self._v2 and at_line_start:
                if char == ">":
                    if quote_start is None:
                        quote_start = self._length
                    index += 1
                    continue
                if quote_start is not None:
                    self._length -= 1  # the newline that ended the quote is not part of it
                    self._add("blockquote", quote_start)
                    self._length += 1
                    quote_start = None
            if char == "\\" and index + 1 < len(source) and (self._v2 or source[index + 1] in "_*`["):
                if self._v2 and not 1 <= ord(source[index + 1]) <= 126:
                    raise self._reserved("\\")
                self._emit(source[index + 1])
                index += 2
                continue
            if char == "`":
                if source.startswith("```", index):
                    body, after = self._until(index + 3, "```")
                    language, newline, code = body.partition("\n")
                    start = self._length
                    if newline and language.strip() and " " not in language.strip():
                        self._emit(code)
                        self._add("pre", start, language=language.strip())
                    else:
                        self._emit(code if newline and not language.strip() else body)
                        self._add("pre", start)
                    index = after
                    continue
                body, after = self._until(index + 1, "`")
                start = self._length
                self._emit(body)
                self._add("code", start)
                index = after
                continue
            if char == "[" or (self._v2 and source.startswith("![", index)):
                index = self._link(index)
                continue
            marker = self._marker(index)
            if marker is not None:
                index = self._toggle(marker, index)
                continue
            if self._v2 and char in _MARKDOWN_V2_RESERVED:
                raise self._reserved(char)
            self._emit(char)
            index += 1
        if quote_start is not None:
            self._add("blockquote", quote_start)
        if self._open:
            raise self._unclosed(self._open[-1][3])
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return self.text, self.entities

    def _marker(self, index: int) -> str | None:
        source = self._source
        if not self._v2:
            return source[index] if source[index] in "*_" else None
        # "__" is always underline, read greedily left to right, as the Bot API documents.
        if source.startswith("__", index):
            return "__"
        if source.startswith("||", index):
            return "||"
        if source[index] in "*_~":
            return source[index]
        return None

    def _toggle(self, marker: str, index: int) -> int:
        kinds = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
        if self._open and self._open[-1][0] == marker:
            _, entity_type, start, _ = self._open.pop()
            self._add(entity_type, start)
        elif not self._v2 and self._open:
            self._emit(marker)  # legacy Markdown has no nesting: the marker is plain text inside an entity
        else:
            self._open.append((marker, kinds[marker], self._length, index))
        return index + len(marker)

    def _link(self, index: int) -> int:
        source = self._source
        emoji = source.startswith("![", index)
        label_start = index + (2 if emoji else 1)
        # The label may hold markup of its own; parse it with a nested parser and shift its entities.
        depth, cursor = 0, label_start
        while cursor < len(source):
            if source[cursor] == "\\":
                cursor += 2
                continue
            if source[cursor] == "[":
                depth += 1
            elif source[cursor] == "]":
                if depth == 0:
                    break
                depth -= 1
            cursor += 1
        if cursor >= len(source) or not source.startswith("(", cursor + 1):
            if self._v2:
                raise self._reserved("[") if cursor >= len(source) else self._reserved("]")
            raise self._unclosed(index)
        url, after = self._until(cursor + 2, ")")
        label_text, label_entities = _MarkdownParser(source[label_start:cursor], v2=self._v2).parse()
        start = self._length
        self._emit(label_text)
        for entity in label_entities:
            self.entities.append({**entity, "offset": entity["offset"] + start})
        if emoji:
            self._add("custom_emoji", start, custom_emoji_id=url.rpartition("id=")[2])
        else:
            self._add("text_link", start, url=url)
        return after


def _parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Applies ``parse_mode`` as Telegram does: markup becomes entities; an unknown mode is refused."""
    if parse_mode is None or parse_mode == "":
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    if mode in ("markdownv2", "markdown"):
        return _MarkdownParser(text, v2=mode == "markdownv2").parse()
    raise _bad_request("unsupported parse_mode")


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace from a message; entities move with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_length(text[: len(text) - len(text.lstrip())])
    end = _utf16_length(stripped)
    kept = []
    for entity in entities:
        start = max(0, int(entity.get("offset", 0)) - shift)
        stop = min(end, int(entity.get("offset", 0)) + int(entity.get("length", 0)) - shift)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


# --- keyboards -------------------------------------------------------------------------------------


def _inline_keyboard(markup: Any) -> dict[str, Any] | None:
    """Validates a reply_markup; returns it when it is an inline keyboard (the only kind a Message carries)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, _BAD_MARKUP)
    if "inline_keyboard" not in markup:
        if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
            return None
        raise _ApiError(400, _BAD_MARKUP)
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
    clean_rows = []
    for row in rows:
        clean_row = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
                raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = [key for key in _BUTTON_ACTIONS if key in button]
            if not actions:
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
            clean_row.append(copy.deepcopy(button))
        if clean_row:
            clean_rows.append(clean_row)
    if not clean_rows:
        return None
    return {"inline_keyboard": clean_rows}


def _carries(message: Mapping[str, Any], callback_data: str) -> bool:
    markup = message.get("reply_markup") or {}
    return any(
        button.get("callback_data") == callback_data for row in markup.get("inline_keyboard", []) for button in row
    )


# --- the peer --------------------------------------------------------------------------------------


_Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class BotApiPeer:
    """A Bot API server on loopback (an aiohttp web server on 127.0.0.1, on a free port).

    Use it as ``async with BotApiPeer() as peer:`` and configure the product with ``peer.url`` as its API
    address; requests then go to ``{peer.url}/bot{token}/{method}`` as they would to api.telegram.org.
    Everything runs on the test's event loop; the helpers are not thread-safe.
    """

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        bot_id = int(token.partition(":")[0]) if token.partition(":")[0].isdigit() else 123456
        #: The getMe answer: a User with the fields only getMe returns.
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Neuvo",
            "username": "neuvo_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        #: Every API call received with the right token, in order of arrival (also failed and unknown ones).
        self.calls: list[Call] = []
        #: What setWebhook registered (None: no webhook, so getUpdates works).
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_max_connections: int | None = None
        self.webhook_allowed_updates: list[str] | None = None

        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._closing = False
        self._started_at = time.monotonic()
        self._calls_changed = asyncio.Event()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._active_poll: _Poll | None = None
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._users: dict[int, dict[str, Any]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: list[tuple[int, int]] = []
        self._queries: dict[str, bool] = {}  # callback query id -> answered already
        self._query_ids = itertools.count(4_242_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._methods: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "close": self._true,
            "logOut": self._true,
        }
        # Bot API method names are case-insensitive.
        self._by_lower_name = {name.lower(): name for name in self._methods}

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listens on 127.0.0.1 on a port the OS picks, so parallel tests never collide."""
        await self.start_on(0)

    async def start_on(self, port: int) -> None:
        """Listens on 127.0.0.1:``port``: for a driver process whose port its parent chose (0: any free one)."""
        if self._runner is not None:
            raise RuntimeError("the peer is already started")
        app = web.Application(client_max_size=50 * 1024 * 1024)  # the Bot API's upload limit
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._url = f"http://{host}:{port}"
        self._started_at = time.monotonic()

    async def close(self) -> None:
        """Stops the server; a getUpdates still waiting answers [] at once, so shutdown never hangs."""
        self._closing = True
        if self._active_poll is not None:
            self._active_poll.wake.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> BotApiPeer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the API address; the product's base_url is ``f"{url}/bot"``."""
        if self._url is None:
            raise RuntimeError("the peer is not started")
        return self._url

    # --- the citizen's side ----------------------------------------------------------------------------

    def _user(self, chat_id: int) -> dict[str, Any]:
        """The user of private chat ``chat_id`` (there the chat id is the user id); Maija unless told otherwise."""
        return self._users.setdefault(
            chat_id,
            {"id": chat_id, "is_bot": False, "first_name": "Maija", "username": "maija_v", "language_code": "fi"},
        )

    def add_chat(self, chat_id: int) -> None:
        """A private chat whose user has written to the bot before, so the bot may send to it (no update made).

        For a load driver in another process that builds the chat's updates itself.
        """
        self._user(chat_id)

    def _chat(self, chat_id: int) -> dict[str, Any]:
        user = self._users[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        """Message ids count up per chat, shared by both sides, as in a Telegram private chat."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": copy.deepcopy(self._users[chat_id]),
            "chat": self._chat(chat_id),
            "date": _now(),
            **content,
        }
        self._messages[chat_id, message["message_id"]] = message
        return message

    def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        language_code: str | None = "fi",
        first_name: str = "Maija",
        username: str | None = "maija_v",
    ) -> dict[str, Any]:
        """A citizen writes ``text`` to the bot in a private chat; returns the queued Update.

        A leading ``/command`` (optionally ``/command@botname``) gets the ``bot_command`` entity Telegram
        adds, which is what makes python-telegram-bot's CommandHandler fire.
        """
        if not text:
            raise ValueError("a Telegram user cannot send an empty message")
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[chat_id] = user
        content: dict[str, Any] = {"text": text}
        command = _LEADING_COMMAND_RE.match(text)
        if command is not None:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_length(command.group())}]
        return self.push({"message": self._user_message(chat_id, **content)})

    def user_presses(self, chat_id: int, callback_data: str, *, message_id: int | None = None) -> dict[str, Any]:
        """A citizen presses an inline button of a bot message; returns the queued callback_query Update.

        Without ``message_id``, the button is looked for in the latest bot message to the chat that carries
        ``callback_data``, as a person would press the newest one. Telegram only lets a person press a
        button that is on the message, so pressing one that is not there fails the test.
        """
        candidates = [
            self._messages[key]
            for key in reversed(self._sent)
            if key[0] == chat_id and (message_id is None or key[1] == message_id)
        ]
        message = next((candidate for candidate in candidates if _carries(candidate, callback_data)), None)
        if message is None:
            where = f"message {message_id}" if message_id is not None else "any bot message"
            raise AssertionError(
                f"no button with callback_data {callback_data!r} on {where} in chat {chat_id}; the bot sent there: "
                f"{[m.get('reply_markup') for m in candidates[:5]] or 'nothing'}"
            )
        query_id = str(next(self._query_ids))
        self._queries[query_id] = False
        callback_query = {
            "id": query_id,
            "from": copy.deepcopy(self._users[chat_id]),
            "message": copy.deepcopy(message),
            "chat_instance": str(-(10**18) - (chat_id * 7_919) % 10**17),
            "data": callback_data,
        }
        return self.push({"callback_query": callback_query})

    def user_sends_other(self, chat_id: int, kind: str) -> dict[str, Any]:
        """A citizen sends something that is not text (see ``OTHER_KINDS``); returns the queued Update.

        The message has the field of that kind filled as the schema describes and no ``text``, which is what
        the channel has to answer politely instead of crashing on.
        """
        if kind not in OTHER_KINDS:
            raise ValueError(f"kind must be one of {OTHER_KINDS}, not {kind!r}")
        self._user(chat_id)
        number = next(self._file_ids)

        def file(prefix: str, **fields: Any) -> dict[str, Any]:
            return {"file_id": f"{prefix}AAxkBAAI{number:08d}", "file_unique_id": f"AQAD{number:08d}", **fields}

        content: dict[str, Any]
        if kind == "photo":
            content = {
                "photo": [
                    {**file("AgAC", width=90, height=68, file_size=1_520), "file_unique_id": f"AQADs{number:07d}"},
                    {**file("AgAC", width=320, height=240, file_size=18_044), "file_unique_id": f"AQADm{number:07d}"},
                    {**file("AgAC", width=800, height=600, file_size=71_310), "file_unique_id": f"AQADx{number:07d}"},
                ]
            }
        elif kind == "voice":
            content = {"voice": file("AwAC", duration=3, mime_type="audio/ogg", file_size=12_422)}
        elif kind == "sticker":
            content = {
                "sticker": file(
                    "CAAC",
                    type="regular",
                    width=512,
                    height=512,
                    is_animated=False,
                    is_video=False,
                    emoji="👍",
                    set_name="HotCherry",
                    file_size=23_880,
                )
            }
        elif kind == "document":
            content = {"document": file("BQAC", file_name="liite.pdf", mime_type="application/pdf", file_size=84_211)}
        elif kind == "location":
            content = {"location": {"latitude": 60.169_857, "longitude": 24.938_379}}
        elif kind == "video":
            content = {
                "video": file("BAAC", width=1280, height=720, duration=5, mime_type="video/mp4", file_size=1_048_576)
            }
        else:
            user = self._users[chat_id]
            content = {
                "contact": {"phone_number": "+358401234567", "first_name": user["first_name"], "user_id": chat_id}
            }
        return self.push({"message": self._user_message(chat_id, **content)})

    def push(self, update_without_id: dict[str, Any]) -> dict[str, Any]:
        """Queues an update with the next (increasing) update_id; returns the full update.

        In polling mode a waiting getUpdates answers at once. Use this directly for update kinds the
        ``user_*`` helpers do not build.
        """
        if "update_id" in update_without_id:
            raise ValueError("push assigns the update_id; pass the update without one")
        update = {"update_id": next(self._update_ids), **copy.deepcopy(update_without_id)}
        self._updates.append(update)
        if self._active_poll is not None:
            self._active_poll.wake.set()
        return copy.deepcopy(update)

    async def post_webhook(
        self,
        update: dict[str, Any],
        *,
        secret: str | _Registered | None = REGISTERED_SECRET,
        url: str | None = None,
    ) -> int:
        """Delivers ``update`` as Telegram does to a webhook: a JSON POST with the secret header; returns the status.

        ``secret`` is the one registered with setWebhook by default; give another one, or None for no header,
        to test that the product refuses forged deliveries. ``url`` overrides the registered address, for a
        product that registered its public URL while the test serves it on loopback. As on Telegram, an
        update the webhook accepted (2xx) is no longer pending. Deliveries only go to loopback addresses.
        """
        target = url or self.webhook_url
        if not target:
            raise AssertionError("no webhook is registered (setWebhook was not called) and no url was given")
        host = urlsplit(target).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise AssertionError(f"refusing to deliver to {target}: the peer only talks to this machine (loopback)")
        token = self.webhook_secret if isinstance(secret, _Registered) else secret
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers[SECRET_HEADER] = token
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, data=json.dumps(update).encode("utf-8"), headers=headers) as response,
        ):
            await response.read()
            status = response.status
        if 200 <= status < 300:
            self._updates = [pending for pending in self._updates if pending["update_id"] != update.get("update_id")]
        return status

    # --- what the bot did ---------------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The Messages the bot sent with sendMessage (to ``chat_id``, or to anyone), oldest first.

        Each is the Message as it is now: a later editMessageText or editMessageReplyMarkup shows here. The
        original request is in ``calls``.
        """
        return [copy.deepcopy(self._messages[key]) for key in self._sent if chat_id is None or key[0] == chat_id]

    def pending_updates(self) -> list[dict[str, Any]]:
        """The updates not yet confirmed by a getUpdates offset (nor accepted by a webhook)."""
        return copy.deepcopy(self._updates)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = _every_call,
        *,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Call]:
        """Waits until ``count`` calls of ``method`` matching ``predicate`` have arrived (since the start).

        Returns all matching calls so far. Why an error with the whole call log on timeout: when the bot
        did something else than expected, that log is what tells a reader what it did.
        """
        wanted = self._by_lower_name.get(method.lower(), method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        matching: list[Call] = []
        seen = 0  # each call is judged once, so waiting for thousands of calls stays linear
        while True:
            changed = self._calls_changed
            if len(self.calls) < seen:  # the test cleared the log: start over
                matching, seen = [], 0
            matching.extend(call for call in self.calls[seen:] if call.method == wanted and predicate(call))
            seen = len(self.calls)
            if len(matching) >= count:
                return matching
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} call(s) of {wanted} matching the predicate; "
                    f"{len(matching)} matched.\n{self.describe_calls()}"
                )
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                continue

    def describe_calls(self, last: int = 50) -> str:
        """The call log, one readable line a call, for assertion messages."""
        shown = self.calls[-last:]
        cut = f", the last {len(shown)} shown" if len(shown) < len(self.calls) else ""
        lines = [f"Calls received ({len(self.calls)}{cut}):"]
        first_number = len(self.calls) - len(shown) + 1
        for number, call in enumerate(shown, start=first_number):
            params = json.dumps(call.params, ensure_ascii=False, default=str)
            if len(params) > 300:
                params = params[:297] + "..."
            lines.append(f"  {number}. +{call.at - self._started_at:.3f}s {call.method} {params}")
        if not self.calls:
            lines.append("  (none)")
        return "\n".join(lines)

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` get an error answer in the schema's form.

        The default is flood control: 429 "Too Many Requests: retry after 1" with ``parameters.retry_after``.
        ``retry_after`` is only sent with 429, as Telegram does (python-telegram-bot raises RetryAfter
        whenever it is present, whatever the code). Other codes get Telegram's usual description: 403
        "Forbidden: bot was blocked by the user", 500 "Internal Server Error", 502 "Bad Gateway".
        """
        name = self._by_lower_name.get(method.lower())
        if name is None:
            raise ValueError(f"the peer does not implement {method!r}; it knows {sorted(self._methods)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if not 400 <= error_code <= 599:
            raise ValueError("error_code must be an HTTP error status (400-599)")
        parameters = None
        if error_code == HTTPStatus.TOO_MANY_REQUESTS and retry_after is not None:
            parameters = {"retry_after": retry_after}
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(error_code)
            if description is None:
                try:
                    description = HTTPStatus(error_code).phrase
                except ValueError:
                    description = "Error"
            if parameters is not None:
                description = f"Too Many Requests: retry after {retry_after}"
        failures = self._failures.setdefault(name, deque())
        failures.extend(_Failure(error_code, description, parameters) for _ in range(times))

    def clear_failures(self, method: str | None = None) -> None:
        """Drops the error answers ``fail_next`` queued (for ``method``, or all): Telegram is back."""
        if method is None:
            self._failures.clear()
        else:
            self._failures.pop(self._by_lower_name.get(method.lower(), method), None)

    # --- HTTP ---------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        """Answers every request in the Bot API's JSON form; nothing reaches the client as a traceback."""
        try:
            match = _PATH_RE.fullmatch(request.path)
            if match is None or not match.group(2):
                raise _ApiError(404, _NOT_FOUND)
            if match.group(1) != self.token:
                raise _ApiError(401, _UNAUTHORIZED)
            params = await self._read_params(request)
            requested = match.group(2)
            name = self._by_lower_name.get(requested.lower())
            self._record(name or requested, params)
            if name is None:
                raise _ApiError(404, _NOT_FOUND)
            failures = self._failures.get(name)
            if failures:
                failure = failures.popleft()
                raise _ApiError(failure.error_code, failure.description, failure.parameters)
            result = await self._methods[name](params)
        except _ApiError as error:
            return web.json_response(_error_body(error), status=error.error_code)
        except Exception as error:
            logger.exception("the Bot API peer failed on %s %s", request.method, request.path)
            crash = _ApiError(500, f"Internal Server Error: {type(error).__name__} in the test peer")
            return web.json_response(_error_body(crash), status=500)
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, _Described):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        return web.json_response(body)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        """Parameters from the query string and a JSON, urlencoded or multipart body, as the Bot API takes them."""
        params: dict[str, Any] = {key: _decode_form_value(key, value) for key, value in request.query.items()}
        if not request.can_read_body:
            return params
        content_type = request.content_type
        try:
            if content_type == "application/json":
                body = json.loads(await request.text() or "{}")
                if not isinstance(body, dict):
                    raise _bad_request("the JSON body must be an object")
                params.update(body)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        content = value.file.read()
                        params[key] = {
                            "file_name": value.filename,
                            "content_type": value.content_type,
                            "size": len(content),
                        }
                    else:
                        params[key] = _decode_form_value(key, str(value))
            elif await request.read():
                raise _bad_request(f"unsupported content type {content_type}")
        except _ApiError:
            raise
        except web.HTTPRequestEntityTooLarge as error:
            raise _ApiError(413, "Request Entity Too Large") from error
        except (ValueError, UnicodeDecodeError, aiohttp.ClientError) as error:
            raise _bad_request(f"can't parse request body: {type(error).__name__}") from error
        return params

    def _record(self, method: str, params: dict[str, Any]) -> None:
        self.calls.append(Call(method, copy.deepcopy(params), time.monotonic()))
        logger.debug("Bot API peer: %s %s", method, params)
        changed, self._calls_changed = self._calls_changed, asyncio.Event()
        changed.set()

    # --- methods -----------------------------------------------------------------------------------

    async def _true(self, _params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(self.bot_user)

    def _confirm(self, offset: int | None) -> None:
        """An offset confirms (forgets) every earlier update; a negative one keeps only the last -offset."""
        if not offset:
            return
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _ApiError(409, _WEBHOOK_ACTIVE)
        offset = _int_param(params, "offset")
        limit = min(max(_int_param(params, "limit", default=MAX_UPDATES_PER_CALL) or 1, 1), MAX_UPDATES_PER_CALL)
        timeout = max(_int_param(params, "timeout", default=0) or 0, 0)
        # Only one getUpdates may wait at a time: a newer one ends the older with 409, as on Telegram.
        if self._active_poll is not None:
            self._active_poll.conflict = _OTHER_POLL
            self._active_poll.wake.set()
        self._confirm(offset)
        self._remember_allowed(_object_param(params, "allowed_updates"))
        self._drop_unwanted()
        if self._updates or timeout == 0 or self._closing:
            return copy.deepcopy(self._updates[:limit])
        poll = _Poll()
        self._active_poll = poll
        try:
            async with asyncio.timeout(timeout):
                while not self._updates and poll.conflict is None and not self._closing:
                    poll.wake.clear()
                    await poll.wake.wait()
                    self._drop_unwanted()
        except TimeoutError:
            pass
        finally:
            if self._active_poll is poll:
                self._active_poll = None
        if poll.conflict is not None:
            raise _ApiError(409, poll.conflict)
        return copy.deepcopy(self._updates[:limit])

    def _remember_allowed(self, allowed: Any) -> None:
        """allowed_updates persists until it is given again; an empty list means the default set."""
        if allowed is None:
            return
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            raise _bad_request("can't parse allowed updates")
        self._allowed_updates = frozenset(allowed) or None

    def _drop_unwanted(self) -> None:
        """Telegram never delivers update kinds the bot did not ask for (by default: reactions, chat_member)."""

        def wanted(update: Mapping[str, Any]) -> bool:
            kinds = [key for key in update if key != "update_id"]
            if not kinds:
                return True
            if self._allowed_updates is None:
                return kinds[0] not in _NOT_BY_DEFAULT
            return kinds[0] in self._allowed_updates

        self._updates = [update for update in self._updates if wanted(update)]

    async def _set_webhook(self, params: dict[str, Any]) -> _Described:
        url = _str_param(params, "url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        # Telegram demands https on 443/80/88/8443; the peer also takes http, so a test can serve the
        # webhook on loopback without certificates.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _str_param(params, "secret_token")
        if secret is not None and _SECRET_RE.fullmatch(secret) is None:
            raise _bad_request("secret token contains unallowed characters")
        max_connections = _int_param(params, "max_connections", default=40) or 40
        allowed_updates = _object_param(params, "allowed_updates")
        self._remember_allowed(allowed_updates)
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        already = self.webhook_url == url
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_max_connections = min(max(max_connections, 1), 100)
        self.webhook_allowed_updates = allowed_updates
        if self._active_poll is not None:
            self._active_poll.conflict = _POLL_VS_SET_WEBHOOK
            self._active_poll.wake.set()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: dict[str, Any]) -> _Described:
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        was_set = self.webhook_url is not None
        self.webhook_url = None
        self.webhook_secret = None
        self.webhook_max_connections = None
        self.webhook_allowed_updates = None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.webhook_allowed_updates is not None:
                info["allowed_updates"] = list(self.webhook_allowed_updates)
        return info

    def _known_chat(self, params: Mapping[str, Any]) -> int:
        """The chat a method addresses; only chats whose user wrote to the bot exist for it, as on Telegram."""
        if params.get("chat_id") in (None, ""):
            raise _bad_request("chat_id is empty")
        try:
            chat_id = _int_param(params, "chat_id")
        except _ApiError as error:
            raise _bad_request("chat not found") from error
        if chat_id is None or chat_id not in self._users:
            raise _bad_request("chat not found")
        return chat_id

    @staticmethod
    def _message_text(params: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """The text and entities of sendMessage or editMessageText, checked and trimmed as Telegram does."""
        text = _str_param(params, "text")
        if not text:
            raise _bad_request("message text is empty")
        explicit = _object_param(params, "entities")
        if explicit is not None:
            if not isinstance(explicit, list) or not all(isinstance(entity, dict) for entity in explicit):
                raise _bad_request("can't parse entities JSON object")
            entities = copy.deepcopy(explicit)
        else:
            text, entities = _parse_text(text, _str_param(params, "parse_mode"))
        text, entities = _strip_text(text, entities)
        if not text:
            raise _bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return text, entities

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._known_chat(params)
        text, entities = self._message_text(params)
        keyboard = _inline_keyboard(_object_param(params, "reply_markup"))
        message: dict[str, Any] = {
            "message_id": 0,
            "from": {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat(chat_id),
            "date": _now(),
        }
        reply_to = self._replied_message(chat_id, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message["text"] = text
        if entities:
            message["entities"] = entities
        if keyboard is not None:
            message["reply_markup"] = keyboard
        message["message_id"] = self._next_message_id(chat_id)
        self._messages[chat_id, message["message_id"]] = message
        self._sent.append((chat_id, message["message_id"]))
        return copy.deepcopy(message)

    def _replied_message(self, chat_id: int, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """reply_parameters (or the older reply_to_message_id): the message quoted by the reply."""
        reply = _object_param(params, "reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict):
            raise _bad_request("can't parse reply parameters JSON object")
        message_id = _int_param(reply, "message_id")
        replied = self._messages.get((chat_id, message_id or 0))
        if replied is None:
            if _bool_param(reply, "allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        quoted = copy.deepcopy(replied)
        quoted.pop("reply_to_message", None)
        return quoted

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = _str_param(params, "callback_query_id")
        if query_id is None or self._queries.get(query_id, True):
            raise _ApiError(400, _QUERY_INVALID)
        self._queries[query_id] = True
        return True

    def _message_to_edit(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The bot's own message that an edit method addresses (chat_id + message_id)."""
        if params.get("inline_message_id") not in (None, ""):
            raise _bad_request("MESSAGE_ID_INVALID")  # the peer issues no inline messages
        chat_id = self._known_chat(params)
        message_id = _int_param(params, "message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"].get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return message

    @staticmethod
    def _edited_keyboard(params: Mapping[str, Any]) -> dict[str, Any] | None:
        """An edit's reply_markup: only an inline keyboard is allowed; none removes the keyboard."""
        markup = _object_param(params, "reply_markup")
        if markup is not None and not (isinstance(markup, dict) and "inline_keyboard" in markup):
            raise _ApiError(400, _BAD_MARKUP)
        return _inline_keyboard(markup)

    @staticmethod
    def _apply_edit(message: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        """Applies an edit (a None value removes the field); the same content again is refused, as on Telegram."""
        if all(message.get(key) == value for key, value in changes.items()):
            raise _ApiError(400, _NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message_to_edit(params)
        text, entities = self._message_text(params)
        # Telegram drops the inline keyboard of a message whose text is edited without a reply_markup.
        changes = {"text": text, "entities": entities or None, "reply_markup": self._edited_keyboard(params)}
        return self._apply_edit(message, changes)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message_to_edit(params)
        return self._apply_edit(message, {"reply_markup": self._edited_keyboard(params)})

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._known_chat(params)
        if _str_param(params, "action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _commands_key(self, params: Mapping[str, Any]) -> tuple[str, str]:
        """Commands are kept per (scope, language), and read back for exactly that pair, as on Telegram."""
        scope = _object_param(params, "scope")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad_request("unsupported bot command scope type")
        return json.dumps(scope, sort_keys=True), _str_param(params, "language_code") or ""

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = _object_param(params, "commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" must be an Array of BotCommand')
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        clean = []
        for command in commands:
            if not isinstance(command, dict) or _COMMAND_RE.fullmatch(str(command.get("command", ""))) is None:
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": command["command"], "description": description})
        key = self._commands_key(params)
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True
