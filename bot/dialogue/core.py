"""The dialogue core: every channel hands it messages, and it redacts, reads, decides, stores and delivers."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from nlu.contract import LANGUAGES
from nlu.errors import NeuvoError
from nlu.interpreter import Interpreter

from ..redaction import redact
from ..storage.store import Store, Writes, conversation_row, message_row
from .model import Inbound, Outbound, Reply
from .policy import DialoguePolicy, Turn
from .state import ConversationState

logger = logging.getLogger(__name__)

#: A channel's way of delivering stored messages to a conversation's citizen (except to ``origin``,
#: the place the triggering message came from, which the channel answers itself).
Delivery = Callable[[ConversationState, Sequence[Outbound], object | None], Awaitable[None]]
#: A channel's way of showing a citizen something that is not a stored message (queue position, typing).
Signal = Callable[[ConversationState, dict[str, Any]], Awaitable[None]]
#: Conversations kept in memory at most; idle ones beyond this are dropped (they live in the database).
CACHE_LIMIT = 20_000


class ConversationObserver(Protocol):
    """Who else needs to know when a conversation changed (the handoff desk and its consoles)."""

    def conversation_changed(
        self, state: ConversationState, messages: Sequence[Outbound], events: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        """Called inside the conversation's lock, right after the change was stored; must not block."""

    def citizen_typing(self, state: ConversationState) -> None:
        """The citizen is composing a message."""


@dataclass
class Change:
    """What an action on a conversation (an advisor's, or a timer's) says and records.

    Built by a function that runs under the conversation's lock and may change the state
    it is given; raising instead leaves nothing stored.
    """

    replies: list[Reply] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)
    departures: list[dict[str, Any]] = field(default_factory=list)
    #: Whatever the caller wants back from inside the lock (for example the new queue entry).
    result: Any = None


class UnknownConversation(NeuvoError, LookupError):
    """A message for a conversation that does not exist (or was purged)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What happened to an inbound message: its seq, whether it was a resend, and what was said."""

    seq: int
    duplicate: bool
    messages: tuple[Outbound, ...] = ()


