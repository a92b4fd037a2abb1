"""The conversation store: reads, and writes grouped into shared transactions (group commit).

Every turn of a conversation writes a few rows (the citizen's message, the bot's
replies, the conversation's new state, events). Under load many conversations
write at once; committing each turn on its own would spend the event loop on
transaction overhead. A :class:`Store` collects the writes of concurrent turns
and commits them together: each caller still awaits its own rows' commit before
it acknowledges anything, so "stored before acknowledged" holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..dialogue.model import Button, Outbound
from ..dialogue.state import ConversationState
from .database import DatabaseError, sqlite_writer
from .direct_sqlite import DirectStatements
from .schema import (
    AuditEntry,
    Conversation,
    ConversationStat,
    Event,
    Feedback,
    Message,
    Note,
    Participant,
    TelegramUpdate,
)

logger = logging.getLogger(__name__)

conversations = cast(Table, Conversation.__table__)
messages = cast(Table, Message.__table__)
events = cast(Table, Event.__table__)
participants = cast(Table, Participant.__table__)
feedback = cast(Table, Feedback.__table__)
stats = cast(Table, ConversationStat.__table__)
notes = cast(Table, Note.__table__)
audit_log = cast(Table, AuditEntry.__table__)
telegram_updates = cast(Table, TelegramUpdate.__table__)

#: The most turns one shared transaction takes; more wait for the next one, so no commit blocks long.
MAX_GROUP = 64


@dataclass
class Writes:
    """Rows one turn writes; committed together with other turns' writes."""

    new_conversation: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)
    feedback: dict[str, Any] | None = None
    stat: dict[str, Any] | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    #: Advisors who left a conversation (see :func:`departure`): their open participant row gets left_at.
    departures: list[dict[str, Any]] = field(default_factory=list)
    #: Telegram updates handled (their ``update_id``), so a redelivered one is not handled again.
    processed_updates: list[int] = field(default_factory=list)
    #: A pushing channel confirmed a conversation's messages sent up to this seq: {conversation id: seq}.
    delivered: dict[str, int] = field(default_factory=dict)
    #: Conversations to delete now, with everything in them (a citizen's "erase my data"); last of all.
    erased: list[str] = field(default_factory=list)


@dataclass
class _Rows:
    """The rows of a group of turns, merged per table (the last state of a conversation wins)."""

    new: list[dict[str, Any]]
    updated: dict[str, dict[str, Any]]
    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    feedback: dict[str, dict[str, Any]]
    stats: dict[str, dict[str, Any]]
    notes: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    departures: list[dict[str, Any]]
    processed: list[dict[str, Any]]
    delivered: list[dict[str, Any]]
    erased: list[dict[str, Any]]

    @classmethod
    def of(cls, group: Sequence[Writes]) -> _Rows:
        now = dt.datetime.now(dt.UTC)
        delivered: dict[str, int] = {}
        for writes in group:
            for conversation_id, seq in writes.delivered.items():
                delivered[conversation_id] = max(seq, delivered.get(conversation_id, 0))
        return cls(
            new=[w.new_conversation for w in group if w.new_conversation],
            updated={w.conversation["id"]: w.conversation for w in group if w.conversation},
            messages=[m for w in group for m in w.messages],
            events=[e for w in group for e in w.events],
            participants=[p for w in group for p in w.participants],
            feedback={w.feedback["conversation_id"]: w.feedback for w in group if w.feedback},
            stats={w.stat["conversation_id"]: w.stat for w in group if w.stat},
            notes=[n for w in group for n in w.notes],
            audit=[a for w in group for a in w.audit],
            departures=[d for w in group for d in w.departures],
            processed=[{"update_id": number, "processed_at": now} for w in group for number in w.processed_updates],
            delivered=[{"delivered_id": key, "delivered_up_to": seq} for key, seq in delivered.items()],
            erased=[{"erased_id": conversation_id} for w in group for conversation_id in w.erased],
        )

    def plan(self, statements: _Statements) -> list[tuple[Any, list[dict[str, Any]]]]:
        """The transaction's statements in foreign-key order, each with its rows (empty ones left out)."""
        plan: list[tuple[Any, list[dict[str, Any]]]] = [
            (statements.insert_conversation, self.new),
            # One multi-row upsert instead of one UPDATE per conversation; the rows always exist.
            (statements.update_conversations, list(self.updated.values())),
            (statements.insert_message, self.messages),
            (statements.insert_event, self.events),
            (statements.participant_left, self.departures),
            (statements.insert_participant, self.participants),
            (statements.insert_note, self.notes),
            (statements.insert_audit, self.audit),
            (statements.upsert_feedback, list(self.feedback.values())),
            (statements.upsert_stat, list(self.stats.values())),
            (statements.insert_processed_update, self.processed),
            (statements.mark_delivered, self.delivered),
            (statements.erase_conversation, self.erased),
        ]
        return [(statement, parameters) for statement, parameters in plan if parameters]


