"""Write transactions outside the group commit, which must never wait on the event loop.

The conversation store's turns go through its group commit. Every other write transaction
(accounts, sessions, the audit purge in ``handoff/``; the retention purge in ``bot/retention.py``)
runs through :class:`Transactions`.

On a SQLite file the conversation store commits inline, on the event loop's thread
(``bot/storage/store.py``, ``database.sqlite_writer``), and waits up to its busy timeout when
another connection holds the database's write lock. A transaction through the async engine
(aiosqlite) holds that lock across awaits: between its first write and its COMMIT it needs the
event loop, which the store's commit is blocking while it waits for the lock. Each waits for the
other until the store gives up after a second: the whole server stands still for that second and
the citizen's turn is not stored ("database is locked"). A few advisors logging in at once, a
console touching its session while citizens chat (tests/handoff/test_concurrency.py), or the
nightly purge (tests/bot/test_storage.py) were enough.

So on a SQLite file these transactions run from start to commit on a worker thread with a
connection of their own: they hold the lock only while their statements run, never while
waiting for the loop. They begin with ``BEGIN IMMEDIATE``, so what a transaction reads before
its first write is read under the lock it writes with. A transaction should stay short (well
under the store's busy timeout): a long job commits in several. PostgreSQL locks rows, not the
database; there they stay on the async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .database import sqlite_writer

T = TypeVar("T")


class Transactions:
    """Runs a function of a (synchronous) connection as one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = sqlite_writer(engine)

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction: committed when it returns, rolled back when it raises."""
        if self._sqlite is None:
            async with self.engine.begin() as connection:
                return await connection.run_sync(work)
        return await asyncio.to_thread(self._run_on_sqlite, work)

    def _run_on_sqlite(self, work: Callable[[Connection], T]) -> T:
        assert self._sqlite is not None
        with self._sqlite.begin() as connection:
            # The sqlite3 module would begin only at the first write, leaving earlier reads outside the transaction.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return work(connection)

    def dispose(self) -> None:
        """Close the SQLite connections (for a short-lived instance; the async engine is the caller's)."""
        if self._sqlite is not None:
            self._sqlite.dispose()
