"""The one internal message model that every channel speaks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Sender = Literal["citizen", "bot", "advisor", "system"]


@dataclass(frozen=True, slots=True)
class Button:
    """A quick reply: what the citizen sees, and the action it sends back."""

    label: str
    action: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form used in frames and in storage."""
        return {"label": self.label, "action": self.action}


@dataclass(frozen=True, slots=True)
class Inbound:
    """What a channel hands to the dialogue core: typed text or a pressed button, never both."""

    conversation_id: str
    text: str | None = None
    action: str | None = None
    #: The button's label as the citizen saw it; stored as their message.
    label: str | None = None
    #: The sender's own id for the message, so a resent message is processed once.
    client_id: str | None = None
    #: The platform's number for the delivery that carried it (a Telegram ``update_id``), stored in the
    #: same transaction as the turn: a redelivery is then recognised even after a crash in between.
    update_id: int | None = None
    #: The channel's own handle of where the message came from (a socket); the core hands it back
    #: to the channel's delivery, which answers that origin itself.
    origin: object | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot (or the system) says, before it has a place in the conversation."""

    text: str
    kind: str = "text"
    buttons: tuple[Button, ...] = ()
    sender: Sender = "bot"
    #: The advisor who wrote it (id for the record, display name for the citizen).
    advisor_id: int | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """A stored message of a conversation, as channels deliver it."""

    conversation_id: str
    seq: int
    sender: Sender
    kind: str
    text: str
    language: str
    created_at: dt.datetime
    buttons: tuple[Button, ...] = ()
    client_id: str | None = None
    author: str | None = None
    advisor_id: int | None = None
    #: The bot's reading of a citizen's typed message (intent, topic, action, confidence, redactions).
    reading: dict[str, Any] | None = field(default=None, compare=False)

    def frame(self) -> dict[str, Any]:
        """The widget protocol's ``message`` frame (docs/widget-protocol.md)."""
        frame: dict[str, Any] = {
            "type": "message",
            "seq": self.seq,
            "sender": self.sender,
            "kind": self.kind,
            "text": self.text,
            "lang": self.language,
            "at": self.created_at.isoformat(timespec="seconds"),
            "buttons": [button.as_dict() for button in self.buttons],
        }
        if self.client_id:
            frame["id"] = self.client_id
        if self.author:
            frame["author"] = self.author
        return frame