def conversation_row(state: ConversationState, now: dt.datetime) -> dict[str, Any]:
    """The ``conversations`` row of a state (all but the token, which is set once at creation)."""
    return {
        "id": state.id,
        "created_at": state.created_at,
        "channel": state.channel,
        "channel_ref": state.channel_ref,
        "language": state.language,
        "topic": state.topic,
        "status": state.status,
        "priority": state.priority,
        "state": state.dialogue,
        "last_seq": state.last_seq,
        "handoff_reason": state.handoff_reason,
        "handoff_at": state.handoff_at,
        "team": state.team,
        "assigned_to": state.assigned_to,
        "queued_at": state.queued_at,
        "reference_hash": state.reference_hash,
        "message_at": state.message_at,
        "answered_at": state.answered_at,
        "reply_by": state.reply_by,
        "outcome": state.outcome,
        "updated_at": now,
        "last_activity_at": state.last_activity_at,
        "closed_at": state.closed_at,
    }


def departure(conversation_id: str, advisor_id: int, at: dt.datetime) -> dict[str, Any]:
    """The parameters that close an advisor's participation in a conversation."""
    return {"departing_conversation": conversation_id, "departing_advisor": advisor_id, "departed_at": at}


def message_row(message: Outbound, **reading: Any) -> dict[str, Any]:
    """The ``messages`` row of a message."""
    return {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender,
        "kind": message.kind,
        "text": message.text,
        "buttons": [button.as_dict() for button in message.buttons] or None,
        "language": message.language,
        "intent": reading.get("intent"),
        "topic": reading.get("topic"),
        "action": reading.get("action"),
        "confidence": reading.get("confidence"),
        "redactions": reading.get("redactions"),
        "advisor_id": message.advisor_id,
        "author": message.author,
        "created_at": message.created_at,
    }


