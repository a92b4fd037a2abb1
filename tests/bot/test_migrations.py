"""Alembic migrations keep a running service's data: 0001 → 0002 (handoff) and back, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.database import (
    _alembic_config,
    _migrate,
    async_url,
    create_engine,
    current_revision,
    head_revision,
    upgrade,
)
from bot.storage.store import Store

CONVERSATION = "0f" * 16
QUEUED = "1e" * 16
STARTED = dt.datetime(2026, 11, 2, 9, 14, 3, tzinfo=dt.UTC)
HANDOFF_TABLES = {"advisors", "advisor_teams", "console_sessions", "notes", "audit_log"}


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """As `upgrade` runs migrations (one transaction; SQLite's foreign keys off meanwhile), but down."""
    await _migrate(engine, lambda config: command.downgrade(config, revision))


async def tables(engine: AsyncEngine) -> dict[str, Table]:
    """The tables as they are in the database now (reflected: no model of a newer schema is involved)."""
    metadata = MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: metadata.reflect(sync))
    return dict(metadata.tables)


async def columns(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
    return {column["name"] for column in found}


async def rows(engine: AsyncEngine, table: str, order: str) -> list[dict[str, Any]]:
    reflected = (await tables(engine))[table]
    async with engine.connect() as connection:
        result = await connection.execute(select(reflected).order_by(reflected.c[order]))
        return [dict(row) for row in result.mappings()]


async def fill_0001(engine: AsyncEngine) -> None:
    """What a service running 0001 had stored: a finished web chat with a handoff, and one still waiting."""
    schema = await tables(engine)
    at = lambda seconds: STARTED + dt.timedelta(seconds=seconds)  # noqa: E731
    async with engine.begin() as connection:
        await connection.execute(
            insert(schema["conversations"]),
            [
                {
                    "id": CONVERSATION,
                    "token_hash": hashlib.sha256(b"token of the finished chat").hexdigest(),
                    "channel": "web",
                    "channel_ref": None,
                    "language": "fi",
                    "topic": "income_support",
                    "status": "closed",
                    "priority": 0,
                    "state": {"language_locked": True, "misses": 0, "awaiting": "comment"},
                    "last_seq": 3,
                    "handoff_reason": "requested",
                    "handoff_at": at(40),
                    "created_at": STARTED,
                    "updated_at": at(300),
                    "last_activity_at": at(300),
                    "closed_at": at(300),
                },
                {
                    "id": QUEUED,
                    "token_hash": hashlib.sha256(b"token of the waiting chat").hexdigest(),
                    "channel": "web",
                    "channel_ref": None,
                    "language": "sv",
                    "topic": "elderly",
                    "status": "queued",
                    "priority": 1,
                    "state": {},
                    "last_seq": 0,
                    "handoff_reason": "crisis",
                    "handoff_at": at(60),
                    "created_at": at(50),
                    "updated_at": at(60),
                    "last_activity_at": at(60),
                    "closed_at": None,
                },
            ],
        )
        await connection.execute(
            insert(schema["messages"]),
            [
                {
                    "conversation_id": CONVERSATION,
                    "seq": 1,
                    "client_id": "m1",
                    "sender": "citizen",
                    "kind": "text",
                    "text": "miten haen toimeentulotukea? hetu [henkilötunnus poistettu]",
                    "buttons": None,
                    "language": "fi",
                    "intent": "income_support_apply",
                    "topic": "income_support",
                    "action": "answer",
                    "confidence": 0.87,
                    "redactions": ["hetu"],
                    "advisor_id": None,
                    "created_at": at(10),
                },
                {
                    "conversation_id": CONVERSATION,
                    "seq": 2,
                    "client_id": None,
                    "sender": "bot",
                    "kind": "answer",
                    "text": "Toimeentulotukea haetaan Kelasta.",
                    "buttons": [{"label": "Kyllä", "action": "/helpful:yes"}, {"label": "Ei", "action": "/helpful:no"}],
                    "language": "fi",
                    "intent": None,
                    "topic": None,
                    "action": None,
                    "confidence": None,
                    "redactions": None,
                    "advisor_id": None,
                    "created_at": at(11),
                },
                {
                    "conversation_id": CONVERSATION,
                    "seq": 3,
                    "client_id": None,
                    "sender": "advisor",
                    "kind": "text",
                    "text": "Hei, autan mielelläni.",
                    "buttons": None,
                    "language": "fi",
                    "intent": None,
                    "topic": None,
                    "action": None,
                    "confidence": None,
                    "redactions": None,
                    "advisor_id": 7,
                    "created_at": at(120),
                },
            ],
        )
        await connection.execute(
            insert(schema["events"]),
            [
                {"conversation_id": CONVERSATION, "name": "handoff_requested", "at": at(40), "data": {"reason": "x"}},
                {"conversation_id": CONVERSATION, "name": "conversation_resolved", "at": at(300), "data": None},
            ],
        )
        await connection.execute(
            insert(schema["participants"]),
            {
                "conversation_id": CONVERSATION,
                "role": "advisor",
                "advisor_id": 7,
                "joined_at": at(100),
                "left_at": None,
            },
        )
        await connection.execute(
            insert(schema["feedback"]),
            {
                "conversation_id": CONVERSATION,
                "thumbs": "up",
                "nps": 9,
                "comment": "Kiitos!",
                "created_at": at(310),
                "updated_at": at(320),
            },
        )
        await connection.execute(
            insert(schema["conversation_stats"]),
            [
                {
                    "conversation_id": CONVERSATION,
                    "started_at": STARTED,
                    "day": STARTED.date(),
                    "hour": 11,
                    "channel": "web",
                    "language": "fi",
                    "topic": "income_support",
                    "crisis": False,
                    "handed_off": True,
                    "wait_seconds": 60.0,
                    "citizen_messages": 1,
                    "thumbs": "up",
                    "nps": 9,
                    "ended_by": "citizen",
                },
                {
                    # The statistics of a conversation purged long ago: only the figures are left.
                    "conversation_id": "2d" * 16,
                    "started_at": STARTED - dt.timedelta(days=400),
                    "day": (STARTED - dt.timedelta(days=400)).date(),
                    "hour": 8,
                    "channel": "telegram",
                    "language": "en",
                    "topic": None,
                    "crisis": True,
                    "handed_off": False,
                    "wait_seconds": None,
                    "citizen_messages": 4,
                    "thumbs": None,
                    "nps": None,
                    "ended_by": None,
                },
            ],
        )


@pytest.fixture
async def at_0001(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A fresh database migrated to 0001 only, with a service's rows in it."""
    engine = create_engine(async_url(database_url))
    assert await upgrade(engine, "0001") == (None, "0001")
    await fill_0001(engine)
    yield engine
    await engine.dispose()


def test_the_migrations_form_one_line_from_0001_to_the_telegram_head() -> None:
    script = ScriptDirectory.from_config(_alembic_config(None))  # type: ignore[arg-type]
    assert [(r.revision, r.down_revision) for r in reversed(list(script.walk_revisions()))] == [
        ("0001", None),
        ("0002", "0001"),
        ("0003", "0002"),
    ]
    assert head_revision() == "0003"


async def test_0001_alone_has_no_handoff_tables_or_columns(at_0001: AsyncEngine) -> None:
    assert await current_revision(at_0001) == "0001"
    assert HANDOFF_TABLES.isdisjoint(await tables(at_0001))
    assert "author" not in await columns(at_0001, "messages")
    assert {"team", "outcome", "left_message"}.isdisjoint(await columns(at_0001, "conversation_stats"))


async def test_upgrading_to_head_keeps_every_row_and_gives_the_new_columns_sensible_defaults(
    at_0001: AsyncEngine,
) -> None:
    before = {name: await rows(at_0001, name, "conversation_id") for name in ("feedback", "conversation_stats")}
    assert await upgrade(at_0001) == ("0001", head_revision())

    stats = await rows(at_0001, "conversation_stats", "conversation_id")
    assert [(s["conversation_id"], s["citizen_messages"], s["crisis"]) for s in stats] == [
        (CONVERSATION, 1, False),
        ("2d" * 16, 4, True),
    ]
    assert all(s["left_message"] is False and s["team"] is None and s["outcome"] is None for s in stats)
    old = {key: value for key, value in stats[0].items() if key not in ("team", "outcome", "left_message")}
    assert old == {**before["conversation_stats"][0], "started_at": old["started_at"]}
    assert await rows(at_0001, "feedback", "conversation_id") == before["feedback"]

    messages = await rows(at_0001, "messages", "seq")
    assert [(m["seq"], m["sender"], m["author"]) for m in messages] == [
        (1, "citizen", None),
        (2, "bot", None),
        (3, "advisor", None),
    ]
    assert messages[0]["redactions"] == ["hetu"]
    assert messages[1]["buttons"][0] == {"label": "Kyllä", "action": "/helpful:yes"}

    conversations = await rows(at_0001, "conversations", "id")
    assert [c["id"] for c in conversations] == [CONVERSATION, QUEUED]
    for conversation in conversations:
        new = {key: conversation[key] for key in ("team", "assigned_to", "queued_at", "reference_hash")}
        new |= {key: conversation[key] for key in ("message_at", "answered_at", "reply_by", "outcome")}
        assert set(new.values()) == {None}, conversation["id"]
    assert len(await rows(at_0001, "events", "id")) == 2
    assert len(await rows(at_0001, "participants", "id")) == 1
    assert set(await tables(at_0001)) >= HANDOFF_TABLES


async def test_the_application_reads_a_conversation_stored_before_the_upgrade(at_0001: AsyncEngine) -> None:
    await upgrade(at_0001)
    store = Store(at_0001)
    state = await store.find_by_token(hashlib.sha256(b"token of the finished chat").hexdigest())
    assert state is not None
    assert (state.id, state.status, state.language, state.topic, state.last_seq) == (
        CONVERSATION,
        "closed",
        "fi",
        "income_support",
        3,
    )
    assert state.dialogue == {"language_locked": True, "misses": 0, "awaiting": "comment"}
    assert state.client_ids == {"m1": 1}
    assert (state.team, state.reference_hash, state.message_waiting) == (None, None, False)
    assert state.created_at == STARTED
    history = await store.history(CONVERSATION)
    assert [(m.seq, m.sender) for m in history] == [(1, "citizen"), (2, "bot"), (3, "advisor")]
    assert all(m.author is None for m in history)
    assert history[0].reading is not None
    assert history[0].reading["redactions"] == ["hetu"]
    assert history[1].buttons[1].action == "/helpful:no"


async def test_the_new_columns_take_handoff_data_after_the_upgrade(at_0001: AsyncEngine) -> None:
    await upgrade(at_0001)
    schema = await tables(at_0001)
    async with at_0001.begin() as connection:
        await connection.execute(
            schema["conversation_stats"]
            .update()
            .where(schema["conversation_stats"].c.conversation_id == CONVERSATION)
            .values(team="social_advice", outcome="answered", left_message=True)
        )
        await connection.execute(
            insert(schema["conversation_stats"]).values(
                conversation_id="3c" * 16,
                started_at=STARTED,
                day=STARTED.date(),
                hour=9,
                channel="web",
                language="fi",
                crisis=False,
                handed_off=False,
                citizen_messages=0,
            )
        )
    stats = {s["conversation_id"]: s for s in await rows(at_0001, "conversation_stats", "conversation_id")}
    assert (stats[CONVERSATION]["team"], stats[CONVERSATION]["left_message"]) == ("social_advice", True)
    assert stats["3c" * 16]["left_message"] is False  # the server default, for rows written without it


async def test_downgrading_to_0001_keeps_the_old_data_and_upgrading_again_works(at_0001: AsyncEngine) -> None:
    await upgrade(at_0001)
    await downgrade(at_0001, "0001")
    assert await current_revision(at_0001) == "0001"
    assert HANDOFF_TABLES.isdisjoint(await tables(at_0001))
    assert "author" not in await columns(at_0001, "messages")
    assert "reference_hash" not in await columns(at_0001, "conversations")
    assert [m["text"] for m in await rows(at_0001, "messages", "seq")][2] == "Hei, autan mielelläni."
    assert len(await rows(at_0001, "conversation_stats", "conversation_id")) == 2

    assert await upgrade(at_0001) == ("0001", head_revision())
    assert set(await tables(at_0001)) >= HANDOFF_TABLES
    assert [m["author"] for m in await rows(at_0001, "messages", "seq")] == [None, None, None]
    assert [c["id"] for c in await rows(at_0001, "conversations", "id")] == [CONVERSATION, QUEUED]
    assert {s["left_message"] for s in await rows(at_0001, "conversation_stats", "conversation_id")} == {False}


async def test_downgrading_everything_leaves_an_empty_database_that_migrates_again(database_url: str) -> None:
    engine = create_engine(async_url(database_url))
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        assert set(await tables(engine)) <= {"alembic_version"}
        assert await upgrade(engine) == (None, head_revision())
    finally:
        await engine.dispose()


async def test_sqlite_enforces_foreign_keys_again_after_migrating(at_0001: AsyncEngine) -> None:
    await upgrade(at_0001)
    if at_0001.dialect.name == "sqlite":
        async with at_0001.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
    schema = await tables(at_0001)
    async with at_0001.begin() as connection:
        await connection.execute(schema["conversations"].delete().where(schema["conversations"].c.id == CONVERSATION))
    # Purging a conversation still takes its messages, events and feedback with it.
    assert [m["conversation_id"] for m in await rows(at_0001, "messages", "seq")] == []
    assert await rows(at_0001, "feedback", "conversation_id") == []
    assert len(await rows(at_0001, "conversation_stats", "conversation_id")) == 2
