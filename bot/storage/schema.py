"""The database schema: conversations, messages, participants, events, feedback and statistics.

Messages hold only redacted text. Nothing here stores a name, an IP address or a user
agent; a web conversation is found by the SHA-256 of a token only the citizen's
browser holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: An integer primary key that is BIGINT on PostgreSQL and SQLite's rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive timestamps: a wrong timezone would skew every report."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """SQLite returns naive values; they were written as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base mapping Python annotations to the column types used everywhere."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Conversation(Base):
    """One conversation of one citizen on one channel."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("reference_hash", name="uq_conversations_reference_hash"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: SHA-256 of the web widget's token; the token itself is never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    #: Where replies go on channels that need it (a Telegram chat id); kept only while the conversation lives.
    channel_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The last message a pushing channel (Telegram) confirmed sent; after a restart it resends the rest.
    delivered_seq: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    topic: Mapped[str | None] = mapped_column(String(32))
    #: bot | queued | assigned | closed
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    #: The dialogue's own state (language lock, misses, what it is waiting for).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    handoff_reason: Mapped[str | None] = mapped_column(String(16))
    handoff_at: Mapped[dt.datetime | None]
    #: The advisors' team whose queue or inbox the conversation is in (or was last).
    team: Mapped[str | None] = mapped_column(String(32), index=True)
    #: The advisor holding the conversation now.
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("advisors.id", ondelete="SET NULL", name="fk_conversations_assigned_to_advisors")
    )
    #: Since when the conversation waits in its queue (kept through transfers: nobody loses their place).
    queued_at: Mapped[dt.datetime | None]
    #: SHA-256 of a left message's reference code: /answer finds the conversation by this hash only. The code
    #: itself is in the transcript (the confirmation message, so the citizen sees it again on return), which is
    #: read only with the conversation's token (or in its Telegram chat) or by its team's advisors and admins.
    reference_hash: Mapped[str | None] = mapped_column(String(64))
    #: When a message was left for advisors, when it was answered, and the date promised to the citizen.
    message_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    answered_at: Mapped[dt.datetime | None]
    reply_by: Mapped[dt.date | None] = mapped_column(Date)
    #: How the last advisor closed it: answered | referred | no_reply.
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    last_activity_at: Mapped[dt.datetime] = mapped_column(index=True)
    closed_at: Mapped[dt.datetime | None]


class Message(Base):
    """One message in a conversation, in order (``seq``), with the bot's reading of citizens' words."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    #: The sender's own id for the message, so a resent message is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64))
    #: citizen | bot | advisor | system
    sender: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any] | None]
    language: Mapped[str] = mapped_column(String(2))
    intent: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    #: Kinds of personal data removed from the text, for example ["phone", "hetu"].
    redactions: Mapped[list[Any] | None]
    advisor_id: Mapped[int | None] = mapped_column(Integer)
    #: The advisor's display name on their messages, as the citizen saw it.
    author: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


class Participant(Base):
    """Who took part in a conversation and when: the citizen, the bot, advisors."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    advisor_id: Mapped[int | None] = mapped_column(Integer)
    joined_at: Mapped[dt.datetime]
    left_at: Mapped[dt.datetime | None]


class Event(Base):
    """Something that happened in a conversation, named as it happened (``handoff_requested``)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_conversation_at", "conversation_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any] | None]


class Feedback(Base):
    """The citizen's feedback at the end of a conversation: at most one per conversation."""

    __tablename__ = "feedback"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    #: up | down
    thumbs: Mapped[str | None] = mapped_column(String(4))
    nps: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ConversationStat(Base):
    """Anonymous figures of one conversation, kept after the conversation itself is purged."""

    __tablename__ = "conversation_stats"

    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    hour: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))
    topic: Mapped[str | None] = mapped_column(String(32))
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    citizen_messages: Mapped[int] = mapped_column(Integer, default=0)
    thumbs: Mapped[str | None] = mapped_column(String(4))
    nps: Mapped[int | None] = mapped_column(Integer)
    ended_by: Mapped[str | None] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(16))
    left_message: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Advisor(Base):
    """A person who answers citizens in the console (or edits content, or administers)."""

    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The login name, lower case.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: What citizens and colleagues see, for example a first name.
    display_name: Mapped[str] = mapped_column(String(64))
    #: advisor | editor | admin
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id, in the PHC string format.
    password_hash: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[int] = mapped_column(Integer)
    #: The console's language for this person.
    language: Mapped[str] = mapped_column(String(2), default="fi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class AdvisorTeam(Base):
    """Membership of an advisor in a team (teams themselves are configured in config.yml)."""

    __tablename__ = "advisor_teams"

    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(String(32), primary_key=True)


class ConsoleSession(Base):
    """A logged-in console; the cookie holds a token whose SHA-256 is the key."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class Note(Base):
    """An internal note on a conversation: advisors see it, the citizen never does."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    advisor_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(64))
    #: note | transfer | system
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Who read or did what, when: kept after the conversation itself is purged, never with message text."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    advisor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any] | None]


class TelegramUpdate(Base):
    """A Telegram update already processed, so a webhook retry or a re-fetch after a restart is not.

    Only the update's number and when it was processed: no chat, no sender, no text. Telegram
    redelivers an update for at most a day, so rows older than that are purged.
    """

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[dt.datetime] = mapped_column(index=True)