class Store:
    """Reads conversations and commits turns' writes in shared transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[tuple[Writes, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        #: The group committer's own connection, kept open (a pool checkout per commit costs more than the commit).
        self._writer: AsyncConnection | None = None
        #: SQLite: transactions run inline on a connection of their own (see database.sqlite_writer).
        self._sqlite = sqlite_writer(engine)
        self._sqlite_connection: Connection | None = None
        self._direct = DirectStatements(self._sqlite.dialect) if self._sqlite is not None else None
        self._checkpoints: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start committing (and, for SQLite, checkpointing)."""
        self._task = asyncio.create_task(self._run(), name="store-group-commit")
        if self._sqlite is not None:
            self._checkpoints = asyncio.create_task(self._checkpoint_regularly(), name="sqlite-checkpoints")

    async def _checkpoint_regularly(self, every: float = 2.0) -> None:
        """Move the WAL into the database file on a thread, without blocking writers (PASSIVE)."""
        assert self._sqlite is not None
        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(_checkpoint, self._sqlite)
            except SQLAlchemyError:
                logger.warning("sqlite checkpoint failed; will retry")

    async def close(self) -> None:
        """Commit what is pending and stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoints
            self._checkpoints = None
        if self._sqlite_connection is not None:
            self._sqlite_connection.close()
            self._sqlite_connection = None
        if self._sqlite is not None:
            await asyncio.to_thread(_checkpoint, self._sqlite)
            self._sqlite.dispose()

    # --- writes ----------------------------------------------------------------------
    async def write(self, writes: Writes) -> None:
        """Commit a turn's rows; returns once they are durable.

        Raises:
            DatabaseError: when they could not be stored (nothing of this turn was).

        """
        if self._task is None:
            await self._commit([writes])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((writes, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
                await self._commit_group(group)
            if self._closing and not self._pending:
                return

    async def _commit_group(self, group: list[tuple[Writes, asyncio.Future[None]]]) -> None:
        try:
            await self._commit([writes for writes, _ in group])
        except (SQLAlchemyError, OSError) as exc:
            if len(group) == 1:
                self._settle(group, DatabaseError(f"could not store: {exc.__class__.__name__}"))
                return
            # One bad turn must not fail the others: retry them one by one.
            logger.warning(
                "group commit failed, retrying singly", extra={"turns": len(group), "error": exc.__class__.__name__}
            )
            for item in group:
                await self._commit_group([item])
            return
        self._settle(group, None)

    @staticmethod
    def _settle(group: list[tuple[Writes, asyncio.Future[None]]], error: Exception | None) -> None:
        for _, future in group:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    async def _commit(self, group: Sequence[Writes]) -> None:
        rows = _Rows.of(group)
        if self._task is None:  # not started (tools, tests): a connection of its own
            async with self.engine.connect() as connection:
                await self._execute(connection, rows)
            return
        if self._sqlite is not None:
            self._execute_sqlite(rows)
            return
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._writer = await self.engine.connect()
        await self._execute(self._writer, rows)

    def _execute_sqlite(self, rows: _Rows) -> None:
        """The transaction of :meth:`_execute`, inline on the SQLite writer connection, in one go."""
        assert self._sqlite is not None
        assert self._direct is not None
        if self._sqlite_connection is None or self._sqlite_connection.invalidated:
            self._sqlite_connection = self._sqlite.connect()
        connection = self._sqlite_connection
        try:
            with connection.begin():
                for statement, parameters in rows.plan(_statements("sqlite")):
                    self._direct.execute(connection, statement, parameters)
        except Exception:
            self._sqlite_connection = None
            connection.close()
            raise

    async def _execute(self, connection: AsyncConnection, rows: _Rows) -> None:
        async with connection.begin():
            for statement, parameters in rows.plan(_statements(connection.dialect.name)):
                await connection.execute(statement, parameters)

    # --- reads -----------------------------------------------------------------------
    async def find_by_token(self, token_hash: str) -> ConversationState | None:
        """The web conversation a token belongs to."""
        return await self._find(conversations.c.token_hash == token_hash)

    async def find(self, conversation_id: str) -> ConversationState | None:
        """A conversation by id."""
        return await self._find(conversations.c.id == conversation_id)

    async def find_by_reference(self, reference_hash: str) -> ConversationState | None:
        """The conversation a left message's reference code belongs to."""
        return await self._find(conversations.c.reference_hash == reference_hash)

    async def find_by_channel_ref(self, channel: str, ref: str) -> ConversationState | None:
        """The newest open conversation of a channel's chat (Telegram)."""
        return await self._find(
            (conversations.c.channel == channel) & (conversations.c.channel_ref == ref),
            newest=True,
        )

    async def _find(self, condition: Any, *, newest: bool = False) -> ConversationState | None:
        query = select(conversations).where(condition)
        if newest:
            query = query.order_by(conversations.c.created_at.desc()).limit(1)
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
            if row is None:
                return None
            client_ids = await connection.execute(
                select(messages.c.client_id, messages.c.seq).where(
                    (messages.c.conversation_id == row["id"]) & messages.c.client_id.is_not(None)
                )
            )
            known = {client_id: seq for client_id, seq in client_ids}
        return ConversationState(
            id=row["id"],
            channel=row["channel"],
            language=row["language"],
            status=row["status"],
            created_at=row["created_at"],
            last_activity_at=row["last_activity_at"],
            topic=row["topic"],
            priority=row["priority"],
            last_seq=row["last_seq"],
            handoff_reason=row["handoff_reason"],
            handoff_at=row["handoff_at"],
            closed_at=row["closed_at"],
            channel_ref=row["channel_ref"],
            team=row["team"],
            assigned_to=row["assigned_to"],
            queued_at=row["queued_at"],
            reference_hash=row["reference_hash"],
            message_at=row["message_at"],
            answered_at=row["answered_at"],
            reply_by=row["reply_by"],
            outcome=row["outcome"],
            dialogue=dict(row["state"] or {}),
            client_ids=known,
            stored=True,
        )

    async def history(self, conversation_id: str, after_seq: int = 0, limit: int = 500) -> list[Outbound]:
        """A conversation's messages after a seq, in order (the newest ``limit`` of them)."""
        query = (
            select(messages)
            .where((messages.c.conversation_id == conversation_id) & (messages.c.seq > after_seq))
            .order_by(messages.c.seq.desc())
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            Outbound(
                conversation_id=row["conversation_id"],
                seq=row["seq"],
                sender=row["sender"],
                kind=row["kind"],
                text=row["text"],
                language=row["language"],
                created_at=row["created_at"],
                buttons=tuple(Button(b["label"], b["action"]) for b in (row["buttons"] or [])),
                client_id=row["client_id"],
                author=row["author"],
                advisor_id=row["advisor_id"],
                reading=_reading(row),
            )
            for row in reversed(rows)
        ]

    async def notes(self, conversation_id: str) -> list[dict[str, Any]]:
        """A conversation's internal notes, oldest first, as the console shows them."""
        query = select(notes).where(notes.c.conversation_id == conversation_id).order_by(notes.c.id)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            {
                "id": row["id"],
                "author": row["author"],
                "advisor_id": row["advisor_id"],
                "kind": row["kind"],
                "text": row["text"],
                "at": row["created_at"].isoformat(timespec="seconds"),
            }
            for row in rows
        ]

    async def count_messages(self, conversation_id: str) -> int:
        """How many messages a conversation has (for tests and reports)."""
        async with self.engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        select(func.count()).select_from(messages).where(messages.c.conversation_id == conversation_id)
                    )
                ).scalar_one()
            )

    async def conversation_ids(self, channel: str, ref: str) -> list[str]:
        """Every conversation of a channel's chat, newest first (a Telegram chat may have had several)."""
        query = (
            select(conversations.c.id)
            .where((conversations.c.channel == channel) & (conversations.c.channel_ref == ref))
            .order_by(conversations.c.created_at.desc())
        )
        async with self.engine.connect() as connection:
            return list((await connection.execute(query)).scalars())

    async def undelivered(self, channel: str) -> list[tuple[str, str, int]]:
        """Conversations of a pushing channel with stored messages it has not confirmed sent.

        Each as (conversation id, channel ref, last delivered seq); a channel resends the rest after a restart.
        """
        delivered = func.coalesce(conversations.c.delivered_seq, 0)
        query = select(conversations.c.id, conversations.c.channel_ref, delivered).where(
            (conversations.c.channel == channel)
            & conversations.c.channel_ref.is_not(None)
            & (conversations.c.last_seq > delivered)
        )
        async with self.engine.connect() as connection:
            return [(row[0], row[1], int(row[2])) for row in await connection.execute(query)]

    async def newest_processed_update(self) -> int:
        """The highest Telegram update id ever handled (0 when none): ids above it are new."""
        async with self.engine.connect() as connection:
            newest = (await connection.execute(select(func.max(telegram_updates.c.update_id)))).scalar()
        return int(newest or 0)

    async def processed_update(self, update_id: int) -> bool:
        """Whether a Telegram update was handled already (by this process or one before it)."""
        query = select(telegram_updates.c.update_id).where(telegram_updates.c.update_id == update_id)
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).first() is not None


