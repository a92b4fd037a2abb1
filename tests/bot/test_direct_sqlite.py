"""On SQLite the group commit runs its statements on sqlite3 directly: it must store exactly what SQLAlchemy stores."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.storage.database import DatabaseError, async_url, create_engine, upgrade
from bot.storage.store import Store, Writes

TABLES = ("conversations", "messages", "events", "conversation_stats", "feedback", "telegram_updates")


def turn(number: int, at: dt.datetime) -> Writes:
    """A turn with every kind of value the hot path writes: timestamps, JSON, booleans, NULLs, non-ASCII."""
    conversation_id = f"c{number:031d}"
    state = {"citizen_messages": number, "feedback": {"thumbs": "up"}, "ääkköset": ["å", 1.5, None]}
    return Writes(
        conversation={
            "id": conversation_id,
            "created_at": at,
            "channel": "telegram",
            "channel_ref": str(424242 + number),
            "language": "fi",
            "topic": "income_support",
            "status": "bot",
            "priority": number % 2,
            "state": state,
            "last_seq": 3,
            "handoff_reason": None,
            "handoff_at": None,
            "team": None,
            "assigned_to": None,
            "queued_at": None,
            "reference_hash": None,
            "message_at": at,
            "answered_at": None,
            "reply_by": None,
            "outcome": None,
            "updated_at": at,
            "last_activity_at": at + dt.timedelta(microseconds=123),
            "closed_at": None,
        },
        messages=[
            {
                "conversation_id": conversation_id,
                "seq": seq,
                "client_id": f"tg{number}" if seq == 2 else None,
                "sender": "citizen" if seq == 2 else "bot",
                "kind": "text",
                "text": "Miten haen toimeentulotukea? 💶",
                "buttons": [{"label": "Kyllä", "action": "/helpful:yes"}] if seq == 3 else None,
                "language": "fi",
                "intent": "income_support_apply" if seq == 2 else None,
                "topic": "income_support" if seq == 2 else None,
                "action": "answer" if seq == 2 else None,
                "confidence": 0.8731 if seq == 2 else None,
                "redactions": ["phone"] if seq == 2 else None,
                "advisor_id": None,
                "author": None,
                "created_at": at,
            }
            for seq in (2, 3)
        ],
        events=[{"conversation_id": conversation_id, "name": "language_changed", "at": at, "data": {"to": "sv"}}],
        feedback={
            "conversation_id": conversation_id,
            "thumbs": "up",
            "nps": 9,
            "comment": None,
            "created_at": at,
            "updated_at": at,
        },
        stat={
            "conversation_id": conversation_id,
            "started_at": at,
            "day": at.date(),
            "hour": at.hour,
            "channel": "telegram",
            "language": "fi",
            "topic": "income_support",
            "crisis": number == 1,
            "handed_off": False,
            "wait_seconds": 12.5 if number else None,
            "citizen_messages": number,
            "thumbs": "up",
            "nps": 9,
            "ended_by": "citizen",
            "team": None,
            "outcome": None,
            "left_message": False,
        },
        processed_updates=[1000 + number],
    )


def opening(number: int, at: dt.datetime) -> Writes:
    writes = turn(number, at)
    assert writes.conversation is not None
    return Writes(new_conversation={**writes.conversation, "token_hash": None})


async def stored_rows(path: Path, *, group_commit: bool) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(async_url(f"sqlite:///{path}"))
    await upgrade(engine)
    store = Store(engine)
    at = dt.datetime(2026, 12, 5, 13, 10, 48, 765432, tzinfo=dt.UTC)
    try:
        if group_commit:
            await store.start()  # the SQLite writer: statements run on sqlite3 directly
        for number in range(3):
            await store.write(opening(number, at))
            await store.write(turn(number, at + dt.timedelta(seconds=number)))
    finally:
        if group_commit:
            await store.close()
        await engine.dispose()
    with sqlite3.connect(path) as connection:
        rows = {table: sorted(connection.execute(f"select * from {table}").fetchall(), key=repr) for table in TABLES}
        # Stamped with the time of writing: compared by how it is stored, not by its value.
        rows["telegram_updates"] = connection.execute(
            "select update_id, typeof(processed_at), length(processed_at) from telegram_updates order by update_id"
        ).fetchall()
        return rows


async def test_rows_written_directly_are_exactly_the_rows_sqlalchemy_writes(tmp_path: Path) -> None:
    direct = await stored_rows(tmp_path / "direct.db", group_commit=True)
    through_sqlalchemy = await stored_rows(tmp_path / "sqlalchemy.db", group_commit=False)
    assert all(direct[table] for table in TABLES)
    for table in TABLES:
        assert direct[table] == through_sqlalchemy[table], table


async def test_a_row_sqlite_refuses_fails_the_write_as_a_database_error_and_the_writer_goes_on(
    tmp_path: Path,
) -> None:
    engine = create_engine(async_url(f"sqlite:///{tmp_path / 'refused.db'}"))
    await upgrade(engine)
    store = Store(engine)
    await store.start()
    at = dt.datetime.now(dt.UTC)
    try:
        await store.write(opening(1, at))
        with pytest.raises(DatabaseError):
            await store.write(opening(1, at))  # the same conversation id twice
        await store.write(turn(1, at))  # the writer goes on
    finally:
        await store.close()
        await engine.dispose()
