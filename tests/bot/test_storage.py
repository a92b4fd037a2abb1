"""Storage: migrations match the models, the schema check, group commit, retention."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, update

from bot.retention import PurgeResult, purge
from bot.storage.database import DatabaseError, async_url, create_engine, ensure_current, head_revision, upgrade
from bot.storage.schema import Base, Conversation, ConversationStat, Message
from bot.storage.store import Store, Writes


async def test_the_migrations_create_exactly_the_models_schema(engine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
        )
    assert differences == []


async def test_an_unmigrated_database_is_refused_with_the_command_that_fixes_it(database_url: str) -> None:
    engine = create_engine(async_url(database_url))
    try:
        with pytest.raises(DatabaseError, match="neuvo db upgrade"):
            await ensure_current(engine)
        before, after = await upgrade(engine)
        assert (before, after) == (None, head_revision())
        await ensure_current(engine)
        assert await upgrade(engine) == (head_revision(), head_revision())
    finally:
        await engine.dispose()


async def test_an_unreachable_database_is_a_clear_error() -> None:
    engine = create_engine(async_url("postgresql://127.0.0.1:9/nowhere"))
    try:
        with pytest.raises(DatabaseError, match="cannot reach the database"):
            await ensure_current(engine)
    finally:
        await engine.dispose()


def message(number: int, when: dt.datetime, client_id: str | None = None) -> dict[str, object]:
    return {
        "conversation_id": f"c{number:031d}",
        "seq": 1,
        "client_id": client_id,
        "sender": "citizen",
        "kind": "text",
        "text": "moi",
        "buttons": None,
        "language": "fi",
        "intent": None,
        "topic": None,
        "action": None,
        "confidence": None,
        "redactions": None,
        "advisor_id": None,
        "created_at": when,
    }


def conversation(number: int, when: dt.datetime) -> dict[str, object]:
    return {
        "id": f"c{number:031d}",
        "token_hash": None,
        "channel": "web",
        "channel_ref": None,
        "language": "fi",
        "topic": "elderly",
        "status": "closed",
        "priority": 0,
        "state": {},
        "last_seq": 0,
        "handoff_reason": None,
        "handoff_at": None,
        "created_at": when,
        "updated_at": when,
        "last_activity_at": when,
        "closed_at": when,
    }


async def test_group_commit_stores_every_concurrent_write_and_each_caller_waits_for_its_own(engine) -> None:
    store = Store(engine)
    await store.start()
    now = dt.datetime.now(dt.UTC)
    try:
        await asyncio.gather(*(store.write(Writes(new_conversation=conversation(n, now))) for n in range(200)))
        messages = [Writes(messages=[message(n, now, "m")]) for n in range(200)]
        await asyncio.gather(*(store.write(w) for w in messages))
        assert sum([await store.count_messages(f"c{n:031d}") for n in range(200)]) == 200
    finally:
        await store.close()


async def test_one_bad_write_fails_alone_and_the_others_are_stored(engine) -> None:
    store = Store(engine)
    await store.start()
    now = dt.datetime.now(dt.UTC)
    try:
        await store.write(Writes(new_conversation=conversation(1, now)))
        results = await asyncio.gather(
            store.write(Writes(new_conversation=conversation(1, now))),  # the same id again
            store.write(Writes(new_conversation=conversation(2, now))),
            return_exceptions=True,
        )
        assert isinstance(results[0], DatabaseError)
        assert results[1] is None
        assert await store.find(f"c{2:031d}") is not None
    finally:
        await store.close()


async def test_purge_deletes_old_conversations_but_keeps_their_statistics(engine) -> None:
    store = Store(engine)
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=100)
    await store.write(Writes(new_conversation=conversation(1, old)))
    await store.write(Writes(new_conversation=conversation(2, now)))
    dry = await purge(engine, 90, now=now, dry_run=True)
    assert (dry.conversations, dry.statistics_written) == (1, 1)
    assert await store.find(f"c{1:031d}") is not None
    result = await purge(engine, 90, now=now)
    assert (result.conversations, result.statistics_written) == (1, 1)
    assert await store.find(f"c{1:031d}") is None
    assert await store.find(f"c{2:031d}") is not None
    async with engine.connect() as connection:
        stats = (await connection.execute(select(ConversationStat.__table__))).mappings().all()
    assert [(s["conversation_id"], s["topic"], s["ended_by"]) for s in stats] == [(f"c{1:031d}", "elderly", "citizen")]
    assert (await purge(engine, 90, now=now)).conversations == 0


async def test_purging_a_conversation_takes_its_messages_with_it(engine) -> None:
    store = Store(engine)
    now = dt.datetime.now(dt.UTC)
    await store.write(Writes(new_conversation=conversation(3, now)))
    await store.write(Writes(messages=[message(3, now)]))
    async with engine.begin() as connection:
        await connection.execute(update(Conversation.__table__).values(last_activity_at=now - dt.timedelta(days=400)))
    await purge(engine, 90, now=now)
    async with engine.connect() as connection:
        left = (await connection.execute(select(Message.__table__))).all()
    assert left == []


def turn(number: int, seq: int, when: dt.datetime) -> Writes:
    """A citizen's turn in a live conversation: their message and the conversation's new state."""
    state = conversation(number, when) | {"status": "bot", "last_seq": seq, "closed_at": None}
    state.pop("token_hash")
    state |= dict.fromkeys(
        ("team", "assigned_to", "queued_at", "reference_hash", "message_at", "answered_at", "reply_by", "outcome")
    )
    return Writes(conversation=state, messages=[message(number, when, f"m{seq}") | {"seq": seq}])


async def test_a_purge_while_citizens_keep_writing_loses_no_turn_and_fails_nothing(engine) -> None:
    """The nightly purge runs in the live server, beside the group commit.

    On a SQLite file the store commits inline on the event loop and waits (busy timeout) for the
    write lock. A purge that held the lock across awaits (through aiosqlite) needed the blocked
    loop to finish, so the citizens' turns failed with "database is locked" while it ran; it now
    writes through bot/storage/transactions.py, in short transactions.
    """
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=100)
    expired, live = range(600), range(1000, 1010)
    async with engine.begin() as connection:
        await connection.execute(Conversation.__table__.insert(), [conversation(n, old) for n in expired])
        await connection.execute(Message.__table__.insert(), [message(n, old) for n in expired])
        await connection.execute(Conversation.__table__.insert(), [conversation(n, now) for n in live])
    store = Store(engine)
    await store.start()
    purged = asyncio.Event()
    stored_while_purging = 0

    async def run_purge() -> PurgeResult:
        try:
            return await purge(engine, 90, now=now)
        finally:
            purged.set()

    async def citizen(number: int) -> int:
        """Turn after turn, each awaited until stored, for as long as the purge runs (and a few more)."""
        nonlocal stored_while_purging
        seq = 0
        while seq < 5 or (not purged.is_set() and seq < 2000):
            seq += 1
            await store.write(turn(number, seq, dt.datetime.now(dt.UTC)))
            if not purged.is_set():
                stored_while_purging += 1
            await asyncio.sleep(0)
        return seq

    try:
        result, *turns = await asyncio.wait_for(asyncio.gather(run_purge(), *(citizen(n) for n in live)), timeout=60)
    finally:
        await store.close()

    assert (result.conversations, result.statistics_written) == (len(expired), len(expired))
    assert stored_while_purging > len(live)  # the race did happen
    for number, sent in zip(live, turns, strict=True):
        assert await store.count_messages(f"c{number:031d}") == sent
    async with engine.connect() as connection:
        left = (await connection.execute(select(func.count()).select_from(Conversation.__table__))).scalar()
        counted = (await connection.execute(select(func.count()).select_from(ConversationStat.__table__))).scalar()
    assert (left, counted) == (len(live), len(expired))