def token_hash(token: str) -> str:
    """The stored form of a web token: its SHA-256, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


class DialogueCore:
    """One place where conversations change; channels only translate to and from the message model."""

    def __init__(
        self,
        store: Store,
        interpreter: Interpreter,
        policy: DialoguePolicy,
        *,
        default_language: str = "fi",
        timezone: str = "Europe/Helsinki",
        processing_slots: int = 2,
    ) -> None:
        self.store = store
        self.interpreter = interpreter
        self.policy = policy
        self.default_language = default_language
        self.timezone = ZoneInfo(timezone)
        self._deliveries: dict[str, Delivery] = {}
        self._signals: dict[str, Signal] = {}
        self._observers: list[ConversationObserver] = []
        self._cache: OrderedDict[str, ConversationState] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        # Admission control for the CPU-bound part of a turn (redaction, NLU, policy). Waiting turns
        # park here instead of crowding the event loop's ready queue, so commits and socket I/O,
        # which need several loop steps each, are not starved behind hundreds of classifications.
        self._processing = asyncio.Semaphore(processing_slots)

    def register_channel(self, name: str, delivery: Delivery, signal: Signal | None = None) -> None:
        """Let the core deliver messages (and signals, if the channel shows them) to a channel's citizens."""
        self._deliveries[name] = delivery
        if signal is not None:
            self._signals[name] = signal

    def add_observer(self, observer: ConversationObserver) -> None:
        """Tell ``observer`` about every stored change of every conversation."""
        self._observers.append(observer)

    def _changed(
        self, state: ConversationState, messages: Sequence[Outbound], events: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        for observer in self._observers:
            try:
                observer.conversation_changed(state, messages, events)
            except Exception:
                # An observer's bug must not undo or block a stored turn.
                logger.exception("conversation observer failed", extra={"conversation": state.id})

    async def signal(self, state: ConversationState, payload: dict[str, Any]) -> None:
        """Show the citizen something that is not a message (queue position, an advisor typing)."""
        signal = self._signals.get(state.channel)
        if signal is not None:
            await signal(state, payload)

    def cached(self, conversation_id: str) -> ConversationState | None:
        """A conversation's live state if it is in memory."""
        return self._cache.get(conversation_id)

    async def citizen_typing(self, conversation_id: str) -> None:
        """The citizen is typing: the advisor holding the conversation sees it."""
        state = self._cache.get(conversation_id)
        if state is None or state.status not in ("queued", "assigned"):
            return
        for observer in self._observers:
            observer.citizen_typing(state)

    # --- conversations -----------------------------------------------------------------
    def _remember(self, state: ConversationState) -> None:
        self._cache[state.id] = state
        self._cache.move_to_end(state.id)
        while len(self._cache) > CACHE_LIMIT:
            oldest, _ = next(iter(self._cache.items()))
            lock = self._locks.get(oldest)
            if lock is not None and lock.locked():
                break
            self._cache.pop(oldest)
            self._locks.pop(oldest, None)

    def forget(self, conversation_id: str) -> None:
        """Drop a conversation from memory (after it was purged or erased)."""
        self._cache.pop(conversation_id, None)

    async def conversation(self, conversation_id: str) -> ConversationState:
        """A conversation's live state.

        Raises:
            UnknownConversation: when there is no such conversation.

        """
        state = self._cache.get(conversation_id)
        if state is None:
            state = await self.store.find(conversation_id)
            if state is None:
                raise UnknownConversation(conversation_id)
            self._remember(state)
        return state

    def lock(self, conversation_id: str) -> asyncio.Lock:
        """The lock that keeps one conversation's turns in order."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    async def resume_web(self, token: str) -> ConversationState | None:
        """The web conversation of a token, or None when the token is unknown (or purged)."""
        state = await self.store.find_by_token(token_hash(token))
        if state is None:
            return None
        cached = self._cache.get(state.id)
        if cached is not None:
            return cached
        self._remember(state)
        return state

    async def open(
        self, channel: str, language: str | None = None, *, channel_ref: str | None = None
    ) -> tuple[ConversationState, str, tuple[Outbound, ...]]:
        """Start a conversation: returns it, its new secret token, and its opening messages (stored)."""
        now = dt.datetime.now(dt.UTC)
        token = secrets.token_urlsafe(32)
        state = ConversationState(
            id=uuid.uuid4().hex,
            channel=channel,
            language=language if language in LANGUAGES else self.default_language,
            status="bot",
            created_at=now,
            last_activity_at=now,
            channel_ref=channel_ref,
        )
        opening = self.policy.opening(state)
        outbound = self._stamp(state, opening, now)
        row = conversation_row(state, now) | {"token_hash": token_hash(token)}
        writes = Writes(
            new_conversation=row,
            messages=[message_row(m) for m in outbound],
            participants=[
                {"conversation_id": state.id, "role": role, "advisor_id": None, "joined_at": now, "left_at": None}
                for role in ("citizen", "bot")
            ],
            events=[_event(state.id, "conversation_opened", now, {"channel": channel, "language": state.language})],
        )
        await self.store.write(writes)
        state.stored = True
        self._remember(state)
        logger.info("conversation opened", extra={"conversation": state.id, "channel": channel})
        return state, token, outbound

    # --- actions of advisors and timers ---------------------------------------------------
    async def act(
        self, conversation_id: str, change: Callable[[ConversationState, dt.datetime], Change]
    ) -> tuple[ConversationState, Change, tuple[Outbound, ...]]:
        """Change a conversation outside a citizen's turn (an advisor claims it, replies, closes it).

        ``change`` runs under the conversation's lock, so it sees the state every earlier
        turn and action left and no other can interleave: this is what makes a claim
        exactly-once. Its rows are stored before this returns; then the citizen's channel
        and the observers hear of it.

        Raises:
            UnknownConversation: for a conversation that does not exist.
            DatabaseError: when the change could not be stored (nothing of it was).
            Whatever ``change`` raises, with the state untouched.

        """
        async with self.lock(conversation_id):
            state = await self.conversation(conversation_id)
            backup = _copy(state)
            now = dt.datetime.now(dt.UTC)
            try:
                done = change(state, now)
            except BaseException:
                _restore(state, backup)
                raise
            outbound = self._stamp(state, done.replies, now)
            writes = Writes(
                conversation=conversation_row(state, now),
                messages=[message_row(m) for m in outbound],
                events=[_event(state.id, name, now, data) for name, data in done.events],
                notes=[{"conversation_id": state.id, "created_at": now} | note for note in done.notes],
                audit=[entry | {"at": now, "conversation_id": state.id} for entry in done.audit],
                participants=[
                    {"conversation_id": state.id, "joined_at": now, "left_at": None} | p for p in done.participants
                ],
                departures=done.departures,
            )
            if state.status == "closed" and backup.status != "closed":
                writes.stat = self.statistics(state, ended_by="advisor")
            try:
                await self.store.write(writes)
            except Exception:
                self.forget(state.id)
                raise
            self._changed(state, outbound, done.events)
        await self.deliver(state, outbound)
        return state, done, outbound

    async def erase(self, conversation_id: str) -> bool:
        """Delete a conversation and everything in it now, at the citizen's request.

        Only the anonymous statistics row stays (as after the retention purge). The desk
        and the consoles hear that it is gone, like any change. Returns False when there
        was no such conversation.

        Raises:
            DatabaseError: when it could not be deleted (nothing was).

        """
        async with self.lock(conversation_id):
            try:
                state = await self.conversation(conversation_id)
            except UnknownConversation:
                return False
            ended = _copy(state)
            ended.status = "closed"
            ended.message_at = None
            ended.closed_at = ended.closed_at or dt.datetime.now(dt.UTC)
            stat = self.statistics(ended, ended_by="citizen")
            await self.store.write(Writes(stat=stat, erased=[conversation_id]))
            self.forget(conversation_id)
            self._locks.pop(conversation_id, None)
            self._changed(ended, (), [("conversation_erased", {"by": "citizen"})])
        logger.info("conversation erased", extra={"conversation": conversation_id, "channel": state.channel})
        return True

    # --- turns ---------------------------------------------------------------------------
    async def receive(self, inbound: Inbound) -> Receipt:
        """Handle one citizen message or button press, in order, exactly once per client id.

        The citizen's message and everything the bot says in reply are stored in one
        write before this returns; the caller acknowledges only then.

        Raises:
            UnknownConversation: for a conversation that does not exist.
            DatabaseError: when the turn could not be stored (nothing of it was).

        """
        async with self.lock(inbound.conversation_id):
            state = await self.conversation(inbound.conversation_id)
            if inbound.client_id and inbound.client_id in state.client_ids:
                return Receipt(state.client_ids[inbound.client_id], duplicate=True)
            started = time.perf_counter()
            async with self._processing:
                citizen, replies, writes = await self._turn(state, inbound)
            try:
                await self.store.write(writes)
            except Exception:
                self.forget(state.id)  # the database is the truth; reload on the next turn
                raise
            if inbound.client_id:
                state.client_ids[inbound.client_id] = citizen.seq
            self._changed(state, (citizen, *replies), writes_events(writes))
            logger.info(
                "turn",
                extra={
                    "conversation": state.id,
                    "channel": state.channel,
                    "status": state.status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        await self.deliver(state, (citizen, *replies), origin=inbound.origin)
        return Receipt(citizen.seq, duplicate=False, messages=(citizen, *replies))

    async def _turn(self, state: ConversationState, inbound: Inbound) -> tuple[Outbound, tuple[Outbound, ...], Writes]:
        """Redact, read, decide: the citizen's stored message, the replies, and the rows to write."""
        snapshot = _snapshot(state)
        now = dt.datetime.now(dt.UTC)
        reading_fields: dict[str, Any] = {}
        if inbound.text is not None:
            redacted = redact(inbound.text)
            reading = await self.interpreter.parse(redacted.text, state.language)
            said = redacted.text
            reading_fields = {
                "intent": reading.intent,
                "topic": reading.topic,
                "action": reading.action,
                "confidence": round(reading.confidence, 4),
                "redactions": list(redacted.kinds) or None,
            }
            turn = self.policy.on_text(state, reading, redacted.kinds)
            kind = "text"
        else:
            action = inbound.action or ""
            said = redact(inbound.label or action).text
            turn = self.policy.on_action(state, action)
            kind = "choice"
        state.dialogue["citizen_messages"] = int(state.dialogue.get("citizen_messages", 0)) + 1
        state.last_activity_at = now
        citizen = Outbound(
            state.id,
            state.next_seq(),
            "citizen",
            turn.citizen_kind or kind,
            said,
            state.language,
            now,
            client_id=inbound.client_id,
            reading=reading_fields or None,
        )
        replies = self._stamp(state, turn.replies, now)
        writes = self._writes(state, citizen, reading_fields, replies, turn, snapshot, now)
        if inbound.update_id is not None:
            writes.processed_updates.append(inbound.update_id)
        return citizen, replies, writes

    async def deliver(
        self, state: ConversationState, outbound: Sequence[Outbound], origin: object | None = None
    ) -> None:
        """Hand stored messages to the conversation's channel."""
        delivery = self._deliveries.get(state.channel)
        if delivery is not None and outbound:
            await delivery(state, outbound, origin)

    def _stamp(self, state: ConversationState, replies: Sequence[Reply], now: dt.datetime) -> tuple[Outbound, ...]:
        return tuple(
            Outbound(
                state.id,
                state.next_seq(),
                reply.sender,
                reply.kind,
                reply.text,
                state.language,
                now,
                reply.buttons,
                author=reply.author,
                advisor_id=reply.advisor_id,
            )
            for reply in replies
        )

    def _writes(
        self,
        state: ConversationState,
        citizen: Outbound,
        reading: dict[str, Any],
        replies: Sequence[Outbound],
        turn: Turn,
        snapshot: dict[str, Any],
        now: dt.datetime,
    ) -> Writes:
        writes = Writes(
            conversation=conversation_row(state, now),
            messages=[message_row(citizen, **reading), *(message_row(m) for m in replies)],
            events=[_event(state.id, name, now, data) for name, data in turn.events],
        )
        if turn.feedback:
            given = dict(state.dialogue.get("feedback") or {})
            given.update(turn.feedback)
            state.dialogue["feedback"] = given
            writes.conversation = conversation_row(state, now)
            writes.feedback = {
                "conversation_id": state.id,
                "thumbs": given.get("thumbs"),
                "nps": given.get("nps"),
                "comment": given.get("comment"),
                "created_at": now,
                "updated_at": now,
            }
        if state.status == "closed" and (snapshot["status"] != "closed" or turn.feedback):
            writes.stat = self.statistics(state)
        return writes

    def statistics(self, state: ConversationState, ended_by: str | None = "citizen") -> dict[str, Any]:
        """The anonymous ``conversation_stats`` row of a conversation."""
        started = state.created_at.astimezone(self.timezone)
        given = state.dialogue.get("feedback") or {}
        wait = None
        if state.handoff_at is not None and state.dialogue.get("advisor_joined_at"):
            joined = dt.datetime.fromisoformat(str(state.dialogue["advisor_joined_at"]))
            wait = max((joined - state.handoff_at).total_seconds(), 0.0)
        return {
            "conversation_id": state.id,
            "started_at": state.created_at,
            "day": started.date(),
            "hour": started.hour,
            "channel": state.channel,
            "language": state.language,
            "topic": state.topic,
            "crisis": state.handoff_reason == "crisis" or bool(state.dialogue.get("crisis")),
            "handed_off": state.handoff_at is not None,
            "wait_seconds": wait,
            "citizen_messages": int(state.dialogue.get("citizen_messages", 0)),
            "thumbs": given.get("thumbs"),
            "nps": given.get("nps"),
            "ended_by": ended_by if state.status == "closed" else None,
            "team": state.team,
            "outcome": state.outcome,
            "left_message": state.message_at is not None,
        }


def _snapshot(state: ConversationState) -> dict[str, Any]:
    return {"status": state.status}


def _copy(state: ConversationState) -> ConversationState:
    return dataclasses.replace(state, dialogue=copy.deepcopy(state.dialogue), client_ids=state.client_ids)


def _restore(state: ConversationState, backup: ConversationState) -> None:
    for name in ConversationState.__dataclass_fields__:
        setattr(state, name, getattr(backup, name))


def writes_events(writes: Writes) -> list[tuple[str, dict[str, Any]]]:
    """The (name, data) pairs of a write's event rows."""
    return [(row["name"], row["data"] or {}) for row in writes.events]


def _event(conversation_id: str, name: str, at: dt.datetime, data: dict[str, Any] | None) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "name": name, "at": at, "data": data or None}