def _reading(row: Any) -> dict[str, Any] | None:
    if row["sender"] != "citizen" or row["intent"] is None:
        return None
    return {
        "intent": row["intent"],
        "topic": row["topic"],
        "action": row["action"],
        "confidence": row["confidence"],
        "redactions": row["redactions"],
    }


_UPDATED_COLUMNS = (
    "channel_ref",
    "language",
    "topic",
    "status",
    "priority",
    "state",
    "last_seq",
    "handoff_reason",
    "handoff_at",
    "team",
    "assigned_to",
    "queued_at",
    "reference_hash",
    "message_at",
    "answered_at",
    "reply_by",
    "outcome",
    "updated_at",
    "last_activity_at",
    "closed_at",
)


@dataclass(frozen=True)
class _Statements:
    """The hot path's statements, built once per database kind (building them costs more than running them)."""

    insert_conversation: Any
    update_conversations: Any
    insert_message: Any
    insert_event: Any
    insert_participant: Any
    upsert_feedback: Any
    upsert_stat: Any
    insert_note: Any
    insert_audit: Any
    participant_left: Any
    insert_processed_update: Any
    mark_delivered: Any
    erase_conversation: Any


def _checkpoint(writer: Any) -> None:
    with writer.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def _upsert(dialect: str, table: Table, key: str, columns: Sequence[str]) -> Any:
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[key]], set_={column: statement.excluded[column] for column in columns}
    )


@lru_cache(maxsize=4)
def _statements(dialect: str) -> _Statements:
    return _Statements(
        insert_conversation=insert(conversations),
        update_conversations=_upsert(dialect, conversations, "id", _UPDATED_COLUMNS),
        upsert_feedback=_upsert(dialect, feedback, "conversation_id", ("thumbs", "nps", "comment", "updated_at")),
        upsert_stat=_upsert(
            dialect, stats, "conversation_id", [c.name for c in stats.columns if c.name != "conversation_id"]
        ),
        insert_message=insert(messages),
        insert_event=insert(events),
        insert_participant=insert(participants),
        insert_note=insert(notes),
        insert_audit=insert(audit_log),
        participant_left=update(participants)
        .where(
            (participants.c.conversation_id == bindparam("departing_conversation"))
            & (participants.c.advisor_id == bindparam("departing_advisor"))
            & participants.c.left_at.is_(None)
        )
        .values(left_at=bindparam("departed_at")),
        insert_processed_update=(postgresql_insert if dialect == "postgresql" else sqlite_insert)(
            telegram_updates
        ).on_conflict_do_nothing(index_elements=[telegram_updates.c.update_id]),
        mark_delivered=update(conversations)
        .where(
            (conversations.c.id == bindparam("delivered_id"))
            & (func.coalesce(conversations.c.delivered_seq, 0) < bindparam("delivered_up_to"))
        )
        .values(delivered_seq=bindparam("delivered_up_to")),
        erase_conversation=delete(conversations).where(conversations.c.id == bindparam("erased_id")),
    )
