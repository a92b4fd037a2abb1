"""The live queues and inboxes: which conversations wait for whom, in what order, held by whom.

Entries are snapshots of conversation states, rebuilt whenever a conversation changes
(the dialogue core tells the desk inside the conversation's lock), so the queues never
drift from what is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bot.dialogue.state import ConversationState


@dataclass(frozen=True, slots=True)
class Entry:
    """A conversation waiting in a team's queue, held by an advisor, or with a message in the team's inbox."""

    id: str
    team: str
    status: str
    priority: int
    crisis: bool
    reason: str | None
    topic: str | None
    language: str
    channel: str
    queued_at: dt.datetime | None
    handoff_at: dt.datetime | None
    assigned_to: int | None
    message_at: dt.datetime | None
    answered_at: dt.datetime | None
    reply_by: dt.date | None
    last_citizen_at: dt.datetime | None
    #: In memory only: since when the holder owes the citizen an answer, and when they took it.
    awaiting_reply_since: dt.datetime | None = None
    assigned_at: dt.datetime | None = None

    @classmethod
    def of(cls, state: ConversationState, previous: Entry | None = None) -> Entry | None:
        """The entry of a conversation, or None when it is with the bot (or ended) and leaves no message waiting."""
        status: str
        if state.status in ("queued", "assigned") and state.team:
            status = state.status
        elif state.message_waiting and state.team:
            status = "message"
        else:
            return None
        same_holder = previous is not None and previous.assigned_to == state.assigned_to
        return cls(
            id=state.id,
            team=state.team,
            status=status,
            priority=state.priority,
            crisis=state.priority > 0 or state.handoff_reason == "crisis",
            reason=state.handoff_reason,
            topic=state.topic,
            language=state.language,
            channel=state.channel,
            queued_at=state.queued_at or state.handoff_at,
            handoff_at=state.handoff_at,
            assigned_to=state.assigned_to if status == "assigned" else None,
            message_at=state.message_at,
            answered_at=state.answered_at,
            reply_by=state.reply_by,
            last_citizen_at=previous.last_citizen_at if previous else state.last_activity_at,
            awaiting_reply_since=previous.awaiting_reply_since if previous and same_holder else None,
            assigned_at=previous.assigned_at if previous and same_holder else None,
        )

    @property
    def message_waiting(self) -> bool:
        """Whether a left message waits for an answer."""
        return self.message_at is not None and self.answered_at is None

    def visible_key(self) -> tuple[Any, ...]:
        """What the consoles show of the entry; a change of anything else is not worth a frame."""
        return (
            self.team,
            self.status,
            self.priority,
            self.reason,
            self.topic,
            self.language,
            self.assigned_to,
            self.queued_at,
            self.message_at,
            self.answered_at,
        )

    def order(self) -> tuple[int, dt.datetime]:
        """Crisis first, then whoever has waited longest."""
        return (0 if self.crisis else 1, self.queued_at or self.message_at or dt.datetime.min.replace(tzinfo=dt.UTC))

    def with_changes(self, **changes: Any) -> Entry:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def as_dict(self, position: int | None, assignee: str | None) -> dict[str, Any]:
        """The API's Entry object (docs/console-api.md)."""
        return {
            "id": self.id,
            "team": self.team,
            "status": self.status,
            "priority": self.priority,
            "crisis": self.crisis,
            "reason": self.reason,
            "topic": self.topic,
            "language": self.language,
            "channel": self.channel,
            "queued_at": _iso(self.queued_at),
            "handoff_at": _iso(self.handoff_at),
            "message_at": _iso(self.message_at),
            "assigned_to": {"id": self.assigned_to, "display_name": assignee} if self.assigned_to else None,
            "position": position,
            "reply_by": self.reply_by.isoformat() if self.reply_by else None,
            "message_waiting": self.message_waiting,
            "last_citizen_at": _iso(self.last_citizen_at),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class Queues:
    """Every entry, by conversation; orders are computed on demand (queues hold hundreds, not millions)."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def get(self, conversation_id: str) -> Entry | None:
        """The entry of a conversation, if it has one."""
        return self._entries.get(conversation_id)

    def put(self, entry: Entry) -> None:
        """Add or replace an entry."""
        self._entries[entry.id] = entry

    def remove(self, conversation_id: str) -> Entry | None:
        """Drop an entry; returns what it was."""
        return self._entries.pop(conversation_id, None)

    def waiting(self, team: str) -> list[Entry]:
        """A team's queue in serving order."""
        return sorted((e for e in self._entries.values() if e.status == "queued" and e.team == team), key=Entry.order)

    def positions(self, team: str) -> dict[str, int]:
        """Each waiting conversation's place in its team's queue, 1 first."""
        return {entry.id: place for place, entry in enumerate(self.waiting(team), start=1)}

    def position(self, entry: Entry) -> int | None:
        """One waiting conversation's place in its team's queue: counted, not sorted (asked for one entry often)."""
        if entry.status != "queued":
            return None
        order = entry.order()
        return 1 + sum(
            1
            for other in self._entries.values()
            if other.status == "queued" and other.team == entry.team and other.id != entry.id and other.order() < order
        )

    def inbox(self, teams: Iterable[str] | None = None) -> list[Entry]:
        """Left messages still to answer, crisis first, then oldest first."""
        wanted = set(teams) if teams is not None else None
        found = [e for e in self._entries.values() if e.message_waiting and (wanted is None or e.team in wanted)]
        return sorted(found, key=lambda e: (0 if e.crisis else 1, e.message_at))

    def held_by(self, advisor_id: int) -> list[Entry]:
        """The conversations an advisor holds."""
        return [e for e in self._entries.values() if e.status == "assigned" and e.assigned_to == advisor_id]

    def holding(self, advisor_id: int) -> int:
        """How many conversations an advisor holds."""
        return sum(1 for e in self._entries.values() if e.status == "assigned" and e.assigned_to == advisor_id)
