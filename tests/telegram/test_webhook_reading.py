"""The webhook reads a citizen's text straight from Telegram's JSON; it must read it as python-telegram-bot does."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.handlers.telegram import _language_hint, _plain_text

BOT = Bot("123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11")

LANGUAGE_CODES = st.one_of(
    st.none(), st.sampled_from(["fi", "sv", "en", "en-GB", "de", "SV-fi", ""]), st.text(max_size=5)
)
MESSAGES = st.fixed_dictionaries(
    {
        "message_id": st.integers(min_value=1, max_value=10**6),
        "date": st.integers(min_value=0, max_value=2**31),
        "chat": st.fixed_dictionaries(
            {
                "id": st.integers(min_value=-(10**12), max_value=10**12),
                "type": st.sampled_from(["private", "group", "supergroup", "channel"]),
            }
        ),
    },
    optional={
        "text": st.one_of(st.text(max_size=80), st.text(max_size=20).map(lambda t: "/" + t)),
        "from": st.fixed_dictionaries(
            {
                "id": st.integers(min_value=1, max_value=10**9),
                "is_bot": st.booleans(),
                "first_name": st.text(max_size=8),
            },
            optional={"language_code": LANGUAGE_CODES},
        ),
        "sticker": st.just(
            {
                "file_id": "x",
                "file_unique_id": "y",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        ),
    },
)
UPDATES = st.builds(
    lambda number, kind, message, extra: {"update_id": number, kind: message, **extra},
    st.integers(min_value=1, max_value=2**31),
    st.sampled_from(["message", "message", "message", "edited_message"]),
    MESSAGES,
    st.one_of(st.just({}), st.just({"edited_message": None})),
)


def ptb_reading(data: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """What ``_dispatch`` takes from python-telegram-bot's Update for a citizen's words, or None."""
    update = Update.de_json(data, BOT)
    message = update.message
    if update.callback_query is not None or message is None or message.chat.type != "private":
        return None
    if set(data) != {"update_id", "message"} or message.text is None or message.text.startswith("/"):
        return None
    return str(message.chat.id), message.text, _language_hint(update)


@given(UPDATES)
def test_a_private_text_message_is_read_from_the_json_as_python_telegram_bot_reads_it(data: dict[str, Any]) -> None:
    assert _plain_text(data) == ptb_reading(data)


def test_only_a_plain_private_text_message_takes_the_short_way() -> None:
    message = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 42, "type": "private"},
        "text": "hei",
        "from": {"id": 42, "is_bot": False, "first_name": "M", "language_code": "sv-FI"},
    }
    assert _plain_text({"update_id": 1, "message": message}) == ("42", "hei", "sv")
    assert _plain_text({"update_id": 1, "message": {**message, "text": "/start"}}) is None
    assert _plain_text({"update_id": 1, "message": {**message, "chat": {"id": 42, "type": "group"}}}) is None
    assert _plain_text({"update_id": 1, "message": {**message, "chat": {"id": "42", "type": "private"}}}) is None
    assert _plain_text({"update_id": 1, "message": {k: v for k, v in message.items() if k != "text"}}) is None
    assert _plain_text({"update_id": 1, "edited_message": message}) is None
    assert _plain_text({"update_id": 1, "message": message, "callback_query": {}}) is None
    assert _plain_text({"update_id": 1, "message": {**message, "from": "someone"}}) == ("42", "hei", None)
