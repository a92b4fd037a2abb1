"""Deleting old conversations, keeping only the anonymous statistics of each."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from .storage.schema import TelegramUpdate
from .storage.store import conversations, feedback, messages, stats

logger = logging.getLogger(__name__)

#: Telegram redelivers an update for at most 24 hours; its processed id is kept a little longer, then purged.
UPDATE_IDS_KEPT: Final = dt.timedelta(days=2)


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
    statistics row does not exist yet gets one first, so reports keep counting it.
    Processed Telegram update ids older than Telegram's redelivery window go too.
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=retention_days)
    async with engine.begin() as connection:
        if not dry_run:
            await connection.execute(
                delete(TelegramUpdate).where(TelegramUpdate.processed_at < now - UPDATE_IDS_KEPT)
            )
        old = (
            (
                await connection.execute(
                    select(conversations, feedback.c.thumbs, feedback.c.nps)
                    .select_from(conversations.outerjoin(feedback, feedback.c.conversation_id == conversations.c.id))
                    .where(conversations.c.last_activity_at < cutoff)
                )
            )
            .mappings()
            .all()
        )
        if not old:
            return PurgeResult(cutoff, 0, 0)
        ids = [row["id"] for row in old]
        have = set(
            (
                await connection.execute(select(stats.c.conversation_id).where(stats.c.conversation_id.in_(ids)))
            ).scalars()
        )
        counts: dict[str, int] = dict(
            (
                await connection.execute(
                    select(messages.c.conversation_id, func.count())
                    .where(messages.c.conversation_id.in_(ids) & (messages.c.sender == "citizen"))
                    .group_by(messages.c.conversation_id)
                )
            ).all()
        )
        zone = ZoneInfo(timezone)
        rows = [_statistics(row, counts.get(row["id"], 0), zone) for row in old if row["id"] not in have]
        if dry_run:
            return PurgeResult(cutoff, len(ids), len(rows))
        if rows:
            await connection.execute(stats.insert(), rows)
        for start in range(0, len(ids), 500):
            await connection.execute(delete(conversations).where(conversations.c.id.in_(ids[start : start + 500])))
    logger.info("purged conversations", extra={"conversations": len(ids), "statistics_written": len(rows)})
    return PurgeResult(cutoff, len(ids), len(rows))


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
