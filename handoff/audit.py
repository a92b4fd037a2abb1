"""The audit log: who read which transcript or did what, and when. Never what anyone wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.store import Store, Writes, audit_log
from bot.storage.transactions import Transactions


def audit_row(
    advisor_id: int | None, action: str, conversation_id: str | None = None, **details: Any
) -> dict[str, Any]:
    """One audit row (the time is set when it is written)."""
    return {
        "advisor_id": advisor_id,
        "action": action,
        "conversation_id": conversation_id,
        "details": {key: value for key, value in details.items() if value is not None} or None,
    }


class AuditLog:
    """Writes go through the conversation store's group commit; reads are for admins."""

    def __init__(self, store: Store, engine: AsyncEngine) -> None:
        self.store = store
        self.engine = engine
        self.transactions = Transactions(engine)

    async def record(
        self, advisor_id: int | None, action: str, conversation_id: str | None = None, **details: Any
    ) -> None:
        """Write one entry; returns once it is stored."""
        row = audit_row(advisor_id, action, conversation_id, **details) | {"at": dt.datetime.now(dt.UTC)}
        await self.store.write(Writes(audit=[row]))

    async def entries(
        self,
        *,
        limit: int = 100,
        before: int | None = None,
        advisor_id: int | None = None,
        conversation_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, with whether there are more."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(audit_log.c.id < before)
        if advisor_id is not None:
            query = query.where(audit_log.c.advisor_id == advisor_id)
        if conversation_id is not None:
            query = query.where(audit_log.c.conversation_id == conversation_id)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [dict(row) for row in rows[:limit]], len(rows) > limit

    async def purge(self, older_than_days: int, now: dt.datetime | None = None) -> int:
        """Delete entries older than the audit retention."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=older_than_days)
        return await self.transactions.run(
            lambda connection: int(connection.execute(delete(audit_log).where(audit_log.c.at < cutoff)).rowcount or 0)
        )
