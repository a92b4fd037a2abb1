"""Deleting old conversations, keeping only the anonymous statistics of each."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .storage.schema import TelegramUpdate
from .storage.store import conversations, feedback, messages, stats
from .storage.transactions import Transactions

logger = logging.getLogger(__name__)

#: Telegram redelivers an update for at most 24 hours; its processed id is kept a little longer, then purged.
UPDATE_IDS_KEPT: Final = dt.timedelta(days=2)
#: Conversations purged per transaction. On SQLite each holds the write lock, which citizens' turns wait
#: for (at most the store's one-second busy timeout), so a long purge commits in many short transactions.
BATCH: Final = 200


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What a purge did."""

    cutoff: dt.datetime
    conversations: int
    statistics_written: int


async def purge(
    engine: AsyncEngine,
    retention_days: int,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    timezone: str = "Europe/Helsinki",
) -> PurgeResult:
    """Delete conversations whose last activity is older than the retention period.

    Messages, events, participants and feedback go with them (foreign keys cascade), and so
    does a Telegram chat's id (``channel_ref``) and delivery mark. A conversation whose
    statistics row does not exist yet gets one first, in the same transaction, so reports keep
    counting it. Processed Telegram update ids older than Telegram's redelivery window go too.

    It runs beside the live server (nightly), so its writes go through :class:`Transactions`
    (on a SQLite file: on a worker thread, never holding the write lock while waiting for the
    event loop), ``BATCH`` conversations per transaction, oldest first.
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=retention_days)
    if dry_run:
        return await _count(engine, cutoff)
    zone = ZoneInfo(timezone)
    transactions = Transactions(engine)
    purged = written = 0
    try:
        await transactions.run(
            lambda connection: connection.execute(
                delete(TelegramUpdate).where(TelegramUpdate.processed_at < now - UPDATE_IDS_KEPT)
            )
        )
        while True:
            batch, rows = await transactions.run(lambda connection: _purge_batch(connection, cutoff, zone))
            purged, written = purged + batch, written + rows
            if batch < BATCH:
                break
    finally:
        transactions.dispose()
    if purged:
        logger.info("purged conversations", extra={"conversations": purged, "statistics_written": written})
    return PurgeResult(cutoff, purged, written)


async def _count(engine: AsyncEngine, cutoff: dt.datetime) -> PurgeResult:
    """What a purge would do: the old conversations, and how many of them have no statistics row yet."""
    old = conversations.c.last_activity_at < cutoff
    has_stats = exists().where(stats.c.conversation_id == conversations.c.id)
    async with engine.connect() as connection:
        total = (await connection.execute(select(func.count()).where(old))).scalar_one()
        missing = (await connection.execute(select(func.count()).where(old & ~has_stats))).scalar_one()
    return PurgeResult(cutoff, int(total), int(missing))


def _purge_batch(connection: Connection, cutoff: dt.datetime, zone: ZoneInfo) -> tuple[int, int]:
    """One transaction: up to ``BATCH`` of the oldest expired conversations get statistics and are deleted."""
    old = (
        connection.execute(
            select(conversations, feedback.c.thumbs, feedback.c.nps)
            .select_from(conversations.outerjoin(feedback, feedback.c.conversation_id == conversations.c.id))
            .where(conversations.c.last_activity_at < cutoff)
            .order_by(conversations.c.last_activity_at, conversations.c.id)
            .limit(BATCH)
            # PostgreSQL: a turn arriving meanwhile waits, then finds its conversation gone. (SQLite: the
            # transaction began IMMEDIATE, holding the write lock already.)
            .with_for_update(of=conversations)
        )
        .mappings()
        .all()
    )
    if not old:
        return 0, 0
    ids = [row["id"] for row in old]
    have = set(connection.execute(select(stats.c.conversation_id).where(stats.c.conversation_id.in_(ids))).scalars())
    counts: dict[str, int] = {
        conversation_id: count
        for conversation_id, count in connection.execute(
            select(messages.c.conversation_id, func.count())
            .where(messages.c.conversation_id.in_(ids) & (messages.c.sender == "citizen"))
            .group_by(messages.c.conversation_id)
        )
    }
    rows = [_statistics(row, counts.get(row["id"], 0), zone) for row in old if row["id"] not in have]
    if rows:
        connection.execute(stats.insert(), rows)
    connection.execute(delete(conversations).where(conversations.c.id.in_(ids)))
    return len(ids), len(rows)


def _statistics(row: Any, citizen_messages: int, zone: ZoneInfo) -> dict[str, object]:
    started: dt.datetime = row["created_at"]
    local = started.astimezone(zone)
    state = row["state"] or {}
    return {
        "conversation_id": row["id"],
        "started_at": started,
        "day": local.date(),
        "hour": local.hour,
        "channel": row["channel"],
        "language": row["language"],
        "topic": row["topic"],
        "crisis": row["handoff_reason"] == "crisis" or bool(state.get("crisis")),
        "handed_off": row["handoff_at"] is not None,
        "wait_seconds": None,
        "citizen_messages": citizen_messages,
        "thumbs": row["thumbs"],
        "nps": row["nps"],
        "ended_by": "citizen" if row["status"] == "closed" else "expired",
        "team": row["team"],
        "outcome": row["outcome"],
        "left_message": row["message_at"] is not None,
    }
