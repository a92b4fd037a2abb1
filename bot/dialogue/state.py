"""A conversation as the dialogue core holds it in memory, mirrored to the ``conversations`` row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

#: bot: the bot answers; queued: waiting for an advisor; assigned: an advisor holds it (the bot is silent);
#: closed: the citizen ended it. A left message is not a status: it waits in the inbox whatever the status.
Status = Literal["bot", "queued", "assigned", "closed"]


@dataclass
class ConversationState:
    """Everything the policy reads and changes; the core writes it back after every turn."""

    id: str
    channel: str
    language: str
    status: Status
    created_at: dt.datetime
    last_activity_at: dt.datetime
    topic: str | None = None
    priority: int = 0
    last_seq: int = 0
    handoff_reason: str | None = None
    handoff_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    channel_ref: str | None = None
    #: The advisors' team whose queue or inbox it is in (or was last).
    team: str | None = None
    #: The advisor holding it now.
    assigned_to: int | None = None
    #: Since when it waits in its queue; kept through transfers and returns, so nobody loses their place.
    queued_at: dt.datetime | None = None
    #: A left message: the SHA-256 of its reference code, when it was left and answered, the promised date.
    reference_hash: str | None = None
    message_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    reply_by: dt.date | None = None
    #: How the last advisor closed their part: answered | referred | no_reply.
    outcome: str | None = None
    #: The dialogue's own memory (see the properties below); stored as JSON.
    dialogue: dict[str, Any] = field(default_factory=dict)
    #: Client message ids already stored, and their seq, so a resend is acknowledged, not reprocessed.
    client_ids: dict[str, int] = field(default_factory=dict)
    #: Whether the row exists in the database yet.
    stored: bool = False

    def next_seq(self) -> int:
        """Reserve the next message number."""
        self.last_seq += 1
        return self.last_seq

    @property
    def language_locked(self) -> bool:
        """Whether the citizen's language is settled (detected with confidence, or chosen)."""
        return bool(self.dialogue.get("language_locked"))

    @property
    def misses(self) -> int:
        """Messages in a row the bot did not understand."""
        return int(self.dialogue.get("misses", 0))

    @property
    def message_waiting(self) -> bool:
        """Whether a message the citizen left waits for an advisor's answer."""
        return self.message_at is not None and self.answered_at is None

    @property
    def awaiting(self) -> str | None:
        """What the bot asked and waits an answer to.

        ``helpful``, ``thumbs``, ``nps``, ``comment``, ``leave_message`` (offered), ``message_text`` (writing it).
        """
        value = self.dialogue.get("awaiting")
        return str(value) if value else None
