"""advisors, sessions, notes, audit log, handoff columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_advisor_id"), ["advisor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "advisor_teams",
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["advisor_id"], ["advisors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("advisor_id", "team"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["advisor_id"], ["advisors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_advisor_id"), ["advisor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_conversation_id"), ["conversation_id"], unique=False)

    with op.batch_alter_table("conversation_stats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("left_message", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reference_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("message_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply_by", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_conversations_message_at"), ["message_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversations_team"), ["team"], unique=False)
        batch_op.create_unique_constraint("uq_conversations_reference_hash", ["reference_hash"])
        batch_op.create_foreign_key(
            "fk_conversations_assigned_to_advisors", "advisors", ["assigned_to"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("author")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_conversations_assigned_to_advisors", type_="foreignkey")
        batch_op.drop_constraint("uq_conversations_reference_hash", type_="unique")
        batch_op.drop_index(batch_op.f("ix_conversations_team"))
        batch_op.drop_index(batch_op.f("ix_conversations_message_at"))
        batch_op.drop_column("outcome")
        batch_op.drop_column("reply_by")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("message_at")
        batch_op.drop_column("reference_hash")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("assigned_to")
        batch_op.drop_column("team")

    with op.batch_alter_table("conversation_stats", schema=None) as batch_op:
        batch_op.drop_column("left_message")
        batch_op.drop_column("outcome")
        batch_op.drop_column("team")

    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_conversation_id"))

    op.drop_table("notes")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_advisor_id"))

    op.drop_table("console_sessions")
    op.drop_table("advisor_teams")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_advisor_id"))

    op.drop_table("audit_log")
    op.drop_table("advisors")
