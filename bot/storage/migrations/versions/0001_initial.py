"""conversations, messages, participants, events, feedback, statistics

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_stats",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("citizen_messages", sa.Integer(), nullable=False),
        sa.Column("thumbs", sa.String(length=4), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    with op.batch_alter_table("conversation_stats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_stats_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_stats_started_at"), ["started_at"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_ref", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("handoff_reason", sa.String(length=16), nullable=True),
        sa.Column("handoff_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversations_channel_ref"), ["channel_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversations_last_activity_at"), ["last_activity_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversations_status"), ["status"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_conversation_at", ["conversation_id", "at"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("thumbs", sa.String(length=4), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("redactions", sa.JSON(), nullable=True),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participants_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_conversation_id"))

    op.drop_table("participants")
    op.drop_table("messages")
    op.drop_table("feedback")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_conversation_at")

    op.drop_table("events")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_status"))
        batch_op.drop_index(batch_op.f("ix_conversations_last_activity_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_channel_ref"))

    op.drop_table("conversations")
    with op.batch_alter_table("conversation_stats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_stats_started_at"))
        batch_op.drop_index(batch_op.f("ix_conversation_stats_day"))

    op.drop_table("conversation_stats")
